"""Storage requests per command, on every backend (issue 19).

Each command of the HTTP table (``user view``, a self ``user edit``, ``<@TARGET> ++``) is
sent, Slack-signed, to the real app (``create_app``, Quart's test client) whose store is one
backend wrapped in ``tests.fakes.counting_store.CountingStore``: the counts are the storage
port calls the command made (a port call is one request to the database on every backend:
one SQL statement, one MongoDB command, one DynamoDB request). On DynamoDB the requests
moto's server received are counted as well, by operation (``X-Amz-Target``), so they show
what goes over the wire. Each command runs ``RUNS`` times on different users; the counts
of every run must agree (else the table says so).

Expected (issue 19): view 1 read; edit 1 read + 1 conditional write; ``++`` 1 read + 1
update (``increment``).
"""

from __future__ import annotations

import asyncio
import logging
import threading
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dependency_injector import providers

from bench.load import FORM, command_form, signed_headers
from core.models import User
from tests.fakes.counting_store import READS, WRITES, CountingStore
from tests.support.moto_server import free_port

SECRET = "bench-slack-signing-secret"
TARGET = "UTARGET"
RUNS = 3
BACKENDS = ("memory", "sqlite", "mongomock", "dynamodb")
COMMANDS: dict[str, Callable[[str], str]] = {
    "user view": lambda _: "user view",
    "user edit": lambda user: f'user edit --name "Counted {user}"',
    "karma ++": lambda _: f"<@{TARGET}|target> ++",
}
DONE = {"user view": "", "user edit": "Updated name", "karma ++": f"Gave {TARGET} one karma"}
EXPECTED = {"user view": (1, 0), "user edit": (1, 1), "karma ++": (1, 1)}  # (reads, writes)


@dataclass
class CommandCount:
    backend: str
    command: str
    calls: Counter[str]  # port calls of the last run
    wire: Counter[str] = field(default_factory=Counter)  # DynamoDB operations of the last run
    steady: bool = True  # every run made the same calls
    replied: bool = True  # every reply said the command was done

    @property
    def reads(self) -> int:
        return sum(n for m, n in self.calls.items() if m in READS)

    @property
    def writes(self) -> int:
        return sum(n for m, n in self.calls.items() if m in WRITES)


class _CountingMoto:
    """WSGI middleware: one request at a time through moto (see tests/support/moto_server.py),
    counting each DynamoDB operation it receives."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.seen: Counter[str] = Counter()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        with self.lock:
            target = environ.get("HTTP_X_AMZ_TARGET", "")
            if target:
                self.seen[target.rpartition(".")[2]] += 1
            return list(self.app(environ, start_response))


@asynccontextmanager
async def _moto() -> AsyncIterator[tuple[str, _CountingMoto]]:
    from moto.server import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    middleware = _CountingMoto(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", free_port(), middleware, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", middleware
    finally:
        server.shutdown()
        thread.join(timeout=10)


@asynccontextmanager
async def _open(backend: str, workdir: Path) -> AsyncIterator[tuple[Any, _CountingMoto | None]]:
    """The store of ``backend`` (and moto's counter for DynamoDB), closed afterwards."""
    if backend == "memory":
        from adapters.memory import MemoryStore

        yield MemoryStore(), None
        return
    if backend == "sqlite":
        from adapters.sqlite import SqliteStore

        store = await SqliteStore.open(str(workdir / "requests.db"))
        try:
            yield store, None
        finally:
            await store.close()
        return
    if backend == "mongomock":
        from mongomock_motor import AsyncMongoMockClient

        from adapters.mongo import MongoStore

        store = await MongoStore.open(AsyncMongoMockClient(), "rocket_requests_bench")
        try:
            yield store, None
        finally:
            await store.close()
        return
    from adapters.dynamo import DynamoStore

    async with _moto() as (endpoint, counter):
        prefix = uuid.uuid4().hex[:8]
        tables = {t: f"{prefix}_{t}" for t in ("users", "teams", "projects", "leases")}
        store = await DynamoStore.open(endpoint_url=endpoint, region="us-east-1", access_key="testing",
                                       secret_key="testing", tables=tables)
        try:
            yield store, counter
        finally:
            await store.close()


async def _as_resource(store: Any) -> AsyncIterator[Any]:
    yield store  # closed by the caller, not by the app


def _app(counting: CountingStore) -> Any:
    """The real app with its store provider replaced by ``counting`` (the one coupling to
    entrypoints' wiring: a ``store`` provider on the container)."""
    from entrypoints.config import load_config
    from entrypoints.container import make_container
    from entrypoints.http import create_app

    env = {"DATABASE_URL": "memory://", "SLACK_SIGNING_SECRET": SECRET, "ROCKET_SCHEDULER": "off"}
    container = make_container(load_config(env))
    container.store.override(providers.Resource(_as_resource, counting))
    return create_app(container)


async def _count_backend(backend: str, workdir: Path) -> list[CommandCount]:
    from slack_sdk.signature import SignatureVerifier

    verifier = SignatureVerifier(SECRET)
    results: list[CommandCount] = []
    async with _open(backend, workdir) as (inner, moto):
        users = [f"UC{i:03d}" for i in range(len(COMMANDS) * RUNS)]
        for slack_id in [*users, TARGET]:
            await inner.store(User(slack_id, name=f"user {slack_id}"))
        counting = CountingStore(inner)
        app = _app(counting)
        async with app.test_app() as test_app:
            client = test_app.test_client()
            actors = iter(users)
            for command, text in COMMANDS.items():
                seen: list[tuple[Counter[str], Counter[str]]] = []
                replied = True
                for _ in range(RUNS):
                    actor = next(actors)
                    body = command_form(actor, text(actor))
                    counting.reset()
                    before = Counter(moto.seen) if moto else Counter()
                    headers = {**signed_headers(verifier, body), "Content-Type": FORM}
                    response = await client.post("/slack/commands", data=body, headers=headers)
                    reply = await response.get_json() if response.status_code == 200 else {}
                    replied &= response.status_code == 200 and DONE[command] in str(reply.get("text", ""))
                    wire = (Counter(moto.seen) - before) if moto else Counter()
                    seen.append((Counter(counting.calls), wire))
                calls, wire = seen[-1]
                results.append(CommandCount(backend, command, calls, wire,
                                            steady=all(s == seen[0] for s in seen), replied=replied))
    return results


def run_requests(workdir: Path) -> list[CommandCount]:
    """Count every command on every backend."""

    async def main() -> list[CommandCount]:
        counts: list[CommandCount] = []
        for backend in BACKENDS:
            counts += await _count_backend(backend, workdir)
        return counts

    return asyncio.run(main())


def _calls(c: Counter[str]) -> str:
    return ", ".join(f"{n} {m}" for m, n in sorted(c.items())) or "none"


def requests_lines(counts: list[CommandCount]) -> list[str]:
    lines = ["Storage requests per command (port calls; DynamoDB: also the requests moto received)",
             f"{'command':<10} {'backend':<10} {'reads':>5} {'writes':>6}  {'expected':<13} calls"]
    for c in counts:
        want_r, want_w = EXPECTED[c.command]
        ok = (c.reads, c.writes) == (want_r, want_w)
        notes = "" if c.steady else "  (runs differ!)"
        notes += "" if c.replied else "  (command did not succeed!)"
        wire = f"; wire: {_calls(c.wire)}" if c.wire else ""
        lines.append(f"{c.command:<10} {c.backend:<10} {c.reads:>5} {c.writes:>6}  "
                     f"{f'{want_r}+{want_w} ' + ('ok' if ok else 'OVER'):<13} {_calls(c.calls)}{wire}{notes}")
    return lines


def dynamo_edit_requests(counts: list[CommandCount]) -> int:
    """DynamoDB requests (on the wire) of one ``user edit``; -1 if not measured."""
    for c in counts:
        if c.backend == "dynamodb" and c.command == "user edit":
            return sum(c.wire.values())
    return -1
