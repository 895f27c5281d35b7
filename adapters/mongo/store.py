"""``MongoStore``: the storage port (ports/storage.py) on MongoDB.

Written only against the API shared by PyMongo's ``AsyncMongoClient`` (production) and
motor's ``AsyncIOMotorClient`` (and ``mongomock_motor``, which mimics motor, in tests). The
contract suite runs it both ways: on mongomock-motor, and through ``AsyncMongoClient`` over
the wire (tests/support/mongo_wire.py). Where the two differ, this file follows the driver:

- ``AsyncMongoClient.close()`` is a coroutine (motor's is a plain method): ``close`` awaits it.
- Values go through BSON only on the wire: an int outside int64, a string with a lone
  surrogate, a document over 16 MB cannot be encoded, and the driver raises ``OverflowError``,
  ``UnicodeEncodeError`` or ``DocumentTooLarge`` (none a ``PyMongoError``) before sending.
  A write of such a record raises ``InvalidInput``; a read for such a value finds nothing, as
  nothing stored can hold it (mongomock-motor answers those reads the same way).
- ``$inc`` past the int64 range is a server error on MongoDB (mongomock-motor makes a Python
  int): ``increment`` raises ``InvalidInput`` and the counter keeps its value.
- With the server down, the driver waits ``serverSelectionTimeoutMS`` (30 s) per operation;
  ``ping`` bounds its wait to ``PING_TIMEOUT`` so a health check answers in time.

Layout: one collection per model (``users``, ``teams``, ``projects``) plus ``leases``.
A record is stored as ``{"_id": <key>, **core.models.to_dict(record)}``: sets become
arrays, so Mongo's equality match on an array field means "contains", which is exactly
the port's query rule for set-valued fields. Every write is a single-document atomic
operation guarded by the ``version`` field (compare-and-set).
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from enum import Enum
from typing import Any

import bson
import pymongo
from bson.errors import InvalidDocument
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure, PyMongoError

from adapters.storage_common import check_increment, check_params, check_purge_limit, unique_keys
from core.errors import Conflict, InvalidInput, NotFound, StorageUnavailable
from core.models import FOLDED_FIELDS, MODELS, M, Model, fold, from_dict, key_of, to_dict
from core.records import replace as replace_record
from ports.storage import Params

log = logging.getLogger(__name__)

DEFAULT_DB = "rocket"
LEASES = "leases"
BULK_CHUNK = 500  # keys per ``$in`` round trip in bulk_retrieve
PING_TIMEOUT = 3.0  # seconds ``ping`` waits for the server (health checks)
INT64 = range(-(2**63), 2**63)
BAD_INPUT_CODE = 2  # MongoDB's BadValue, e.g. "Failed to apply $inc operations" on overflow
# What BSON encoding raises for a value it cannot represent (DocumentTooLarge is an
# InvalidDocument): raised by the driver before anything is sent.
UNENCODABLE = (OverflowError, UnicodeEncodeError, InvalidDocument)

# Every INDEXED_FIELDS field has an index; a FOLDED_FIELDS field is indexed (and queried)
# through its folded shadow ``_fold_<field>``, written beside it by ``store``.
FOLD_PREFIX = "_fold_"
INDEXES: dict[str, tuple[str, ...]] = {
    "users": ("_fold_github", "github_user_id", "email", "permission_level"),
    "teams": ("_fold_github_team_name", "members", "team_leads"),
    "projects": ("github_team_id", "github_urls"),
}


def _with_folds(model: type[Model], doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` plus the folded shadow of each FOLDED_FIELDS field."""
    for name in FOLDED_FIELDS[model]:
        doc[FOLD_PREFIX + name] = fold(doc[name])
    return doc


@contextmanager
def _unavailable() -> Iterator[None]:
    """Turn any driver error escaping the block into ``StorageUnavailable``."""
    try:
        yield
    except PyMongoError as exc:
        raise StorageUnavailable() from exc


@contextmanager
def _encodable(what: str) -> Iterator[None]:
    """Turn a BSON encoding failure in the block into ``InvalidInput`` (nothing was sent)."""
    try:
        yield
    except UNENCODABLE as exc:
        raise InvalidInput(f"{what} cannot be stored in MongoDB: {exc}") from exc


def _bson_ok(value: Any) -> bool:
    """True when ``value`` can be sent as BSON (an int64, a string without lone surrogates...)."""
    try:
        bson.encode({"v": value})
    except UNENCODABLE:
        return False
    return True


def _doc_to_model(model: type[M], doc: dict[str, Any]) -> M:
    data = {k: v for k, v in doc.items() if not k.startswith(FOLD_PREFIX)}
    data.pop("_id", None)
    return from_dict(model, data)


def _query_value(model: type, field: str, value: Any) -> Any:
    """Normalise a query value the way ``core.models.matches`` compares it."""
    default = next(f.default for f in dataclasses.fields(model) if f.name == field)
    if isinstance(default, Enum):  # stored as its string value; matches() compares str()
        return str(value)
    if isinstance(value, Enum):
        return value.value
    return value


def _clauses(model: type[Model], params: list[tuple[str, Any]]) -> list[dict[str, Any] | None]:
    """One filter per ``(field, value)``; ``$eq`` keeps a dict value from acting as operators.

    On an array field ``{field: {"$eq": v}}`` matches when the array contains ``v``. A value
    BSON cannot encode gives ``None``: a clause no stored record can match.
    """
    out: list[dict[str, Any] | None] = []
    for field, value in params:
        name = "_id" if field == model.KEY else field
        value = _query_value(model, field, value)
        if field in FOLDED_FIELDS[model] and isinstance(value, str):
            name, value = FOLD_PREFIX + field, fold(value)
        out.append({name: {"$eq": value}} if _bson_ok(value) else None)
    return out


class MongoStore:
    """The ``Store`` port on one MongoDB database; see ports/storage.py for each guarantee.

    Any ``pymongo.errors.PyMongoError`` a method meets is raised as ``StorageUnavailable``.
    """

    def __init__(self, client: Any, db_name: str) -> None:
        """Wrap ``client`` (AsyncMongoClient or a motor-compatible client); prefer ``open``."""
        self._client = client
        self._db = client[db_name]

    @classmethod
    async def open(cls, client: Any, db_name: str) -> MongoStore:
        """A store on ``client[db_name]``, after creating the indexes queries rely on.

        An index the backend cannot create (an unsupported feature in a mock, an existing
        index with other options, no createIndex privilege) is logged and skipped.
        Raises ``StorageUnavailable`` when the server cannot be reached.
        """
        store = cls(client, db_name)
        with _unavailable():
            for table, fields in INDEXES.items():
                for field in fields:
                    try:
                        await store._db[table].create_index(field)
                    except (NotImplementedError, OperationFailure) as exc:
                        log.warning("mongo: index %s.%s not created: %s", table, field, exc)
            filled = await store.backfill_folds()
        if filled:
            log.info("mongo: folded lookup keys added to %d documents written before they existed", filled)
        return store

    async def backfill_folds(self) -> int:
        """Give every document without a folded shadow (``_fold_<field>``, written before folded
        lookups existed) its shadow, so ``query`` by ``github`` / ``github_team_name`` finds it;
        the number of documents updated. Run by ``open`` at every start: when nothing is
        missing it is one indexed ``find`` per folded field. Each update is conditioned on the
        field still holding the value that was folded (a concurrent ``store`` writes its own)."""
        filled = 0
        for model in MODELS:
            coll = self._coll(model)
            for name in FOLDED_FIELDS[model]:
                shadow = FOLD_PREFIX + name
                async for doc in coll.find({shadow: {"$exists": False}}, {name: 1}):
                    value = doc.get(name)  # None when absent: {"$eq": None} matches null or absent
                    folded = fold(value) if isinstance(value, str) else ""
                    result = await coll.update_one(
                        {"_id": doc["_id"], shadow: {"$exists": False}, name: {"$eq": value}},
                        {"$set": {shadow: folded}})
                    filled += result.modified_count
        return filled

    @classmethod
    async def from_url(cls, url: str, **client_options: Any) -> MongoStore:
        """A store from a ``mongodb://`` or ``mongodb+srv://`` URL.

        The database is the URL's path (``mongodb://host/mydb``), else ``rocket``. The name
        comes from the client's own parse of the URL (``get_default_database``), not from
        ``pymongo.uri_parser.parse_uri``, which resolves ``+srv`` hosts with a blocking DNS
        query. The client is closed again if opening fails.
        """
        from pymongo import AsyncMongoClient

        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(url, **client_options)
        try:
            db_name = client.get_default_database(DEFAULT_DB).name
            return await cls.open(client, db_name)
        except BaseException:
            await client.close()
            raise

    def _coll(self, model: type[Model]) -> Any:
        if model not in MODELS:
            raise TypeError(f"not a storable model: {model!r}")
        return self._db[model.TABLE]

    async def _find(self, model: type[M], filter_: dict[str, Any]) -> list[M]:
        with _unavailable():
            return [_doc_to_model(model, doc) async for doc in self._coll(model).find(filter_)]

    async def store(self, obj: M) -> M:
        """Create (``version == 0``) or compare-and-set (``version == n``); see the port.

        Raises ``Conflict``, writing nothing, when the key exists (create) or the stored
        record is not at version ``n`` or is gone (update).
        """
        model = type(obj)
        key = key_of(obj)
        stored = replace_record(obj, version=obj.version + 1)
        doc = _with_folds(model, {"_id": key, **to_dict(stored)})
        coll = self._coll(model)
        with _unavailable(), _encodable(f"{model.__name__} {key}"):
            if obj.version == 0:
                try:
                    await coll.insert_one(doc)
                except DuplicateKeyError as exc:
                    raise Conflict(f"{model.__name__} {key} already exists") from exc
            else:
                result = await coll.replace_one({"_id": key, "version": obj.version}, doc)
                if result.matched_count == 0:
                    raise Conflict(f"{model.__name__} {key} was changed by someone else")
        return stored

    async def retrieve(self, model: type[M], key: str) -> M:
        """The record with that key; raises ``NotFound`` when there is none."""
        if not _bson_ok(key):
            raise NotFound(f"{model.__name__} {key!r} not found")
        with _unavailable():
            doc = await self._coll(model).find_one({"_id": key})
        if doc is None:
            raise NotFound(f"{model.__name__} {key} not found")
        return _doc_to_model(model, doc)

    async def bulk_retrieve(self, model: type[M], keys: Iterable[str]) -> list[M]:
        """Records for ``keys`` in their order, missing skipped, duplicates once.

        One ``$in`` round trip per ``BULK_CHUNK`` distinct keys.
        """
        wanted = [k for k in unique_keys(keys) if _bson_ok(k)]
        found: dict[str, M] = {}
        for start in range(0, len(wanted), BULK_CHUNK):
            chunk = wanted[start : start + BULK_CHUNK]
            for record in await self._find(model, {"_id": {"$in": chunk}}):
                found[key_of(record)] = record
        return [found[k] for k in wanted if k in found]

    async def query(self, model: type[M], params: Params = ()) -> list[M]:
        """Records matching every pair (AND); set fields match on "contains"; all if empty.

        Raises ``InvalidInput`` for a field the model does not have.
        """
        clauses = _clauses(model, check_params(model, params))
        if None in clauses:
            return []
        return await self._find(model, {"$and": clauses} if clauses else {})

    async def query_or(self, model: type[M], params: Params = ()) -> list[M]:
        """Records matching at least one pair; all records when empty."""
        clauses = _clauses(model, check_params(model, params))
        matchable = [c for c in clauses if c is not None]
        if clauses and not matchable:
            return []
        return await self._find(model, {"$or": matchable} if matchable else {})

    async def delete(self, model: type[M], key: str) -> bool:
        """Remove the record; True if it existed."""
        if not _bson_ok(key):
            return False
        with _unavailable():
            result = await self._coll(model).delete_one({"_id": key})
        return result.deleted_count > 0

    async def increment(self, model: type[M], key: str, field: str, amount: int) -> int:
        """Atomically add ``amount`` to a counter and bump ``version``; the new value.

        Raises ``NotFound`` for a missing record, ``InvalidInput`` for a non-counter field, a
        non-integer amount, or an amount or result outside int64 (MongoDB refuses the ``$inc``
        and the counter keeps its value).
        """
        check_increment(model, field, amount)
        if amount not in INT64:
            raise InvalidInput(f"increment amount {amount} is outside the 64-bit range")
        if not _bson_ok(key):
            raise NotFound(f"{model.__name__} {key!r} not found")
        with _unavailable():
            try:
                doc = await self._coll(model).find_one_and_update(
                    {"_id": key},
                    {"$inc": {field: amount, "version": 1}},
                    projection={field: 1},
                    return_document=ReturnDocument.AFTER,
                )
            except OperationFailure as exc:
                if exc.code != BAD_INPUT_CODE:
                    raise
                raise InvalidInput(f"{model.__name__}.{field} would leave the 64-bit range") from exc
        if doc is None:
            raise NotFound(f"{model.__name__} {key} not found")
        return int(doc[field])

    async def acquire_lease(self, name: str, owner: str, ttl_seconds: float, now: float) -> bool:
        """Take or renew lease ``name`` until ``now + ttl_seconds``; False if held by another.

        One upsert matching "expired or mine": if another owner holds a live lease the
        filter misses, the upsert collides on ``_id`` and the lease is refused. A name or owner
        BSON cannot encode raises ``InvalidInput``.
        """
        with _unavailable(), _encodable(f"lease {name!r}"):
            try:
                await self._db[LEASES].update_one(
                    {"_id": name, "$or": [{"expires_at": {"$lte": now}}, {"owner": owner}]},
                    {"$set": {"owner": owner, "expires_at": now + ttl_seconds}},
                    upsert=True,
                )
            except DuplicateKeyError:
                return False
        return True

    async def release_lease(self, name: str, owner: str) -> None:
        """Drop the lease if ``owner`` holds it; otherwise do nothing."""
        if not (_bson_ok(name) and _bson_ok(owner)):
            return  # no lease can have that name or owner
        with _unavailable():
            await self._db[LEASES].delete_one({"_id": name, "owner": owner})

    async def purge_expired_leases(self, now: float, limit: int = 10_000) -> int:
        """Delete up to ``limit`` leases with ``expires_at <= now``; how many were deleted.

        Two round trips: the ids of up to ``limit`` expired leases, then one ``delete_many``
        on those ids that repeats the expiry filter, so a lease renewed in between is kept
        (each document's deletion is atomic with its filter).
        """
        check_purge_limit(limit)
        ids = await self._expired_lease_ids(now, limit)
        if not ids:
            return 0
        with _unavailable():
            result = await self._db[LEASES].delete_many(
                {"_id": {"$in": ids}, "expires_at": {"$lte": now}}
            )
        return result.deleted_count

    async def _expired_lease_ids(self, now: float, limit: int) -> list[str]:
        """Names of up to ``limit`` leases expired at ``now``."""
        with _unavailable():
            cursor = self._db[LEASES].find({"expires_at": {"$lte": now}}, projection={"_id": 1})
            return [doc["_id"] async for doc in cursor.limit(limit)]

    async def ping(self) -> None:
        """Return when the server answers ``ping``; raise ``StorageUnavailable`` otherwise.

        Waits at most ``PING_TIMEOUT`` seconds (PyMongo's client-side timeout), not the
        driver's 30 s server selection. Falls back to a one-document read where the client
        cannot run commands (mocks).
        """
        with _unavailable(), pymongo.timeout(PING_TIMEOUT):
            try:
                await self._db.command("ping")
            except NotImplementedError:
                await self._db[LEASES].find_one({}, projection={"_id": 1})

    async def close(self) -> None:
        """Close the client (sync for motor and mocks, a coroutine for AsyncMongoClient)."""
        with _unavailable():
            result = self._client.close()
            if inspect.isawaitable(result):
                await result
