"""``MongoAuditLog``: the audit log port (ports/audit.py) in a MongoDB collection ``audit``.

Written against the API PyMongo's ``AsyncMongoClient`` and motor share (so mongomock-motor
runs it in tests): ``insert_many``, ``find().sort().limit()``, ``delete_many``,
``create_index``; ``close`` is awaited when the client's ``close`` is a coroutine.

Document: ``{"_id": entry.id, "time", "actor", "action", "target", "changes", "users",
"teams"}`` (``AuditEntry.to_dict`` with ``id`` as ``_id``; ``changes`` as JSON text, so
any JSON value survives: integers beyond BSON's 64 bits, keys with ``.`` or ``$``). Indexes (all descending on
``(time, _id)`` after the key, so each serves "newest first" without a sort):
``(time, _id)``, ``(actor, time, _id)``, ``(users, time, _id)`` and
``(teams, time, _id)`` — the last two multikey, one index key per user / team.

Atomic per entry: each entry is one document, and MongoDB writes a document and all its
index keys atomically. Idempotent by id: the unique ``_id`` index refuses a second insert
of the same id (also between racing writers); ``insert_many(ordered=False)`` stores the
others and the duplicate-key errors (code 11000) are not failures, ``nInserted`` is the
count. Any other write error is ``StorageUnavailable`` (what was inserted stays; appending
again is safe).

Costs: one round trip per append call; a query is one ``find`` whose filter starts with an
indexed equality (actor, user, team) or the time range, sorted by the same index, so the
server walks that index from the upper bound and stops after ``limit`` matches (checked
with ``explain`` on a real server: IXSCAN, no COLLSCAN, no in-memory SORT); ``purge`` is
one ``find`` of up to ``limit`` ids on the time index plus one ``delete_many``.

Commit with the change: MongoDB has multi-document transactions only on replica sets, so
the entry is appended after the change, keyed by the change's idempotency key: a retried
change re-appends the same id and still leaves one entry. The window is a crash between
the change and its append (entry lost); closing it needs an outbox on the changed document
(same single-document write), which is the subscriber's job.
"""

from __future__ import annotations

import inspect
import json
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

from core.audit import AuditEntry, AuditQuery, Cursor, check_entries, check_purge
from core.errors import StorageUnavailable

log = logging.getLogger(__name__)

COLLECTION = "audit"
DUPLICATE_KEY = 11000
ORDER = [("time", -1), ("_id", -1)]
INDEXES: dict[str, list[tuple[str, int]]] = {
    "audit_by_time": ORDER,
    "audit_by_actor": [("actor", 1), *ORDER],
    "audit_by_user": [("users", 1), *ORDER],
    "audit_by_team": [("teams", 1), *ORDER],
}


@contextmanager
def _unavailable(action: str) -> Iterator[None]:
    try:
        yield
    except PyMongoError as exc:
        raise StorageUnavailable(f"MongoDB failed to {action}: {exc}") from exc


def _doc(entry: AuditEntry) -> dict[str, Any]:
    data = entry.to_dict()
    data["changes"] = json.dumps(data["changes"], ensure_ascii=False)
    return {"_id": data.pop("id"), **data}


def _entry(doc: dict[str, Any]) -> AuditEntry:
    data = dict(doc)
    data["id"] = data.pop("_id")
    data["changes"] = json.loads(data["changes"])
    return AuditEntry.from_dict(data)


def query_filter(q: AuditQuery) -> dict[str, Any]:
    """The ``find`` filter of a validated query (``$eq``, so no value acts as an operator)."""
    filter_: dict[str, Any] = {}
    for field, value in (("actor", q.actor), ("users", q.user), ("teams", q.team)):
        if value is not None:
            filter_[field] = {"$eq": value}
    time: dict[str, Any] = {}
    if q.since is not None:
        time["$gte"] = q.since
    upper = q.upper
    if upper is not None:
        time["$lte"] = upper[0]  # tight index bound; the $or below makes it exclusive
        filter_["$or"] = [{"time": {"$lt": upper[0]}},
                          {"time": {"$eq": upper[0]}, "_id": {"$lt": upper[1]}}]
    if time:
        filter_["time"] = time
    return filter_


class MongoAuditLog:
    """The AuditLog port on ``client[db_name].audit``; create with ``await MongoAuditLog.open``."""

    def __init__(self, client: Any, db_name: str, owns_client: bool = False) -> None:
        self._client = client
        self._coll = client[db_name][COLLECTION]
        self._owns = owns_client

    @classmethod
    async def open(cls, client: Any, db_name: str, *, owns_client: bool = False) -> MongoAuditLog:
        """The log on ``client[db_name]``, after creating its indexes.

        An index the backend cannot create (a mock's gap, no privilege, other options) is
        logged and skipped, as the store does. ``close`` closes the client only when
        ``owns_client``. Raises ``StorageUnavailable`` when the server cannot be reached.
        """
        audit = cls(client, db_name, owns_client)
        with _unavailable("create the audit indexes"):
            for name, keys in INDEXES.items():
                try:
                    await audit._coll.create_index(keys, name=name)
                except (NotImplementedError, OperationFailure) as exc:
                    log.warning("mongo: audit index %s not created: %s", name, exc)
        return audit

    @classmethod
    async def for_store(cls, store: Any) -> MongoAuditLog:
        """The log in a ``MongoStore``'s database, on its client (``close`` leaves it open)."""
        return await cls.open(store._client, store._db.name)

    async def append(self, entries: Iterable[AuditEntry]) -> int:
        """One unordered ``insert_many``; duplicates of stored ids are skipped; how many new."""
        docs = [_doc(e) for e in check_entries(entries)]
        if not docs:
            return 0
        with _unavailable("append audit entries"):
            try:
                result = await self._coll.insert_many(docs, ordered=False)
            except BulkWriteError as exc:
                details = exc.details or {}
                others = [e for e in details.get("writeErrors", []) if e.get("code") != DUPLICATE_KEY]
                if others or details.get("writeConcernErrors"):
                    raise StorageUnavailable(
                        f"MongoDB refused audit entries: {(others or details['writeConcernErrors'])[0]}"
                    ) from exc
                return int(details.get("nInserted", 0))
        return len(result.inserted_ids)

    def _find(self, q: AuditQuery) -> Any:
        return self._coll.find(query_filter(q)).sort(ORDER).limit(q.limit)

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
        """Newest first, filtered, paged: one indexed ``find`` (see the module docstring)."""
        q = AuditQuery.build(since=since, until=until, actor=actor, user=user, team=team,
                             limit=limit, before=before)
        if q.empty:
            return []
        with _unavailable("read audit entries"):
            return [_entry(doc) async for doc in self._find(q)]

    async def explain(self, **query: Any) -> dict[str, Any]:
        """The server's ``explain`` of the ``find`` that ``query(**query)`` sends (real servers)."""
        with _unavailable("explain an audit query"):
            return await self._find(AuditQuery.build(**query)).explain()

    async def purge(self, older_than: str | datetime, limit: int = 10_000) -> int:
        """Delete up to ``limit`` entries older than ``older_than``, oldest first; how many."""
        cutoff, limit = check_purge(older_than, limit)
        with _unavailable("purge audit entries"):
            cursor = self._coll.find({"time": {"$lt": cutoff}}, projection={"_id": 1})
            ids = [doc["_id"] async for doc in cursor.sort([("time", 1), ("_id", 1)]).limit(limit)]
            if not ids:
                return 0
            result = await self._coll.delete_many({"_id": {"$in": ids}, "time": {"$lt": cutoff}})
        return int(result.deleted_count)

    async def close(self) -> None:
        """Close the client when this log owns it; safe to call twice."""
        if self._owns:
            self._owns = False
            with _unavailable("close the client"):
                result = self._client.close()
                if inspect.isawaitable(result):
                    await result
