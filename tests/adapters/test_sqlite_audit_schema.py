"""A database whose audit table was made before it became WITHOUT ROWID keeps working."""

from __future__ import annotations

import asyncio
import json
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


# The schema of files made before (adapters/sqlite/audit.py at baefeb0): ``id`` the primary key of a
# WITHOUT ROWID table, ``audit_by_time``, and one trigger writing both kinds of tag rows.
SCHEMA_OF_FILES_MADE_BEFORE = (
    "CREATE TABLE IF NOT EXISTS audit (id TEXT PRIMARY KEY, time TEXT NOT NULL, "
    "actor TEXT NOT NULL, users TEXT NOT NULL, teams TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS audit_by_time ON audit (time, id)",
    "CREATE INDEX IF NOT EXISTS audit_by_actor ON audit (actor, time, id)",
    "CREATE TABLE IF NOT EXISTS audit_tags (kind TEXT NOT NULL, tag TEXT NOT NULL, "
    "time TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (kind, tag, time, id)) WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS audit_tags_insert AFTER INSERT ON audit BEGIN "
    "INSERT OR IGNORE INTO audit_tags (kind, tag, time, id) "
    "SELECT 'user', value, NEW.time, NEW.id FROM json_each(NEW.users); "
    "INSERT OR IGNORE INTO audit_tags (kind, tag, time, id) "
    "SELECT 'team', value, NEW.time, NEW.id FROM json_each(NEW.teams); END",
    "CREATE TRIGGER IF NOT EXISTS audit_tags_delete AFTER DELETE ON audit BEGIN "
    "DELETE FROM audit_tags WHERE kind = 'user' AND time = OLD.time AND id = OLD.id "
    "AND tag IN (SELECT value FROM json_each(OLD.users)); "
    "DELETE FROM audit_tags WHERE kind = 'team' AND time = OLD.time AND id = OLD.id "
    "AND tag IN (SELECT value FROM json_each(OLD.teams)); END",
)


def varied(n: int) -> AuditEntry:
    return AuditEntry(id=f"v{n:02d}", time=f"2026-12-01T10:00:{n:02d}.000000Z", actor=f"U{n % 3}",
                      action="team add", target="team:t", changes=(("member", None, f"U{n}"),),
                      users=(f"U{n % 4}",) if n % 5 else (), teams=(f"t{n % 2}",) if n % 3 else ())


def _sqlite_rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def test_a_file_made_before_keeps_its_layout_and_answers_every_operation(tmp_path: Path) -> None:
    from adapters.sqlite.store import SqliteStore

    old = tmp_path / "before.db"
    with sqlite3.connect(old) as db:  # a file made by the code before, with entries in it
        for statement in SCHEMA_OF_FILES_MADE_BEFORE:
            db.execute(statement)
        for e in map(varied, range(10)):
            db.execute("INSERT OR IGNORE INTO audit (id, time, actor, users, teams, doc) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (e.id, e.time, e.actor, json.dumps(list(e.users)),
                                                     json.dumps(list(e.teams)), e.doc_json))
    everything = [varied(n) for n in range(20)]

    def want(actor: str | None = None, user: str | None = None, team: str | None = None) -> list[str]:
        return [e.id for e in sorted(everything, key=lambda e: e.cursor, reverse=True)
                if (actor is None or e.actor == actor) and (user is None or user in e.users)
                and (team is None or team in e.teams)]

    async def run() -> dict[str, object]:
        store = await SqliteStore.open(str(old))
        log = await SqliteAuditLog.for_store(store)  # the group writer's path
        try:
            out: dict[str, object] = {"old": log._old}
            out["new"] = await log.append(everything)  # the first ten are there: ten new ones
            out["again"] = await log.append([varied(3), varied(15)])
            out["all"] = [e.id for e in await log.query(limit=100)]
            out["since"] = [e.id for e in await log.query(since="2026-12-01T10:00:15Z", limit=100)]
            out["page"] = [e.id for e in await log.query(before=("2026-12-01T10:00:05.000000Z", "v05"),
                                                         limit=3)]
            out["actor"] = [e.id for e in await log.query(actor="U1", limit=100)]
            out["user"] = [e.id for e in await log.query(user="U2", limit=100)]
            out["team"] = [e.id for e in await log.query(team="t1", limit=100)]
            out["both"] = [e.id for e in await log.query(user="U1", team="t1", limit=100)]
            out["plans"] = [" | ".join(await log.explain(**q)) for q in
                            ({}, {"actor": "U1"}, {"user": "U2"}, {"team": "t1", "user": "U1"})]
            out["purged"] = await log.purge("2026-12-01T10:00:12Z", limit=100)
            out["left"] = [e.id for e in await log.query(limit=100)]
            out["left_user"] = [e.id for e in await log.query(user="U2", limit=100)]
            return out
        finally:
            await log.close()
            await store.close()

    got = asyncio.run(run())
    assert got["old"] is True
    assert got["new"] == 10 and got["again"] == 0
    assert got["all"] == want()
    assert got["since"] == want()[:5]
    assert got["page"] == ["v04", "v03", "v02"]
    assert got["actor"] == want(actor="U1") and got["user"] == want(user="U2")
    assert got["team"] == want(team="t1")
    assert got["both"] == want(user="U1", team="t1") and got["both"]
    for plan in got["plans"]:  # type: ignore[attr-defined]
        assert "TEMP B-TREE" not in plan and ("SEARCH" in plan or "USING INDEX" in plan), plan
    assert got["purged"] == 12
    assert got["left"] == [f"v{n:02d}" for n in range(19, 11, -1)]
    assert got["left_user"] == [i for i in want(user="U2") if int(i[1:]) >= 12]
    tags = _sqlite_rows(old, "SELECT id FROM audit_tags")
    assert tags and all(int(str(i)[1:]) >= 12 for (i,) in tags)  # purge removed their tag rows
    [made] = _sqlite_rows(old, "SELECT sql FROM sqlite_master WHERE name = 'audit'")[0]
    assert "id TEXT PRIMARY KEY" in str(made)  # left as it was: no migration
    names = {n for (n,) in _sqlite_rows(old, "SELECT name FROM sqlite_master")}
    assert "audit_by_id" not in names and "audit_user_tags" not in names


def test_a_new_file_gets_the_time_keyed_layout_and_only_the_triggers_it_needs(tmp_path: Path) -> None:
    path = tmp_path / "new.db"

    async def run() -> tuple[bool, list[str], list[str]]:
        log = await SqliteAuditLog.open(str(path))
        try:
            await log.append([varied(n) for n in range(20)])
            return (log._old, [e.id for e in await log.query(user="U2", limit=100)],
                    [e.id for e in await log.query(team="t0", limit=100)])
        finally:
            await log.close()

    old, by_user, by_team = asyncio.run(run())
    assert old is False
    assert by_user == [f"v{n:02d}" for n in range(19, -1, -1) if n % 5 and n % 4 == 2]
    assert by_team == [f"v{n:02d}" for n in range(19, -1, -1) if n % 3 and n % 2 == 0]
    [made] = _sqlite_rows(path, "SELECT sql FROM sqlite_master WHERE name = 'audit'")[0]
    assert "PRIMARY KEY (time, id)" in str(made)
    names = {n for (n,) in _sqlite_rows(path, "SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    assert names == {"audit_user_tags", "audit_team_tags", "audit_tags_delete"}
    # an entry without tags writes no tag row; one with a user and a team writes two
    assert len(_sqlite_rows(path, "SELECT 1 FROM audit_tags WHERE id = 'v00'")) == 0
    assert len(_sqlite_rows(path, "SELECT 1 FROM audit_tags WHERE id = 'v01'")) == 2
