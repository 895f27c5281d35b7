"""The Home tab and the profile editor, end to end over both transports (issue 13, must-show 1 and 2).

One flow, driven once over HTTP (signed requests to the Quart app) and once over Socket Mode
(envelopes through the Bolt app ``rocket socket`` builds), against the Slack stand-in: open Home
(``views.publish`` recorded), press "Edit profile" (``views.open`` with the trigger id), submit
the modal (the export changes and the Home is published again), submit the same payload again
(applied once), submit an invalid email (the error on its field, nothing changed). Every view is
checked by ``tests.support.blockkit``.
"""

from __future__ import annotations

import copy
import io
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from core.models import User
from entrypoints.config import load_config
from entrypoints.container import make_container
from entrypoints.dbio import export_to
from entrypoints.http import create_app
from entrypoints.storage import open_audit
from tests.e2e.conftest import FORM, slack_headers
from tests.e2e.test_socket_mode import RecordingSocketClient, envelope, handle_socket_request, socket_handlers
from tests.support.blockkit import assert_within_limits
from tests.support.fixtures import slack_file
from tests.support.slack_standin import SlackStandIn, slack_standin_fixture  # noqa: F401

SECRET = "s3cret-for-tests"
HOME_OPENED = json.loads(slack_file("app_home_opened.event.json"))
BLOCK_ACTIONS = json.loads(slack_file("block_actions.payload.json"))
VIEW_SUBMISSION = json.loads(slack_file("view_submission.payload.json"))
ME = HOME_OPENED["event"]["user"]


@dataclass
class Driver:
    """Sends Slack payloads over one transport; answers (status, JSON body or None)."""

    transport: str
    http: Any = None
    handlers: Any = None
    client: Any = None

    async def event(self, body: dict[str, Any]) -> tuple[int, Any]:
        if self.transport == "http":
            raw = json.dumps(body)
            headers = {**slack_headers(raw, secret=SECRET), "Content-Type": "application/json"}
            r = await self.http.post("/slack/events", data=raw, headers=headers)
            return r.status_code, await r.get_json()
        req = envelope("events_api", copy.deepcopy(body), accepts_response_payload=False)
        await handle_socket_request(self.handlers, self.client, req)
        [ack] = self.client.acks(req.envelope_id)
        return 200, ack.payload

    async def interaction(self, payload: dict[str, Any]) -> tuple[int, Any]:
        if self.transport == "http":
            raw = urlencode({"payload": json.dumps(payload)})
            r = await self.http.post("/slack/interactions", data=raw,
                                     headers={**slack_headers(raw, secret=SECRET), "Content-Type": FORM})
            data = await r.get_data()
            return r.status_code, json.loads(data) if data else None
        req = envelope("interactive", copy.deepcopy(payload), accepts_response_payload=True)
        await handle_socket_request(self.handlers, self.client, req)
        [ack] = self.client.acks(req.envelope_id)
        return 200, ack.payload or None


@pytest.fixture(params=["http", "socket"])
async def world(request, tmp_path, slack_standin: SlackStandIn) -> AsyncIterator[tuple[Driver, Any]]:  # noqa: F811
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rocket.db'}", "SLACK_SIGNING_SECRET": SECRET,
           "ROCKET_SCHEDULER": "off", **slack_standin.env()}
    container = make_container(load_config(env))
    store = await container.store()
    await store.store(User(ME, name="Fake User", email="fake.user@example.com", major="Physics", karma=3,
                           image_url="https://example.com/me.png"))
    if request.param == "http":
        app = create_app(container)
        async with app.test_app() as test_app:
            yield Driver("http", http=test_app.test_client()), store
    else:
        class Side:
            pass
        side = Side()
        side.container, side.store = container, store  # type: ignore[attr-defined]
        yield Driver("socket", handlers=await socket_handlers(side), client=RecordingSocketClient()), store
    await container.shutdown_resources()


async def exported(store: Any) -> dict[str, Any]:
    out = io.StringIO()
    await export_to(store, out)
    return json.loads(out.getvalue())


def button(view: dict[str, Any], label: str) -> dict[str, Any]:
    for block in view["blocks"]:
        for el in block.get("elements") or []:
            if el.get("type") == "button" and el["text"]["text"] == label:
                return el
    raise AssertionError(f"no {label!r} button in {json.dumps(view)[:500]}")


def press(view: dict[str, Any], el: dict[str, Any], trigger: str) -> dict[str, Any]:
    payload = copy.deepcopy(BLOCK_ACTIONS)
    payload["trigger_id"] = trigger
    payload["view"] = {**payload["view"], "blocks": view["blocks"]}
    payload["actions"] = [{"action_id": el["action_id"], "block_id": "profile_actions", "type": "button",
                           "value": el.get("value", ""), "text": el["text"], "action_ts": "1764547201.1"}]
    return payload


def submit(modal: dict[str, Any], view_id: str, view_hash: str, **changes: str) -> dict[str, Any]:
    """A view_submission of ``modal`` as Slack sends it: every input's value (the initial one
    unless changed)."""
    values = {}
    for block in modal["blocks"]:
        el = block["element"]
        value = changes.get(block["block_id"], el.get("initial_value"))
        values[block["block_id"]] = {el["action_id"]: {"type": el["type"], "value": value}}
    payload = copy.deepcopy(VIEW_SUBMISSION)
    payload["view"] = {**payload["view"], "id": view_id, "hash": view_hash, "blocks": modal["blocks"],
                       "callback_id": modal["callback_id"], "private_metadata": modal["private_metadata"],
                       "state": {"values": values}}
    return payload


async def test_home_edit_profile_submit_republish_retry_and_invalid_email(world, slack_standin):  # noqa: F811
    driver, store = world
    # open Home
    status, _ = await driver.event(HOME_OPENED)
    assert status == 200
    [home] = slack_standin.homes(ME)
    assert_within_limits(home)
    text = json.dumps(home)
    assert "Fake User" in text and "*Karma:* 3" in text and "https://example.com/me.png" in text

    # press "Edit profile": views.open with the payload's trigger id, filled with current values
    trigger = "5555555555.6666666666.abcdef0123"
    status, body = await driver.interaction(press(home, button(home, "Edit profile"), trigger))
    assert (status, body) == (200, None)
    [opened] = slack_standin.opened()
    assert opened.target == trigger
    modal = assert_within_limits(opened.view)
    labels = {b["block_id"]: b["label"]["text"] for b in modal["blocks"]}
    assert labels == {"name": "Name", "email": "Email", "position": "Position", "major": "Major",
                      "bio": "Bio", "github": "GitHub"}
    initial = {b["block_id"]: b["element"].get("initial_value") for b in modal["blocks"]}
    assert initial["name"] == "Fake User" and initial["email"] == "fake.user@example.com"
    assert initial["major"] == "Physics" and initial["bio"] is None

    # submit: the export changes, the Home is published again with the new values
    audit = await open_audit(store)  # the audit log beside the store (issue 14: the interaction path)
    entries_before = {e.id for e in await audit.query(limit=1000)}
    before = await exported(store)
    good = submit(modal, opened.view_id, "h1", name="Fake User Renamed", bio="Likes <!channel> & rockets")
    assert await driver.interaction(good) == (200, None)
    [entry] = [e for e in await audit.query(limit=1000) if e.id not in entries_before]
    assert (entry.actor, entry.action, entry.target) == (ME, "user edit", f"user:{ME}")
    assert ("name", "Fake User", "Fake User Renamed") in entry.changes
    after = await exported(store)
    [me] = [u for u in after["users"] if u["slack_id"] == ME]
    assert (me["name"], me["bio"], me["email"]) == ("Fake User Renamed", "Likes <!channel> & rockets",
                                                    "fake.user@example.com")
    assert after != before
    homes = slack_standin.homes(ME)
    assert len(homes) == 2
    republished = json.dumps(assert_within_limits(homes[-1]))
    assert "Fake User Renamed" in republished and "<!channel>" not in republished  # escaped

    # the same submission again (a Slack retry): applied once, no second publish
    await store.store(User(**{**(await store.retrieve(User, ME)).__dict__, "name": "Changed Elsewhere"}))
    assert await driver.interaction(copy.deepcopy(good)) == (200, None)
    assert (await store.retrieve(User, ME)).name == "Changed Elsewhere"
    assert len(slack_standin.homes(ME)) == 2
    assert len([e for e in await audit.query(limit=1000) if e.id not in entries_before]) == 1

    # an invalid email: the error on its field, nothing changed
    snapshot = await exported(store)
    bad = submit(modal, opened.view_id, "h2", email="not-an-email", name="Should Not Stick")
    status, body = await driver.interaction(bad)
    assert status == 200 and body["response_action"] == "errors"
    assert list(body["errors"]) == ["email"] and "email" in body["errors"]["email"]
    assert await exported(store) == snapshot
    assert len([e for e in await audit.query(limit=1000) if e.id not in entries_before]) == 1
    await audit.close()


async def test_rocket_user_edit_without_options_opens_the_editor(world, slack_standin):  # noqa: F811
    driver, store = world
    if driver.transport != "http":
        pytest.skip("the slash command's modal is covered over HTTP; Socket Mode shares the handler")
    form = urlencode({"token": "x", "team_id": "T1", "channel_id": "C1", "user_id": ME, "user_name": "u",
                      "command": "/rocket", "text": "user edit", "trigger_id": "7777777777.8888888888.beef",
                      "response_url": slack_standin.response_url("r")})
    r = await driver.http.post("/slack/commands", data=form,
                               headers={**slack_headers(form, secret=SECRET), "Content-Type": FORM})
    assert r.status_code == 200 and "profile editor" in (await r.get_json())["text"]
    [opened] = slack_standin.opened()
    assert opened.target == "7777777777.8888888888.beef"
    assert opened.view["callback_id"] == "rocket_profile"
    assert_within_limits(opened.view)


async def test_a_long_team_list_is_split_with_a_more_button_that_posts_the_next_page(world, slack_standin):  # noqa: F811
    from core.models import Team

    driver, store = world
    for i in range(30):
        await store.store(Team(str(500 + i), f"team-{i:02d}", f"Team {i}"))
    from entrypoints.commands.dispatch import run_command

    if driver.transport == "http":
        form = urlencode({"token": "x", "team_id": "T1", "channel_id": "C1", "user_id": ME, "user_name": "u",
                          "command": "/rocket", "text": "team list", "response_url": ""})
        r = await driver.http.post("/slack/commands", data=form,
                                   headers={**slack_headers(form, secret=SECRET), "Content-Type": FORM})
        first = await r.get_json()
    else:
        reply = await run_command(driver.handlers.bus, ME, "team list")
        first = {"text": reply.text, "blocks": reply.blocks}
    assert_within_limits(first)
    assert "page 1 of 2" in first["text"] and "team-24" in first["text"] and "team-25" not in first["text"]
    [more] = [el for b in first["blocks"] if b["type"] == "actions" for el in b["elements"]]
    assert more["value"] == "team list --page 2"
    payload = copy.deepcopy(BLOCK_ACTIONS)
    payload["container"] = {"type": "message", "message_ts": "1.2"}
    payload["response_url"] = slack_standin.response_url("more")
    payload["actions"] = [{"action_id": more["action_id"], "block_id": "b", "type": "button",
                           "value": more["value"], "text": more["text"], "action_ts": "1.3"}]
    assert await driver.interaction(payload) == (200, None)
    [posted] = [r.body for r in slack_standin.responses if r.name == "more"]
    assert "page 2 of 2" in posted["text"] and "team-29" in posted["text"] and "team-24" not in posted["text"]
    assert not [b for b in posted["blocks"] if b["type"] == "actions"]  # the last page has no "More"
    assert_within_limits(posted)
    # a forged value runs nothing
    payload["actions"][0]["value"] = "team delete team-01"
    assert await driver.interaction(payload) == (200, None)
    assert len([r for r in slack_standin.responses if r.name == "more"]) == 1
