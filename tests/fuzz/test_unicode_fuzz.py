"""Issue 11 must show 4: Hypothesis fuzzing of events, interactions, webhooks and import files
with arbitrary Unicode, lone surrogates and NUL included.

Properties, after every example:
- the HTTP answer is never a 5xx (a refusal is 400, or 200 and ignored);
- nothing stored holds a NUL or a lone surrogate (``core.validation.bad_text_in`` over every
  record), and ``rocket db export``'s writer produces text that encodes as strict UTF-8.
An import either succeeds or is refused with ``ImportFileError`` (one line, nothing written).
"""

from __future__ import annotations

import io
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from core.models import Project, Team, User, to_dict
from core.validation import bad_text_in
from entrypoints.dbio import ImportFileError, export_to, import_from, loads_strict
from tests.e2e.conftest import FORM, github_headers, slack_headers

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Every code point, surrogates included (Hypothesis leaves out category Cs unless told), plus
# the characters this issue is about, drawn often.
any_char = st.characters(exclude_categories=()) | st.sampled_from(["\ud800", "\udfff", "\x00", "<", "&"])
unicode = st.text(any_char, max_size=24) | st.sampled_from(["Ada", "<!channel>", "a\ud83d", "\x00"])


async def assert_store_clean(store: Any) -> None:
    for model in (User, Team, Project):
        for record in await store.query(model):
            assert bad_text_in(to_dict(record)) is None, record
    out = io.StringIO()
    await export_to(store, out)
    out.getvalue().encode("utf-8")  # strict: what `rocket db export` writes


def as_json(value: Any) -> bytes:
    return json.dumps(value).encode()  # ensure_ascii: a surrogate travels as a \\ud800 escape


@FUZZ
@given(user_id=unicode, name=unicode, email=unicode, image=unicode)
@example(user_id="UNEW", name="Ada\ud800", email="a@b.co", image="")
async def test_team_join_with_any_unicode(http_world, user_id: str, name: str, email: str, image: str):
    envelope = {"type": "event_callback", "event_id": uuid.uuid4().hex, "team_id": "T1",
                "event": {"type": "team_join", "user": {"id": user_id, "real_name": name,
                                                         "profile": {"real_name": name, "email": email,
                                                                     "image_192": image}}}}
    response = await http_world.event(as_json(envelope))
    assert response.status_code < 500
    await assert_store_clean(http_world.store)


@FUZZ
@given(kind=st.sampled_from(["block_actions", "view_submission", "view_closed", "shortcut"]) | unicode,
       user=unicode, value=unicode)
@example(kind="view_submission", user="U1", value="\x00")
async def test_interactions_with_any_unicode(http_world, kind: str, user: str, value: str):
    payload = {"type": kind, "user": {"id": user}, "trigger_id": value,
               "actions": [{"action_id": value, "value": value}],
               "view": {"callback_id": value, "state": {"values": {"name": {"name": {"value": value}}}}}}
    body = urlencode({"payload": json.dumps(payload)})
    response = await http_world.client.post("/slack/interactions", data=body,
                                            headers={**slack_headers(body), "Content-Type": FORM})
    assert response.status_code < 500
    await assert_store_clean(http_world.store)


@FUZZ
@given(action=st.sampled_from(["created", "edited", "deleted", "added", "removed"]) | unicode,
       slug=unicode, name=unicode, login=unicode, event=st.sampled_from(["team", "membership"]))
@example(action="created", slug="new\ud800", name="x", login="octocat", event="team")
async def test_webhooks_with_any_unicode(http_world, action: str, slug: str, name: str, login: str,
                                         event: str):
    payload = {"action": action, "team": {"id": 4242, "slug": slug, "name": name},
               "member": {"id": 77, "login": login}, "scope": "team",
               "organization": {"login": http_world.env.get("GITHUB_ORG_NAME", "")},
               "sender": {"login": login}}
    body = as_json(payload)
    response = await http_world.client.post("/webhook", data=body,
                                            headers=github_headers(event, body, str(time.time_ns())))
    assert response.status_code < 500
    await assert_store_clean(http_world.store)


record_values = (unicode | st.integers() | st.floats() | st.booleans() | st.none()
                 | st.lists(unicode, max_size=3))


@FUZZ
@given(users=st.lists(st.fixed_dictionaries({"slack_id": unicode}, optional={
           "name": record_values, "email": record_values, "karma": record_values,
           "permission_level": st.sampled_from(["member", "admin"]) | unicode,
           "github_verified": record_values}), max_size=3),
       teams=st.lists(st.fixed_dictionaries({"github_team_id": unicode}, optional={
           "github_team_name": record_values, "members": record_values}), max_size=2),
       extra_key=unicode)
@example(users=[{"slack_id": "U1", "name": "a\ud800"}], teams=[], extra_key="")
async def test_import_files_with_any_unicode(http_world, users: list, teams: list, extra_key: str):
    handlers = await http_world.app.extensions["rocket_handlers"]()
    before = await http_world.directory()
    if users:
        users[0][extra_key or "bio"] = "x"
    text = json.dumps({"users": users, "teams": teams})
    try:
        await import_from(handlers.bus, loads_strict(text), actor="cli")
    except ImportFileError:
        assert await http_world.directory() == before  # refused: nothing imported
    await assert_store_clean(http_world.store)
