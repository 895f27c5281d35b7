"""``SqliteStore.ping`` must not break SQLite's locking for other processes.

POSIX drops every lock a process holds on a file when it closes *any* descriptor of that
file. A ping that opened and closed the database file itself released the SHARED lock the
store's WAL-mode connection keeps; the next connection of another process to close then
believed it was the last one, checkpointed and deleted the WAL, and every later write of the
store went to an unlinked WAL that no other process (or restart) could see. Found by the
benchmark: 200 ``++`` answered "Gave …", karma unchanged.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from adapters.sqlite import SqliteStore
from core.errors import StorageUnavailable
from core.models import User

READ_KARMA = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1])
print(conn.execute("SELECT json_extract(doc, '$.karma') FROM users WHERE key = 'U1'").fetchone()[0])
conn.close()
"""


def karma_seen_by_another_process(db: Path) -> int:
    done = subprocess.run([sys.executable, "-c", READ_KARMA, str(db)], capture_output=True, text=True,
                          timeout=30, check=True)
    return int(done.stdout)


async def test_writes_after_a_ping_stay_visible_to_other_processes(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    store = await SqliteStore.open(str(db))
    try:
        await store.store(User("U1", karma=0))
        await store.ping()
        assert karma_seen_by_another_process(db) == 0  # that process's connection opens and closes
        for expected in (1, 2):
            await store.increment(User, "U1", "karma", 1)
            await store.ping()
            assert karma_seen_by_another_process(db) == expected
        assert Path(f"{db}-wal").exists()  # still this store's WAL, not deleted under it
    finally:
        await store.close()


async def test_ping_fails_when_the_file_is_gone(tmp_path: Path) -> None:
    db = tmp_path / "gone.db"
    store = await SqliteStore.open(str(db))
    try:
        await store.ping()
        db.unlink()
        with pytest.raises(StorageUnavailable):
            await store.ping()
    finally:
        await store.close()


async def test_ping_fails_when_the_file_is_no_longer_a_database(tmp_path: Path) -> None:
    db = tmp_path / "broken.db"
    store = await SqliteStore.open(str(db))
    try:
        await store.store(User("U1"))
        db.unlink()
        db.write_bytes(b"this is not a database at all" * 200)
        with pytest.raises(StorageUnavailable):
            await store.ping()
    finally:
        await store.close()


async def test_ping_fails_when_the_header_is_overwritten_in_place(tmp_path: Path) -> None:
    db = tmp_path / "scribbled.db"
    store = await SqliteStore.open(str(db))
    try:
        await store.ping()
        with open(db, "r+b") as f:
            f.write(b"garbage garbage!")
        with pytest.raises(StorageUnavailable, match="not a SQLite database"):
            await store.ping()
    finally:
        await store.close()
