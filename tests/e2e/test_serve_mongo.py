"""`rocket serve` with ``DATABASE_URL=mongodb://…`` on the MongoDB wire stand-in.

The server is a subprocess, so every storage call goes through PyMongo's ``AsyncMongoClient``
over TCP to tests/support/mongo_wire.py: it answers commands, keeps data across a restart of
``rocket serve``, says 503 on ``/healthz`` while the database is down and 200 once it is back;
and ``rocket db import`` / ``export`` round-trip the directory over the wire.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import FORM, SLACK_SECRET, command_form, slack_headers
from tests.e2e.test_cli_db import SAMPLE, export
from tests.support.cli import ROCKET, rocket
from tests.support.mongo_wire import MongoWireStandIn
from tests.support.moto_server import free_port


@pytest.fixture
def standin() -> Iterator[MongoWireStandIn]:
    server = MongoWireStandIn().start()
    try:
        yield server
    finally:
        server.shutdown()


def health(base: str) -> int:
    try:
        with urllib.request.urlopen(f"{base}/healthz", timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:
        return 0  # not listening (yet)


def wait_health(base: str, want: int, proc: subprocess.Popen[bytes], seconds: float = 30) -> float:
    """Seconds until ``/healthz`` answers ``want``; fails with the server's log otherwise."""
    started = time.monotonic()
    while (status := health(base)) != want:
        if proc.poll() is not None or time.monotonic() - started > seconds:
            raise AssertionError(f"/healthz stayed {status}, wanted {want}: {log_tail(proc)}")
        time.sleep(0.2)
    return time.monotonic() - started


LOGS: dict[int, Path] = {}


def log_tail(proc: subprocess.Popen[bytes]) -> str:
    return LOGS[proc.pid].read_text(errors="replace")[-2000:]


def serve(env: dict[str, str], cwd: Path, port: int) -> subprocess.Popen[bytes]:
    """``rocket serve`` on ``port``; its output goes to a file (a pipe nobody reads can fill)."""
    log = cwd / f"serve-{len(LOGS)}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [ROCKET, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    LOGS[proc.pid] = log
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def command(base: str, user: str, text: str) -> str:
    body = command_form(user, text).encode()
    request = urllib.request.Request(
        f"{base}/slack/commands", data=body, headers={**slack_headers(body), "Content-Type": FORM}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
        return json.loads(response.read())["text"]


def test_serve_on_mongodb_answers_survives_a_restart_and_reports_the_outage(tmp_path, standin):
    db_name = f"rocket_e2e_{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SLACK_", "DATABASE_URL"))}
    env.update(DATABASE_URL=standin.url(db_name), SLACK_SIGNING_SECRET=SLACK_SECRET, ROCKET_SCHEDULER="off")
    db = standin.db(db_name)

    admin = rocket("admin", "U1", env=env, cwd=tmp_path)  # the CLI goes over the wire too
    assert admin.returncode == 0, admin.stderr
    assert db.users.find_one({"_id": "U1"})["permission_level"] == "admin"

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    proc = serve(env, tmp_path, port)
    try:
        wait_health(base, 200, proc)
        command(base, "U2", "user add")
        command(base, "U2", "<@U1|one> ++")
        assert db.users.find_one({"_id": "U2"}) is not None
        assert db.users.find_one({"_id": "U1"})["karma"] == 2
    finally:
        ends = standin.commands["endSessions"]
        stop(proc)
    assert proc.returncode == 0
    assert standin.commands["endSessions"] > ends, "shutdown did not await AsyncMongoClient.close()"

    proc = serve(env, tmp_path, port)  # a restart: everything is read back from MongoDB
    try:
        wait_health(base, 200, proc)
        assert "U1 has 2 karma" in command(base, "U2", "karma view U1")
        assert "Slack ID: <@U2>" in command(base, "U2", "user view --username U2")  # a mention in Slack

        standin.stop()  # the database goes away
        took = wait_health(base, 503, proc, seconds=15)
        assert took < 10, f"/healthz took {took:.1f}s to notice the outage"
        assert proc.poll() is None  # the app keeps running
        started = time.monotonic()
        reply = command(base, "U2", "karma view U1")  # 200 within Slack's 3 s, never a 500
        assert time.monotonic() - started < 3 and reply

        standin.start()  # and comes back on the same port with the same data
        back = wait_health(base, 200, proc, seconds=30)
        print(f"mongo-wire e2e: outage seen in {took:.2f}s, recovery in {back:.2f}s")
        command(base, "U2", "<@U1|one> ++")
        assert db.users.find_one({"_id": "U1"})["karma"] == 3
    finally:
        stop(proc)
    logs = [log_tail(p) for p in (proc,)]
    assert not any("Traceback" in log for log in logs), logs


def test_sqlite_to_mongodb_round_trip_over_the_wire(tmp_path, standin):
    """`rocket db import`/`export` on ``DATABASE_URL=mongodb://…``: the same JSON back, and a
    second import changes nothing."""
    src = tmp_path / "s.json"
    src.write_text(json.dumps(SAMPLE, ensure_ascii=False), encoding="utf-8")
    mongo = {"DATABASE_URL": standin.url(f"rocket_cli_{uuid.uuid4().hex[:8]}")}
    result = rocket("db", "import", str(src), env=mongo, cwd=tmp_path)
    assert result.returncode == 0 and "5 created" in result.stdout, result.stdout + result.stderr
    assert export(mongo, tmp_path, "from_mongo.json") == SAMPLE
    again = rocket("db", "import", str(src), env=mongo, cwd=tmp_path)
    assert "0 created, 0 updated, 5 unchanged" in again.stdout
    assert export(mongo, tmp_path, "from_mongo2.json") == SAMPLE


async def test_two_workers_on_mongodb_lose_no_concurrent_karma(tmp_path, standin):
    """50 concurrent ``++`` on ``rocket serve --workers 2`` (each worker has its own client
    and connection pool): MongoDB's atomic ``$inc`` keeps every one."""
    import asyncio

    import aiohttp

    db_name = f"rocket_workers_{uuid.uuid4().hex[:8]}"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SLACK_", "DATABASE_URL"))}
    env.update(DATABASE_URL=standin.url(db_name), SLACK_SIGNING_SECRET=SLACK_SECRET, ROCKET_SCHEDULER="off")
    assert rocket("admin", "U1", env=env, cwd=tmp_path).returncode == 0
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "workers.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [ROCKET, "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", "2"],
            env=env, cwd=tmp_path, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    LOGS[proc.pid] = log
    try:
        await asyncio.to_thread(wait_health, base, 200, proc)

        async def give(session: aiohttp.ClientSession, i: int) -> str:
            body = command_form(f"UGIVER{i}", "<@U1|one> ++")
            headers = {**slack_headers(body), "Content-Type": FORM}
            async with session.post(f"{base}/slack/commands", data=body, headers=headers) as response:
                assert response.status == 200
                workers.add(response.headers["X-Rocket-Worker"])
                return (await response.json())["text"]

        workers: set[str] = set()
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
            replies = await asyncio.gather(*(give(session, i) for i in range(50)))
        assert all("Working on it" not in r for r in replies), replies
        print(f"mongo-wire workers: {len(workers)} answered 50 concurrent ++")
        assert standin.db(db_name).users.find_one({"_id": "U1"})["karma"] == 1 + 50
    finally:
        stop(proc)
