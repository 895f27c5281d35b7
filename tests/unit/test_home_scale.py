"""Issue 13, must-show 3 and 5: every view Rocket sends stays within Block Kit's limits on a
directory of 1,000 teams and 5,000 users (worst-case field lengths), and the Home tab of a member
of 20 teams costs a bounded number of storage calls whatever the directory holds."""

from __future__ import annotations

import pytest

from adapters.memory.store import MemoryStore
from adapters.slack.views import (
    device_done_modal,
    device_modal,
    home_view,
    link_modal,
    member_modal,
    notice_modal,
    profile_modal,
    team_create_modal,
)
from adapters.unavailable import Unavailable
from bench.home_bench import ADMIN, MEMBER, CountingStore, directory, fill
from core.commands import ViewHome
from core.context import Ports, Settings
from core.models import Team, User
from core.wiring import build_bus
from entrypoints.commands.dispatch import run_command
from entrypoints.handlers import reply_payload
from entrypoints.interactions import Surfaces
from tests.fakes.chat import FakeChat
from tests.support.blockkit import assert_within_limits, problems


@pytest.fixture(scope="module")
def big_store():
    import asyncio

    store = MemoryStore()
    asyncio.run(fill(store))
    return store


def _ports(store, chat=None) -> Ports:
    """GitHub and Drive off, as in a directory with no integrations configured."""
    return Ports(store=store, github=Unavailable("GitHub"), chat=chat or FakeChat(),
                 drive=Unavailable("Google Drive"))


def test_the_checker_finds_what_breaks_a_limit():
    too_many = {"type": "home", "blocks": [{"type": "divider"}] * 101}
    assert problems(too_many) == ["101 blocks > 100"]
    message = {"text": "x", "blocks": [{"type": "divider"}] * 51}
    assert problems(message) == ["51 blocks > 50"]
    long_section = {"type": "modal", "title": {"type": "plain_text", "text": "t" * 25},
                    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "a" * 3001}}]}
    assert len(problems(long_section)) == 2
    overflow = {"type": "home", "blocks": [{"type": "actions", "elements": [
        {"type": "overflow", "action_id": "o", "options": [{"text": {"type": "plain_text", "text": "o"},
                                                            "value": "v"}] * 26}]}]}
    assert problems(overflow) == ["block 0 (actions): overflow has 26 options > 25"]


async def test_every_home_and_modal_fits_on_a_directory_of_1000_teams_and_5000_users(big_store):
    store = CountingStore(big_store)
    chat = FakeChat()
    bus = build_bus(_ports(store, chat), Settings())
    surfaces = Surfaces(bus, _ports(store, chat))
    for who in (MEMBER, ADMIN, "UNOBODY"):
        store.reset()
        await surfaces.home_opened(who)
        assert sum(store.calls.values()) <= 4, (who, store.calls)
        user_id, view = chat.homes[-1]
        assert user_id == who
        assert_within_limits(view)
    member_home = chat.homes[0][1]
    admin_home = chat.homes[1][1]
    assert "…and 10 more" in str(member_home)  # 20 teams: 10 shown, the rest counted
    assert "…and 990 more" in str(admin_home)  # manages 1,000 teams: 10 with buttons
    worst = User("UWORST", name="n" * 100, email="e" * 240 + "@example.com", position="p" * 100,
                 major="m" * 100, bio="b" * 500, github="g" * 39)
    assert_within_limits(profile_modal(worst, worst.slack_id))
    assert_within_limits(member_modal("s" * 255, adding=True))


async def test_the_home_bound_holds_for_any_number_of_teams(big_store):
    store = CountingStore(big_store)
    bus = build_bus(_ports(store), Settings())
    store.reset()
    home = await bus.handle(ViewHome(MEMBER))
    assert (home.teams_total, len(home.teams)) == (20, 10)
    assert home.managed_total == 5 and home.projects_total == 20
    assert dict(store.calls) == {"retrieve": 1, "query": 2, "query_or": 1}
    assert_within_limits(home_view(home))


@pytest.mark.parametrize("text", ["team list", "project list", f"user view --username {MEMBER} --inspect",
                                  "team view " + "team-0000-" + "s" * 245, "karma view " + MEMBER, "help"])
async def test_replies_fit_in_one_message_on_the_big_directory(big_store, text):
    bus = build_bus(_ports(big_store), Settings())
    reply = await run_command(bus, MEMBER, text)
    assert reply.ok, reply.text[:300]
    assert_within_limits(reply_payload(reply.text, reply.blocks, reply.slack_text))


async def test_the_dialogs_of_issue_13_fit_on_the_big_directory(big_store):
    """The team dialog, the team view with its buttons, the team page modal, the member picker and
    the device-flow views, on the big directory with worst-case lengths; and a team of all 5,000
    users, whose reply (mentions and GitHub links in its text) is cut within 40,000 characters."""
    chat = FakeChat()
    bus = build_bus(_ports(big_store, chat), Settings())
    surfaces = Surfaces(bus, _ports(big_store, chat))
    slug = "team-0000-" + "s" * 245
    assert_within_limits(team_create_modal())
    reply = await run_command(bus, ADMIN, f"team view {slug}")
    extra = await surfaces.team_buttons(ADMIN, reply.result.team)
    assert [b["block_id"] for b in extra] == ["team_actions"]
    assert_within_limits(reply_payload(reply.text, reply.blocks[: 50 - len(extra)] + extra, reply.slack_text))
    assert_within_limits(await surfaces._team_page(ADMIN, slug, warnings=["w" * 3000] * 12))
    assert_within_limits(member_modal(slug, adding=False))
    assert_within_limits(link_modal("g" * 39))
    assert_within_limits(device_modal("g" * 39, "https://github.com/login/device", "WDJB-MJHT", 15))
    assert_within_limits(device_done_modal("g" * 39, "x" * 5000))
    assert_within_limits(notice_modal("t" * 100, "<x>" * 2000))

    people, _, _ = directory()
    everyone = MemoryStore()
    for user in people:
        await everyone.store(user)
    await everyone.store(Team("1", "everyone", "Everyone", members={u.github_user_id for u in people},
                              team_leads={people[1].github_user_id}))
    bus = build_bus(_ports(everyone), Settings())
    reply = await run_command(bus, ADMIN, "team view everyone")
    assert len(reply.slack_text) > 40_000  # 5,000 mentions and links: more than one message holds
    payload = reply_payload(reply.text, reply.blocks, reply.slack_text)
    assert_within_limits(payload)
    assert payload["text"].endswith("shows everything.") and "<@U00000000>" in payload["text"]
    assert payload["text"].count("<") == payload["text"].count(">")  # no mention or link cut in half
