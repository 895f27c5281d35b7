"""Socket Mode: ``handle_socket_request`` driven with real envelope shapes, no websocket.

Each test builds two Rocket containers on the same kind of store (memory or SQLite) from the
same starting directory: one answers over Socket Mode, through ``handle_socket_request`` and a
recording client that stands in for the websocket; the other is the HTTP app answering the
same, Slack-signed request through Quart's test client. Replies and stored state must match.
Chat goes to the local Slack stand-in (welcome DMs, ``response_url``) over real HTTP.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import logging
import os
import signal
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from aiohttp import WSMsgType, web
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from adapters.sqlite import SqliteStore
from core.errors import StorageUnavailable
from core.models import Project, Team, User
from entrypoints.config import load_config
from entrypoints.container import make_container
from entrypoints.handlers import RocketHandlers
from entrypoints.http import create_app
from entrypoints.metrics import Metrics
from entrypoints.slack_app import build_bolt_app
from entrypoints.socket_mode import handle_socket_request as bolt_handle
from tests.e2e.conftest import FORM, slack_headers
from tests.support.cli import ROCKET, rocket
from tests.support.fixtures import slack_file
from tests.support.slack_standin import SlackStandIn, slack_standin_fixture  # noqa: F401

SLASH_FORM = dict(parse_qsl(slack_file("slash_command.form.txt").decode(), keep_blank_values=True))
TEAM_JOIN = json.loads(slack_file("team_join.event.json"))
ACTOR = SLASH_FORM["user_id"]
NEWCOMER = TEAM_JOIN["event"]["user"]["id"]
SEED_TEAM = Team("4242", "brussel", "Brussel Sprouts", "web")


class RecordingSocketClient:
    """Stands in for the websocket: keeps every ``send_socket_mode_response`` in order."""

    def __init__(self) -> None:
        self.sent: list[SocketModeResponse] = []
        self.logger = logging.getLogger("tests.socket")

    async def send_socket_mode_response(self, response: SocketModeResponse) -> None:
        self.sent.append(response)

    def acks(self, envelope_id: str) -> list[SocketModeResponse]:
        return [r for r in self.sent if r.envelope_id == envelope_id]


def envelope(kind: str, payload: dict[str, Any], **extra: Any) -> SocketModeRequest:
    """Parse an envelope the way slack-sdk's client parses a websocket message."""
    message = {"envelope_id": str(uuid.uuid4()), "type": kind, "payload": payload, **extra}
    request = SocketModeRequest.from_dict(json.loads(json.dumps(message)))
    assert request is not None
    return request


def slash_envelope(text: str, response_url: str) -> SocketModeRequest:
    """A ``slash_commands`` envelope carrying the fixture's fields (as Socket Mode sends them)."""
    payload = {**SLASH_FORM, "text": text, "response_url": response_url, "is_enterprise_install": "false"}
    return envelope("slash_commands", payload, accepts_response_payload=True)


def event_envelope(retry_attempt: int = 0) -> SocketModeRequest:
    return envelope("events_api", copy.deepcopy(TEAM_JOIN), accepts_response_payload=False,
                    retry_attempt=retry_attempt, retry_reason="timeout" if retry_attempt else "")


@dataclasses.dataclass
class Side:
    container: Any
    store: Any


async def directory(store: Any) -> tuple[list[User], list[Team], list[Project]]:
    return (sorted(await store.query(User), key=lambda u: u.slack_id),
            sorted(await store.query(Team), key=lambda t: t.github_team_id),
            sorted(await store.query(Project), key=lambda p: p.project_id))


def metric(handlers: RocketHandlers, outcome: str) -> float:
    value = handlers.metrics.registry.get_sample_value(
        "rocket_webhooks_total", {"source": "slack", "event": "team_join", "outcome": outcome})
    return value or 0.0


@pytest.fixture(params=["memory", "sqlite"])
async def sides(request, tmp_path, slack_standin: SlackStandIn) -> AsyncIterator[tuple[Side, Side]]:  # noqa: F811
    """Two containers on equal starting stores: (socket side, HTTP side)."""
    made = []
    for name in ("socket", "http"):
        url = "memory://" if request.param == "memory" else f"sqlite:///{tmp_path / (name + '.db')}"
        env = {"DATABASE_URL": url, "SLACK_SIGNING_SECRET": "s3cret-for-tests", "ROCKET_SCHEDULER": "off",
               **slack_standin.env()}
        container = make_container(load_config(env))
        store = await container.store()
        await store.store(dataclasses.replace(SEED_TEAM))
        made.append(Side(container, store))
    yield made[0], made[1]
    for side in made:
        await side.container.shutdown_resources()


async def socket_handlers(side: Side, **options: Any) -> RocketHandlers:
    config = side.container.config()
    return RocketHandlers(await side.container.bus(), await side.container.ports(), config.settings,
                          Metrics(), **options)


async def handle_socket_request(handlers: RocketHandlers, client: Any, req: SocketModeRequest) -> None:
    """One envelope through the Bolt app ``rocket socket`` builds, around these handlers."""
    async def provide() -> RocketHandlers:
        return handlers

    await bolt_handle(build_bolt_app(provide, load_config({}).rocket.slack), client, req)


async def http_command(client: Any, text: str, response_url: str) -> dict[str, Any]:
    body = urlencode({**SLASH_FORM, "text": text, "response_url": response_url})
    headers = {**slack_headers(body, secret="s3cret-for-tests"), "Content-Type": FORM}
    response = await client.post("/slack/commands", data=body, headers=headers)
    assert response.status_code == 200
    return await response.get_json()


COMMANDS = [
    SLASH_FORM["text"],  # the fixture's own line: "team list"
    "user add",
    'user edit --name "Fake User" --major CS',
    "user view",
    "karma set U0FAKEUSER 9",  # refused: not an admin
    "team view nosuch",
    "team view brussel",
    "help",
]


async def test_slash_commands_reply_in_the_ack_exactly_as_http_and_store_the_same(sides, slack_standin):
    socket_side, http_side = sides
    handlers = await socket_handlers(socket_side)
    client = RecordingSocketClient()
    app = create_app(http_side.container)
    async with app.test_app() as test_app:
        http = test_app.test_client()
        for text in COMMANDS:
            req = slash_envelope(text, slack_standin.response_url("socket"))
            await handle_socket_request(handlers, client, req)
            [ack] = client.acks(req.envelope_id)  # exactly one ack per envelope
            expected = await http_command(http, text, slack_standin.response_url("http"))
            assert ack.payload == expected, text
            assert ack.payload["response_type"] == "ephemeral" and ack.payload["text"].strip()
        assert len(client.sent) == len(COMMANDS)
        assert await directory(socket_side.store) == await directory(http_side.store)
    me = await socket_side.store.retrieve(User, ACTOR)
    assert (me.name, me.major) == ("Fake User", "CS") and me.karma == 1  # the refused set changed nothing
    assert "Brussel Sprouts" in client.sent[0].payload["text"]  # team list listed the seeded team
    assert "Permission denied" in client.sent[4].payload["text"]
    assert slack_standin.responses == []  # everything was answered inline


async def test_slow_command_acks_working_on_it_and_posts_the_result_to_response_url(sides, slack_standin):
    socket_side, http_side = sides
    handlers = await socket_handlers(socket_side, inline_seconds=0)  # every command counts as slow
    client = RecordingSocketClient()
    req = slash_envelope("team view brussel", slack_standin.response_url("late"))
    await handle_socket_request(handlers, client, req)
    [ack] = client.acks(req.envelope_id)
    assert "Working on it" in ack.payload["text"]
    await handlers.drain(timeout=10)
    app = create_app(http_side.container)
    async with app.test_app() as test_app:
        expected = await http_command(test_app.test_client(), "team view brussel", "")
    assert [(r.name, r.body) for r in slack_standin.responses] == [("late", expected)]
    assert "Brussel Sprouts" in expected["text"]
    assert len(client.sent) == 1


async def test_team_join_event_is_acked_once_per_envelope_and_applied_once(sides, slack_standin):
    socket_side, http_side = sides
    handlers = await socket_handlers(socket_side)
    client = RecordingSocketClient()
    first, retry = event_envelope(), event_envelope(retry_attempt=1)  # Slack redelivers the same event
    await handle_socket_request(handlers, client, first)
    await handle_socket_request(handlers, client, retry)
    assert [len(client.acks(first.envelope_id)), len(client.acks(retry.envelope_id))] == [1, 1]
    assert all(r.payload is None for r in client.sent)  # an events_api ack carries only the envelope id
    assert (metric(handlers, "applied"), metric(handlers, "duplicate")) == (1, 1)
    user = await socket_side.store.retrieve(User, NEWCOMER)
    assert (user.name, user.email) == ("Fake Newcomer", "fake.newcomer@example.com")
    assert len(slack_standin.dm_texts(NEWCOMER)) == 1  # one welcome DM for two deliveries

    app = create_app(http_side.container)
    async with app.test_app() as test_app:
        http = test_app.test_client()
        body = slack_file("team_join.event.json")
        for _ in range(2):
            response = await http.post("/slack/events", data=body, headers={
                **slack_headers(body, secret="s3cret-for-tests"), "Content-Type": "application/json"})
            assert response.status_code == 200
        assert await directory(socket_side.store) == await directory(http_side.store)  # before shutdown
    assert len(slack_standin.dm_texts(NEWCOMER)) == 2  # the HTTP side welcomed once too


class LeaseFailsOnce:
    """A store whose first ``acquire_lease`` fails as a database outage would; the rest delegate."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.failures = 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def acquire_lease(self, *args: Any, **kwargs: Any) -> bool:
        if self.failures:
            self.failures -= 1
            raise StorageUnavailable("database is down")
        return await self.inner.acquire_lease(*args, **kwargs)


async def test_event_that_crashes_is_left_unacked_so_slack_redelivers_it(sides, slack_standin):
    socket_side, _ = sides
    config = socket_side.container.config()
    ports = dataclasses.replace(await socket_side.container.ports())
    ports.store = LeaseFailsOnce(ports.store)
    handlers = RocketHandlers(await socket_side.container.bus(), ports, config.settings, Metrics())
    client = RecordingSocketClient()
    first, retry = event_envelope(), event_envelope(retry_attempt=1)
    await handle_socket_request(handlers, client, first)
    assert client.sent == [] and await socket_side.store.query(User) == []
    await handle_socket_request(handlers, client, retry)
    assert len(client.acks(retry.envelope_id)) == 1
    assert (await socket_side.store.retrieve(User, NEWCOMER)).email == "fake.newcomer@example.com"
    assert len(slack_standin.dm_texts(NEWCOMER)) == 1


async def test_other_envelopes_are_acked_and_change_nothing(sides):
    socket_side, _ = sides
    handlers = await socket_handlers(socket_side)
    client = RecordingSocketClient()
    before = await directory(socket_side.store)
    interactive = envelope("interactive", {"type": "block_actions", "user": {"id": ACTOR}})
    not_team_join = envelope("events_api", {**TEAM_JOIN, "event": {"type": "app_mention", "user": ACTOR}})
    for req in (interactive, not_team_join):
        await handle_socket_request(handlers, client, req)
    acks = Counter(r.envelope_id for r in client.sent)
    assert acks == {interactive.envelope_id: 1, not_team_join.envelope_id: 1}
    assert await directory(socket_side.store) == before


# --- `rocket socket` end to end: the console script against a local Socket Mode stand-in ---------------

APP_TOKEN = "xapp-1-A0FAKEAPP-0000-standin"


class SocketModeStandIn:
    """Slack's side of Socket Mode on 127.0.0.1: ``apps.connections.open`` (app token checked) hands
    out a ``ws://`` URL; each connection gets ``hello``, then whatever ``send`` queues; every message
    the app sends back is kept in ``received``."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.opens: list[str] = []
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.connected = asyncio.Event()
        self.got_message = asyncio.Event()
        self.runner: Any = None
        self.port = 0

    async def start(self) -> SocketModeStandIn:
        app = web.Application()
        app.router.add_post("/api/apps.connections.open", self._open)
        app.router.add_get("/link", self._link)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        await self.runner.cleanup()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    async def _open(self, request: Any) -> Any:
        auth = request.headers.get("Authorization", "")
        self.opens.append(auth)
        if auth != f"Bearer {APP_TOKEN}":
            return web.json_response({"ok": False, "error": "invalid_auth"})
        return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"})

    async def _link(self, request: Any) -> Any:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        hello = {"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0FAKEAPP"}}
        await ws.send_json(hello)
        self.connected.set()

        async def pump() -> None:
            while True:
                await ws.send_json(await self.outbox.get())

        sender = asyncio.create_task(pump())
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self.received.append(json.loads(msg.data))
                    self.got_message.set()
        finally:
            sender.cancel()
        return ws

    async def acks_for(self, envelope_id: str, timeout: float = 10) -> list[dict[str, Any]]:
        async def wait() -> None:
            while not any(m.get("envelope_id") == envelope_id for m in self.received):
                self.got_message.clear()
                await self.got_message.wait()

        await asyncio.wait_for(wait(), timeout)
        return [m for m in self.received if m.get("envelope_id") == envelope_id]


async def test_rocket_socket_serves_commands_and_events_over_a_real_websocket(tmp_path):
    standin = await SocketModeStandIn().start()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SLACK_", "GCP_", "AWS_"))}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'rocket.db'}", "SLACK_APP_TOKEN": APP_TOKEN,
                "SLACK_API_URL": standin.api_url})  # scheduled jobs on: they start and stop with it
    pipe = asyncio.subprocess.PIPE
    proc = await asyncio.create_subprocess_exec(ROCKET, "socket", env=env, cwd=tmp_path,
                                                stdout=pipe, stderr=pipe)
    try:
        await asyncio.wait_for(standin.connected.wait(), 20)
        command = {"envelope_id": "env-command-1", "type": "slash_commands", "accepts_response_payload": True,
                   "payload": {**SLASH_FORM, "text": "user add"}}
        await standin.outbox.put(command)
        [ack] = await standin.acks_for("env-command-1")
        assert ack["payload"]["response_type"] == "ephemeral" and ACTOR in ack["payload"]["text"]
        for n in (1, 2):  # the same event delivered twice
            await standin.outbox.put({"envelope_id": f"env-event-{n}", "type": "events_api",
                                      "accepts_response_payload": False, "retry_attempt": n - 1,
                                      "payload": TEAM_JOIN})
            assert await standin.acks_for(f"env-event-{n}") == [{"envelope_id": f"env-event-{n}"}]
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
        await standin.stop()
    assert proc.returncode == 0, err.decode()
    assert "Socket Mode" in out.decode()
    assert Counter(m.get("envelope_id") for m in standin.received) == {
        "env-command-1": 1, "env-event-1": 1, "env-event-2": 1}

    store = await SqliteStore.open(str(tmp_path / "rocket.db"))
    try:
        users = {u.slack_id: u for u in await store.query(User)}
    finally:
        await store.close()
    assert set(users) == {ACTOR, NEWCOMER}
    assert users[NEWCOMER].email == "fake.newcomer@example.com"


async def test_rocket_socket_refused_app_token_is_one_line_naming_it(tmp_path):
    standin = await SocketModeStandIn().start()
    try:
        result = await asyncio.to_thread(
            rocket, "socket", env={"DATABASE_URL": "memory://", "SLACK_APP_TOKEN": "xapp-1-wrong",
                                   "SLACK_API_URL": standin.api_url}, cwd=tmp_path)
    finally:
        await standin.stop()
    assert standin.opens == ["Bearer xapp-1-wrong"]
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("rocket: SLACK_APP_TOKEN")
    assert "invalid_auth" in result.stderr


def test_rocket_socket_without_app_token_exits_2_naming_it(tmp_path):
    result = rocket("socket", env={"DATABASE_URL": "memory://"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]  # one line
    assert "SLACK_APP_TOKEN" in result.stderr and result.stdout == ""


def test_rocket_socket_with_a_malformed_scheduler_flag_exits_2_naming_it(tmp_path):
    result = rocket("socket", env={"DATABASE_URL": "memory://", "SLACK_APP_TOKEN": APP_TOKEN,
                                   "ROCKET_SCHEDULER": "sometimes"}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "ROCKET_SCHEDULER" in result.stderr
