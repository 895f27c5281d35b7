"""``DynamoStore``: the storage port (ports/storage.py) on DynamoDB, through aioboto3.

Item format: every field of ``core.models.to_dict``; strings as ``S``, integers as ``N``,
booleans as ``BOOL``, set-valued fields as ``SS``. DynamoDB forbids empty sets, so an empty set is stored by
omitting the attribute and a missing set attribute reads back as empty.

Guarantees come from DynamoDB itself: creates and compare-and-set updates are conditional
``PutItem`` calls, ``increment`` is one conditional ``UpdateItem`` (``ADD``) that also bumps
``version``, leases are conditional writes on a ``leases`` table keyed by ``name``. Reads
are strongly consistent. Conditional failures become ``Conflict`` / ``NotFound`` / False;
every other botocore error becomes ``StorageUnavailable``.

Secondary lookups (``core.models.INDEXED_FIELDS``: GitHub id, folded login, email, folded
team slug, team members and leads, a project's team and repositories) go through *index
items* in one more table (``index``; by default ``<users table>_index``), not GSIs and never
Scan: ``pk = "<table>#<field>#<value>"`` (folded values for ``FOLDED_FIELDS``), ``sk`` = the
record's key, ``ver`` = the record version that wrote it. Why not GSIs: a GSI cannot index
the elements of a set (``members``), rejects empty strings as keys, and is only eventually
consistent (``team create X`` then ``team view X`` could miss); a consistent ``Query`` of the
index table followed by ``BatchGetItem`` of the keys (which a GSI could not serve) is exact.
The index is kept a *superset* of the truth: ``store`` puts the new record's entries
(BatchWriteItem) before its conditional put, so a crash or a lost race leaves extra entries,
never missing ones; a query re-checks every record it fetched against the pairs, and drops an
entry its record no longer matches with a delete conditional on ``ver <= the version read``
(so an entry a concurrent writer has just re-put survives). ``delete`` removes the entries.

Bulk creation (``create_many``, the ``ports.storage.BulkCreate`` capability ``rocket db import``
uses for records it found absent): the index items, then the records, by BatchWriteItem of 25
items, ``BULK_PARALLEL`` requests in flight, UnprocessedItems retried with backoff. The items
are those ``store`` writes at version 1, but BatchWriteItem takes no condition, so a record
created meanwhile by someone else is overwritten (the import runs on a quiet directory).

Retries. Reads (GetItem, BatchGetItem, Scan, DescribeTable) and table setup go through a
client with botocore's standard retry mode: resending them is harmless. Writes (PutItem,
UpdateItem, DeleteItem) go through a second client that never retries by itself
(``total_max_attempts=1``; note botocore's ``max_attempts`` counts *retries*, so
``max_attempts=1`` would still send a write twice). Resending a write whose first attempt
may have reached DynamoDB is wrong: ``increment`` is ``UpdateItem ADD``, so a lost answer
followed by a resend adds the amount twice, and a resent conditional ``PutItem`` that had
in fact succeeded fails its own condition and reports a false ``Conflict``. The port
(ports/storage.py) promises instead that each write is one atomic operation whose outcome
is unknown after ``StorageUnavailable``.

``_write`` therefore resends a write itself (``WRITE_ATTEMPTS`` in all, short backoff) only
when the error proves DynamoDB did not apply it:

- a ``ClientError`` whose code is in ``NOT_APPLIED_CODES`` (throttling, request limit,
  transaction conflict): DynamoDB rejected the request before applying it;
- ``ConnectTimeoutError``, or ``EndpointConnectionError`` caused by aiohttp's
  ``ClientConnectorError``: the connection was never made, so nothing was sent.
  aiobotocore also raises ``EndpointConnectionError`` for any other aiohttp
  ``ClientConnectionError`` (e.g. a reset while the answer was awaited), so the cause
  is checked, not just the class.

Anything else (``ReadTimeoutError``, ``ConnectionClosedError``, a 5xx such as
``InternalServerError``, ...) may come after DynamoDB applied the write: it becomes
``StorageUnavailable`` saying the outcome is unknown, and is not resent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AsyncExitStack, contextmanager
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import aioboto3
import aiohttp
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from adapters.dynamo.settings import DEFAULT_TABLES, DynamoSettings
from adapters.storage_common import (
    check_increment,
    check_params,
    check_purge_limit,
    index_entries,
    index_plan,
    index_value,
    is_set_field,
    match_all,
    match_any,
    unique_keys,
)
from core.errors import Conflict, InvalidInput, NotFound, StorageUnavailable
from core.models import FOLDED_FIELDS, MODELS, SET_FIELDS, M, Model, from_dict, key_of, to_dict
from core.records import replace as replace_record

LEASES = "leases"
INDEX = "index"
KEYS: dict[str, str] = {**{getattr(m, "TABLE"): getattr(m, "KEY") for m in MODELS}, LEASES: "name"}  # noqa: B009
WRITE_BATCH = 25  # BatchWriteItem's limit
BATCH_SIZE = 100  # BatchGetItem's limit
BATCH_ATTEMPTS = 8  # bounded retries of UnprocessedKeys
BULK_PARALLEL = 8  # BatchWriteItem requests in flight at once in create_many (rocket db import)
PURGE_CONCURRENCY = 25  # conditional deletes in flight at once in purge_expired_leases
CLIENT_CONFIG = Config(
    max_pool_connections=50,
    connect_timeout=5,
    read_timeout=20,
    retries={"mode": "standard", "max_attempts": 3},
)
# Writes: one attempt per call (botocore's ``max_attempts`` counts retries, not attempts).
WRITE_CLIENT_CONFIG = CLIENT_CONFIG.merge(
    Config(retries={"mode": "standard", "total_max_attempts": 1})
)
WRITE_ATTEMPTS = 3  # attempts of a write whose earlier attempts were provably not applied
WRITE_BACKOFF = 0.05  # seconds before the first resend; doubles each time
NOT_APPLIED_CODES = frozenset({
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "TransactionConflictException",
})


class _ConditionFailed(Exception):
    """A ConditionExpression did not hold; nothing was written."""


@contextmanager
def _translate_errors(action: str) -> Iterator[None]:
    """Conditional failures → ``_ConditionFailed``; other botocore errors → unavailable."""
    try:
        yield
    except ClientError as exc:
        code = _error_code(exc)
        if code == "ConditionalCheckFailedException":
            raise _ConditionFailed from exc
        raise StorageUnavailable(f"DynamoDB {action} failed ({code or exc})") from exc
    except BotoCoreError as exc:
        raise StorageUnavailable(f"DynamoDB {action} failed: {exc}") from exc


def _error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def _not_applied(exc: BotoCoreError | ClientError) -> bool:
    """True only when the error proves DynamoDB did not apply the write."""
    if isinstance(exc, ClientError):
        return _error_code(exc) in NOT_APPLIED_CODES
    if isinstance(exc, ConnectTimeoutError):
        return True
    if isinstance(exc, EndpointConnectionError):
        return isinstance(exc.kwargs.get("error"), aiohttp.ClientConnectorError)
    return False


def _number(value: float) -> str:
    """A DynamoDB ``N`` string, never in exponent notation."""
    if isinstance(value, int):
        return str(value)
    return format(Decimal(repr(float(value))), "f")


def _encode(obj: Any) -> dict[str, dict[str, Any]]:
    """A record as a DynamoDB item; empty sets are left out."""
    sets = SET_FIELDS[type(obj)]
    item: dict[str, dict[str, Any]] = {}
    for name, value in to_dict(obj).items():
        if name in sets:
            if value:
                item[name] = {"SS": value}
        elif isinstance(value, bool):
            item[name] = {"BOOL": value}
        elif isinstance(value, int):
            item[name] = {"N": str(value)}
        else:
            item[name] = {"S": value}
    return item


def _decode(model: type[M], item: Mapping[str, Mapping[str, Any]]) -> M:
    """A DynamoDB item as a record; missing attributes take the model's defaults."""
    data: dict[str, Any] = {}
    for name, typed in item.items():
        if "S" in typed:
            data[name] = typed["S"]
        elif "N" in typed:
            data[name] = int(Decimal(typed["N"]))
        elif "SS" in typed:
            data[name] = typed["SS"]
        elif "BOOL" in typed:
            data[name] = bool(typed["BOOL"])
    return from_dict(model, data)


def _query_value(value: Any) -> dict[str, Any]:
    """A query value as a typed attribute value (NULL, never stored, matches nothing)."""
    if isinstance(value, str):
        return {"S": str(value)}
    if isinstance(value, int | float) and not isinstance(value, bool):
        return {"N": _number(value)}
    return {"NULL": True}


def _filter(model: type, params: list[tuple[str, Any]], joiner: str) -> dict[str, Any]:
    """Scan kwargs for params joined by AND / OR; set fields match by ``contains``."""
    if not params:
        return {}
    names: dict[str, str] = {}
    values: dict[str, dict[str, Any]] = {}
    terms: list[str] = []
    for i, (name, value) in enumerate(params):
        placeholder = next((p for p, n in names.items() if n == name), f"#f{i}")
        names[placeholder] = name
        values[f":v{i}"] = _query_value(value)
        if is_set_field(model, name):
            terms.append(f"contains({placeholder}, :v{i})")
        else:
            terms.append(f"{placeholder} = :v{i}")
    return {
        "FilterExpression": f" {joiner} ".join(f"({t})" for t in terms),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }


class DynamoStore:
    """The Store port on DynamoDB; two aioboto3 clients (reads, writes) for the store's life."""

    def __init__(
        self, stack: AsyncExitStack, client: Any, writer: Any, tables: Mapping[str, str]
    ) -> None:
        self._stack = stack
        self._client = client  # reads and table setup; botocore retries them
        self._writer = writer  # PutItem / UpdateItem / DeleteItem; never retried by botocore
        self._tables = dict(tables)
        self._tables.setdefault(INDEX, f"{self._tables['users']}_index")

    @classmethod
    async def open(
        cls,
        *,
        endpoint_url: str | None,
        region: str,
        access_key: str | None,
        secret_key: str | None,
        tables: dict[str, str],
    ) -> DynamoStore:
        """Connect, create missing tables (on-demand billing) and wait until they exist.

        ``tables`` maps the logical names users, teams, projects, leases to real table
        names. Raises ``StorageUnavailable`` when DynamoDB does not answer.
        """
        missing = set(KEYS) - set(tables)
        if missing:
            raise InvalidInput(f"DynamoDB table names missing for: {', '.join(sorted(missing))}")
        session = aioboto3.Session(
            aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name=region
        )
        stack = AsyncExitStack()
        try:
            client = await stack.enter_async_context(
                session.client("dynamodb", endpoint_url=endpoint_url, config=CLIENT_CONFIG)
            )
            writer = await stack.enter_async_context(
                session.client("dynamodb", endpoint_url=endpoint_url, config=WRITE_CLIENT_CONFIG)
            )
            store = cls(stack, client, writer, tables)
            results = await asyncio.gather(
                *(store._ensure_table(name) for name in (*KEYS, INDEX)), return_exceptions=True
            )
            for result in results:
                if isinstance(result, BaseException):
                    raise result
        except BaseException:
            await stack.aclose()
            raise
        return store

    @classmethod
    async def from_settings(cls, url: str, settings: DynamoSettings) -> DynamoStore:
        """Open the store a ``DATABASE_URL`` of this backend names.

        - ``dynamodb://``: AWS (``settings.region``, ``access_key``/``secret_key``, else boto's
          credential chain); ``settings.local`` (``AWS_LOCAL=True``) means DynamoDB Local at
          http://localhost:8000.
        - ``dynamodb://HOST:PORT``: the endpoint http://HOST:PORT.
        Tables: ``settings.tables`` (users, teams, projects, leases -> table names).
        """
        parts = urlsplit(url)
        if parts.scheme != "dynamodb":
            raise InvalidInput("not a DynamoDB URL")
        host = parts.netloc.rpartition("@")[2]
        if host:
            endpoint: str | None = f"http://{host}"
        elif settings.local:
            endpoint = "http://localhost:8000"
        else:
            endpoint = None
        secret = settings.secret_key.get_secret_value() if settings.secret_key is not None else None
        return await cls.open(
            endpoint_url=endpoint,
            region=settings.region or "us-east-1",
            access_key=settings.access_key or None,
            secret_key=secret or None,
            tables={n: settings.tables.get(n) or d for n, d in DEFAULT_TABLES.items()},
        )

    async def _ensure_table(self, logical: str) -> None:
        """Create the table when missing (tolerating a concurrent create), then wait for it."""
        table = self._tables[logical]
        with _translate_errors(f"setup of table {table}"):
            try:
                await self._client.describe_table(TableName=table)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
                if logical == INDEX:
                    schema: dict[str, Any] = {
                        "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                                 {"AttributeName": "sk", "AttributeType": "S"}],
                        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"},
                                      {"AttributeName": "sk", "KeyType": "RANGE"}],
                    }
                else:
                    schema = {
                        "AttributeDefinitions": [{"AttributeName": KEYS[logical], "AttributeType": "S"}],
                        "KeySchema": [{"AttributeName": KEYS[logical], "KeyType": "HASH"}],
                    }
                try:
                    await self._client.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                                                    **schema)
                except ClientError as create_exc:
                    code = create_exc.response.get("Error", {}).get("Code")
                    if code != "ResourceInUseException":
                        raise
            waiter = self._client.get_waiter("table_exists")
            await waiter.wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 120})

    async def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One read (botocore retries it); raises ``_ConditionFailed`` or ``StorageUnavailable``."""
        with _translate_errors(operation):
            return await getattr(self._client, operation)(**kwargs)

    async def _write(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        """One write; resent only while the error proves it was not applied (module docstring).

        Raises ``_ConditionFailed`` (nothing written) or ``StorageUnavailable``.
        """
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                return await getattr(self._writer, operation)(**kwargs)
            except ClientError as exc:
                code = _error_code(exc)
                if code == "ConditionalCheckFailedException":
                    raise _ConditionFailed from exc
                failure: BotoCoreError | ClientError = exc
                what = code or str(exc)
            except BotoCoreError as exc:
                failure = exc
                what = f"{type(exc).__name__}: {exc}"
            if not _not_applied(failure):
                raise StorageUnavailable(
                    f"DynamoDB {operation} failed ({what}); its outcome is unknown: it may or may "
                    "not have been applied, so it was not resent"
                ) from failure
            if attempt == WRITE_ATTEMPTS:
                raise StorageUnavailable(
                    f"DynamoDB {operation} was not applied ({what}) after {attempt} attempts; "
                    "try again later"
                ) from failure
            await asyncio.sleep(WRITE_BACKOFF * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def _table(self, model: type[Model]) -> str:
        return self._tables[model.TABLE]

    async def store(self, obj: M) -> M:
        """Create (version 0) or compare-and-set (version n); ``Conflict`` otherwise."""
        model = type(obj)
        key = key_of(obj)
        if not key:
            raise InvalidInput(f"{model.__name__} needs a non-empty {model.KEY}")
        stored = replace_record(obj, version=obj.version + 1)
        if obj.version == 0:
            condition: dict[str, Any] = {
                "ConditionExpression": "attribute_not_exists(#k)",
                "ExpressionAttributeNames": {"#k": model.KEY},
            }
        else:
            condition = {
                "ConditionExpression": "#v = :n",
                "ExpressionAttributeNames": {"#v": "version"},
                "ExpressionAttributeValues": {":n": {"N": str(obj.version)}},
            }
        await self._put_entries(model, key, index_entries(stored), stored.version)
        try:
            await self._write("put_item", TableName=self._table(model), Item=_encode(stored),
                              **condition)
        except _ConditionFailed:
            what = "already exists" if obj.version == 0 else "was changed or deleted"
            raise Conflict(f"{model.__name__} {key} {what}; nothing was written") from None
        return stored

    async def retrieve(self, model: type[M], key: str) -> M:
        """The record with that key (consistent read); ``NotFound`` when there is none."""
        if key:
            resp = await self._call("get_item", TableName=self._table(model),
                                    Key={model.KEY: {"S": key}}, ConsistentRead=True)
            if "Item" in resp:
                return _decode(model, resp["Item"])
        raise NotFound(f"{model.__name__} {key} not found")

    async def bulk_retrieve(self, model: type[M], keys: Iterable[str]) -> list[M]:
        """Records in the order of ``keys``, once each, missing skipped; batches of 100."""
        wanted = [k for k in unique_keys(keys) if k]
        chunks = [wanted[i:i + BATCH_SIZE] for i in range(0, len(wanted), BATCH_SIZE)]
        batches = await asyncio.gather(*(self._batch_get(model, chunk) for chunk in chunks))
        found = {key_of(obj): obj for batch in batches for obj in batch}
        return [found[k] for k in wanted if k in found]

    async def _batch_get(self, model: type[M], keys: list[str]) -> list[M]:
        """One BatchGetItem, retrying UnprocessedKeys a bounded number of times."""
        table = self._table(model)
        request: dict[str, Any] = {
            table: {"Keys": [{model.KEY: {"S": k}} for k in keys], "ConsistentRead": True}
        }
        found: list[M] = []
        for attempt in range(BATCH_ATTEMPTS):
            resp = await self._call("batch_get_item", RequestItems=request)
            found.extend(_decode(model, item) for item in resp.get("Responses", {}).get(table, []))
            request = resp.get("UnprocessedKeys") or {}
            if not request:
                return found
            await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
        raise StorageUnavailable("DynamoDB kept keys unprocessed; try again later")

    @staticmethod
    def _pk(model: type[Model], name: str, value: str) -> str:
        return f"{model.TABLE}#{name}#{value}"

    async def _batch_write(self, requests: list[dict[str, Any]], table: str | None = None,
                           parallel: int = 1) -> None:
        """BatchWriteItem of ``requests`` to ``table`` (default: the index table) in chunks of 25,
        at most ``parallel`` requests in flight, each retrying its UnprocessedItems with backoff
        a bounded number of times (``BATCH_ATTEMPTS``)."""
        name = table or self._tables[INDEX]
        chunks = [requests[i:i + WRITE_BATCH] for i in range(0, len(requests), WRITE_BATCH)]
        if parallel <= 1 or len(chunks) <= 1:
            for chunk in chunks:
                await self._batch_write_chunk(name, chunk)
            return
        gate = asyncio.Semaphore(parallel)

        async def one(chunk: list[dict[str, Any]]) -> None:
            async with gate:
                await self._batch_write_chunk(name, chunk)

        results = await asyncio.gather(*(one(c) for c in chunks), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _batch_write_chunk(self, table: str, chunk: list[dict[str, Any]]) -> None:
        pending: dict[str, Any] = {table: chunk}
        for attempt in range(BATCH_ATTEMPTS):
            resp = await self._write("batch_write_item", RequestItems=pending)
            pending = resp.get("UnprocessedItems") or {}
            if not pending:
                return
            await asyncio.sleep(min(0.05 * 2**attempt, 1.0))
        raise StorageUnavailable(f"DynamoDB kept writes to {table} unprocessed; try again later")

    async def create_many(self, objs: Sequence[M]) -> list[M]:
        """``ports.storage.BulkCreate``: the index items, then the records, by BatchWriteItem
        (25 items a request, ``BULK_PARALLEL`` requests in flight, UnprocessedItems retried with
        backoff). The index items go first, so an interruption leaves extra entries (which
        queries re-check and drop), never missing ones; the items are the ones ``store`` writes
        (version 1, entries with ``ver`` 1). Not conditional (BatchWriteItem takes no
        conditions): see the port."""
        if not objs:
            return []
        model = type(objs[0])
        keys = [key_of(o) for o in objs]
        if any(type(o) is not model for o in objs) or not all(keys) or len(set(keys)) != len(keys):
            raise InvalidInput("create_many takes records of one model with distinct, non-empty keys")
        if any(o.version != 0 for o in objs):
            raise InvalidInput("create_many creates: every record must have version 0")
        stored = [replace_record(o, version=1) for o in objs]
        entries = [
            {"PutRequest": {"Item": {"pk": {"S": self._pk(model, name, value)}, "sk": {"S": key_of(obj)},
                                     "ver": {"N": "1"}}}}
            for obj in stored for name, value in sorted(index_entries(obj))
        ]
        await self._batch_write(entries, parallel=BULK_PARALLEL)
        await self._batch_write([{"PutRequest": {"Item": _encode(obj)}} for obj in stored],
                                self._table(model), parallel=BULK_PARALLEL)
        return stored

    async def _put_entries(self, model: type[Model], key: str, entries: set[tuple[str, str]],
                           version: int) -> None:
        """Put the index entries of a record about to be written at ``version``."""
        await self._batch_write([
            {"PutRequest": {"Item": {"pk": {"S": self._pk(model, name, value)}, "sk": {"S": key},
                                     "ver": {"N": str(version)}}}}
            for name, value in sorted(entries)
        ])

    async def _index_keys(self, model: type[Model], name: str, value: Any) -> list[str]:
        """The keys an index entry lists for ``(name, value)``: a consistent, paginated Query."""
        folded = index_value(model, name, value)
        if not folded:
            return []
        kwargs: dict[str, Any] = {
            "TableName": self._tables[INDEX], "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": self._pk(model, name, folded)}},
            "ProjectionExpression": "sk",
        }
        keys: list[str] = []
        while True:
            resp = await self._call("query", **kwargs)
            keys.extend(item["sk"]["S"] for item in resp.get("Items", []))
            if not resp.get("LastEvaluatedKey"):
                return keys
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    async def _drop_stale(self, model: type[Model], name: str, value: str, key: str, version: int) -> None:
        """Delete an entry its record (read at ``version``) no longer matches, unless rewritten since."""
        try:
            await self._write(
                "delete_item", TableName=self._tables[INDEX],
                Key={"pk": {"S": self._pk(model, name, value)}, "sk": {"S": key}},
                ConditionExpression="#v <= :n", ExpressionAttributeNames={"#v": "ver"},
                ExpressionAttributeValues={":n": {"N": str(version)}},
            )
        except (_ConditionFailed, StorageUnavailable):
            pass  # rewritten meanwhile, or left for the next reader: the index stays a superset

    async def _indexed(self, model: type[M], checked: list[tuple[str, Any]], joiner: str) -> list[M] | None:
        """The query answered through index items, or None when it has to scan."""
        plan = index_plan(model, checked, joiner)
        if plan is None:
            return None
        key_lists = await asyncio.gather(*(self._index_keys(model, n, v) for n, v in plan))
        records = await self.bulk_retrieve(model, [k for keys in key_lists for k in keys])
        by_key = {key_of(r): r for r in records}
        stale = []
        for (name, value), keys in zip(plan, key_lists, strict=True):
            for k in keys:
                record = by_key.get(k)
                if record is not None and not match_any(record, [(name, value)]):
                    stale.append(self._drop_stale(model, name, index_value(model, name, value) or "",
                                                  k, record.version))
        if stale:
            await asyncio.gather(*stale)
        match = match_all if joiner == "AND" else match_any
        return sorted((r for r in records if match(r, checked)), key=key_of)

    async def query(self, model: type[M], params: Iterable[tuple[str, Any]] = ()) -> list[M]:
        """Records matching every pair (set fields: contains); all records when empty.

        Through the index items when a pair is on an indexed field (no Scan), else a Scan."""
        checked = check_params(model, params)
        found = await self._indexed(model, checked, "AND")
        if found is not None:
            return found
        if any(name in FOLDED_FIELDS[model] for name, _ in checked):  # no lower() in filters
            return [r for r in await self._scan(model, {}) if match_all(r, checked)]
        return await self._scan(model, _filter(model, checked, "AND"))

    async def query_or(self, model: type[M], params: Iterable[tuple[str, Any]] = ()) -> list[M]:
        """Records matching at least one pair; all records when empty (indexed when every
        pair is on an indexed field, else a Scan)."""
        checked = check_params(model, params)
        found = await self._indexed(model, checked, "OR")
        if found is not None:
            return found
        if any(name in FOLDED_FIELDS[model] for name, _ in checked):  # no lower() in filters
            return [r for r in await self._scan(model, {}) if match_any(r, checked)]
        return await self._scan(model, _filter(model, checked, "OR"))

    async def _scan(self, model: type[M], filter_kwargs: dict[str, Any]) -> list[M]:
        """A paginated, consistent Scan of the model's table."""
        kwargs: dict[str, Any] = {"TableName": self._table(model), "ConsistentRead": True,
                                  **filter_kwargs}
        records: list[M] = []
        while True:
            resp = await self._call("scan", **kwargs)
            records.extend(_decode(model, item) for item in resp.get("Items", []))
            if not resp.get("LastEvaluatedKey"):
                return records
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

    async def delete(self, model: type[M], key: str) -> bool:
        """Remove the record; True if it existed."""
        if not key:
            return False
        resp = await self._write("delete_item", TableName=self._table(model),
                                 Key={model.KEY: {"S": key}}, ReturnValues="ALL_OLD")
        old = resp.get("Attributes")
        if old:
            entries = sorted(index_entries(_decode(model, old)))
            try:  # left-over entries are harmless (queries re-check), so this is best effort
                await self._batch_write([
                    {"DeleteRequest": {"Key": {"pk": {"S": self._pk(model, n, v)}, "sk": {"S": key}}}}
                    for n, v in entries
                ])
            except StorageUnavailable:
                pass
        return bool(old)

    async def increment(self, model: type[M], key: str, field: str, amount: int) -> int:
        """Atomically add ``amount`` to a counter and bump ``version``; the new value."""
        check_increment(model, field, amount)
        if not key:
            raise NotFound(f"{model.__name__} {key} not found")
        try:
            resp = await self._write(
                "update_item",
                TableName=self._table(model),
                Key={model.KEY: {"S": key}},
                UpdateExpression="ADD #f :n, #v :one",
                ConditionExpression="attribute_exists(#k)",
                ExpressionAttributeNames={"#f": field, "#v": "version", "#k": model.KEY},
                ExpressionAttributeValues={":n": {"N": str(amount)}, ":one": {"N": "1"}},
                ReturnValues="UPDATED_NEW",
            )
        except _ConditionFailed:
            raise NotFound(f"{model.__name__} {key} not found") from None
        return int(Decimal(resp["Attributes"][field]["N"]))

    async def acquire_lease(self, name: str, owner: str, ttl_seconds: float, now: float) -> bool:
        """Take the lease if free, expired (``expires_at <= now``) or already ours."""
        try:
            await self._write(
                "put_item",
                TableName=self._tables[LEASES],
                Item={"name": {"S": name}, "owner": {"S": owner},
                      "expires_at": {"N": _number(now + ttl_seconds)}},
                ConditionExpression="attribute_not_exists(#n) OR #e <= :now OR #o = :owner",
                ExpressionAttributeNames={"#n": "name", "#e": "expires_at", "#o": "owner"},
                ExpressionAttributeValues={":now": {"N": _number(now)}, ":owner": {"S": owner}},
            )
        except _ConditionFailed:
            return False
        return True

    async def release_lease(self, name: str, owner: str) -> None:
        """Drop the lease if ``owner`` holds it; otherwise do nothing."""
        try:
            await self._write(
                "delete_item",
                TableName=self._tables[LEASES],
                Key={"name": {"S": name}},
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":owner": {"S": owner}},
            )
        except _ConditionFailed:
            return

    async def purge_expired_leases(self, now: float, limit: int = 10_000) -> int:
        """Delete up to ``limit`` leases with ``expires_at <= now``; how many were deleted.

        A paginated, consistent Scan (``expires_at <= :now``, projecting only the key) finds
        them; each is then removed by a ``DeleteItem`` conditioned on ``expires_at <= :now``,
        ``PURGE_CONCURRENCY`` at a time. ``BatchWriteItem`` takes no conditions, so it could
        delete a lease renewed between the Scan and the delete; a lease whose condition no
        longer holds is kept and not counted.
        """
        check_purge_limit(limit)
        names = await self._expired_lease_names(now, limit)
        deleted = 0
        for start in range(0, len(names), PURGE_CONCURRENCY):
            chunk = names[start:start + PURGE_CONCURRENCY]
            results = await asyncio.gather(*(self._delete_if_expired(n, now) for n in chunk),
                                           return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result
                deleted += bool(result)
        return deleted

    async def _expired_lease_names(self, now: float, limit: int) -> list[str]:
        """Names of up to ``limit`` leases expired at ``now`` (a paginated Scan)."""
        kwargs: dict[str, Any] = {
            "TableName": self._tables[LEASES],
            "ConsistentRead": True,
            "FilterExpression": "#e <= :now",
            "ProjectionExpression": "#n",
            "ExpressionAttributeNames": {"#e": "expires_at", "#n": "name"},
            "ExpressionAttributeValues": {":now": {"N": _number(now)}},
        }
        names: list[str] = []
        while len(names) < limit:
            resp = await self._call("scan", **kwargs)
            names.extend(item["name"]["S"] for item in resp.get("Items", []))
            if not resp.get("LastEvaluatedKey"):
                break
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]
        return names[:limit]

    async def _delete_if_expired(self, name: str, now: float) -> bool:
        """Delete lease ``name`` if it is still expired at ``now``; True if it was deleted."""
        try:
            await self._write(
                "delete_item",
                TableName=self._tables[LEASES],
                Key={"name": {"S": name}},
                ConditionExpression="#e <= :now",
                ExpressionAttributeNames={"#e": "expires_at"},
                ExpressionAttributeValues={":now": {"N": _number(now)}},
            )
        except _ConditionFailed:
            return False
        return True

    async def ping(self) -> None:
        """Return when DynamoDB answers (DescribeTable on users); else ``StorageUnavailable``."""
        await self._call("describe_table", TableName=self._tables["users"])

    async def close(self) -> None:
        """Close the client; safe to call twice."""
        await self._stack.aclose()
