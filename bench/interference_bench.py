"""``user view`` latency while ``export emails`` runs back to back (issue 15, must show 4).

``rocket serve`` (one process, SQLite) on a directory of ``USERS`` users, with a Slack stand-in
(its own process, so its parsing of each uploaded CSV does not run in this load generator) as
Slack. Two phases, each ``REQUESTS`` signed ``user view`` requests, ``CONCURRENCY`` in flight:

- idle: nothing else runs;
- during: one admin sends ``export emails`` back to back (the next as soon as the previous is
  answered: inline, or at ``response_url``, served here, when it took longer than the inline
  budget), each building and uploading a CSV of every user.

Printed: p50 / p99 of ``user view`` in both phases, the p99 ratio (issue 15 asks for <= 2x),
how many exports ran during the second phase and how long each took.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from bench.load import LevelResult, command_form, run_level, signed_headers
from bench.servers import ROCKET, clean_env, free_port, rocket_cli, serving
from core.models import User, to_dict
from core.permissions import Permissions

SECRET = "bench-interference-secret"
USERS = 50_000
REQUESTS = 600
CONCURRENCY = 4
ADMIN = "UADMIN0"

_STANDIN = (
    "import sys, time\n"
    "from tests.support.slack_standin import SlackStandIn\n"
    "s = SlackStandIn().start()\n"
    "print(s.base_url, flush=True)\n"
    "sys.stdin.read()\n"  # until the bench closes our stdin
)


@dataclass
class Interference:
    users: int
    idle: LevelResult
    during: LevelResult
    exports: list[float] = field(default_factory=list)  # seconds each export took
    export_replies: list[str] = field(default_factory=list)

    @property
    def ratio(self) -> float:
        idle = self.idle.p(0.99)
        return self.during.p(0.99) / idle if idle else float("inf")


def _users_file(path: Path, users: int) -> None:
    records = [User(ADMIN, name="Admin", email="admin@example.org", permission_level=Permissions.admin)]
    records += [User(f"UV{i:06d}", name=f"Viewed, user {i}", email=f"user{i}@example.org",
                     github=f"gh-{i}", github_user_id=str(300000 + i)) for i in range(users)]
    path.write_text(json.dumps({"users": [to_dict(u, with_version=False) for u in records]}))


async def _exports(url: str, stop: asyncio.Event, out: Interference) -> None:
    """``export emails`` back to back until ``stop``; a delayed answer is awaited at our response URL."""
    import aiohttp

    delayed: asyncio.Queue[str] = asyncio.Queue()

    async def receive(request: web.Request) -> web.Response:
        body = await request.json()
        await delayed.put(str(body.get("text", "")))
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/reply", receive)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()

    verifier = SignatureVerifier(SECRET)
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=600)) as session:
            while not stop.is_set():
                body = command_form(ADMIN, "export emails").replace(
                    "response_url=", f"response_url=http%3A%2F%2F127.0.0.1%3A{port}%2Freply")
                started = time.perf_counter()
                async with session.post(url, data=body, headers=signed_headers(verifier, body)) as r:
                    text = str((await r.json()).get("text", ""))
                if text.startswith("Working on it"):
                    text = await delayed.get()
                out.exports.append(time.perf_counter() - started)
                out.export_replies.append(text)
    finally:
        await runner.cleanup()


async def _phases(rocket: str, users: int) -> Interference:
    url = rocket + "/slack/commands"

    def view(i: int) -> tuple[str, str]:
        return f"UV{(i * 7919) % users:06d}", "user view"

    idle = await run_level(url, SECRET, view, CONCURRENCY, REQUESTS, warmup=2 * CONCURRENCY)
    result = Interference(users, idle, LevelResult())
    stop = asyncio.Event()
    exporting = asyncio.create_task(_exports(url, stop, result))
    await asyncio.sleep(1.0)  # the first export is under way
    result.during = await run_level(url, SECRET, view, CONCURRENCY, REQUESTS, offset=REQUESTS)
    stop.set()
    await exporting
    return result


def run_interference(workdir: Path, users: int = USERS) -> Interference:
    db = workdir / "interference.db"
    source = workdir / "interference-users.json"
    _users_file(source, users)
    standin = subprocess.Popen([sys.executable, "-c", _STANDIN], stdin=subprocess.PIPE,
                               stdout=subprocess.PIPE, text=True, env=clean_env({}))
    try:
        assert standin.stdout is not None
        slack_url = standin.stdout.readline().strip()
        env = clean_env({"DATABASE_URL": f"sqlite:///{db}", "SLACK_SIGNING_SECRET": SECRET,
                         "ROCKET_SCHEDULER": "off", "SLACK_API_TOKEN": "xoxb-standin-0000-token",
                         "SLACK_API_URL": slack_url})
        rocket_cli(["db", "import", str(source)], env, workdir, timeout=600)
        port = free_port()
        argv = [ROCKET, "serve", "--host", "127.0.0.1", "--port", str(port)]
        with serving(argv, port, env, workdir, workdir / "interference.log") as rocket:
            return asyncio.run(_phases(rocket, users))
    finally:
        if standin.stdin:
            standin.stdin.close()
        standin.wait(timeout=30)


def interference_lines(r: Interference) -> list[str]:
    ms, idle, during = 1000, r.idle, r.during
    sent = sum(1 for t in r.export_replies if "sent to your DMs" in t)
    exports = (f"{len(r.exports)} exports ran ({sent} sent), median {statistics.median(r.exports):.2f} s each"
               if r.exports else "no export finished")
    return [
        f"Interference (issue 15): user view over HTTP at {r.users:,} users on SQLite, "
        f"{CONCURRENCY} in flight",
        f"  idle    p50 {idle.p(0.5) * ms:7.1f} ms  p99 {idle.p(0.99) * ms:7.1f} ms  ({idle.rps:.0f} req/s, "
        f"{idle.ok}/{idle.count} ok)",
        f"  during  p50 {during.p(0.5) * ms:7.1f} ms  p99 {during.p(0.99) * ms:7.1f} ms  "
        f"({during.rps:.0f} req/s, {during.ok}/{during.count} ok) while export emails ran back to back: "
        f"{exports}",
        f"  p99 during / idle = {r.ratio:.2f}x (target <= 2x: {'ok' if r.ratio <= 2 else 'OVER'})",
    ]


if __name__ == "__main__":
    import tempfile

    count = int(sys.argv[sys.argv.index("--users") + 1]) if "--users" in sys.argv else USERS
    with tempfile.TemporaryDirectory(prefix="rocket-interference-") as tmp:
        print("\n".join(interference_lines(run_interference(Path(tmp), count))), flush=True)
