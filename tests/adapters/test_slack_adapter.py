"""SlackChat over real HTTP: slack-sdk's AsyncWebClient against the local Slack stand-in."""

from __future__ import annotations

import time

import pytest
from slack_sdk.http_retry.builtin_interval_calculators import FixedValueRetryIntervalCalculator

from adapters.slack.client import SlackChat, retry_handlers
from core.errors import RateLimited, UpstreamError
from entrypoints.settings import load_settings
from ports.chat import Channel
from tests.support.slack_standin import SlackStandIn, free_port, slack_standin_fixture  # noqa: F401


def slack_from_env(env, **options):
    """The adapter as the container builds it: settings from ``env``, then ``from_settings``."""
    return SlackChat.from_settings(load_settings(env).slack, **options)


def chat_for(standin: SlackStandIn, **handler_options: int) -> SlackChat:
    handlers = retry_handlers(interval_calculator=FixedValueRetryIntervalCalculator(0.01), **handler_options)
    return SlackChat.create(standin.token, standin.base_url, handlers=handlers, timeout=5)


async def test_send_dm_opens_the_im_and_posts_there(slack_standin: SlackStandIn) -> None:
    chat = chat_for(slack_standin)

    await chat.send_dm("U0ALICE", "welcome to Rocket")
    await chat.send_dm("U0ALICE", "second")

    assert slack_standin.dm_texts("U0ALICE") == ["welcome to Rocket", "second"]
    assert slack_standin.dm_texts("U0BOB") == []
    assert [c.method for c in slack_standin.calls] == ["conversations.open", "chat.postMessage"] * 2


async def test_post_to_channel_by_name_resolves_and_caches(slack_standin: SlackStandIn) -> None:
    for i in range(5):  # more channels than one page, so the name lookup must page
        slack_standin.add_channel(f"other-{i}")
    announce = slack_standin.add_channel("announcements")
    chat = chat_for(slack_standin)

    await chat.post_to_channel("#announcements", "hello")
    await chat.post_to_channel("announcements", "again")
    await chat.post_to_channel(announce, "by id")

    assert slack_standin.channel_texts(announce) == ["hello", "again", "by id"]
    assert slack_standin.channel_texts("other-0") == []
    lists = slack_standin.calls_to("conversations.list")
    assert len(lists) == 3  # 6 channels, page size 2, looked up once then cached
    assert all(c.args.get("types") == "public_channel" for c in lists)


async def test_post_to_unknown_channel_name_is_slacks_channel_not_found(slack_standin: SlackStandIn) -> None:
    slack_standin.add_channel("general")
    chat = chat_for(slack_standin)
    await chat.post_to_channel("general", "warm the cache")

    with pytest.raises(UpstreamError) as raised:
        await chat.post_to_channel("#missing", "hello")

    assert raised.value.integration == "Slack"
    assert raised.value.detail == "channel_not_found"
    assert slack_standin.channel_texts("general") == ["warm the cache"]


async def test_new_channel_name_refreshes_the_cache(slack_standin: SlackStandIn) -> None:
    slack_standin.add_channel("general")
    chat = chat_for(slack_standin)
    await chat.post_to_channel("general", "one")
    slack_standin.add_channel("brand-new")

    await chat.post_to_channel("brand-new", "two")

    assert slack_standin.channel_texts("brand-new") == ["two"]


async def test_channel_members_follows_every_page(slack_standin: SlackStandIn) -> None:
    members = [f"U{n:04d}" for n in range(7)]
    slack_standin.add_channel("general", members=members)
    chat = chat_for(slack_standin)

    assert await chat.channel_members("#general") == members

    member_calls = slack_standin.calls_to("conversations.members")
    assert len(member_calls) == 4  # 7 members at 2 a page
    assert [bool(c.args.get("cursor")) for c in member_calls] == [False, True, True, True]


async def test_list_public_channels_skips_private_and_archived(slack_standin: SlackStandIn) -> None:
    ids = [slack_standin.add_channel(f"pub-{i}") for i in range(3)]
    slack_standin.add_channel("secret", private=True)
    slack_standin.add_channel("old", archived=True)
    chat = chat_for(slack_standin)

    channels = await chat.list_public_channels()

    assert channels == [Channel(cid, f"pub-{i}") for i, cid in enumerate(ids)]


async def test_429_with_retry_after_is_retried_and_succeeds(slack_standin: SlackStandIn) -> None:
    general = slack_standin.add_channel("general")
    slack_standin.rate_limit_next("chat.postMessage", retry_after=1)
    chat = chat_for(slack_standin)

    started = time.monotonic()
    await chat.post_to_channel(general, "after the limit")
    waited = time.monotonic() - started

    assert slack_standin.channel_texts(general) == ["after the limit"]
    assert [c.status for c in slack_standin.calls_to("chat.postMessage")] == [429, 200]
    assert waited >= 1.0  # Retry-After was honoured


async def test_429_beyond_the_retry_bound_is_rate_limited(slack_standin: SlackStandIn) -> None:
    general = slack_standin.add_channel("general")
    slack_standin.rate_limit_next("chat.postMessage", retry_after=0, times=5)
    chat = chat_for(slack_standin, rate_limit_retries=1)

    with pytest.raises(RateLimited) as raised:
        await chat.post_to_channel(general, "never")

    assert raised.value.integration == "Slack"
    assert len(slack_standin.calls_to("chat.postMessage")) == 2  # the first try and one retry
    assert slack_standin.channel_texts(general) == []


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (lambda s: s.fail_next("chat.postMessage", "not_in_channel"), "not_in_channel"),
        (lambda s: setattr(s, "token", "xoxb-rotated"), "invalid_auth"),
        (lambda s: s.add_channel("general", archived=True, channel_id="C0ARCHIVED"), "is_archived"),
    ],
)
async def test_slack_api_errors_become_upstream_errors(slack_standin: SlackStandIn, setup, expected) -> None:
    slack_standin.add_channel("live", channel_id="C0LIVE")
    chat = chat_for(slack_standin)
    setup(slack_standin)
    target = "C0ARCHIVED" if expected == "is_archived" else "C0LIVE"

    with pytest.raises(UpstreamError) as raised:
        await chat.post_to_channel(target, "text")

    assert raised.value.integration == "Slack"
    assert raised.value.detail == expected
    assert slack_standin.messages == []


async def test_dm_to_something_that_is_not_a_user(slack_standin: SlackStandIn) -> None:
    chat = chat_for(slack_standin)
    with pytest.raises(UpstreamError) as raised:
        await chat.send_dm("not-a-user", "hi")
    assert raised.value.detail == "user_not_found"


async def test_connection_refused_after_retries_is_unavailable() -> None:
    port = free_port()  # nothing listens here
    handlers = retry_handlers(interval_calculator=FixedValueRetryIntervalCalculator(0.01))
    chat = SlackChat.create("xoxb-x", f"http://127.0.0.1:{port}/api/", handlers=handlers, timeout=2)

    with pytest.raises(UpstreamError) as raised:
        await chat.list_public_channels()

    assert raised.value.integration == "Slack"
    assert raised.value.detail == "unavailable"


def test_from_env_needs_a_token(slack_standin: SlackStandIn) -> None:
    assert slack_from_env({}) is None
    assert slack_from_env({"SLACK_API_TOKEN": "  ", "SLACK_API_URL": slack_standin.base_url}) is None

    chat = slack_from_env(slack_standin.env())
    assert chat is not None
    assert chat.client.base_url == slack_standin.base_url
    assert chat.client.token == slack_standin.token
    default = slack_from_env({"SLACK_API_TOKEN": "xoxb-1"})
    assert default is not None and default.client.base_url == "https://slack.com/api/"


def test_from_env_rejects_a_malformed_url() -> None:
    with pytest.raises(ValueError, match="SLACK_API_URL"):
        slack_from_env({"SLACK_API_TOKEN": "xoxb-1", "SLACK_API_URL": "slack.com/api"})


async def test_from_env_client_talks_to_the_configured_url(slack_standin: SlackStandIn) -> None:
    slack_standin.add_channel("general", members=["U1", "U2", "U3"])
    chat = slack_from_env(slack_standin.env())
    assert chat is not None

    assert await chat.channel_members("general") == ["U1", "U2", "U3"]


async def test_welcome_dm_has_an_edit_button_and_views_are_recorded(slack_standin: SlackStandIn) -> None:
    from adapters.slack.views import EDIT_PROFILE, profile_modal
    from tests.support.blockkit import assert_within_limits

    chat = chat_for(slack_standin)
    await chat.send_welcome("U0ALICE", "Welcome, <!channel> & co")
    [message] = slack_standin.messages
    assert message.text == "Welcome, <!channel> & co"
    assert_within_limits({"text": message.text, "blocks": message.blocks})
    assert "&lt;!channel&gt; &amp; co" in message.blocks[0]["text"]["text"]
    assert message.blocks[1]["elements"][0]["action_id"] == EDIT_PROFILE

    view_id = await chat.open_view("1.2.abc", profile_modal(None, "U0ALICE"))
    [opened] = slack_standin.opened()
    assert (opened.target, opened.view_id) == ("1.2.abc", view_id)
    with pytest.raises(UpstreamError, match="expired_trigger_id"):
        await chat.open_view("1.2.abc", profile_modal(None, "U0ALICE"))  # a trigger works once
    await chat.update_view(view_id, profile_modal(None, "U0ALICE"))
    with pytest.raises(UpstreamError, match="not_found"):
        await chat.update_view("V404", profile_modal(None, "U0ALICE"))
    assert [v.method for v in slack_standin.views] == ["views.open", "views.update"]
