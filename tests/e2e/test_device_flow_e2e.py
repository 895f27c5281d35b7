"""Issue 11, must-show 2: the GitHub device flow end to end over HTTP and over Socket Mode.

Real app, real adapters (``GitHubDeviceFlow`` over aiohttp, ``GitHubApp`` over PyGithub,
slack-sdk), against local stand-ins: the GitHub stand-in with the device-flow endpoints attached
(``tests/support/github_oauth_standin.py``: ``/login/device/code``,
``/login/oauth/access_token`` with ``authorization_pending`` / ``slow_down`` / ``access_denied``,
``GET /user``) and the Slack stand-in, which keeps the DMs.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from aiohttp import web

from core.models import User
from entrypoints.config import load_config
from entrypoints.container import make_container
from entrypoints.http import create_app
from tests.e2e.conftest import HttpWorld, rocket_env
from tests.support.github_oauth_standin import GitHubOAuthStandIn

CLIENT_ID = "Iv1.rocket0test0client"


async def eventually(check: Callable[[], Any], timeout: float = 20, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def oauth(github_standin) -> GitHubOAuthStandIn:
    # interval 1 s: the adapter's floor (it never polls faster, whatever GitHub says)
    return GitHubOAuthStandIn(CLIENT_ID, interval=1, expires_in=120).attach(github_standin)


def device_env(tmp_path, github_env, github_standin, slack_standin) -> dict[str, str]:
    env = rocket_env(tmp_path, github_env, slack_standin)
    env.update(GITHUB_CLIENT_ID=CLIENT_ID, GITHUB_OAUTH_URL=f"http://127.0.0.1:{github_standin.port}")
    return env


@pytest.fixture
async def device_world(tmp_path, github_env, github_standin, slack_standin,
                       oauth) -> AsyncIterator[HttpWorld]:
    env = device_env(tmp_path, github_env, github_standin, slack_standin)
    slack_standin.add_channel("rocket-notices")
    container = make_container(load_config(env))
    app = create_app(container)
    async with app.test_app() as test_app:
        store = await container.store()
        yield HttpWorld(app, test_app.test_client(), store, github_standin, slack_standin, env)


async def test_device_flow_over_http_links_verified_and_dms_the_outcome(device_world, oauth) -> None:
    w = device_world
    defunkt = w.github.add_user("defunkt")
    await w.store.store(User("UCLAIM", github="defunkt", github_user_id=str(defunkt), github_verified=False))

    status, reply = await w.command("UMAL", "user edit --github defunkt")
    grant = oauth.grant()
    assert status == 200
    assert oauth.verification_uri in reply["text"] and grant.user_code in reply["text"]
    assert (await w.store.retrieve(User, "UMAL")).github == ""  # nothing linked yet

    oauth.force_slow_down(grant.user_code)  # GitHub under load: the wait slows down, not fails
    await eventually(lambda: len(oauth.polls) >= 1, what="the first poll")
    oauth.approve(grant.user_code, "defunkt")
    dms = await eventually(lambda: w.slack.dm_texts("UMAL"), what="the outcome DM")
    assert "Verified" in dms[-1] and "defunkt" in dms[-1]
    me = await w.store.retrieve(User, "UMAL")
    assert (me.github, me.github_user_id, me.github_verified) == ("defunkt", str(defunkt), True)
    assert (await w.store.retrieve(User, "UCLAIM")).github_user_id == ""  # unverified claim removed
    assert "defunkt" in w.github.invitations or "defunkt" in w.github.org_members
    answers = [p.answer for p in oauth.polls]
    assert answers[0] == "slow_down" and answers[-1] not in ("slow_down", "authorization_pending")
    times = oauth.poll_times(grant.user_code)
    assert all(b - a >= 1.0 for a, b in zip(times, times[1:], strict=False))  # never faster than asked


async def test_device_flow_over_http_denied_or_another_account_links_nothing(device_world, oauth) -> None:
    w = device_world
    w.github.add_user("defunkt")
    await w.command("UMAL", "user edit --github defunkt")
    oauth.deny(oauth.grant().user_code)
    dms = await eventually(lambda: w.slack.dm_texts("UMAL"), what="the denial DM")
    assert "Nothing was linked" in dms[-1]
    await w.command("UMAL", "user edit --github defunkt")
    oauth.approve(oauth.grant().user_code, "mallory")
    dms = await eventually(lambda: len(w.slack.dm_texts("UMAL")) >= 2 and w.slack.dm_texts("UMAL"))
    assert "mallory" in dms[-1] and "Nothing was linked" in dms[-1]
    assert (await w.store.retrieve(User, "UMAL")).github == ""


async def test_shutdown_cancels_a_pending_verification(tmp_path, github_env, github_standin, slack_standin,
                                                       oauth) -> None:
    env = device_env(tmp_path, github_env, github_standin, slack_standin)
    container = make_container(load_config(env))
    app = create_app(container)
    async with app.test_app() as test_app:
        store = await container.store()
        w = HttpWorld(app, test_app.test_client(), store, github_standin, slack_standin, env)
        await w.command("UMAL", "user edit --github defunkt")
        await eventually(lambda: len(oauth.polls) >= 1, what="the first poll")
    polled = len(oauth.polls)
    await asyncio.sleep(2.5)  # two intervals: a wait still running would have polled again
    assert len(oauth.polls) == polled
    assert [t for t in asyncio.all_tasks() if t.get_name().startswith("github-verification")] == []


# --- Socket Mode: `run_socket_mode` in this process, Slack's side on 127.0.0.1 ------------------------
APP_TOKEN = "xapp-1-A0FAKEAPP-0000-standin"


class SlackSocketSide:
    """``apps.connections.open``, the websocket, and the Web API methods a DM uses."""

    def __init__(self) -> None:
        self.outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.received: list[dict[str, Any]] = []
        self.dms: list[tuple[str, str]] = []
        self.connected = asyncio.Event()
        self.port = 0
        self.runner: Any = None

    async def start(self) -> SlackSocketSide:
        app = web.Application()
        app.router.add_post("/api/apps.connections.open", self._open)
        app.router.add_post("/api/conversations.open", self._conversations_open)
        app.router.add_post("/api/chat.postMessage", self._post)
        app.router.add_get("/link", self._link)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return self

    async def _args(self, request: Any) -> dict[str, Any]:
        is_json = request.content_type == "application/json"
        body = await request.json() if is_json else dict(await request.post())
        return {**request.query, **body}

    async def _open(self, request: Any) -> Any:
        return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/link"})

    async def _conversations_open(self, request: Any) -> Any:
        args = await self._args(request)
        return web.json_response({"ok": True, "channel": {"id": f"D-{args.get('users')}"}})

    async def _post(self, request: Any) -> Any:
        args = await self._args(request)
        self.dms.append((str(args.get("channel", "")).removeprefix("D-"), str(args.get("text", ""))))
        return web.json_response({"ok": True, "channel": args.get("channel"), "ts": "1.0"})

    async def _link(self, request: Any) -> Any:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"type": "hello", "num_connections": 1, "connection_info": {"app_id": "A0"}})
        self.connected.set()

        async def pump() -> None:
            while True:
                await ws.send_json(await self.outbox.get())

        sender = asyncio.create_task(pump())
        try:
            async for msg in ws:
                self.received.append(json.loads(msg.data))
        finally:
            sender.cancel()
        return ws


async def test_device_flow_over_socket_mode(tmp_path, github_env, github_standin, oauth) -> None:
    from entrypoints.socket_mode import run_socket_mode
    from tests.e2e.test_socket_mode import SLASH_FORM

    slack = await SlackSocketSide().start()
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rocket.db'}", "ROCKET_SCHEDULER": "off",
           "SLACK_APP_TOKEN": APP_TOKEN, "SLACK_API_TOKEN": "xoxb-test",
           "SLACK_API_URL": f"http://127.0.0.1:{slack.port}/api/", **github_env,
           "GITHUB_CLIENT_ID": CLIENT_ID, "GITHUB_OAUTH_URL": f"http://127.0.0.1:{github_standin.port}"}
    github_standin.add_user("defunkt")
    stop = asyncio.Event()
    served = asyncio.create_task(run_socket_mode(load_config(env), stop))
    actor = SLASH_FORM["user_id"]
    try:
        await asyncio.wait_for(slack.connected.wait(), 20)
        await slack.outbox.put({"envelope_id": "e1", "type": "slash_commands",
                                "accepts_response_payload": True,
                                "payload": {**SLASH_FORM, "text": "user edit --github defunkt"}})
        ack = await eventually(
            lambda: next((m for m in slack.received if m.get("envelope_id") == "e1"), None), what="the ack")
        grant = oauth.grant()
        assert grant.user_code in ack["payload"]["text"]
        oauth.approve(grant.user_code, "defunkt")
        await eventually(lambda: any(u == actor for u, _ in slack.dms), what="the outcome DM")
        assert any("Verified" in text for u, text in slack.dms if u == actor)
        # A second verification is pending when the app stops: shutdown cancels it.
        await slack.outbox.put({"envelope_id": "e2", "type": "slash_commands",
                                "accepts_response_payload": True,
                                "payload": {**SLASH_FORM, "user_id": "UOTHER",
                                            "text": "user edit --github oto"}})
        await eventually(lambda: len(oauth.grants) == 2, what="the second code")
    finally:
        stop.set()
        assert await asyncio.wait_for(served, 20) == 0
        await slack.runner.cleanup()
    polled = len(oauth.polls)
    await asyncio.sleep(2.5)
    assert len(oauth.polls) == polled
    from adapters.sqlite import SqliteStore

    store = await SqliteStore.open(str(tmp_path / "rocket.db"))
    try:
        me = await store.retrieve(User, actor)
    finally:
        await store.close()
    assert me.github == "defunkt" and me.github_verified is True


async def test_without_a_client_id_a_self_set_link_is_unverified_and_the_reply_says_so(http_world) -> None:
    w = http_world
    w.github.add_user("defunkt")
    status, reply = await w.command("UMAL", "user edit --github defunkt")
    assert status == 200 and "no rank" in reply["text"] and "admin" in reply["text"]
    me = await w.store.retrieve(User, "UMAL")
    assert me.github == "defunkt" and me.github_verified is False
