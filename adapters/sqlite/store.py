"""``SqliteStore``: the storage port (ports/storage.py) on one SQLite file via aiosqlite.

Layout: one table per model (``User.TABLE`` …) with ``key TEXT PRIMARY KEY``,
``version INTEGER`` (the truth for optimistic concurrency) and ``doc TEXT`` (the JSON of
``core.models.to_dict``), plus ``leases(name, owner, expires_at)``.

Every write is a single SQL statement (``INSERT``, compare-and-set ``UPDATE``,
``UPDATE … RETURNING``, upsert), so each is atomic across connections and processes, not
only within this one; WAL mode and a busy timeout let several processes (Hypercorn
workers) share the file. Writes go through ``GroupWriter`` (writer.py, group commit): the
writes issued in one turn of the event loop are applied together in one transaction (on
the loop's thread, or by a writer thread when the file is locked), each write keeping its
own outcome; that module states what an acknowledged write survives (WAL +
``synchronous = NORMAL``: a process crash, not a power loss or kernel crash).
Filtering happens in SQL with ``json_extract``/``json_each``;
values and JSON paths are always bound as parameters. ``retrieve`` (a primary-key lookup)
runs on the event loop's thread through a second, read-only connection: in WAL mode a
reader never waits for writers, it is set never to wait at all (busy timeout 0; when SQLite
is busy the lookup goes through the connection's thread as before), and it saves the
thread round trip that costs more than the lookup itself. ``sqlite3`` errors become
``StorageUnavailable`` (a duplicate create becomes ``Conflict``). Needs SQLite >= 3.35
(``RETURNING``, upsert); ``open`` refuses older libraries.
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import aiosqlite

from adapters.sqlite.writer import DUPLICATE, GroupWriter
from adapters.storage_common import check_increment, check_params, check_purge_limit, unique_keys
from core.background import in_background
from core.errors import Conflict, NotFound, StorageUnavailable
from core.models import (
    FOLDED_FIELDS,
    INDEXED_FIELDS,
    MODELS,
    SET_FIELDS,
    M,
    Model,
    fold,
    from_dict,
    key_of,
    to_dict,
)
from core.records import replace as replace_record
from ports.storage import Params

DECODE_IN_THREAD = 1000  # a SELECT of more rows is decoded in a worker thread (``_select``)
GIL_EVERY = 50  # rows that thread decodes between letting the GIL go

BUSY_TIMEOUT_MS = 5000
CHUNK = 500
_BINDABLE = (str, int, float)


@contextmanager
def _guard(action: str) -> Iterator[None]:
    """Turn sqlite3 and OS errors into StorageUnavailable (nothing was written)."""
    try:
        yield
    except (sqlite3.Error, OSError) as exc:
        raise StorageUnavailable(f"SQLite failed to {action}: {exc}") from exc


def _scalar_expr(model: type[Model], name: str) -> str:
    """The SQL expression of a scalar field: the one the expression indexes are built on for
    ``INDEXED_FIELDS`` (so the planner uses them); ``name`` is a validated field name."""
    expr = f"json_extract(doc, '$.{name}')"
    return f"lower({expr})" if name in FOLDED_FIELDS[model] else expr


def _condition(model: type[Model], name: str, value: Any) -> tuple[str, list[Any]]:
    """SQL for one query pair (field validated by the caller) and its parameters.

    Same rule as ``core.models.matches``: membership for set-valued fields, equality
    otherwise (ints compare as ints, the permission level as its string value, folded
    fields through ``lower()`` on both sides). Indexed fields are written as the expression
    their index holds (the field name, checked against the model, is the only thing spliced
    into the SQL); other paths and every value are bound as parameters.
    """
    if name == "permission_level":
        value = str(value)
    if isinstance(value, bool):
        value = int(value)
    if not isinstance(value, _BINDABLE):
        return "0", []  # stored fields are never None or containers: nothing matches
    path = f"$.{name}"
    if name in SET_FIELDS[model]:
        if name in INDEXED_FIELDS[model]:
            if not isinstance(value, str):
                return "0", []
            return ("key IN (SELECT key FROM set_index WHERE tbl = ? AND field = ? AND value = ?)",
                    [model.TABLE, name, value])
        return "EXISTS (SELECT 1 FROM json_each(doc, ?) WHERE json_each.value = ?)", [path, value]
    if name == model.KEY and isinstance(value, str):
        return "key = ?", [value]
    if name == "version":
        if isinstance(value, str):
            return "0", []  # an int field never equals a string
        return "version = ?", [value]
    if name in INDEXED_FIELDS[model]:
        if not isinstance(value, str):
            return "0", []  # indexed fields hold strings
        folded = fold(value) if name in FOLDED_FIELDS[model] else value
        return f"{_scalar_expr(model, name)} = ?", [folded]
    return "json_extract(doc, ?) = ?", [path, value]


def _index_ddl() -> list[str]:
    """Expression indexes on the indexed scalar fields; the ``set_index`` table (one row per
    element of an indexed set field) kept by triggers inside every writing statement, so it
    is as atomic as the write itself, whichever process or connection writes."""
    ddl = [
        "CREATE TABLE IF NOT EXISTS set_index (tbl TEXT NOT NULL, field TEXT NOT NULL, "
        "value TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tbl, field, value, key)) WITHOUT ROWID",
        "CREATE INDEX IF NOT EXISTS set_index_by_key ON set_index (tbl, key)",
    ]
    for model in MODELS:
        table = model.TABLE
        sets = sorted(INDEXED_FIELDS[model] & SET_FIELDS[model])
        for name in sorted(INDEXED_FIELDS[model] - SET_FIELDS[model]):
            expr = _scalar_expr(model, name)
            ddl.append(f"CREATE INDEX IF NOT EXISTS {table}_by_{name} ON {table} ({expr})")
        if not sets:
            continue
        fill = "; ".join(
            f"INSERT OR IGNORE INTO set_index (tbl, field, value, key) SELECT '{table}', '{name}', "
            f"value, NEW.key FROM json_each(NEW.doc, '$.{name}')"
            for name in sets
        )
        drop = f"DELETE FROM set_index WHERE tbl = '{table}' AND key = OLD.key"
        ddl += [
            f"CREATE TRIGGER IF NOT EXISTS {table}_ix_insert AFTER INSERT ON {table} BEGIN {fill}; END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_ix_update AFTER UPDATE OF doc ON {table} "
            f"WHEN json_extract(OLD.doc, '$.{sets[0]}') IS NOT json_extract(NEW.doc, '$.{sets[0]}')"
            + "".join(f" OR json_extract(OLD.doc, '$.{n}') IS NOT json_extract(NEW.doc, '$.{n}')"
                      for n in sets[1:])
            + f" BEGIN {drop}; {fill}; END",
            f"CREATE TRIGGER IF NOT EXISTS {table}_ix_delete AFTER DELETE ON {table} BEGIN {drop}; END",
        ]
    return ddl


def _backfill_sql() -> list[str]:
    """Fill ``set_index`` from the tables (a database written before the index existed)."""
    out = []
    for model in MODELS:
        for name in sorted(INDEXED_FIELDS[model] & SET_FIELDS[model]):
            out.append(
                f"INSERT OR IGNORE INTO set_index (tbl, field, value, key) SELECT '{model.TABLE}', "
                f"'{name}', j.value, t.key FROM {model.TABLE} t, json_each(t.doc, '$.{name}') j"
            )
    return out


SQLITE_HEADER = b"SQLite format 3\x00"


def _check_file(path: str, fd: int) -> None:
    """Raise StorageUnavailable unless ``path`` is still the file ``fd`` holds, with a SQLite header.

    Reads through ``fd``, kept open for the store's lifetime, and never opens and closes the
    file here: closing any descriptor of a file drops every POSIX lock the process holds on
    it, including the SHARED lock of the store's WAL-mode connection, after which another
    process's connection takes itself for the last one and deletes the WAL under the store.
    """
    try:
        on_disk, held = os.stat(path), os.fstat(fd)
        header = os.pread(fd, len(SQLITE_HEADER), 0)
    except OSError as exc:
        raise StorageUnavailable(f"The database file cannot be read: {exc.strerror}") from exc
    if (on_disk.st_dev, on_disk.st_ino) != (held.st_dev, held.st_ino):
        raise StorageUnavailable("The database file was replaced; restart to open the new one")
    if header != SQLITE_HEADER:
        raise StorageUnavailable("The database file is not a SQLite database any more")


def _create_private(path: str) -> None:
    """Create a missing database file readable and writable by its owner only (0600): it
    holds emails. SQLite gives its -wal and -shm files the database file's permissions. An
    existing file is left as it is."""
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
    except FileExistsError:
        pass


class SqliteStore:
    """The storage port on SQLite; create with ``await SqliteStore.open(path)``."""

    def __init__(self, conn: aiosqlite.Connection, path: str = "", fd: int | None = None,
                 reader: sqlite3.Connection | None = None, writer: GroupWriter | None = None) -> None:
        self._conn = conn
        self._path = path
        self._fd = fd  # read-only, for ping(); closed only after the connection (see _check_file)
        self._reader = reader  # read-only, used on the event loop's thread (see _read_now)
        self._writer = writer  # every write, batched (see _write); None: through ``conn``

    @classmethod
    async def open(cls, path: str) -> SqliteStore:
        """Open (creating the file and tables if missing) in WAL mode with a busy timeout."""
        if sqlite3.sqlite_version_info < (3, 35):
            raise StorageUnavailable(f"SQLite {sqlite3.sqlite_version} is too old; need 3.35+")
        with _guard("open the database"):
            _create_private(path)
            conn = await aiosqlite.connect(
                path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None
            )
            fd = reader = writer = None
            try:
                # Each group of statements is one script: one trip to the connection's thread
                # instead of one a statement (~25 at every start of the CLI, issue 17).
                await conn.executescript(";\n".join([
                    f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
                    "PRAGMA journal_mode = WAL",
                    "PRAGMA synchronous = NORMAL",
                    *(f"CREATE TABLE IF NOT EXISTS {model.TABLE} "
                      "(key TEXT PRIMARY KEY, version INTEGER NOT NULL, doc TEXT NOT NULL)"
                      for model in MODELS),
                    "CREATE TABLE IF NOT EXISTS leases "
                    "(name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires_at REAL NOT NULL)",
                ]))
                had_index = await conn.execute_fetchall(
                    "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'set_index'"
                )
                try:
                    backfill = [] if had_index else _backfill_sql()
                    script = ["BEGIN IMMEDIATE", *_index_ddl(), *backfill, "COMMIT"]
                    await conn.executescript(";\n".join(script))
                except BaseException:
                    if conn.in_transaction:  # a statement after BEGIN failed: nothing of it stays
                        await conn.execute("ROLLBACK")
                    raise
                if path and path != ":memory:":
                    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
                    reader = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
                    reader.execute("PRAGMA query_only = 1")
                    writer = GroupWriter(path, BUSY_TIMEOUT_MS)
            except BaseException:
                if writer is not None:
                    await writer.close()
                if reader is not None:
                    reader.close()
                if fd is not None:
                    os.close(fd)
                await conn.close()
                raise
        return cls(conn, path, fd, reader, writer)

    async def _fetch(self, action: str, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Run one statement (autocommit) and return all its rows."""
        with _guard(action):
            return list(await self._conn.execute_fetchall(sql, tuple(params)))

    async def _write(self, action: str, sql: str, params: tuple[Any, ...],
                     allow_duplicate: bool = False) -> Any:
        """Run one write statement; its rows, or ``DUPLICATE`` (``allow_duplicate``) when it
        met an existing key. Through the group writer when there is one (file databases)."""
        if self._writer is not None:
            return await self._writer.write(sql, params, allow_duplicate)
        with _guard(action):
            try:
                return list(await self._conn.execute_fetchall(sql, params))
            except sqlite3.IntegrityError:
                if not allow_duplicate:
                    raise
                return DUPLICATE

    async def _read_now(self, action: str, sql: str, params: tuple[Any, ...]) -> list[Any]:
        """Run a short read on the loop's thread; through ``_fetch`` when SQLite is busy."""
        if self._reader is not None:
            try:
                return self._reader.execute(sql, params).fetchall()
            except sqlite3.OperationalError as exc:
                # Python reports extended codes (SQLITE_BUSY_RECOVERY, …); the low byte is the primary.
                if exc.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    raise StorageUnavailable(f"SQLite failed to {action}: {exc}") from exc
            except sqlite3.Error as exc:
                raise StorageUnavailable(f"SQLite failed to {action}: {exc}") from exc
        return await self._fetch(action, sql, params)

    @staticmethod
    def _load(model: type[M], version: int, doc: str) -> M:
        data = json.loads(doc)
        data["version"] = version  # the column is the truth
        return from_dict(model, data)

    async def store(self, obj: M) -> M:
        """Create (version 0; Conflict if the key exists) or compare-and-set (version n).

        Returns a copy with version ``obj.version + 1``; a Conflict writes nothing.
        """
        model = type(obj)
        key = key_of(obj)
        stored = replace_record(obj, version=obj.version + 1)
        doc = json.dumps(to_dict(stored))
        if obj.version == 0:
            created = await self._write(
                "create a record", f"INSERT INTO {model.TABLE} (key, version, doc) VALUES (?, 1, ?)",
                (key, doc), allow_duplicate=True,
            )
            if created is DUPLICATE:
                raise Conflict(f"{model.__name__} {key} already exists")
            return stored
        rows = await self._write(
            "update a record",
            f"UPDATE {model.TABLE} SET doc = ?, version = ? WHERE key = ? AND version = ? "
            "RETURNING version",
            (doc, stored.version, key, obj.version),
        )
        if not rows:
            raise Conflict(f"{model.__name__} {key} was changed by someone else")
        return stored

    async def retrieve(self, model: type[M], key: str) -> M:
        """The record with that key; NotFound when there is none."""
        rows = await self._read_now(
            "read a record", f"SELECT version, doc FROM {model.TABLE} WHERE key = ?", (key,)
        )
        if not rows:
            raise NotFound(f"{model.__name__} {key} not found")
        return self._load(model, rows[0][0], rows[0][1])

    async def bulk_retrieve(self, model: type[M], keys: Iterable[str]) -> list[M]:
        """Records in the order of ``keys``, duplicates once, missing skipped; ≤500 keys a query."""
        wanted = unique_keys(keys)
        found: dict[str, M] = {}
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            marks = ", ".join("?" * len(chunk))
            rows = await self._fetch(
                "read records",
                f"SELECT key, version, doc FROM {model.TABLE} WHERE key IN ({marks})",
                chunk,
            )
            for key, version, doc in rows:
                found[key] = self._load(model, version, doc)
        return [found[k] for k in wanted if k in found]

    @staticmethod
    def _select_sql(model: type[M], params: Params, joiner: str) -> tuple[str, list[Any]]:
        checked = check_params(model, params)
        sql = f"SELECT version, doc FROM {model.TABLE}"
        args: list[Any] = []
        if checked:
            parts = []
            for name, value in checked:
                clause, clause_args = _condition(model, name, value)
                parts.append(f"({clause})")
                args.extend(clause_args)
            sql += " WHERE " + f" {joiner} ".join(parts)
        return sql + " ORDER BY rowid", args

    async def _select(self, model: type[M], params: Params, joiner: str) -> list[M]:
        """The records of a SELECT. More than ``DECODE_IN_THREAD`` rows are decoded in a worker
        thread: a scan of 50,000 users (``export emails``) decodes for about a second, which must
        not hold up the requests the event loop serves meanwhile (issue 15). (Decoding in chunks
        on the loop was tried: every loop iteration of every other request then waited for a
        chunk, so a ``user view`` took 7x longer.)"""
        sql, args = self._select_sql(model, params, joiner)
        rows = await self._fetch("query records", sql, args)
        if len(rows) > DECODE_IN_THREAD:
            return await in_background(self._load_all, model, rows)
        return self._load_all(model, rows)

    @classmethod
    def _load_all(cls, model: type[M], rows: list[Any]) -> list[M]:
        """Decode rows; in a worker thread it lets the GIL go every ``GIL_EVERY`` rows
        (``time.sleep(0)``), so the event loop waits about a millisecond for it, not 5 ms."""
        if len(rows) <= DECODE_IN_THREAD:
            return [cls._load(model, version, doc) for version, doc in rows]
        records: list[M] = []
        for start in range(0, len(rows), GIL_EVERY):
            records += [cls._load(model, version, doc) for version, doc in rows[start:start + GIL_EVERY]]
            time.sleep(0)
        return records

    async def query_plan(self, model: type[M], params: Params = (), joiner: str = "AND") -> list[str]:
        """The ``EXPLAIN QUERY PLAN`` details of the SELECT ``query`` (AND) or ``query_or``
        (OR) runs: the counting tests check an indexed query holds no ``SCAN`` of a table."""
        sql, args = self._select_sql(model, params, joiner)
        rows = await self._fetch("explain a query", "EXPLAIN QUERY PLAN " + sql, args)
        return [str(row[-1]) for row in rows]

    async def query(self, model: type[M], params: Params = ()) -> list[M]:
        """Records matching every pair (set fields: contains); InvalidInput for unknown fields."""
        return await self._select(model, params, "AND")

    async def query_or(self, model: type[M], params: Params = ()) -> list[M]:
        """Records matching at least one pair; all records when ``params`` is empty."""
        return await self._select(model, params, "OR")

    async def delete(self, model: type[M], key: str) -> bool:
        """Remove the record; True if it existed."""
        rows = await self._write(
            "delete a record", f"DELETE FROM {model.TABLE} WHERE key = ? RETURNING key", (key,)
        )
        return bool(rows)

    async def increment(self, model: type[M], key: str, field: str, amount: int) -> int:
        """Atomically add ``amount`` to an integer field, bump the version, return the new value.

        One ``UPDATE … RETURNING`` statement, so concurrent increments (also from other
        processes) never lose updates. NotFound when missing, InvalidInput for a bad field.
        """
        check_increment(model, field, amount)
        path = f"$.{field}"
        rows = await self._write(
            "increment a counter",
            f"UPDATE {model.TABLE} SET "
            "doc = json_set(doc, ?, json_extract(doc, ?) + ?, '$.version', version + 1), "
            "version = version + 1 WHERE key = ? RETURNING json_extract(doc, ?)",
            (path, path, amount, key, path),
        )
        if not rows:
            raise NotFound(f"{model.__name__} {key} not found")
        return int(rows[0][0])

    async def acquire_lease(self, name: str, owner: str, ttl_seconds: float, now: float) -> bool:
        """Take ``name`` for ``owner`` until ``now + ttl_seconds`` if free, expired or ours.

        A single upsert whose update is guarded by ``expires_at <= now OR owner = ours``;
        a row comes back from ``RETURNING`` only when we inserted or updated it.
        """
        rows = await self._write(
            "take a lease",
            "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?) "
            "ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, "
            "expires_at = excluded.expires_at "
            "WHERE leases.expires_at <= ? OR leases.owner = excluded.owner "
            "RETURNING owner",
            (name, owner, now + ttl_seconds, now),
        )
        return bool(rows) and rows[0][0] == owner

    async def release_lease(self, name: str, owner: str) -> None:
        """Drop the lease if ``owner`` holds it; otherwise do nothing."""
        await self._write(
            "release a lease", "DELETE FROM leases WHERE name = ? AND owner = ?", (name, owner)
        )

    async def purge_expired_leases(self, now: float, limit: int = 10_000) -> int:
        """Delete up to ``limit`` leases with ``expires_at <= now``; how many were deleted.

        One ``DELETE`` statement (atomic, so a lease renewed by another connection or process
        is either still expired when it runs or kept); the outer condition repeats the expiry
        test so only rows expired at ``now`` can go whatever the subquery picked.
        """
        check_purge_limit(limit)
        rows = await self._write(
            "purge expired leases",
            "DELETE FROM leases WHERE expires_at <= ? AND rowid IN "
            "(SELECT rowid FROM leases WHERE expires_at <= ? LIMIT ?) RETURNING 1",
            (now, now, limit),
        )
        return len(rows)

    async def ping(self) -> None:
        """Return when the database answers; StorageUnavailable otherwise.

        Besides a query on the open connection (which keeps working on a file that was
        deleted, moved or replaced under it), checks that the file on disk is still a
        readable SQLite database, so ``/healthz`` notices a lost or broken database file.
        """
        await self._fetch("answer a ping", "SELECT 1")
        if self._fd is not None:
            await asyncio.to_thread(_check_file, self._path, self._fd)

    async def close(self) -> None:
        """Close the connection; safe to call twice."""
        with _guard("close the database"):
            if self._writer is not None:  # kept: a write after close is StorageUnavailable
                await self._writer.close()  # the writes already queued are applied first
            if self._reader is not None:
                reader, self._reader = self._reader, None
                reader.close()
            try:
                await self._conn.close()
            except ValueError:  # already closed
                pass
            if self._fd is not None:
                fd, self._fd = self._fd, None
                os.close(fd)
