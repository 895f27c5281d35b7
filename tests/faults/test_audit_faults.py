"""Issue 14, must show 3: the database fails between a change and its audit entry, on SQLite
and on DynamoDB (moto). What core/subscribers/audit.py promises is what is observed:

- the change stands (it was committed before the entry is written);
- a failure that passes within ``RETRY_DELAYS`` still leaves exactly one entry;
- a failure that lasts leaves no entry in the database, a warning in the reply and one
  ``audit_lost`` log line holding the entry, which re-appended stores it once (idempotent);
- the same change applied again under the same idempotency key writes no second entry.
"""

from __future__ import annotations

import json
import logging
import uuid

import pytest

from core.audit import AuditEntry, audit_scope
from core.commands import EditUser
from core.context import Ports, Settings
from core.errors import StorageUnavailable
from core.models import User
from core.subscribers import audit as trail
from core.wiring import build_bus
from tests.fakes.chat import FakeChat
from tests.fakes.drive import FakeDrive
from tests.fakes.github import FakeGitHub
from tests.support import moto_transactions
from tests.support.moto_server import moto_endpoint  # noqa: F401  (session fixture)


class FailingAudit:
    """The real log, whose next ``fail`` appends raise what the adapter raises when the
    database does not answer (counted, so the test knows the failure really happened)."""

    def __init__(self, real, fail: int) -> None:
        self.real, self.fail, self.failed = real, fail, 0

    async def append(self, entries):
        if self.fail:
            self.fail -= 1
            self.failed += 1
            raise StorageUnavailable("database is locked")
        return await self.real.append(entries)

    async def query(self, **kw):
        return await self.real.query(**kw)

    async def purge(self, *a, **kw):
        return await self.real.purge(*a, **kw)

    async def close(self):
        await self.real.close()


@pytest.fixture(params=["sqlite", "dynamodb"])
async def backend(request, tmp_path):
    if request.param == "sqlite":
        from adapters.sqlite import SqliteStore
        from adapters.sqlite.audit import SqliteAuditLog

        store = await SqliteStore.open(str(tmp_path / "rocket.db"))
        log = await SqliteAuditLog.for_store(store)
    else:
        from adapters.dynamo import DynamoStore
        from adapters.dynamo.audit import DynamoAuditLog

        endpoint = request.getfixturevalue("moto_endpoint")
        moto_transactions.install()
        prefix = uuid.uuid4().hex[:8]
        store = await DynamoStore.open(
            endpoint_url=endpoint, region="us-east-1", access_key="testing", secret_key="testing",
            tables={t: f"{prefix}_{t}" for t in ("users", "teams", "projects", "leases")},
        )
        log = await DynamoAuditLog.open(store, f"{prefix}_audit")
    await store.store(User("U2", name="Old"))
    try:
        yield store, log
    finally:
        await log.close()
        await store.close()


def _bus(store, audit) -> object:
    return build_bus(Ports(store, FakeGitHub(), FakeChat(), FakeDrive(), audit=audit), Settings())


async def test_a_short_failure_still_leaves_exactly_one_entry(backend, monkeypatch):
    store, log = backend
    monkeypatch.setattr(trail, "RETRY_DELAYS", (0.01, 0.01, 0.01))
    flaky = FailingAudit(log, fail=2)
    result = await _bus(store, flaky).handle(EditUser("U2", name="New"))
    assert flaky.failed == 2 and result.warnings == []
    assert (await store.retrieve(User, "U2")).name == "New"
    [entry] = await log.query(user="U2")
    assert entry.changes == (("name", "Old", "New"),) and entry.actor == "U2"


async def test_a_lasting_failure_keeps_the_change_and_logs_the_lost_entry(backend, monkeypatch, caplog):
    store, log = backend
    monkeypatch.setattr(trail, "RETRY_DELAYS", (0.01, 0.01, 0.01))
    flaky = FailingAudit(log, fail=100)
    with caplog.at_level(logging.ERROR, logger="rocket.audit"):
        result = await _bus(store, flaky).handle(EditUser("U2", name="New"))
    assert flaky.failed == 4  # the first attempt and three retries
    assert (await store.retrieve(User, "U2")).name == "New"  # the change stands
    assert await log.query(user="U2") == []  # and its entry is not in the database
    assert any("audit entry could not be written" in w for w in result.warnings)
    lost = [json.loads(r.getMessage()) for r in caplog.records if "audit_lost" in r.getMessage()]
    assert len(lost) == 1 and lost[0]["entry"]["changes"] == [{"field": "name", "old": "Old", "new": "New"}]
    entry = AuditEntry.from_dict(lost[0]["entry"])  # the operator re-appends it from the log
    assert await log.append([entry]) == 1 and await log.append([entry]) == 0
    assert [e.id for e in await log.query(user="U2")] == [entry.id]


async def test_the_same_change_under_the_same_key_is_recorded_once(backend):
    store, log = backend
    bus = _bus(store, log)
    for name in ("New", "Newer"):  # e.g. a job's fire time run again after a crash
        await store.store(User("U2", name="Old", version=(await store.retrieve(User, "U2")).version))
        with audit_scope(actor="job:x", key="job:x:2026-12-01T03:00:00+00:00"):
            await bus.handle(EditUser("U2", name=name))
    entries = await log.query(user="U2")
    assert len(entries) == 1 and entries[0].actor == "job:x"
    assert entries[0].changes == (("name", "Old", "New"),)  # the first write wins
