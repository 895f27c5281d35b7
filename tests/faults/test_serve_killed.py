"""``rocket serve`` on SQLite killed with SIGKILL in the middle of a write burst.

Every write the server acknowledged (a 200 whose reply says it was done) must be in the
database afterwards, and the file must pass ``PRAGMA integrity_check``: group commit
acknowledges a write only after its batch's COMMIT, and a COMMIT in WAL mode survives the
death of the process (adapters/sqlite/writer.py, "Durability").
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import time
import urllib.request
from pathlib import Path

import aiohttp
import pytest

from adapters.sqlite import SqliteStore
from core.models import User, to_dict
from tests.e2e.conftest import FORM, SLACK_SECRET, command_form, slack_headers
from tests.support.cli import ROCKET, rocket
from tests.support.moto_server import free_port

USERS = 400
TARGET = "UTARGET"
CONCURRENCY = 32
KILL_AFTER = 150  # acknowledged writes before the kill; the burst goes on until then


def _user(i: int) -> str:
    return f"UK{i:04d}"


def _request(i: int) -> tuple[str, str, str]:
    """Request ``i``: even ones edit user i/2's name, odd ones give TARGET a karma."""
    if i % 2 == 0:
        return _user(i // 2), f'user edit --name "killed {i}"', "Updated name"
    return _user(i // 2), f"<@{TARGET}|target> ++", f"Gave {TARGET} one karma"


def _serve(tmp_path: Path) -> tuple[subprocess.Popen[bytes], str, dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SLACK_", "DATABASE_URL"))}
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'rocket.db'}", SLACK_SIGNING_SECRET=SLACK_SECRET,
               ROCKET_SCHEDULER="off")
    users = [User(_user(i), name=f"user {i}") for i in range(USERS)] + [User(TARGET, karma=1)]
    source = tmp_path / "users.json"
    source.write_text(json.dumps({"users": [to_dict(u, with_version=False) for u in users]}))
    imported = rocket("db", "import", str(source), env=env, cwd=tmp_path, timeout=120)
    assert imported.returncode == 0, imported.stderr
    port = free_port()
    proc = subprocess.Popen([ROCKET, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env,
                            cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    return proc, base, env
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("rocket serve did not start") from None
            time.sleep(0.1)


async def _burst_then_kill(base: str, proc: subprocess.Popen[bytes]) -> tuple[list[int], int, int]:
    """Send writes ``CONCURRENCY`` at a time; SIGKILL the server once ``KILL_AFTER`` are
    acknowledged. Returns (acknowledged request numbers, requests sent, in flight at the kill)."""
    acked: list[int] = []
    sent = 0
    in_flight = 0
    at_kill = -1
    killed = asyncio.Event()
    counter = iter(range(2 * USERS))

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal sent, in_flight, at_kill
        for i in counter:
            if killed.is_set():
                return
            user, text, done = _request(i)
            body = command_form(user, text)
            sent += 1
            in_flight += 1
            try:
                async with session.post(f"{base}/slack/commands", data=body,
                                        headers={**slack_headers(body), "Content-Type": FORM}) as response:
                    reply = await response.json() if response.status == 200 else {}
            except (TimeoutError, aiohttp.ClientError):
                reply = {}
            finally:
                in_flight -= 1
            if done in str(reply.get("text", "")):
                acked.append(i)
            if len(acked) >= KILL_AFTER and not killed.is_set():
                at_kill = in_flight
                os.killpg(proc.pid, signal.SIGKILL)
                killed.set()

    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=CONCURRENCY),
                                     timeout=timeout) as session:
        await asyncio.wait_for(asyncio.gather(*(worker(session) for _ in range(CONCURRENCY))), 90)
    return acked, sent, at_kill


@pytest.mark.timeout(150)
async def test_every_acknowledged_write_survives_a_kill_9_during_a_burst(tmp_path: Path) -> None:
    proc, base, env = _serve(tmp_path)
    try:
        acked, sent, at_kill = await _burst_then_kill(base, proc)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)
    assert proc.returncode == -signal.SIGKILL, "the server was not killed during the burst"
    assert len(acked) >= KILL_AFTER and at_kill > 0, (len(acked), sent, at_kill)  # killed mid-burst

    db = tmp_path / "rocket.db"
    assert (tmp_path / "rocket.db-wal").exists()  # the commits were (also) in the WAL at the kill
    with sqlite3.connect(db) as conn:  # opening recovers the WAL the dead process left
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    store = await SqliteStore.open(str(db))
    try:
        users = {u.slack_id: u for u in await store.query(User)}
    finally:
        await store.close()
    assert len(users) == USERS + 1
    gifts = [i for i in acked if i % 2 == 1]
    edits = [i for i in acked if i % 2 == 0]
    for i in edits:
        assert users[_user(i // 2)].name == f"killed {i}", i
    sent_gifts = sent // 2
    assert 1 + len(gifts) <= users[TARGET].karma <= 1 + sent_gifts, (users[TARGET].karma, len(gifts))
    assert users[TARGET].version == users[TARGET].karma  # imported at version 1, +1 per gift
