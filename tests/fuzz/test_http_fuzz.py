"""Fuzzing the HTTP app (Quart test client, SQLite, GitHub and Slack stand-ins) with Hypothesis.

Every request is properly signed, so it gets past verification and reaches the parsers and
handlers. Properties:

- ``/slack/commands`` with any text (quotes, Unicode, control characters, long lines) and any
  user id: 200 with a JSON body whose ``text`` is a non-empty string, and never the "Something
  went wrong" reply that hides an unexpected exception. Any form bytes: 200 or 400, never 500.
- the GitHub webhook with any JSON or any bytes, for ``team``, ``membership``,
  ``organization``, ``ping`` and random event names: never a 5xx, and the directory is unchanged
  unless the payload is a well-formed event that ``may_change`` says can change it.
- ``/slack/events`` with any JSON: never a 5xx; nothing stored unless it is a well-formed
  ``team_join``, which stores exactly that user.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import string
import time
import uuid
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.models import Project, Team, User
from core.permissions import Permissions
from core.validation import bad_text_in
from entrypoints.commands.dispatch import SOMETHING_WENT_WRONG
from tests.e2e.conftest import FORM, SLACK_SECRET, command_form, github_headers, slack_headers

FUZZ = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

KNOWN_TEAM, KNOWN_MEMBER, KNOWN_USER_GH = "3253328", "21031067", "39652351"
DEEP = b"[" * 100_000  # valid-looking JSON nested past Python's recursion limit

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)
ids = st.one_of(st.sampled_from([KNOWN_TEAM, int(KNOWN_TEAM), KNOWN_MEMBER, int(KNOWN_USER_GH), "", 0, True]),
                st.integers(), st.text(max_size=8), st.floats(allow_nan=False), st.none(),
                st.lists(st.integers()))
texts = st.one_of(st.sampled_from(["github", "", " ", "new-team"]), st.text(max_size=12), st.none(),
                  st.integers())
actions = st.one_of(st.sampled_from(["created", "deleted", "edited", "added", "removed", "member_removed",
                                     "member_added", "member_invited", "renamed"]),
                    st.text(max_size=10), st.none())
gh_user = st.fixed_dictionaries({}, optional={"id": ids, "login": texts})
gh_team = st.fixed_dictionaries({}, optional={"id": ids, "slug": texts, "name": texts})
structured_payload = st.fixed_dictionaries({}, optional={
    "action": actions, "team": gh_team | json_values, "member": gh_user | json_values,
    "membership": st.fixed_dictionaries({}, optional={"user": gh_user}) | json_values,
    "user": gh_user, "scope": st.sampled_from(["team", "organization", None]) | json_values,
})
event_names = st.sampled_from(["team", "membership", "organization", "ping"]) | st.text(
    alphabet=string.ascii_letters + string.digits + "_-.", max_size=20)


def signed_bytes(body: bytes) -> dict[str, str]:
    """Slack's signature over raw bytes (slack-sdk's signer wants text, so any bytes are signed here)."""
    ts = str(int(time.time()))
    digest = hmac.new(SLACK_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _id(obj: Any) -> str:
    """The rule for ids in GitHub payloads: an int or a non-empty string."""
    value = obj.get("id") if isinstance(obj, dict) else None
    return str(value) if isinstance(value, int | str) and str(value) else ""


def may_change(event: str, payload: Any) -> bool:
    """Whether a webhook may change the seeded directory (the contract's "known team or user")."""
    if not isinstance(payload, dict):
        return False
    action = payload.get("action")
    team = payload.get("team") if isinstance(payload.get("team"), dict) else {}
    if event == "team":
        slug = team.get("slug")
        if action == "created":
            return bool(_id(team)) and isinstance(slug, str) and bool(slug)
        return _id(team) == KNOWN_TEAM and action in ("deleted", "edited")
    if event == "membership":
        return (payload.get("scope") in (None, "team") and action in ("added", "removed")
                and _id(team) == KNOWN_TEAM and bool(_id(payload.get("member") or {})))
    if event == "organization":
        membership = payload.get("membership") if isinstance(payload.get("membership"), dict) else {}
        user = membership.get("user") or payload.get("user") or {}
        return action == "member_removed" and _id(user) in (KNOWN_MEMBER, KNOWN_USER_GH)
    return False


async def seed(w) -> None:
    """A known team with a member and a lead, users linked to GitHub, an assigned project."""
    for model in (User, Team, Project):
        for record in await w.store.query(model):
            await w.store.delete(model, getattr(record, model.KEY))
    await w.store.store(User("UADMIN", permission_level=Permissions.admin))
    await w.store.store(User("U7", github="Codertocat", github_user_id=KNOWN_MEMBER))
    await w.store.store(User("U8", github="hacktocat", github_user_id=KNOWN_USER_GH))
    await w.store.store(Team(KNOWN_TEAM, "github", members={KNOWN_MEMBER, KNOWN_USER_GH},
                             team_leads={KNOWN_MEMBER}))
    await w.store.store(Project("p1", github_team_id=KNOWN_TEAM, github_urls={"https://github.com/o/r"}))


async def seeded(w) -> Any:
    if not getattr(w, "_seeded", False):
        await seed(w)
        w._seeded = True
    return await w.directory()


# --- slash commands -----------------------------------------------------------------------------

command_words = st.sampled_from([
    "user add", "user edit --name ", "user edit --bio ", "user view --username ", "team create ",
    "team view ", "team add github ", "project create ", "karma set U7 ", "help", "-h", "<@U7|c> ++",
    "team edit github --name ", "export emails --team ", "project assign p1 ", "user delete ",
])
slack_bits = st.sampled_from(['"', "'", "\u201c", "\u201d", "\u2014", "<@U7|x>", "<#C1|general>",
                              "<mailto:a@b.co|a@b.co>", "<https://x/y|x/y>", "&amp;", "\\", "\x00", "\n",
                              "\t", "\u202e", "\ufeff", "🚀", "--", "-f", "--force"])
command_text = st.one_of(
    st.text(max_size=200),
    st.builds(lambda a, b: a + b, command_words, st.text(max_size=80)),
    st.lists(command_words | slack_bits | st.text(max_size=6), max_size=10).map(" ".join),
    st.lists(command_words | slack_bits | st.text(max_size=6), max_size=10).map("".join),
    st.builds(lambda t, n: t * n, st.text(min_size=1, max_size=6), st.integers(100, 2000)),  # long lines
)
actors = st.sampled_from(["UADMIN", "U7", "UNEW"]) | st.text(max_size=12)


@FUZZ
@given(text=command_text, actor=actors)
@example(text='user edit --name "unterminated', actor="UADMIN")
@example(text="team create \u201cquoted\u201d --name \x00", actor="UADMIN")
@example(text="x" * 5000, actor="U7")
async def test_slash_command_text_always_gets_a_readable_reply(http_world, text: str, actor: str):
    w = http_world
    await seeded(w)
    body = command_form(actor, text)
    response = await w.client.post("/slack/commands", data=body,
                                   headers={**slack_headers(body), "Content-Type": FORM})
    assert response.status_code == 200, await response.get_data()
    reply = await response.get_json()
    assert isinstance(reply, dict) and isinstance(reply.get("text"), str) and reply["text"].strip()
    assert reply["response_type"] == "ephemeral"
    assert SOMETHING_WENT_WRONG not in reply["text"], (text, actor)


@FUZZ
@given(body=st.binary(max_size=300))
@example(body=b"user_id=U7&text=%ff%fe")
@example(body=b"\xff\xfe\x00")
async def test_slash_command_any_form_bytes_never_500(http_world, body: bytes):
    response = await http_world.client.post("/slack/commands", data=body,
                                            headers={**signed_bytes(body), "Content-Type": FORM})
    # Slack signs text: a body that is not UTF-8 cannot be verified (401), else 200 or 400.
    assert response.status_code in ((200, 400) if utf8(body) else (401,)), response.status_code
    if response.status_code == 200:
        assert (await response.get_json())["text"].strip()


# --- GitHub webhooks ------------------------------------------------------------------------------

@FUZZ
@given(event=event_names, payload=st.one_of(structured_payload, json_values))
@example(event="team", payload={"action": "created", "team": {"id": 1.5, "slug": "x"}})
@example(event="membership", payload={"action": "added", "team": {"id": True}, "member": {"id": 5}})
async def test_webhook_json_is_never_a_server_error_and_stores_only_well_formed_events(
        http_world, event: str, payload: Any):
    w = http_world
    before = await seeded(w)
    body = json.dumps(payload).encode()
    headers = github_headers(event, body, str(uuid.uuid4()))
    response = await w.client.post("/webhook", data=body, headers=headers)
    if bad_text_in(payload) is not None:  # NUL or a lone surrogate: 400 and nothing changes (issue 11)
        assert response.status_code == 400, (response.status_code, await response.get_data())
        assert await w.directory() == before
        return
    assert response.status_code == 200, (response.status_code, await response.get_data())
    after = await w.directory()
    if may_change(event, payload):
        w._seeded = False  # re-seed for the next example
    else:
        assert after == before, (event, payload)
        assert (await response.get_json())["applied"] is False


@FUZZ
@given(event=event_names, body=st.binary(max_size=300))
@example(event="team", body=DEEP)
@example(event="team", body=b"\xef\xbb\xbf{}")
async def test_webhook_bytes_are_never_a_server_error(http_world, event: str, body: bytes):
    w = http_world
    before = await seeded(w)
    headers = github_headers(event, body, str(uuid.uuid4()))
    response = await w.client.post("/webhook", data=body, headers=headers)
    assert response.status_code in (200, 400), (response.status_code, body[:40])
    assert await w.directory() == before


# --- Slack events ---------------------------------------------------------------------------------

slack_user = st.fixed_dictionaries({}, optional={
    "id": st.sampled_from(["UFUZZ1", "UADMIN", "", " "]) | json_values,
    "name": json_values, "real_name": json_values,
    "profile": st.fixed_dictionaries({}, optional={"email": json_values, "real_name": json_values,
                                                   "image_192": json_values}) | json_values,
})
slack_envelope = st.fixed_dictionaries({}, optional={
    "type": st.sampled_from(["event_callback", "url_verification", "app_rate_limited"]) | json_values,
    "event_id": st.sampled_from(["Ev1"]) | st.uuids().map(str) | json_values,
    "challenge": json_values,
    "event": st.fixed_dictionaries({}, optional={
        "type": st.sampled_from(["team_join", "message"]) | json_values, "user": slack_user | json_values,
    }) | json_values,
})


def well_formed_join(envelope: Any) -> str:
    """The Slack id a well-formed ``team_join`` registers, else ""."""
    if not isinstance(envelope, dict) or envelope.get("type") != "event_callback":
        return ""
    event = envelope.get("event")
    if not isinstance(event, dict) or event.get("type") != "team_join":
        return ""
    if not isinstance(event.get("user"), dict):
        return ""
    if envelope.get("event_id") in (None, ""):
        return ""
    user_id = event["user"].get("id")
    if not isinstance(user_id, str) or not user_id.strip() or any(c < " " or c == "\x7f" for c in user_id):
        return ""
    return user_id.strip()


@FUZZ
@given(envelope=st.one_of(slack_envelope, json_values))
@example(envelope={"type": "event_callback", "event_id": "Ev9",
                   "event": {"type": "team_join", "user": {"id": None}}})  # was stored as user "None"
@example(envelope={"type": "event_callback", "event_id": "Ev8",
                   "event": {"type": "team_join", "user": {"id": 42, "name": {"x": 1}}}})
async def test_slack_events_are_never_a_server_error_and_store_only_team_join(http_world, envelope: Any):
    w = http_world
    before = await seeded(w)
    if isinstance(envelope, dict) and isinstance(envelope.get("event_id"), str):
        envelope = {**envelope, "event_id": f"{envelope['event_id']}-{uuid.uuid4()}"}  # never a duplicate
    body = json.dumps(envelope).encode()
    response = await w.client.post("/slack/events", data=body,
                                   headers={**slack_headers(body), "Content-Type": "application/json"})
    assert response.status_code in (200, 400), (response.status_code, await response.get_data())
    users, teams, projects = await w.directory()
    joined = well_formed_join(envelope)
    if joined and joined not in {u.slack_id for u in before[0]}:
        assert {u.slack_id for u in users} - {u.slack_id for u in before[0]} <= {joined}
        for user in users:
            if user.slack_id == joined:  # profile fields come from Slack's strings, never a repr
                slack_user = envelope["event"]["user"]
                profile = slack_user.get("profile") if isinstance(slack_user.get("profile"), dict) else {}
                names = [v.strip() for v in (profile.get("real_name"), slack_user.get("real_name"),
                                             slack_user.get("name")) if isinstance(v, str) and v]
                assert user.name in {"", *names[:1]}, (user.name, slack_user)
        assert (teams, projects) == (before[1], before[2])
        w._seeded = False
    else:
        assert (users, teams, projects) == before, envelope


@FUZZ
@given(body=st.binary(max_size=300))
@example(body=DEEP)
async def test_slack_event_bytes_are_never_a_server_error(http_world, body: bytes):
    w = http_world
    before = await seeded(w)
    response = await w.client.post("/slack/events", data=body,
                                   headers={**signed_bytes(body), "Content-Type": "application/json"})
    assert response.status_code in ((200, 400) if utf8(body) else (401,)), (response.status_code, body[:40])
    assert await w.directory() == before
