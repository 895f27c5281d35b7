"""``SqliteStore.retrieve`` reads on the event loop's thread through a read-only connection.

It must see every committed write at once (this store's and other processes'), and it must
not queue behind a write that is waiting for another process's lock.
"""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from adapters.sqlite import SqliteStore
from core.models import User

SET_KARMA = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("UPDATE users SET doc = json_set(doc, '$.karma', ?), version = version + 1 WHERE key = 'U1'",
             (int(sys.argv[2]),))
conn.close()
"""

HOLD_WRITE_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[3]))
conn.execute("COMMIT")
conn.close()
"""


async def test_retrieve_sees_writes_of_this_store_and_of_other_processes(tmp_path: Path) -> None:
    db = tmp_path / "reads.db"
    store = await SqliteStore.open(str(db))
    try:
        stored = await store.store(User("U1", karma=3))
        assert (await store.retrieve(User, "U1")) == stored
        for karma in (7, 11):
            subprocess.run([sys.executable, "-c", SET_KARMA, str(db), str(karma)], check=True, timeout=30)
            seen = await store.retrieve(User, "U1")
            assert seen.karma == karma
            assert await store.increment(User, "U1", "karma", 1) == karma + 1
            assert (await store.retrieve(User, "U1")).karma == karma + 1
        assert (await store.retrieve(User, "U1")).version == 1 + 2 * 2
    finally:
        await store.close()


async def test_a_read_does_not_wait_behind_a_write_blocked_by_another_process(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    store = await SqliteStore.open(str(db))
    try:
        await store.store(User("U1", karma=1))
        locked = tmp_path / "locked"
        holder = subprocess.Popen([sys.executable, "-c", HOLD_WRITE_LOCK, str(db), str(locked), "1.0"])
        deadline = time.monotonic() + 20
        while not locked.exists() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        assert locked.exists()
        write = asyncio.create_task(store.increment(User, "U1", "karma", 1))  # waits for the lock
        await asyncio.sleep(0.05)
        started = time.monotonic()
        seen = await store.retrieve(User, "U1")
        assert time.monotonic() - started < 0.5 and not write.done()
        assert seen.karma == 1
        assert await write == 2  # the write goes through once the other process commits
        assert holder.wait(timeout=20) == 0
        assert (await store.retrieve(User, "U1")).karma == 2
    finally:
        await store.close()


class _BusyRecoveringReader:
    """A read-only connection that meets another process's WAL recovery: every read fails with
    SQLite's extended code SQLITE_BUSY_RECOVERY (what Python reports in ``sqlite_errorcode``)."""

    def __init__(self) -> None:
        self.reads = 0

    def execute(self, sql: str, params: tuple[object, ...]) -> None:
        self.reads += 1
        exc = sqlite3.OperationalError("database is locked")
        exc.sqlite_errorcode = sqlite3.SQLITE_BUSY_RECOVERY
        raise exc

    def close(self) -> None:
        return None


async def test_a_read_that_meets_wal_recovery_goes_through_the_writer_connection(tmp_path: Path) -> None:
    opened = await SqliteStore.open(str(tmp_path / "recovering.db"))
    stored = await opened.store(User("U1", karma=5))
    reader = _BusyRecoveringReader()
    store = SqliteStore(opened._conn, reader=reader)  # type: ignore[arg-type]
    try:
        assert await store.retrieve(User, "U1") == stored
        assert reader.reads == 1
    finally:
        await opened.close()
