"""`rocket serve --workers 2` on SQLite, driven over real HTTP by concurrent clients."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from tests.e2e.conftest import FORM, GITHUB_SECRET, SLACK_SECRET, command_form, github_headers, slack_headers
from tests.support.cli import ROCKET, rocket
from tests.support.fixtures import github_body
from tests.support.moto_server import free_port


@pytest.fixture
def served(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SLACK_", "DATABASE_URL"))}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'rocket.db'}",
        SLACK_SIGNING_SECRET=SLACK_SECRET,
        GITHUB_WEBHOOK_SECRET=GITHUB_SECRET,
        ROCKET_SCHEDULER="off",
    )
    assert rocket("admin", "U1", env=env, cwd=tmp_path).returncode == 0
    port = free_port()
    proc = subprocess.Popen(
        [ROCKET, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"rocket serve did not start: {proc.stdout.read().decode()[-2000:]}"
                ) from None
            time.sleep(0.2)
    try:
        yield base, env, tmp_path
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def exported(env, cwd) -> dict:
    return json.loads(rocket("db", "export", env=env, cwd=cwd).stdout)


async def test_two_hundred_concurrent_karma_commands_lose_nothing(served):
    base, env, cwd = served

    async def give(session: aiohttp.ClientSession, i: int) -> str:
        body = command_form(f"UGIVER{i}", "<@U1|one> ++")
        headers = {**slack_headers(body), "Content-Type": FORM}
        async with session.post(f"{base}/slack/commands", data=body, headers=headers) as response:
            assert response.status == 200
            return (await response.json())["text"]

    connector = aiohttp.TCPConnector(limit=200)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=60)) as session:
        replies = await asyncio.gather(*(give(session, i) for i in range(200)))
    assert all("Working on it" not in r for r in replies)
    [user] = [u for u in exported(env, cwd)["users"] if u["slack_id"] == "U1"]
    assert user["karma"] == 1 + 200


async def test_a_delivery_sent_to_both_workers_is_applied_once(served):
    base, env, cwd = served
    body = github_body("team.created")
    headers = github_headers("team", body, delivery="same-delivery-everywhere")

    workers: set[str] = set()

    async def deliver(session: aiohttp.ClientSession) -> dict:
        async with session.post(f"{base}/webhook", data=body, headers=headers) as response:
            assert response.status == 200
            workers.add(response.headers["X-Rocket-Worker"])
            return await response.json()

    # Fresh connections each time, so the kernel spreads them over both workers. On a loaded
    # machine one worker can accept round after round (it answers a delivery in about a
    # millisecond): up to 100 rounds, stopping as soon as both have answered.
    answers: list[dict] = []
    for _ in range(100):
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(force_close=True)) as session:
            answers += await asyncio.gather(*(deliver(session) for _ in range(10)))
        if len(workers) == 2 and len(answers) >= 40:
            break
    assert len(workers) == 2, "every delivery reached the same worker"
    assert sum(1 for a in answers if a.get("applied")) == 1
    assert sum(1 for a in answers if a.get("duplicate")) == len(answers) - 1
    assert [t["github_team_name"] for t in exported(env, cwd)["teams"]] == ["github"]
