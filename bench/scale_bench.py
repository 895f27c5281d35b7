"""Issue 15's scale section of ``make bench``: interactive commands on a small and a large
directory, on SQLite and DynamoDB (moto), through the bus (``store_bus``: the handlers and
the real store; Slack, GitHub and Drive are not involved in these reads).

For each backend, size and command: the median latency of ``RUNS`` runs, the storage port
calls of one run (``CountingStore``) and, on DynamoDB, the operations moto received (Scan
must be 0), then the large/small ratio of the medians (issue 15 asks for <= 1.5x).
On moto the latency ratio cannot show the trend: moto answers a ``Query`` by walking every
item of the table in Python (moto/dynamodb/models/table.py, ``for item in self.all_items()``),
where DynamoDB reads one partition, and serves one request at a time: a ``team view`` sends one
index Query per member (31), each walking every index item (about 50 us an item), so at 2,000
users and 200 teams (12,000 index items) they queue past botocore's 20 s read timeout on a busy
machine. So moto's directories are 100 and 400 users (filled with ``create_many``;
``--full``: 1,000) and its figure that counts is the operations on the wire: the same at both
sizes, and no Scan.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections import Counter
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.commands import ExportEmails, ViewTeam, ViewUser
from core.models import Team, User
from core.permissions import Permissions
from ports.storage import BulkCreate
from tests.fakes.counting_store import CountingStore
from tests.fakes.ports import store_bus

RUNS = 15
TEAM_SIZE = 30
SIZES = {"sqlite": ((1_000, 100), (50_000, 1_000)), "dynamodb": ((100, 10), (400, 40))}
SIZES_FULL = {"dynamodb": ((100, 10), (1_000, 100))}  # --full: larger on moto (slow)
RUNS_ON = {"sqlite": RUNS, "dynamodb": 3, "dynalite": 7}
# dynalite (bench/dynalite.py, npm): DynamoDB's API over LevelDB, whose Query reads one
# partition as DynamoDB does: the latency trend moto cannot show. Run when Node.js is here.
DYNALITE_SIZES = ((1_000, 100), (50_000, 1_000))
SIZES_QUICK = {"sqlite": ((200, 20), (2_000, 200)), "dynamodb": ((200, 20), (600, 60))}


@dataclass
class ScaleRow:
    backend: str
    users: int
    teams: int
    command: str
    median_ms: float
    calls: Counter[str]
    wire: Counter[str]


async def _fill(store: Any, users: int, teams: int) -> None:
    records: list[Any] = [
        User(f"U{i}", name=f"n{i}", email=f"p{i}@example.org", github=f"Login{i}", github_user_id=str(i),
             permission_level=Permissions.admin if i == 0 else Permissions.member)
        for i in range(users)
    ]
    records += [
        Team(f"T{t}", f"Team_{t}", members={str((t * TEAM_SIZE + k) % users) for k in range(TEAM_SIZE)},
             team_leads={str(t * TEAM_SIZE % users)})
        for t in range(teams)
    ]
    if isinstance(store, BulkCreate):  # DynamoDB: BatchWriteItem (rocket db import's path)
        for start in range(0, len(records), 500):
            chunk = records[start:start + 500]
            for model in (User, Team):
                same = [r for r in chunk if type(r) is model]
                if same:
                    await store.create_many(same)
        return
    for start in range(0, len(records), 200):
        await asyncio.gather(*(store.store(r) for r in records[start:start + 200]))


def _commands(users: int, teams: int) -> dict[str, Any]:
    t, u = teams // 2, users // 2
    return {
        "team view": ViewTeam("U0", f"TEAM_{t}"),
        "user view --github": ViewUser("U0", github=f"LOGIN{u}"),
        "export emails --team": ExportEmails("U0", team=f"team_{t}"),
        "user view --inspect": ViewUser("U0", slack_id=f"U{t * TEAM_SIZE % users}", inspect=True),
    }


@asynccontextmanager
async def _backend(name: str, workdir: Path, tag: str) -> Any:
    from bench.requests_bench import _moto

    if name == "sqlite":
        from adapters.sqlite import SqliteStore

        store = await SqliteStore.open(str(workdir / f"scale-{tag}.db"))
        try:
            yield store, None
        finally:
            await store.close()
        return
    if name == "dynalite":
        from bench.dynalite import dynalite_server

        with dynalite_server() as endpoint:
            async with _dynamo_store(endpoint) as store:
                yield store, None
        return
    async with _moto() as (endpoint, counter), _dynamo_store(endpoint) as store:
        yield store, counter


@asynccontextmanager
async def _dynamo_store(endpoint: str) -> Any:
    """A DynamoStore on fresh tables at ``endpoint`` (moto or dynalite), closed afterwards."""
    import uuid

    from adapters.dynamo import DynamoStore

    tables = {t: f"{uuid.uuid4().hex[:8]}_{t}" for t in ("users", "teams", "projects", "leases")}
    store = await DynamoStore.open(endpoint_url=endpoint, region="us-east-1", access_key="testing",
                                   secret_key="testing", tables=tables)
    try:
        yield store
    finally:
        await store.close()


async def _measure(backend: str, workdir: Path) -> list[ScaleRow]:
    rows: list[ScaleRow] = []
    for users, teams in SIZES[backend]:
        async with _backend(backend, workdir, f"{users}") as (inner, moto):
            await _fill(inner, users, teams)
            counting = CountingStore(inner)
            bus = store_bus(counting)
            for command, cmd in _commands(users, teams).items():
                times = []
                calls: Counter[str] = Counter()
                wire: Counter[str] = Counter()
                for _ in range(RUNS_ON.get(backend, RUNS)):
                    counting.reset()
                    before = Counter(moto.seen) if moto else Counter()
                    started = time.perf_counter()
                    await bus.handle(cmd)
                    times.append((time.perf_counter() - started) * 1000)
                    calls = Counter(counting.calls)
                    wire = (Counter(moto.seen) - before) if moto else Counter()
                rows.append(ScaleRow(backend, users, teams, command, statistics.median(times), calls, wire))
    return rows


def run_scale(workdir: Path) -> list[ScaleRow]:
    async def main() -> list[ScaleRow]:
        return [row for backend in SIZES for row in await _measure(backend, workdir)]

    return asyncio.run(main())


def _calls(c: Counter[str]) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(c.items())) or "-"


def scale_lines(rows: list[ScaleRow]) -> list[str]:
    out = [f"Scale (issue 15): median of {RUNS_ON} runs through the bus; storage calls and DynamoDB "
           "operations of one run (moto's Query walks its whole table: judge DynamoDB by the wire counts)"]
    by = {(r.backend, r.command, r.users): r for r in rows}
    for backend in sorted({r.backend for r in rows}):
        (small, _), (large, _) = SIZES[backend]
        for command in ("team view", "user view --github", "export emails --team", "user view --inspect"):
            a, b = by[(backend, command, small)], by[(backend, command, large)]
            ratio = b.median_ms / a.median_ms if a.median_ms else float("inf")
            steady = "same" if (a.calls, a.wire) == (b.calls, b.wire) else "DIFFERENT"
            scans = a.wire.get("Scan", 0) + b.wire.get("Scan", 0)
            out.append(
                f"  {backend:<8} {command:<22} {a.users:>6}u/{a.teams:<5}t {a.median_ms:7.2f} ms  "
                f"{b.users:>6}u/{b.teams:<5}t {b.median_ms:7.2f} ms  ratio {ratio:4.2f}x "
                f"{'ok' if ratio <= 1.5 else 'OVER'}; calls {_calls(b.calls)} ({steady})"
                + (f"; wire {_calls(b.wire)}; Scan {scans}" if b.wire else "")
            )
    return out


if __name__ == "__main__":
    import sys
    import tempfile

    if "--quick" in sys.argv:
        SIZES.update(SIZES_QUICK)
    if "--full" in sys.argv:
        SIZES.update(SIZES_FULL)
    if "--dynalite" in sys.argv:
        SIZES["dynalite"] = DYNALITE_SIZES
    if "--dynalite-quick" in sys.argv:
        SIZES["dynalite"] = ((200, 20), (2_000, 200))
    if "--only" in sys.argv:
        keep = sys.argv[sys.argv.index("--only") + 1]
        for name in list(SIZES):
            if name != keep:
                del SIZES[name]
    with tempfile.TemporaryDirectory() as tmp:
        print("\n".join(scale_lines(run_scale(Path(tmp)))))
