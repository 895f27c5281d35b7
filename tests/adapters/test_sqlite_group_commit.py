"""SQLite group commit (adapters/sqlite/writer.py): concurrent writes share transactions,
and each keeps its own outcome."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from pathlib import Path

import pytest

from adapters.sqlite import SqliteStore
from adapters.sqlite.writer import MAX_BATCH
from core.errors import Conflict, NotFound, StorageUnavailable
from core.models import User


async def _open(tmp_path: Path) -> SqliteStore:
    return await SqliteStore.open(str(tmp_path / "group.db"))


async def test_concurrent_writes_are_applied_in_few_transactions(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    try:
        writer = store._writer
        assert writer is not None
        before = writer.batches
        users = await asyncio.gather(*(store.store(User(f"U{i:03d}")) for i in range(200)))
        karma = await asyncio.gather(*(store.increment(User, "U000", "karma", 1) for _ in range(50)))
        assert [u.version for u in users] == [1] * 200
        assert sorted(karma) == list(range(2, 52))
        assert writer.writes >= 250
        assert writer.batches - before <= 4, writer.batches - before  # not 250 transactions
    finally:
        await store.close()


async def test_a_turn_with_more_writes_than_a_batch_holds_is_split(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    try:
        writer = store._writer
        assert writer is not None
        await store.store(User("U1"))
        before = writer.batches
        n = 2 * MAX_BATCH + 10
        results = await asyncio.gather(*(store.increment(User, "U1", "karma", 1) for _ in range(n)))
        assert results == list(range(2, n + 2))  # in arrival order, each seeing the ones before
        assert writer.batches - before == 3
    finally:
        await store.close()


async def test_one_batch_mixes_wins_conflicts_and_not_found_each_its_own(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    try:
        a = await store.store(User("A", name="a"))
        b = await store.store(User("B", name="b"))
        b2 = await store.store(dataclasses.replace(b, name="b2"))
        writer = store._writer
        assert writer is not None
        before = writer.batches
        results = await asyncio.gather(
            store.store(dataclasses.replace(a, name="a-new")),  # fresh: wins
            store.store(dataclasses.replace(b, name="stale")),  # stale: Conflict
            store.store(User("A")),  # create of an existing key: Conflict
            store.increment(User, "nobody", "karma", 1),  # NotFound
            store.store(User("C", name="c")),  # new: created
            return_exceptions=True,
        )
        assert writer.batches - before == 1  # all five in one transaction
        assert isinstance(results[0], User) and results[0].version == 2
        assert isinstance(results[1], Conflict) and isinstance(results[2], Conflict)
        assert isinstance(results[3], NotFound)
        assert isinstance(results[4], User) and results[4].version == 1
        assert (await store.retrieve(User, "A")).name == "a-new"
        assert await store.retrieve(User, "B") == b2
        assert (await store.retrieve(User, "C")).name == "c"
    finally:
        await store.close()


async def test_a_write_that_fails_in_sqlite_fails_alone(tmp_path: Path) -> None:
    store = await _open(tmp_path)
    try:
        writer = store._writer
        assert writer is not None
        bad = writer.write("INSERT INTO no_such_table VALUES (1)")
        good = [store.store(User(f"G{i}")) for i in range(5)]
        results = await asyncio.gather(bad, *good, return_exceptions=True)
        assert isinstance(results[0], StorageUnavailable)
        assert all(isinstance(r, User) for r in results[1:]), results
        assert writer.deferred == 1  # the loop's batch was undone and redone by the thread
        assert len(await store.bulk_retrieve(User, [f"G{i}" for i in range(5)])) == 5
    finally:
        await store.close()


async def test_every_write_queued_before_close_is_committed(tmp_path: Path) -> None:
    db = tmp_path / "group.db"
    store = await SqliteStore.open(str(db))
    await store.store(User("U1"))
    pending = [asyncio.ensure_future(store.increment(User, "U1", "karma", 1)) for _ in range(30)]
    await asyncio.sleep(0)  # queued, not yet applied
    await store.close()
    assert sorted([await p for p in pending]) == list(range(2, 32))
    with sqlite3.connect(db) as conn:
        (doc,) = conn.execute("SELECT json_extract(doc, '$.karma') FROM users WHERE key = 'U1'").fetchone()
    assert doc == 31
    with pytest.raises(StorageUnavailable):
        await store.increment(User, "U1", "karma", 1)


async def test_the_wal_is_checkpointed_although_the_loops_connection_never_does_it(tmp_path: Path) -> None:
    """The loop's connection has no automatic checkpoint (it would fsync on the loop); the
    writer thread's checkpoints keep the WAL from growing with every write."""
    db = tmp_path / "group.db"
    store = await SqliteStore.open(str(db))
    try:
        await store.store(User("U1"))
        wal = tmp_path / "group.db-wal"
        sizes = []
        for _ in range(2):
            for _ in range(5000):  # one write per batch: 5000 commits of at least one page each
                await store.increment(User, "U1", "karma", 1)
            await asyncio.sleep(0.5)  # let the last checkpoint finish
            sizes.append(wal.stat().st_size // 4096)
        # Without checkpoints every commit appends at least one frame: more than 10,000 pages
        # after 10,000 commits. With them the WAL is reused from its start after each one.
        assert sizes[1] < 10_000, sizes
        assert (await store.retrieve(User, "U1")).karma == 10001
    finally:
        await store.close()
