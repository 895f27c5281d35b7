"""The real app on SQLite, wired to the local GitHub and Slack stand-ins, with signing helpers."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.slack.verify import SlackRequestVerifier
from core.models import Project, Team, User
from entrypoints.config import load_config
from entrypoints.container import make_container
from entrypoints.http import create_app
from tests.support.github_fixtures import github_app_key, github_env, github_standin  # noqa: F401
from tests.support.github_standin import GitHubStandIn
from tests.support.slack_standin import SlackStandIn, slack_standin_fixture  # noqa: F401

SLACK_SECRET = "slack-signing-secret-for-tests"
GITHUB_SECRET = "github-webhook-secret-for-tests"
FORM = "application/x-www-form-urlencoded"


def slack_headers(
    body: bytes | str, timestamp: int | None = None, secret: str = SLACK_SECRET
) -> dict[str, str]:
    return SlackRequestVerifier(secret).sign(body, int(time.time()) if timestamp is None else timestamp)


def github_headers(
    event: str, body: bytes, delivery: str | None = None, secret: str = GITHUB_SECRET
) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={digest}",
        "Content-Type": "application/json",
    }


def command_form(user: str, text: str, response_url: str = "") -> str:
    return urlencode(
        {
            "token": "x",
            "team_id": "T1",
            "channel_id": "C1",
            "user_id": user,
            "user_name": user,
            "command": "/rocket",
            "text": text,
            "response_url": response_url,
        }
    )


@dataclass
class HttpWorld:
    app: Any
    client: Any
    store: Any
    github: GitHubStandIn
    slack: SlackStandIn
    env: dict[str, str]

    async def command(self, user: str, text: str, response_url: str = "") -> tuple[int, dict[str, Any]]:
        body = command_form(user, text, response_url or self.slack.response_url(user))
        response = await self.client.post(
            "/slack/commands", data=body, headers={**slack_headers(body), "Content-Type": FORM}
        )
        return response.status_code, (await response.get_json() if response.status_code == 200 else {})

    async def event(self, envelope: dict[str, Any] | bytes, headers: dict[str, str] | None = None) -> Any:
        body = envelope if isinstance(envelope, bytes) else json.dumps(envelope).encode()
        return await self.client.post(
            "/slack/events",
            data=body,
            headers={**slack_headers(body), "Content-Type": "application/json", **(headers or {})},
        )

    async def webhook(self, event: str, payload: dict[str, Any] | bytes, delivery: str | None = None) -> Any:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        response = await self.client.post(
            "/webhook", data=body, headers=github_headers(event, body, delivery)
        )
        handlers = await self.app.extensions["rocket_handlers"]()
        await handlers.drain()  # notices are posted after the reply
        return response

    async def directory(self) -> tuple[list[User], list[Team], list[Project]]:
        return (
            sorted(await self.store.query(User), key=lambda u: u.slack_id),
            sorted(await self.store.query(Team), key=lambda t: t.github_team_id),
            sorted(await self.store.query(Project), key=lambda p: p.project_id),
        )


def rocket_env(tmp_path, github_env: dict[str, str], slack: SlackStandIn) -> dict[str, str]:  # noqa: F811
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'rocket.db'}",
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "GITHUB_WEBHOOK_SECRET": GITHUB_SECRET,
        "SLACK_NOTIFICATION_CHANNEL": "rocket-notices",
        "GITHUB_ADMIN_TEAM_NAME": "admins",
        "ROCKET_SCHEDULER": "off",
        **github_env,
        **slack.env(),
    }


@pytest.fixture
async def http_world(tmp_path, github_env, github_standin, slack_standin) -> AsyncIterator[HttpWorld]:  # noqa: F811
    env = rocket_env(tmp_path, github_env, slack_standin)
    slack_standin.add_channel("rocket-notices")
    container = make_container(load_config(env))
    app = create_app(container)
    async with app.test_app() as test_app:
        store = await container.store()
        yield HttpWorld(app, test_app.test_client(), store, github_standin, slack_standin, env)
