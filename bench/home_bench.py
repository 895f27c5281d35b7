"""The Home tab bench (issue 13, must-show 5): ``python -m bench.home_bench``.

1. Storage calls: a directory of 1,000 teams and 5,000 users; the Home tab of a member of 20
   teams (and of an admin, who manages all 1,000) is built through the bus on a store that counts
   every call by method. Printed, never asserted here (tests/unit/test_home_scale.py asserts a bound).
2. Latency: ``rocket serve`` on SQLite holding that directory, the Slack stand-in as the Web API;
   signed ``app_home_opened`` events for that user, 8 at a time; prints the statuses, p50/p95/max
   of the answer (Bolt acks after ``views.publish`` returned) and the views published.
Runs on 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
from slack_sdk.signature import SignatureVerifier

from core.models import Permissions, Project, Team, User

TEAMS = 1000
USERS = 5000
MEMBER = "UBENCH0001"
ADMIN = "UBENCHADMIN"
SECRET = "bench-signing-secret"


class CountingStore:
    """Wraps a store; ``calls`` counts each awaited method by name (``reset()`` to start again)."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.calls: Counter[str] = Counter()

    def reset(self) -> None:
        self.calls.clear()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not callable(attr) or name.startswith("_"):
            return attr

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return attr(*args, **kwargs)

        return counted


def directory(teams: int = TEAMS, users: int = USERS, member_of: int = 20) -> tuple[list[User], list[Team],
                                                                                        list[Project]]:
    """``users`` users (``MEMBER`` in ``member_of`` teams and leading 5 of them, ``ADMIN`` an admin),
    ``teams`` teams of 5 members each, one project per team. Names are long (worst case for text)."""
    people = [User(MEMBER, name="Bench Member " + "x" * 87, email="member@example.com", github="bench-member",
                   github_user_id="9000000", karma=7, permission_level=Permissions.team_lead,
                   image_url="https://example.com/a.png"),
              User(ADMIN, name="Bench Admin", github="bench-admin", github_user_id="9000001",
                   permission_level=Permissions.admin)]
    people += [User(f"U{i:08d}", name=f"Person {i} " + "y" * 80, email=f"p{i}@example.com",
                    github=f"person-{i}", github_user_id=str(10_000 + i)) for i in range(users - 2)]
    made: list[Team] = []
    for t in range(teams):
        members = {str(10_000 + (t * 5 + k) % (users - 2)) for k in range(5)}
        leads: set[str] = set()
        if t < member_of:
            members.add("9000000")
            if t < 5:
                leads.add("9000000")
        made.append(Team(str(100_000 + t), f"team-{t:04d}-" + "s" * 245, "Team " + "N" * 250, "web",
                         team_leads=leads, members=members))
    projects = [Project(f"{t:08x}" + "0" * 24, str(100_000 + t), {f"https://github.com/org/repo-{t}"},
                        "Project " + "P" * 247) for t in range(teams)]
    return people, made, projects


async def fill(store: Any, teams: int = TEAMS, users: int = USERS) -> None:
    people, made, projects = directory(teams, users)
    for record in [*people, *made, *projects]:
        await store.store(record)


async def storage_calls() -> dict[str, Counter[str]]:
    """The storage calls of ``ViewHome`` for the member (20 teams) and the admin."""
    from adapters.memory.store import MemoryStore
    from core.commands import ViewHome
    from core.context import Ports, Settings
    from core.wiring import build_bus
    from tests.fakes.chat import FakeChat

    inner = MemoryStore()
    await fill(inner)
    store = CountingStore(inner)
    ports = Ports(store=store, github=None, chat=FakeChat(), drive=None)  # type: ignore[arg-type]
    bus = build_bus(ports, Settings())
    out: dict[str, Counter[str]] = {}
    for who in (MEMBER, ADMIN):
        store.reset()
        await bus.handle(ViewHome(who))
        out[who] = Counter(store.calls)
    return out


def _event(i: int) -> str:
    return json.dumps({"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": f"EvH{i}",
                       "event_time": int(time.time()),
                       "event": {"type": "app_home_opened", "user": MEMBER, "channel": "D1", "tab": "home"}})


async def _load(url: str, concurrency: int, count: int) -> tuple[list[float], Counter[int]]:
    verifier = SignatureVerifier(SECRET)
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    todo = iter(range(count))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async def worker() -> None:
            for i in todo:
                body = _event(i)
                ts = str(int(time.time()))
                headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": ts,
                           "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body) or ""}
                started = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as r:
                        await r.read()
                        statuses[r.status] += 1
                except (aiohttp.ClientError, TimeoutError):
                    statuses[0] += 1
                latencies.append(time.perf_counter() - started)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, statuses


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(q * len(ordered) + 0.999) - 1))] if ordered else 0.0


def run_latency(workdir: Path, concurrency: int = 8, count: int = 200) -> list[str]:
    """Serve the directory and send ``count`` ``app_home_opened`` events, ``concurrency`` at a time."""
    from bench.servers import ROCKET, clean_env, free_port, rocket_cli, serving
    from entrypoints.dbio import export_to
    from tests.support.slack_standin import SlackStandIn

    async def dump() -> None:
        from adapters.memory.store import MemoryStore
        store = MemoryStore()
        await fill(store)
        with open(workdir / "dir.json", "w") as out:
            await export_to(store, out)

    asyncio.run(dump())
    with SlackStandIn() as slack:
        env = clean_env({"DATABASE_URL": f"sqlite:///{workdir / 'rocket.db'}", "SLACK_SIGNING_SECRET": SECRET,
                         "ROCKET_SCHEDULER": "off", **slack.env()})
        rocket_cli(["db", "import", str(workdir / "dir.json")], env, workdir, timeout=600)
        port = free_port()
        argv = [ROCKET, "serve", "--host", "127.0.0.1", "--port", str(port)]
        with serving(argv, port, env, workdir, workdir / "rocket.log") as base:
            asyncio.run(_load(base + "/slack/events", concurrency, 8))  # warm-up
            started = time.perf_counter()
            latencies, statuses = asyncio.run(_load(base + "/slack/events", concurrency, count))
            seconds = time.perf_counter() - started
        published = len(slack.homes(MEMBER))
    return [f"app_home_opened for a member of 20 teams (directory {TEAMS} teams, {USERS} users, SQLite), "
            f"c={concurrency}, n={count}: statuses {dict(statuses)}, p50 {_p(latencies, .5) * 1000:.0f} ms, "
            f"p95 {_p(latencies, .95) * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms, "
            f"{count / seconds:.1f} req/s; views.publish recorded {published} (incl. warm-up); "
            f"within Slack's 3 s ack: {max(latencies) < 3}"]


def main() -> int:
    calls = asyncio.run(storage_calls())
    for who, counted in calls.items():
        label = "member of 20 teams" if who == MEMBER else f"admin (manages all {TEAMS} teams)"
        print(f"Home tab storage calls, {label}: {sum(counted.values())} ({dict(counted)})", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for line in run_latency(Path(tmp)):
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
