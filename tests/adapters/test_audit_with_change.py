"""An audit entry committed together with the change it records (SQLite, DynamoDB).

These are the hooks a later audit subscriber / store write uses: on SQLite the entry's
statements run inside the store write's transaction; on DynamoDB the entry's items go in
the same TransactWriteItems as the record's conditional Put.
"""

from __future__ import annotations

import json
import sqlite3
import uuid

import aiosqlite
import pytest

from adapters.sqlite import SqliteStore
from adapters.sqlite.audit import SqliteAuditLog, append_in_transaction, append_on
from core.audit import AuditEntry
from core.errors import StorageUnavailable
from core.models import User
from tests.support import moto_transactions
from tests.support.moto_server import moto_endpoint  # noqa: F401  (session fixture)


def change_entry(key: str = "chg-1", **over) -> AuditEntry:
    fields = dict(id=key, time="2026-12-01T10:00:00Z", actor="U1", action="user edit",
                  target="user:U2", changes=[("name", "Old", "New")], users=["U2"])
    fields.update(over)
    return AuditEntry(**fields)


async def _name_of(path: str, key: str) -> str:
    store = await SqliteStore.open(path)
    try:
        return (await store.retrieve(User, key)).name
    finally:
        await store.close()


async def test_sqlite_entry_and_change_commit_or_roll_back_together(tmp_path):
    path = str(tmp_path / "rocket.db")
    store = await SqliteStore.open(path)
    await store.store(User("U2", name="Old"))
    await store.close()
    audit = await SqliteAuditLog.open(path)  # creates the audit schema in the same file
    db = sqlite3.connect(path, isolation_level=None)
    try:
        for outcome in ("ROLLBACK", "COMMIT"):
            db.execute("BEGIN IMMEDIATE")
            doc = json.loads(db.execute("SELECT doc FROM users WHERE key = 'U2'").fetchone()[0])
            doc["name"] = "New"
            db.execute("UPDATE users SET doc = ?, version = version + 1 WHERE key = 'U2'", (json.dumps(doc),))
            assert append_in_transaction(db, [change_entry()]) == 1
            db.execute(outcome)
            if outcome == "ROLLBACK":
                assert await audit.query() == [] and await audit.query(user="U2") == []
                assert await _name_of(path, "U2") == "Old"
        assert [e.id for e in await audit.query(user="U2")] == ["chg-1"]
        assert await _name_of(path, "U2") == "New"
        db.execute("BEGIN IMMEDIATE")  # a retried change: the entry is not doubled
        assert append_in_transaction(db, [change_entry()]) == 0
        db.execute("COMMIT")
        assert len(await audit.query(limit=10)) == 1
    finally:
        db.close()
        await audit.close()


async def test_sqlite_a_failing_change_leaves_no_entry_on_an_aiosqlite_connection(tmp_path):
    path = str(tmp_path / "rocket.db")
    audit = await SqliteAuditLog.open(path)
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        await conn.execute("BEGIN IMMEDIATE")
        assert await append_on(conn, [change_entry(teams=["backend"])]) == 1
        with pytest.raises(sqlite3.OperationalError):
            await conn.execute("UPDATE no_such_table SET x = 1")  # the change fails after the entry
        await conn.execute("ROLLBACK")
        assert await audit.query() == [] and await audit.query(team="backend") == []
        shared = await SqliteAuditLog.on_connection(conn)
        assert await shared.append([change_entry()]) == 1
        await shared.close()  # leaves the shared connection open
        assert [e.id for e in await audit.query()] == ["chg-1"]
        assert len(list(await conn.execute_fetchall("SELECT 1"))) == 1
    finally:
        await conn.close()
        await audit.close()


@pytest.fixture
async def dynamo(moto_endpoint):  # noqa: F811
    from adapters.dynamo import DynamoStore
    from adapters.dynamo.audit import DynamoAuditLog

    moto_transactions.install()
    prefix = uuid.uuid4().hex[:8]
    store = await DynamoStore.open(
        endpoint_url=moto_endpoint, region="us-east-1", access_key="testing", secret_key="testing",
        tables={t: f"{prefix}_{t}" for t in ("users", "teams", "projects", "leases")},
    )
    log = await DynamoAuditLog.open(store, f"{prefix}_audit", owns_store=True)
    try:
        yield store, log, f"{prefix}_users"
    finally:
        await log.close()


def _record_put(table: str, version_seen: int, name: str) -> dict:
    return {"Put": {
        "TableName": table,
        "Item": {"slack_id": {"S": "U2"}, "name": {"S": name}, "version": {"N": str(version_seen + 1)}},
        "ConditionExpression": "#v = :n",
        "ExpressionAttributeNames": {"#v": "version"},
        "ExpressionAttributeValues": {":n": {"N": str(version_seen)}},
    }}


async def test_dynamo_entry_and_conditional_put_commit_together(dynamo):
    from botocore.exceptions import ClientError

    store, log, users = dynamo
    await store.store(User("U2", name="Old"))  # version 1
    entry = change_entry()
    await log.ensure_day(entry.day)
    # a stale compare-and-set: the record's condition fails, so the entry is not written either
    # (the record's Put is last: moto applies the entry's items first, then rolls them back)
    with pytest.raises(ClientError) as info:
        await store._writer.transact_write_items(
            TransactItems=[*log.transact_items(entry), _record_put(users, 7, "Stale")])
    assert info.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert await log.query() == [] and await log.query(user="U2") == [] and await log.query(actor="U1") == []
    assert (await store.retrieve(User, "U2")).name == "Old"
    await store._writer.transact_write_items(
        TransactItems=[*log.transact_items(entry), _record_put(users, 1, "New")])
    assert (await store.retrieve(User, "U2")).name == "New"
    assert await log.query(user="U2") == [entry]
    # the same change retried: the entry's condition cancels it, nothing is doubled
    with pytest.raises(ClientError):
        await store._writer.transact_write_items(
            TransactItems=[*log.transact_items(entry), _record_put(users, 2, "Newer")])
    assert await log.query(limit=10) == [entry]
    assert (await store.retrieve(User, "U2")).name == "New"


class FlakyWriter:
    """Wraps the real write client; the next calls of ``transact_write_items`` misbehave.

    ``plan`` items: ``"conflict"`` (refused before applying, like DynamoDB's
    TransactionConflict), ``"lost"`` (applied by moto, then the answer is lost: a read
    timeout), ``"invalid"`` (a ValidationException, nothing applied), ``"ok"``.
    """

    def __init__(self, real, plan: list[str]) -> None:
        self._real = real
        self.plan = list(plan)
        self.calls = 0

    def __getattr__(self, name):
        return getattr(self._real, name)

    async def transact_write_items(self, **kwargs):
        from botocore.exceptions import ClientError, ReadTimeoutError

        self.calls += 1
        step = self.plan.pop(0) if self.plan else "ok"
        if step == "conflict":
            raise ClientError({"Error": {"Code": "TransactionCanceledException"},
                               "CancellationReasons": [{"Code": "TransactionConflict"}]},
                              "TransactWriteItems")
        if step == "invalid":
            raise ClientError({"Error": {"Code": "ValidationException"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, "TransactWriteItems")
        result = await self._real.transact_write_items(**kwargs)
        if step == "lost":
            raise ReadTimeoutError(endpoint_url="http://127.0.0.1")
        return result


async def test_dynamo_append_is_resent_after_transient_errors_and_never_doubled(dynamo):
    from adapters.dynamo.audit import DynamoAuditLog

    store, log, _ = dynamo
    assert isinstance(log, DynamoAuditLog)
    flaky = FlakyWriter(store._writer, ["conflict", "lost"])
    store._writer = flaky
    try:
        first, second = change_entry("a"), change_entry("b", time="2026-12-01T10:00:01Z")
        # a: refused (conflict), resent, applied but answer lost, resent -> condition fails
        assert await log.append([first]) == 0  # counted low, as the port says; stored once
        assert await log.query(user="U2") == [first]
        assert await log.append([second]) == 1
        assert flaky.calls == 4
        flaky.plan = ["invalid"]
        with pytest.raises(StorageUnavailable):
            await log.append([change_entry("c", time="2026-12-01T10:00:02Z")])
        assert [e.id for e in await log.query(limit=10)] == ["b", "a"]
    finally:
        store._writer = flaky._real
