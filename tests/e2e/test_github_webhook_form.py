"""GitHub webhooks delivered form-encoded (``application/x-www-form-urlencoded``, ``payload=``
JSON; a content type GitHub offers for organization webhooks) are handled exactly like JSON
deliveries: every fixture in ../shared/fixtures/github, sent through the real app both ways to
two fresh directories, gives the same answers and the same stored records step by step. The
signature is over the raw body as delivered, so a form body signed as its JSON is refused."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import quote, urlencode

from core.models import User
from entrypoints.config import load_config
from entrypoints.container import make_container
from entrypoints.http import create_app
from tests.e2e.conftest import FORM, GITHUB_SECRET, rocket_env
from tests.support.fixtures import SHARED, github_body

FIXTURES = sorted((SHARED / "github").glob("*.payload.json"))


def event_of(path: Any) -> str:
    """``team.created.payload.json`` -> ``team``; ``team_add.payload.json`` -> ``team_add``."""
    return path.name.removesuffix(".payload.json").split(".")[0]


def form_body(payload_json: bytes) -> bytes:
    return urlencode({"payload": payload_json.decode("utf-8")}, quote_via=quote).encode("ascii")


def signed(event: str, body: bytes, content_type: str, signed_body: bytes | None = None) -> dict[str, str]:
    digest = hmac.new(GITHUB_SECRET.encode(), signed_body or body, hashlib.sha256).hexdigest()
    return {
        "X-GitHub-Event": event,
        "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": f"sha256={digest}",
        "Content-Type": content_type,
    }


@asynccontextmanager
async def world(tmp_path, github_env, slack_standin) -> AsyncIterator[tuple[Any, Any, Any]]:
    tmp_path.mkdir()
    env = rocket_env(tmp_path, github_env, slack_standin)
    container = make_container(load_config(env))
    app = create_app(container)
    async with app.test_app() as test_app:
        store = await container.store()
        # People the fixtures name, so membership and organization events change something.
        await store.store(User("U7", github="Codertocat", github_user_id="21031067", email="c@example.com"))
        await store.store(User("U8", github="hacktocat", github_user_id="39652351"))
        yield app, test_app.test_client(), store


async def snapshot(store: Any) -> tuple:
    from core.models import Project, Team

    users = sorted(await store.query(User), key=lambda u: u.slack_id)
    teams = sorted(await store.query(Team), key=lambda t: t.github_team_id)
    projects = sorted(await store.query(Project), key=lambda p: p.project_id)
    return users, teams, projects


async def deliver_all(app: Any, client: Any, store: Any, form: bool) -> list[tuple[int, Any, tuple]]:
    steps = []
    for path in FIXTURES:
        raw = github_body(path.name.removesuffix(".payload.json"))  # as delivered to our org
        body = form_body(raw) if form else raw
        response = await client.post(
            "/webhook", data=body, headers=signed(event_of(path), body, FORM if form else "application/json")
        )
        await (await app.extensions["rocket_handlers"]()).drain()
        steps.append((response.status_code, await response.get_json(), await snapshot(store)))
    return steps


async def test_every_fixture_form_encoded_gives_the_json_result(
    tmp_path, github_env, github_standin, slack_standin
) -> None:
    assert len(FIXTURES) >= 10
    async with world(tmp_path / "json", github_env, slack_standin) as (app, client, store):
        as_json = await deliver_all(app, client, store, form=False)
    async with world(tmp_path / "form", github_env, slack_standin) as (app, client, store):
        as_form = await deliver_all(app, client, store, form=True)
    for path, one, other in zip(FIXTURES, as_json, as_form, strict=True):
        assert one == other, path.name
    assert all(status == 200 for status, _, _ in as_form)
    # The deliveries did something (team created then deleted, Codertocat's membership …).
    assert any(body.get("applied") for _, body, _ in as_form)
    assert len({repr(state) for _, _, state in as_form}) > 1


async def test_form_delivery_signature_is_over_the_raw_form_body(
    tmp_path, github_env, github_standin, slack_standin
) -> None:
    raw = github_body("team.created")
    body = form_body(raw)
    async with world(tmp_path / "w", github_env, slack_standin) as (app, client, store):
        before = await snapshot(store)
        forged = signed("team", body, FORM, signed_body=raw)  # signed the JSON, not what was sent
        assert (await client.post("/webhook", data=body, headers=forged)).status_code == 401
        for bad in (b"payload=%7Bnot-json", b"other=1", b"payload=%7B%7D&payload=%7B%7D", b"%ff%fe=\xff"):
            response = await client.post("/webhook", data=bad, headers=signed("team", bad, FORM))
            assert response.status_code == 400, bad
        assert await snapshot(store) == before
        ok = await client.post("/webhook", data=body, headers=signed("team", body, FORM))
        assert ok.status_code == 200 and (await ok.get_json())["applied"] is True
        assert await snapshot(store) != before
        assert json.loads(raw)["team"]["slug"] in {t.github_team_name for t in (await snapshot(store))[1]}
