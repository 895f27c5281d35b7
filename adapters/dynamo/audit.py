"""``DynamoAuditLog``: the audit log port (ports/audit.py) on one DynamoDB table, no Scan.

Design. One table (default ``rocket_audit``; ``pk`` hash + ``sk`` range, both strings,
on-demand billing, created when missing) holding, for an entry E with sort key
``SK = E.time + "#" + E.id``:

- the entry item ``pk="entry#<id>", sk="-"``: the idempotency anchor;
- index items ``pk="day#<YYYY-MM-DD>"``, ``pk="actor#<actor>"``, ``pk="user#<U>"`` (one per
  user) and ``pk="team#<T>"`` (one per team), each with ``sk=SK`` and the whole entry
  (``doc``, JSON) plus ``actor`` / ``users`` / ``teams`` for filter expressions;
- day markers ``pk="days", sk="<YYYY-MM-DD>"``: the days that hold entries.

Why index items and not GSIs: an entry is about several users and teams, and a GSI key
holds one value per item, so a per-user GSI would still need one item per user; index
items written in the same transaction give the same queries with strong consistency,
which GSIs (eventually consistent) do not. The time is fixed-width, so the string order of
``SK`` is the ``(time, id)`` order the port promises, and ``since`` / ``until`` /
``before`` become one key condition on ``sk``.

Append. Per entry, one ``TransactWriteItems``: a ``Put`` of the entry item with
``attribute_not_exists(pk)`` and unconditional ``Put``\\ s of its index items. Atomic per
entry: DynamoDB applies all of it or none; a stored id fails the condition and the whole
transaction is cancelled, so nothing is written twice (idempotent by id, also between
racing writers: the loser sees ``TransactionConflict`` and then the failed condition).
Before its first entry of a day, a process writes that day's marker (a plain ``PutItem``,
idempotent); an entry is never written before its marker. Writes go through the store's
non-retrying write client (adapters/dynamo/store.py explains why); an append is
idempotent, so this module resends a transaction after any transient error
(``WRITE_ATTEMPTS`` in all); after a resend whose first answer was lost, the entry may be
counted as not new. Cost: 3 + users + teams item writes (transactional, so 2 WCU each).

Queries, one ``Query`` per partition read, newest first (``ScanIndexForward=False``),
strongly consistent, paginated until ``limit`` matches:
- ``user`` (else ``team``, else ``actor``): that partition, the other keys as a
  ``FilterExpression`` (DynamoDB reads, and bills, the items the filter drops);
- no key: the ``days`` partition between the days of ``since`` and the upper bound, then
  each day's partition in turn, newest day first, until ``limit`` matches.
Cost: O(limit) items for one key, plus one small Query per day walked without a key.

Purge: the markers of days up to the cutoff (oldest first), each day's partition below the
cutoff, then one ``TransactWriteItems`` per entry deleting all its items (the entry item
conditioned on existing, so racing purges count an entry once); a day entirely before the
cutoff day loses its marker once its partition is empty. Cost: O(deleted) items. Caveat:
an entry appended with a time before the cutoff while a purge removes that day's marker
is only found by its actor / user / team queries (audit times are "now", so this needs a
clock far behind the purge's cutoff).

Hot partitions: every entry of a day also goes to ``day#D`` (one partition takes about
1,000 writes per second), ample for a team directory.

Commit with the change: ``transact_items(entry)`` returns this entry's ``TransactItems``;
a store write can send them together with its record's conditional ``Put`` (version
compare-and-set) in one ``TransactWriteItems`` (at most 100 items: the entry has at most
67), after ``await ensure_day(entry.day)``. Then the change and its entry commit together,
and a retry of the change cannot double the entry (its condition fails). The store does
not do this yet; it is the subscriber's / store's next step.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, Iterable, Mapping
from contextlib import aclosing
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from adapters.dynamo.store import (
    WRITE_ATTEMPTS,
    WRITE_BACKOFF,
    DynamoStore,
    _ConditionFailed,
    _error_code,
)
from core.audit import AuditEntry, AuditQuery, Cursor, check_entries, check_purge
from core.errors import InvalidInput, StorageUnavailable

DEFAULT_TABLE = "rocket_audit"
TABLE_ENV = "AWS_AUDIT_TABLE"
ENTRY_SK = "-"
DAYS = "days"
PAGE = 100  # items per Query page when a filter may drop some
APPEND_CONCURRENCY = 25  # transactions in flight at once in one append / purge
MAX_TRANSACTION_BYTES = 3_500_000  # DynamoDB's limit is 4 MB per transaction
# cancellation reasons after which nothing was applied and a resend is the cure
TRANSIENT_REASONS = frozenset({"None", "TransactionConflict", "ThrottlingError",
                               "ProvisionedThroughputExceeded", "RequestLimitExceeded"})


def _sk(time: str, entry_id: str) -> str:
    return f"{time}#{entry_id}"


def _index_pks(entry: AuditEntry) -> list[str]:
    return [f"day#{entry.day}", f"actor#{entry.actor}", *(f"user#{u}" for u in entry.users),
            *(f"team#{t}" for t in entry.teams)]


def _index_item(entry: AuditEntry, pk: str, doc: str) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": {"S": pk}, "sk": {"S": _sk(entry.time, entry.id)},
                            "doc": {"S": doc}, "actor": {"S": entry.actor}}
    if entry.users:
        item["users"] = {"SS": list(entry.users)}
    if entry.teams:
        item["teams"] = {"SS": list(entry.teams)}
    return item


def _transient(exc: BotoCoreError | ClientError) -> bool:
    """True when the error may pass on a resend (anything but a refused request)."""
    if isinstance(exc, BotoCoreError):
        return True
    code = _error_code(exc)
    if code == "TransactionCanceledException":
        reasons = {r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])}
        return reasons <= TRANSIENT_REASONS
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
    return status >= 500 or code in {"ProvisionedThroughputExceededException", "ThrottlingException",
                                     "RequestLimitExceeded", "TransactionConflictException",
                                     "TransactionInProgressException"}


def _first_condition_failed(exc: ClientError) -> bool:
    """True when a cancelled transaction failed the condition of its first item."""
    if _error_code(exc) != "TransactionCanceledException":
        return False
    reasons = exc.response.get("CancellationReasons") or []
    return bool(reasons) and reasons[0].get("Code") == "ConditionalCheckFailed"


class DynamoAuditLog:
    """The AuditLog port on DynamoDB, using a ``DynamoStore``'s clients and error handling."""

    def __init__(self, store: DynamoStore, table: str, owns_store: bool = False) -> None:
        self._store = store
        self._table = table
        self._owns = owns_store
        self._days: set[str] = set()  # day markers this process wrote (or saw)

    @classmethod
    async def open(cls, store: DynamoStore, table: str = DEFAULT_TABLE, *,
                   owns_store: bool = False) -> DynamoAuditLog:
        """The log on ``table`` (created when missing, waited for) through ``store``'s clients.

        ``close`` closes the store only when ``owns_store``. ``StorageUnavailable`` when
        DynamoDB does not answer.
        """
        audit = cls(store, table, owns_store)
        await audit._ensure_table()
        return audit

    @classmethod
    async def for_store(cls, store: DynamoStore, env: Mapping[str, str] | None = None) -> DynamoAuditLog:
        """The log beside ``store``: table ``AWS_AUDIT_TABLE`` from ``env``, else ``rocket_audit``.

        Shares the store's clients; ``close`` leaves the store open.
        """
        return await cls.open(store, (env or {}).get(TABLE_ENV) or DEFAULT_TABLE)

    async def _ensure_table(self) -> None:
        client = self._store._client
        try:
            await self._store._call("describe_table", TableName=self._table)
        except StorageUnavailable as exc:
            cause = exc.__cause__
            if not (isinstance(cause, ClientError) and _error_code(cause) == "ResourceNotFoundException"):
                raise
            try:
                await client.create_table(
                    TableName=self._table,
                    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                          {"AttributeName": "sk", "AttributeType": "S"}],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                               {"AttributeName": "sk", "KeyType": "RANGE"}],
                    BillingMode="PAY_PER_REQUEST",
                )
            except ClientError as create_exc:
                if _error_code(create_exc) != "ResourceInUseException":
                    raise StorageUnavailable(f"DynamoDB could not create {self._table}") from create_exc
            except BotoCoreError as create_exc:
                raise StorageUnavailable(f"DynamoDB could not create {self._table}") from create_exc
        try:
            waiter = client.get_waiter("table_exists")
            await waiter.wait(TableName=self._table, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
        except (BotoCoreError, ClientError) as exc:
            raise StorageUnavailable(f"DynamoDB table {self._table} did not become ready") from exc

    # -- writes -----------------------------------------------------------------------------

    async def _transact(self, items: list[dict[str, Any]], what: str) -> bool:
        """One TransactWriteItems; False when its first item's condition failed.

        Resent after transient errors (the callers' transactions are idempotent).
        """
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                await self._store._writer.transact_write_items(TransactItems=items)
                return True
            except ClientError as exc:
                if _first_condition_failed(exc):
                    return False
                failure: BotoCoreError | ClientError = exc
                detail = _error_code(exc) or str(exc)
            except BotoCoreError as exc:
                failure = exc
                detail = f"{type(exc).__name__}: {exc}"
            if not _transient(failure):
                raise StorageUnavailable(f"DynamoDB refused to {what} ({detail})") from failure
            if attempt == WRITE_ATTEMPTS:
                raise StorageUnavailable(
                    f"DynamoDB failed to {what} ({detail}) after {attempt} attempts; "
                    "appending again is safe") from failure
            await asyncio.sleep(WRITE_BACKOFF * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def transact_items(self, entry: AuditEntry) -> list[dict[str, Any]]:
        """The ``TransactItems`` that append ``entry`` (the entry item's conditional Put first).

        ``InvalidInput`` when the entry is too large for one DynamoDB transaction.
        """
        doc = entry.doc_json
        pks = _index_pks(entry)
        if len(doc.encode()) * len(pks) > MAX_TRANSACTION_BYTES:  # core's limits keep it below
            raise InvalidInput("the audit entry is too large to store")
        return [
            {"Put": {"TableName": self._table,
                     "Item": {"pk": {"S": f"entry#{entry.id}"}, "sk": {"S": ENTRY_SK},
                              "time": {"S": entry.time}},
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            *({"Put": {"TableName": self._table, "Item": _index_item(entry, pk, doc)}} for pk in pks),
        ]

    async def ensure_day(self, day: str) -> None:
        """Write the marker of ``day`` unless this process already did (idempotent PutItem)."""
        if day in self._days:
            return
        try:
            await self._store._write("put_item", TableName=self._table,
                                     Item={"pk": {"S": DAYS}, "sk": {"S": day}})
        except _ConditionFailed:  # pragma: no cover - the put has no condition
            pass
        self._days.add(day)

    async def _append_one(self, entry: AuditEntry) -> bool:
        items = self.transact_items(entry)
        await self.ensure_day(entry.day)
        return await self._transact(items, f"append audit entry {entry.id}")

    async def append(self, entries: Iterable[AuditEntry]) -> int:
        """One transaction per entry (``APPEND_CONCURRENCY`` in flight); how many were new."""
        checked: list[AuditEntry] = []
        seen: set[str] = set()
        for entry in check_entries(entries):  # each id once: its first entry wins
            if entry.id not in seen:
                seen.add(entry.id)
                checked.append(entry)
        for entry in checked:
            self.transact_items(entry)  # refuse an oversized entry before writing any
        new = 0
        for start in range(0, len(checked), APPEND_CONCURRENCY):
            chunk = checked[start:start + APPEND_CONCURRENCY]
            results = await asyncio.gather(*(self._append_one(e) for e in chunk), return_exceptions=True)
            for result in results:
                if isinstance(result, BaseException):
                    raise result
            new += sum(1 for r in results if r)
        return new

    # -- reads ------------------------------------------------------------------------------

    async def _items(self, pk: str, *, lower: str | None, upper: str | None, forward: bool,
                     filters: Iterable[tuple[str, str, str]] = (), page: int = PAGE,
                     projection: str | None = None) -> AsyncGenerator[dict[str, Any], None]:
        """Items of partition ``pk`` with ``lower <= sk < upper``, in ``sk`` order, lazily."""
        names = {"#pk": "pk"}
        values: dict[str, Any] = {":pk": {"S": pk}}
        key = "#pk = :pk"
        if lower is not None and upper is not None:
            key += " AND #sk BETWEEN :lo AND :hi"  # inclusive: the item equal to upper is dropped below
            values[":lo"], values[":hi"] = {"S": lower}, {"S": upper}
        elif lower is not None:
            key += " AND #sk >= :lo"
            values[":lo"] = {"S": lower}
        elif upper is not None:
            key += " AND #sk < :hi"
            values[":hi"] = {"S": upper}
        kwargs: dict[str, Any] = {"TableName": self._table, "KeyConditionExpression": key,
                                  "ScanIndexForward": forward, "ConsistentRead": True, "Limit": page}
        terms = []
        for i, (attr, op, value) in enumerate(filters):
            names[f"#f{i}"] = attr
            values[f":f{i}"] = {"S": value}
            terms.append(f"#f{i} = :f{i}" if op == "=" else f"contains(#f{i}, :f{i})")
        if lower is not None or upper is not None:
            names["#sk"] = "sk"
        if terms:
            kwargs["FilterExpression"] = " AND ".join(terms)
        if projection:
            kwargs["ProjectionExpression"] = projection
        kwargs["ExpressionAttributeNames"] = names
        kwargs["ExpressionAttributeValues"] = values
        while True:
            resp = await self._store._call("query", **kwargs)
            for item in resp.get("Items", []):
                if upper is None or item["sk"]["S"] < upper:
                    yield item
            if not resp.get("LastEvaluatedKey"):
                return
            kwargs["ExclusiveStartKey"] = resp["LastEvaluatedKey"]

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
        """Newest first, filtered, paged; Query calls only (see the module docstring)."""
        q = AuditQuery.build(since=since, until=until, actor=actor, user=user, team=team,
                             limit=limit, before=before)
        if q.empty:
            return []
        upper = None if q.upper is None else _sk(*q.upper)
        keys = [(p, a, v) for p, a, v in (("user", "users", q.user), ("team", "teams", q.team),
                                           ("actor", "actor", q.actor)) if v is not None]
        found: list[AuditEntry] = []
        if keys:
            (prefix, _, value), others = keys[0], keys[1:]
            filters = [(attr, "=" if attr == "actor" else "contains", v) for _, attr, v in others]
            page = q.limit if not filters else max(q.limit, PAGE)
            items = self._items(f"{prefix}#{value}", lower=q.since, upper=upper, forward=False,
                                filters=filters, page=page)
            async with aclosing(items):
                async for item in items:
                    found.append(AuditEntry.from_dict(json.loads(item["doc"]["S"])))
                    if len(found) == q.limit:
                        break
            return found
        top_day = None if q.upper is None else q.upper[0][:10]
        days = self._items(DAYS, lower=None if q.since is None else q.since[:10],
                           upper=None if top_day is None else top_day + "~", forward=False)
        async with aclosing(days):
            async for marker in days:
                items = self._items(f"day#{marker['sk']['S']}", lower=q.since, upper=upper,
                                    forward=False, page=q.limit - len(found))
                async with aclosing(items):
                    async for item in items:
                        found.append(AuditEntry.from_dict(json.loads(item["doc"]["S"])))
                        if len(found) == q.limit:
                            return found
        return found

    # -- purge ------------------------------------------------------------------------------

    async def _delete_entry(self, entry: AuditEntry) -> bool:
        items = [{"Delete": {"TableName": self._table,
                             "Key": {"pk": {"S": f"entry#{entry.id}"}, "sk": {"S": ENTRY_SK}},
                             "ConditionExpression": "attribute_exists(pk)"}}]
        items += [{"Delete": {"TableName": self._table,
                              "Key": {"pk": {"S": pk}, "sk": {"S": _sk(entry.time, entry.id)}}}}
                  for pk in _index_pks(entry)]
        return await self._transact(items, f"purge audit entry {entry.id}")

    async def purge(self, older_than: str | datetime, limit: int = 10_000) -> int:
        """Delete up to ``limit`` entries older than ``older_than``, oldest first; how many."""
        cutoff, limit = check_purge(older_than, limit)
        cutoff_day = cutoff[:10]
        deleted = 0
        markers = [m["sk"]["S"] async for m in self._items(DAYS, lower=None, upper=cutoff_day + "~",
                                                          forward=True)]
        for day in markers:
            doomed: list[AuditEntry] = []
            exhausted = True
            items = self._items(f"day#{day}", lower=None, upper=cutoff, forward=True,
                                page=min(PAGE, limit - deleted))
            async with aclosing(items):
                async for item in items:
                    doomed.append(AuditEntry.from_dict(json.loads(item["doc"]["S"])))
                    if deleted + len(doomed) == limit:
                        exhausted = False
                        break
            for start in range(0, len(doomed), APPEND_CONCURRENCY):
                chunk = doomed[start:start + APPEND_CONCURRENCY]
                results = await asyncio.gather(*(self._delete_entry(e) for e in chunk),
                                               return_exceptions=True)
                for result in results:
                    if isinstance(result, BaseException):
                        raise result
                deleted += sum(1 for r in results if r)
            if exhausted and day < cutoff_day:
                await self._store._write("delete_item", TableName=self._table,
                                         Key={"pk": {"S": DAYS}, "sk": {"S": day}})
                self._days.discard(day)
            if deleted >= limit:
                break
        return deleted

    async def close(self) -> None:
        """Close the store's clients when this log owns the store; safe to call twice."""
        if self._owns:
            self._owns = False
            await self._store.close()
