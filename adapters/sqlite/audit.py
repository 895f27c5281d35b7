"""``SqliteAuditLog``: the audit log port (ports/audit.py) in the store's SQLite file.

Schema of a new file (``SCHEMA``, created when missing, in the same file as the store's tables):

- ``audit(time, id, actor, users, teams, doc)``, ``WITHOUT ROWID`` with primary key
  ``(time, id)``: one row per entry, stored in time order (an append goes to the right edge
  of the tree); ``users`` and ``teams`` are JSON arrays, ``doc`` the JSON of
  ``AuditEntry.to_dict``. Indexes ``audit_by_id(id)`` (UNIQUE: the id is the idempotency key)
  and ``audit_by_actor(actor, time, id)``.
- ``audit_tags(kind, tag, time, id)``, ``WITHOUT ROWID`` with that primary key: one row per
  user (``kind='user'``) and team (``kind='team'``) of an entry, in time order per tag.
- Triggers ``audit_user_tags`` / ``audit_team_tags`` write an entry's tag rows inside the very
  statement that inserts its ``audit`` row (each only for an entry that has tags of its kind:
  ``WHEN``); ``audit_tags_delete`` removes them inside the statement that deletes it.

Files made before (``OLD_SCHEMA``: ``id`` the primary key, of a rowid or a ``WITHOUT ROWID``
table, an ``audit_by_time(time, id)`` index and one ``audit_tags_insert`` trigger for both
kinds) are not migrated: opening one (``open``, ``for_store``, ``on_connection``) sees its
``audit`` table's layout (``is_old_layout``), creates only what that layout lacks, and every
operation below works on it unchanged (the same INSERT; queries and purge name
``audit_by_time`` there), at that layout's cost per append.

Atomic per entry: an entry and its tag rows are written by one ``INSERT OR IGNORE``
statement (the triggers run inside it), so they commit together or not at all, across
connections and processes (WAL, busy timeout). ``OR IGNORE`` on the unique id (``audit_by_id``;
on an old file the primary key) makes the append idempotent by id, also between racing
writers, and an ignored row fires no trigger; ``RETURNING id`` counts the new ones.
A call's entries go in one statement per 500 entries (one per call in practice).

Costs (the plans are checked by the contract suite with ``EXPLAIN QUERY PLAN``):
- no key: walk the table's own ``(time, id)`` key backwards from the upper bound (on an old
  file ``audit_by_time``): O(log n + limit);
- ``actor``: ``audit_by_actor`` the same way;
- ``user`` / ``team``: the ``audit_tags`` primary key range for that tag, then one
  lookup of the entry by ``(time, id)`` per row (on an old file by ``id``); ``user`` and
  ``team`` together: the second tag is a primary-key probe per row of the first; ``actor``
  with a tag: a filter on the row;
- ``purge``: the ``(time, id)`` key (old file: ``audit_by_time``) from the oldest end,
  O(deleted); the delete trigger removes the tag rows in the same statement.

Beside a file store (``for_store``), appends go through the store's group writer
(adapters/sqlite/writer.py): an entry's statement is committed in the writer's next batch
transaction, with the store writes queued in the same event-loop turn, so the two never
contend for the write lock. Elsewhere (``open``), concurrent appends of one loop turn share
one transaction on the log's own connection.

Writing an entry in the same transaction as a store write: the statements come from
``audit_statements(entries)``; run them on the connection that holds the transaction,
before its ``COMMIT``, with ``append_in_transaction(cursor, entries)`` (a plain
``sqlite3`` connection or cursor, e.g. inside a group-commit writer running on the store's
thread) or ``await append_on(aiosqlite_connection, entries)``. Neither commits nor begins:
the change and its entry then commit, or roll back, together. ``ensure_schema`` must have
run once on the file (``SqliteAuditLog.open`` / ``on_connection`` do it).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiosqlite

from core.errors import StorageUnavailable

if TYPE_CHECKING:
    from core.audit import AuditEntry, AuditQuery, Cursor

# core.audit (the entries' checks, paging, encoding) is imported where an entry is appended or
# read, not with this module: opening the audit log, which every `rocket exec` does, needs none
# of it, and a command that changes nothing (help, a listing) appends nothing (start-up, issue 17).

BUSY_TIMEOUT_MS = 5000
CHUNK = 500  # entries per INSERT statement (6 parameters each, far below SQLite's limit)

# The schema of a new file. The entries' table is keyed by (time, id) WITHOUT ROWID: appends go
# to the right edge of that B-tree, the docs are stored in time order (an append writes one page
# for a batch, not one page per entry at a random id), and "newest first" walks it; ``id`` stays
# unique through ``audit_by_id`` (small rows), which the ``OR IGNORE`` of an append meets. The
# tag rows are written by one trigger per kind that fires only for an entry with such tags
# (``WHEN``): no ``json_each`` over an empty list.
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS audit (time TEXT NOT NULL, id TEXT NOT NULL, actor TEXT NOT NULL, "
    "users TEXT NOT NULL, teams TEXT NOT NULL, doc TEXT NOT NULL, PRIMARY KEY (time, id)) WITHOUT ROWID",
    "CREATE UNIQUE INDEX IF NOT EXISTS audit_by_id ON audit (id)",
    "CREATE INDEX IF NOT EXISTS audit_by_actor ON audit (actor, time, id)",
    "CREATE TABLE IF NOT EXISTS audit_tags (kind TEXT NOT NULL, tag TEXT NOT NULL, "
    "time TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (kind, tag, time, id)) WITHOUT ROWID",
    "CREATE TRIGGER IF NOT EXISTS audit_user_tags AFTER INSERT ON audit WHEN NEW.users <> '[]' BEGIN "
    "INSERT OR IGNORE INTO audit_tags (kind, tag, time, id) "
    "SELECT 'user', value, NEW.time, NEW.id FROM json_each(NEW.users); END",
    "CREATE TRIGGER IF NOT EXISTS audit_team_tags AFTER INSERT ON audit WHEN NEW.teams <> '[]' BEGIN "
    "INSERT OR IGNORE INTO audit_tags (kind, tag, time, id) "
    "SELECT 'team', value, NEW.time, NEW.id FROM json_each(NEW.teams); END",
    "CREATE TRIGGER IF NOT EXISTS audit_tags_delete AFTER DELETE ON audit BEGIN "
    "DELETE FROM audit_tags WHERE kind = 'user' AND time = OLD.time AND id = OLD.id "
    "AND tag IN (SELECT value FROM json_each(OLD.users)); "
    "DELETE FROM audit_tags WHERE kind = 'team' AND time = OLD.time AND id = OLD.id "
    "AND tag IN (SELECT value FROM json_each(OLD.teams)); END",
)

# The schema files were made with before (``id`` the primary key, a rowid table or, later,
# WITHOUT ROWID; ``audit_by_time``; one trigger writing both kinds of tag rows). Such a file is
# left as it is: opened, it gets these statements (creating only what is missing), and the same
# appends, queries and purges work on it (``Layout``), at that schema's cost.
OLD_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS audit (id TEXT PRIMARY KEY, time TEXT NOT NULL, "
    "actor TEXT NOT NULL, users TEXT NOT NULL, teams TEXT NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS audit_by_time ON audit (time, id)",
    "CREATE INDEX IF NOT EXISTS audit_by_actor ON audit (actor, time, id)",
    SCHEMA[3],
    "CREATE TRIGGER IF NOT EXISTS audit_tags_insert AFTER INSERT ON audit BEGIN "
    "INSERT OR IGNORE INTO audit_tags (kind, tag, time, id) "
    "SELECT 'user', value, NEW.time, NEW.id FROM json_each(NEW.users); "
    "INSERT OR IGNORE INTO audit_tags (kind, tag, time, id) "
    "SELECT 'team', value, NEW.time, NEW.id FROM json_each(NEW.teams); END",
    SCHEMA[-1],
)

_FIND_TABLE = "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'audit'"


def is_old_layout(table_sql: str | None) -> bool:
    """True when the file's ``audit`` table (its ``CREATE`` text; None: no table yet) has the
    layout made before: ``id`` its primary key."""
    return table_sql is not None and "PRIMARY KEY (time, id)" not in table_sql


def schema_for(table_sql: str | None) -> tuple[str, ...]:
    """The statements that complete the audit schema of a file whose ``audit`` table is
    ``table_sql`` (None: a new file gets ``SCHEMA``)."""
    return OLD_SCHEMA if is_old_layout(table_sql) else SCHEMA


Waiting = list[tuple[list["AuditEntry"], "asyncio.Future[int]"]]


def _fail(group: Waiting, exc: BaseException) -> None:
    for _, future in group:
        if not future.done():
            future.set_exception(exc)


def _settle(group: Waiting, written: asyncio.Future[Any]) -> None:
    """Hand each caller of ``group`` its count of new entries (the statement's RETURNING ids; an
    id two callers gave counts for the first), or the write's failure."""
    if written.cancelled():
        _fail(group, StorageUnavailable("SQLite failed to append audit entries: cancelled"))
        return
    exc = written.exception()
    if exc is not None:
        _fail(group, exc)
        return
    stored = {row[0] for row in written.result()}
    for entries, future in group:
        mine = {e.id for e in entries} & stored
        stored -= mine
        if not future.done():
            future.set_result(len(mine))


@contextmanager
def _guard(action: str) -> Iterator[None]:
    """sqlite3 and OS errors become ``StorageUnavailable``."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        raise StorageUnavailable(f"SQLite failed to {action}: {exc}") from exc


@functools.lru_cache(maxsize=64)
def _insert_sql(rows: int) -> str:
    marks = ", ".join(["(?, ?, ?, ?, ?, ?)"] * rows)
    return f"INSERT OR IGNORE INTO audit (id, time, actor, users, teams, doc) VALUES {marks} RETURNING id"


def _statements(entries: list[AuditEntry]) -> list[tuple[str, tuple[Any, ...]]]:
    """``audit_statements`` of entries already checked."""
    from core.audit import strings_json  # on the first append (see the imports)

    params: list[Any] = []
    for e in entries:
        params += (e.id, e.time, e.actor, strings_json(e.users), strings_json(e.teams), e.doc_json)
    if len(entries) <= CHUNK:
        return [(_insert_sql(len(entries)), tuple(params))] if entries else []
    width = 6 * CHUNK
    return [(_insert_sql(min(CHUNK, len(entries) - start)), tuple(params[6 * start:6 * start + width]))
            for start in range(0, len(entries), CHUNK)]


def audit_statements(entries: Iterable[AuditEntry]) -> list[tuple[str, tuple[Any, ...]]]:
    """The ``INSERT OR IGNORE … RETURNING id`` statements that append ``entries`` (the same for
    both layouts: the ``OR IGNORE`` meets the unique id whichever index holds it).

    Each returns one row per entry it stored (duplicates return nothing).
    """
    from core.audit import check_entries  # on the first append (see the imports)

    return _statements(check_entries(entries))


def append_in_transaction(db: sqlite3.Connection | sqlite3.Cursor, entries: Iterable[AuditEntry]) -> int:
    """Append on a plain sqlite3 connection/cursor inside the caller's transaction; how many new.

    Does not begin or commit; sqlite3 errors propagate (the caller rolls back).
    """
    return sum(len(db.execute(sql, params).fetchall()) for sql, params in audit_statements(entries))


async def append_on(conn: aiosqlite.Connection, entries: Iterable[AuditEntry]) -> int:
    """``append_in_transaction`` for an aiosqlite connection (inside the caller's transaction)."""
    new = 0
    for sql, params in audit_statements(entries):
        new += len(list(await conn.execute_fetchall(sql, params)))
    return new


async def _audit_table(conn: aiosqlite.Connection) -> str | None:
    """The ``CREATE`` text of the file's ``audit`` table (None: there is none yet)."""
    found = list(await conn.execute_fetchall(_FIND_TABLE))
    return found[0][0] if found else None


async def ensure_schema(conn: aiosqlite.Connection) -> bool:
    """Create the audit tables, indexes and triggers when missing (idempotent); a file made
    before keeps its layout (``schema_for``). True when the file has the old layout."""
    table = await _audit_table(conn)
    for statement in schema_for(table):
        await conn.execute(statement)
    return is_old_layout(table)


def query_sql(q: AuditQuery, old: bool = False) -> tuple[str, list[Any]]:
    """The SELECT for a validated query: rows of ``doc``, newest first, ``q.limit`` at most
    (``old``: on a file of the layout made before)."""
    tags = [(kind, value) for kind, value in (("user", q.user), ("team", q.team)) if value is not None]
    args: list[Any] = []
    where: list[str] = []
    if tags:
        base = "t0"
        sql = "SELECT a.doc FROM audit_tags t0"
        where += ["t0.kind = ?", "t0.tag = ?"]
        args += list(tags[0])
        if len(tags) == 2:
            sql += (" JOIN audit_tags t1 ON t1.kind = ? AND t1.tag = ? "
                    "AND t1.time = t0.time AND t1.id = t0.id")
            args = list(tags[1]) + args
        sql += " JOIN audit a ON a.time = t0.time AND a.id = t0.id"  # a primary-key probe
        if q.actor is not None:
            where.append("a.actor = ?")
            args.append(q.actor)
    else:
        base = "a"
        sql = "SELECT a.doc FROM audit a"
        if q.actor is not None:
            sql = "SELECT a.doc FROM audit a INDEXED BY audit_by_actor"
            where.append("a.actor = ?")
            args.append(q.actor)
        elif old:
            sql = "SELECT a.doc FROM audit a INDEXED BY audit_by_time"
        else:  # the table's own key is (time, id); every time is above "" (a range, not a scan)
            where.append("a.time >= ?")
            args.append(q.since if q.since is not None else "")
    if q.since is not None and not (base == "a" and q.actor is None and not old):
        where.append(f"{base}.time >= ?")
        args.append(q.since)
    upper = q.upper
    if upper is not None:
        where.append(f"({base}.time, {base}.id) < (?, ?)")
        args += list(upper)
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {base}.time DESC, {base}.id DESC LIMIT ?"
    args.append(q.limit)
    return sql, args


class SqliteAuditLog:
    """The AuditLog port on SQLite; ``await SqliteAuditLog.open(path)`` or ``on_connection``."""

    def __init__(self, conn: aiosqlite.Connection, owns: bool, old: bool = False) -> None:
        self._conn = conn
        self._owns = owns
        self._old = old  # the file has the layout made before (see OLD_SCHEMA)
        self._batching = owns  # a connection of its own: concurrent appends share a transaction
        self._pending: list[tuple[list[AuditEntry], asyncio.Future[int]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._writer: Any = None  # the store's group writer (``for_store`` on a file store)
        self._turn: list[tuple[list[AuditEntry], asyncio.Future[int]]] = []  # appends of this loop turn

    @classmethod
    async def open(cls, path: str) -> SqliteAuditLog:
        """Open ``path`` (the store's file) on a connection of its own: WAL, busy timeout."""
        with _guard("open the audit log"):
            conn = await aiosqlite.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            try:
                await conn.executescript(";\n".join([
                    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}", "PRAGMA journal_mode = WAL",
                    "PRAGMA synchronous = NORMAL"]))
                table = await _audit_table(conn)
                await conn.executescript(";\n".join(schema_for(table)))  # one trip, as ensure_schema
            except BaseException:
                await conn.close()
                raise
        return cls(conn, owns=True, old=is_old_layout(table))

    @classmethod
    async def for_store(cls, store: Any) -> SqliteAuditLog:
        """The log in a ``SqliteStore``'s file, on a connection of its own (``close`` closes
        only that); a store without a file (``:memory:``) shares its connection."""
        path = getattr(store, "_path", "")
        if path and path != ":memory:":
            log = await cls.open(path)
            writer = getattr(store, "_writer", None)
            if writer is not None:  # appends ride in the store's group-commit transactions
                log._writer = writer
                log._batching = False
            return log
        return await cls.on_connection(store._conn)

    @classmethod
    async def on_connection(cls, conn: aiosqlite.Connection) -> SqliteAuditLog:
        """Share an open aiosqlite connection (e.g. the store's); ``close`` leaves it open."""
        with _guard("create the audit tables"):
            old = await ensure_schema(conn)
        return cls(conn, owns=False, old=old)

    async def append(self, entries: Iterable[AuditEntry]) -> int:
        """Store entries whose id is new (one atomic statement per 500); how many were new.

        On a connection of its own, the appends made during one event-loop turn (and while
        the previous batch is being written) are written in ONE transaction (group commit):
        they all commit, or all fail with ``StorageUnavailable`` (then nothing of the batch
        is stored, and appending again is safe). Each caller gets the count of its own new
        entries; an id given by two callers of one batch counts for the first.
        """
        from core.audit import check_entries  # on the first append (see the imports)

        if self._batching:
            checked = check_entries(entries)
            if not checked:
                return 0
            future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            self._pending.append((checked, future))
            if self._flusher is None or self._flusher.done():
                self._flusher = asyncio.create_task(self._flush())
            return await future
        if self._writer is not None:
            checked = check_entries(entries)
            if not checked:
                return 0
            if len(checked) > CHUNK:  # its own statements, as many as it needs
                new = 0
                for sql, params in _statements(checked):
                    new += len(list(await self._writer.write(sql, params)))
                return new
            return await self._join_turn(checked)
        statements = audit_statements(entries)
        new = 0
        with _guard("append audit entries"):
            for sql, params in statements:
                new += len(list(await self._conn.execute_fetchall(sql, params)))
        return new

    def _join_turn(self, entries: list[AuditEntry]) -> asyncio.Future[int]:
        """Beside the store's group writer: the appends of one event-loop turn become one
        multi-row statement (each caller's entries whole in one statement, so each append stays
        atomic) queued on the writer; each caller's future gets its own count of new entries,
        or the writer's failure."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[int] = loop.create_future()
        if not self._turn:
            loop.call_soon(self._send_turn)
        self._turn.append((entries, future))
        return future

    def _send_turn(self) -> None:
        batch, self._turn = self._turn, []
        groups: list[list[tuple[list[AuditEntry], asyncio.Future[int]]]] = [[]]
        size = 0
        for item in batch:
            if size + len(item[0]) > CHUNK:
                groups.append([])
                size = 0
            groups[-1].append(item)
            size += len(item[0])
        for group in groups:
            rows: dict[str, AuditEntry] = {}
            for entries, _ in group:
                for entry in entries:
                    rows.setdefault(entry.id, entry)
            [(sql, params)] = _statements(list(rows.values()))
            try:
                written = self._writer.write(sql, params)
            except Exception as exc:  # the store is closed: every caller of the group fails
                _fail(group, exc)
                continue
            written.add_done_callback(functools.partial(_settle, group))

    async def _flush(self) -> None:
        """Write pending appends, one transaction per batch, until none are left."""
        while self._pending:
            await asyncio.sleep(0)  # let the callers of this loop turn join the batch
            batch, self._pending = self._pending, []
            rows: dict[str, AuditEntry] = {}
            for entries, _ in batch:
                for entry in entries:
                    rows.setdefault(entry.id, entry)
            try:
                with _guard("append audit entries"):
                    await self._conn.execute("BEGIN IMMEDIATE")
                    try:
                        stored: set[str] = set()
                        for sql, params in _statements(list(rows.values())):
                            stored.update(r[0] for r in await self._conn.execute_fetchall(sql, params))
                        await self._conn.execute("COMMIT")
                    except BaseException:
                        with contextlib.suppress(sqlite3.Error):
                            await self._conn.execute("ROLLBACK")
                        raise
            except Exception as exc:  # every caller of the batch gets the failure
                for _, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            for entries, future in batch:
                mine = {e.id for e in entries} & stored
                stored -= mine
                if not future.done():
                    future.set_result(len(mine))

    async def query(
        self,
        *,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        actor: str | None = None,
        user: str | None = None,
        team: str | None = None,
        limit: int = 20,
        before: str | Cursor | None = None,
    ) -> list[AuditEntry]:
        """Newest first, filtered, paged (see the port and the module docstring's costs)."""
        from core.audit import AuditEntry, AuditQuery  # on the first read (see the imports)

        q = AuditQuery.build(since=since, until=until, actor=actor, user=user, team=team,
                             limit=limit, before=before)
        if q.empty:
            return []
        sql, args = query_sql(q, self._old)
        with _guard("read audit entries"):
            rows = await self._conn.execute_fetchall(sql, args)
        return [AuditEntry.from_dict(json.loads(doc)) for (doc,) in rows]

    async def explain(self, **query: Any) -> list[str]:
        """The ``EXPLAIN QUERY PLAN`` details of the SELECT that ``query(**query)`` runs."""
        from core.audit import AuditQuery  # on use (see the imports)

        sql, args = query_sql(AuditQuery.build(**query), self._old)
        with _guard("explain an audit query"):
            rows = await self._conn.execute_fetchall("EXPLAIN QUERY PLAN " + sql, args)
        return [str(row[-1]) for row in rows]

    async def purge(self, older_than: str | datetime, limit: int = 10_000) -> int:
        """Delete up to ``limit`` entries older than ``older_than``, oldest first, in one statement."""
        from core.audit import check_purge  # on use (see the imports)

        cutoff, limit = check_purge(older_than, limit)
        with _guard("purge audit entries"):
            rows = await self._conn.execute_fetchall(
                "DELETE FROM audit WHERE time < ? AND id IN (SELECT id FROM audit "
                f"{'INDEXED BY audit_by_time ' if self._old else ''}"  # else the table's own key
                "WHERE time < ? ORDER BY time, id LIMIT ?) RETURNING 1",
                (cutoff, cutoff, limit),
            )
        return len(list(rows))

    async def close(self) -> None:
        """Close the connection if this log opened it; safe to call twice."""
        if self._flusher is not None and not self._flusher.done():
            with contextlib.suppress(Exception):
                await asyncio.shield(self._flusher)  # what was appended is written first
        if self._owns:
            self._owns = False
            with _guard("close the audit log"):
                await self._conn.close()
