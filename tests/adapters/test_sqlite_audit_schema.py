"""A database whose audit table was made before it became WITHOUT ROWID keeps working."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

from adapters.sqlite.audit import SCHEMA, SqliteAuditLog
from core.audit import AuditEntry

OLD_TABLE = ("CREATE TABLE audit (id TEXT PRIMARY KEY, time TEXT NOT NULL, actor TEXT NOT NULL, "
             "users TEXT NOT NULL, teams TEXT NOT NULL, doc TEXT NOT NULL)")


def entry(n: int) -> AuditEntry:
    return AuditEntry(id=f"e{n}", time=f"2026-12-01T10:00:{n:02d}.000000Z", actor="U1", action="user edit",
                      target="U2", changes=(("name", "a", f"b{n}"),), users=("U2",), teams=("backend",))


def test_the_new_table_has_no_rowid_and_an_old_one_keeps_answering(tmp_path: Path) -> None:
    assert "WITHOUT ROWID" in SCHEMA[0]
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as db:
        db.execute(OLD_TABLE)

    async def run() -> tuple[int, list[str], list[str], int]:
        log = await SqliteAuditLog.open(str(old))
        try:
            new = await log.append([entry(1), entry(2)]) + await log.append([entry(2), entry(3)])
            by_user = [e.id for e in await log.query(user="U2", limit=10)]
            by_team = [e.id for e in await log.query(team="backend", limit=2)]
            purged = await log.purge("2026-12-01T10:00:02.500000Z", limit=10)
            return new, by_user, by_team, purged
        finally:
            await log.close()

    new, by_user, by_team, purged = asyncio.run(run())
    assert new == 3  # the repeated e2 is not stored twice
    assert by_user == ["e3", "e2", "e1"] and by_team == ["e3", "e2"]
    assert purged == 2
    with sqlite3.connect(old) as db:
        [made] = db.execute("SELECT sql FROM sqlite_master WHERE name = 'audit'").fetchone()
    assert "WITHOUT ROWID" not in made


def test_appends_of_one_loop_turn_beside_the_store_are_one_statement_each_counted(tmp_path: Path) -> None:
    from adapters.sqlite.store import SqliteStore

    async def run() -> tuple[list[int], int, int]:
        store = await SqliteStore.open(str(tmp_path / "turn.db"))
        log = await SqliteAuditLog.for_store(store)
        try:
            writer = store._writer
            before = writer.writes
            # 40 callers in one turn; callers 0 and 1 give the same entry: it counts for the first
            counts = await asyncio.gather(*(log.append([entry(max(n, 1))]) for n in range(40)))
            statements = writer.writes - before
            stored = len(await log.query(limit=100))
            return list(counts), statements, stored
        finally:
            await log.close()
            await store.close()

    counts, statements, stored = asyncio.run(run())
    assert counts == [1, 0] + [1] * 38
    assert statements == 1  # one multi-row INSERT for the whole turn
    assert stored == 39
