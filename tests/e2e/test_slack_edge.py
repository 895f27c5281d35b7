"""One Bolt app, two transports: the same slash command, ``team_join`` event and interactive
payloads give the same result over HTTP (Quart's test client) and over Socket Mode (envelopes
through the handler ``rocket socket`` uses, and through a real websocket with ``rocket socket``
against the local Socket Mode stand-in). Plus the HTTP edge's refusals: Bolt's unsigned
``ssl_check=1`` shortcut gets 401 on every Slack route and changes nothing."""

from __future__ import annotations

import asyncio
import copy
import json
import os
import signal
import time
from collections import Counter
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.sqlite import SqliteStore
from core.models import User
from entrypoints.handlers import RocketHandlers
from entrypoints.http import create_app
from tests.e2e.conftest import FORM, slack_headers
from tests.e2e.test_socket_mode import (
    ACTOR,
    APP_TOKEN,
    NEWCOMER,
    SLASH_FORM,
    TEAM_JOIN,
    RecordingSocketClient,
    SocketModeStandIn,
    directory,
    envelope,
    event_envelope,
    handle_socket_request,
    metric,
    sides,  # noqa: F401  (fixture)
    slash_envelope,
    socket_handlers,
)
from tests.support.cli import ROCKET
from tests.support.fixtures import slack_file
from tests.support.slack_standin import slack_standin_fixture  # noqa: F401

SECRET = "s3cret-for-tests"
INTERACTIVE = {name: json.loads(slack_file(f"{name}.payload.json"))
               for name in ("block_actions", "view_submission")}
SHORTCUT = {"type": "shortcut", "callback_id": "rocket_profile", "trigger_id": "1.2.x",
            "team": {"id": "T0FAKETEAM"}, "user": {"id": ACTOR, "team_id": "T0FAKETEAM"},
            "api_app_id": "A0FAKEAPP"}
VIEW_CLOSED = {**INTERACTIVE["view_submission"], "type": "view_closed", "is_cleared": False}
PAYLOADS = [INTERACTIVE["block_actions"], INTERACTIVE["view_submission"], VIEW_CLOSED, SHORTCUT]


async def post_signed(client: Any, path: str, body: str | bytes, content_type: str) -> Any:
    headers = {**slack_headers(body, secret=SECRET), "Content-Type": content_type}
    return await client.post(path, data=body, headers=headers)


async def test_command_event_and_interactions_give_the_same_result_over_both_transports(sides, slack_standin):  # noqa: F811
    socket_side, http_side = sides
    handlers = await socket_handlers(socket_side)
    client = RecordingSocketClient()
    app = create_app(http_side.container)
    async with app.test_app() as test_app:
        http = test_app.test_client()
        http_handlers: RocketHandlers = await app.extensions["rocket_handlers"]()

        # the same slash command: the ack's payload is the HTTP body
        # the word "payload" in a form makes Bolt's own form parse drop every field
        text = 'user edit --name "Fake User" --bio "payload of words"'
        req = slash_envelope(text, slack_standin.response_url("socket"))
        await handle_socket_request(handlers, client, req)
        [ack] = client.acks(req.envelope_id)
        body = urlencode({**SLASH_FORM, "text": text, "response_url": slack_standin.response_url("http")})
        response = await post_signed(http, "/slack/commands", body, FORM)
        assert response.status_code == 200
        assert ack.payload == await response.get_json()
        assert ack.payload["response_type"] == "ephemeral" and ack.payload["text"].strip()

        # the same team_join: stored once each side, acked (no payload over Socket Mode)
        req = event_envelope()
        await handle_socket_request(handlers, client, req)
        [ack] = client.acks(req.envelope_id)
        assert ack.payload is None
        event_body = json.dumps(copy.deepcopy(TEAM_JOIN))
        response = await post_signed(http, "/slack/events", event_body, "application/json")
        assert (response.status_code, await response.get_json()) == (200, {"ok": True})
        assert metric(handlers, "applied") == metric(http_handlers, "applied") == 1

        # the same interactive payloads: acked, nothing changed
        before = await directory(http_side.store)
        for payload in PAYLOADS:
            req = envelope("interactive", copy.deepcopy(payload), accepts_response_payload=True)
            await handle_socket_request(handlers, client, req)
            [ack] = client.acks(req.envelope_id)
            response = await post_signed(http, "/slack/interactions",
                                         urlencode({"payload": json.dumps(payload)}), FORM)
            assert response.status_code == 200, payload["type"]
            assert ack.payload is None and await response.get_data() == b"", payload["type"]
        assert await directory(http_side.store) == before
        assert await directory(socket_side.store) == await directory(http_side.store)
    me = await socket_side.store.retrieve(User, ACTOR)
    assert (me.name, me.bio) == ("Fake User", "payload of words")
    assert (await socket_side.store.retrieve(User, NEWCOMER)).email == "fake.newcomer@example.com"
    assert slack_standin.responses == []  # everything answered inline
    assert len(client.sent) == 2 + len(PAYLOADS)


@pytest.mark.parametrize("path", ["/slack/commands", "/slack/events", "/slack/interactions"])
async def test_unsigned_ssl_check_and_stale_or_bad_signatures_get_401_and_change_nothing(sides, path):  # noqa: F811
    _, http_side = sides
    app = create_app(http_side.container)
    ssl_check = urlencode({"ssl_check": "1", "token": "fakeVerificationToken000"})
    user_add = urlencode({**SLASH_FORM, "text": "user add"})
    before = await directory(http_side.store)
    async with app.test_app() as test_app:
        http = test_app.test_client()
        stale = slack_headers(user_add, timestamp=int(time.time()) - 600, secret=SECRET)
        wrong = slack_headers(user_add, secret="not-the-secret")
        for headers, body in (({}, ssl_check), ({}, user_add), (stale, user_add), (wrong, user_add)):
            response = await http.post(path, data=body, headers={**headers, "Content-Type": FORM})
            assert response.status_code == 401, (headers, body)
        handlers: RocketHandlers = await app.extensions["rocket_handlers"]()
        assert await directory(http_side.store) == before
    assert handlers.metrics.registry.get_sample_value(
        "rocket_commands_total", {"command": "user add", "outcome": "ok"}) in (None, 0.0)


async def test_url_verification_and_other_events_are_answered_by_the_bolt_app(sides):  # noqa: F811
    socket_side, http_side = sides
    app = create_app(http_side.container)
    async with app.test_app() as test_app:
        http = test_app.test_client()
        challenge = slack_file("url_verification.json")
        response = await post_signed(http, "/slack/events", challenge, "application/json")
        assert await response.get_json() == {"challenge": json.loads(challenge)["challenge"]}
        home = slack_file("app_home_opened.event.json")
        response = await post_signed(http, "/slack/events", home, "application/json")
        assert (response.status_code, await response.get_json()) == (200, {"ok": True, "home": "published"})
        odd = json.dumps({"type": "app_rate_limited", "minute_rate_limited": 1})
        response = await post_signed(http, "/slack/events", odd, "application/json")
        assert (response.status_code, await response.get_json()) == (200, {"ok": True, "ignored": True})
        for bad in ("payload=%7Bnot+json", "payload=%5B%5D", "text=no+payload+field"):
            response = await post_signed(http, "/slack/interactions", bad, FORM)
            assert response.status_code == 400, bad
        odd_shapes = [{"type": "block_actions", "actions": [1]}, {"type": "view_submission", "view": []},
                      {"type": "shortcut", "callback_id": []}, {"type": []}, {"type": "block_actions"},
                      {"type": "view_closed", "view": {"callback_id": {"x": 1}}}, {}]
        handlers = await socket_handlers(socket_side)
        client = RecordingSocketClient()
        for shape in odd_shapes:
            form = urlencode({"payload": json.dumps(shape)})
            response = await post_signed(http, "/slack/interactions", form, FORM)
            assert response.status_code in (200, 400), (shape, response.status_code)
            req = envelope("interactive", shape, accepts_response_payload=True)
            await handle_socket_request(handlers, client, req)
            assert len(client.acks(req.envelope_id)) == 1, shape  # acked once, not redelivered forever
    assert await socket_side.store.query(User) == []


async def test_rocket_socket_acks_interactive_envelopes_over_a_real_websocket(tmp_path):
    standin = await SocketModeStandIn().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SLACK_", "GCP_", "AWS_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'rocket.db'}", "SLACK_APP_TOKEN": APP_TOKEN,
                "SLACK_API_URL": standin.api_url, "ROCKET_SCHEDULER": "off"})
    pipe = asyncio.subprocess.PIPE
    proc = await asyncio.create_subprocess_exec(ROCKET, "socket", env=env, cwd=tmp_path,
                                                stdout=pipe, stderr=pipe)
    try:
        await asyncio.wait_for(standin.connected.wait(), 20)
        for n, payload in enumerate(PAYLOADS):
            await standin.outbox.put({"envelope_id": f"env-ui-{n}", "type": "interactive",
                                      "accepts_response_payload": True, "payload": payload})
            assert await standin.acks_for(f"env-ui-{n}") == [{"envelope_id": f"env-ui-{n}"}]
        command = {"envelope_id": "env-cmd", "type": "slash_commands", "accepts_response_payload": True,
                   "payload": {**SLASH_FORM, "text": "user add"}}
        await standin.outbox.put(command)
        [ack] = await standin.acks_for("env-cmd")
        assert ack["payload"]["response_type"] == "ephemeral" and ACTOR in ack["payload"]["text"]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
        await standin.stop()
    assert proc.returncode == 0, err.decode()
    assert Counter(m.get("envelope_id") for m in standin.received) == {
        **{f"env-ui-{n}": 1 for n in range(len(PAYLOADS))}, "env-cmd": 1}
    store = await SqliteStore.open(str(tmp_path / "rocket.db"))
    try:
        assert [u.slack_id for u in await store.query(User)] == [ACTOR]  # only the command changed anything
    finally:
        await store.close()
