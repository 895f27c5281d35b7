"""The storage port: one facade over every database backend.

Every backend (adapters/memory, sqlite, mongo, dynamo) passes the same contract suite in
tests/contract/. Models are ``core.models.User``, ``Team`` and ``Project``; each has a
``KEY`` field and a ``version`` (0 = never stored).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, TypeVar, runtime_checkable

from core.models import Project, Team, User

M = TypeVar("M", User, Team, Project)
Params = Sequence[tuple[str, Any]]


class Store(Protocol):
    """A database of users, teams and projects, plus leases for jobs and deduplication.

    All methods may raise ``core.errors.StorageUnavailable`` when the database does not
    answer. ``Conflict``, ``NotFound`` and ``InvalidInput`` mean nothing was written; after
    ``StorageUnavailable`` on a networked backend a write's outcome is unknown (each write
    is a single atomic operation, so it either happened whole or not at all).
    """

    async def store(self, obj: M) -> M:
        """Write ``obj`` and return a copy carrying its new ``version``.

        - ``obj.version == 0``: create; raises ``Conflict`` (writing nothing) if a record
          with that key exists.
        - ``obj.version == n > 0``: compare-and-set; succeeds only if the stored record
          has version ``n``; raises ``Conflict`` (writing nothing) if it is stale or gone.
        The stored version becomes ``obj.version + 1``. ``obj`` itself is not modified.
        """
        ...

    async def retrieve(self, model: type[M], key: str) -> M:
        """The record with that key; raises ``NotFound`` when there is none."""
        ...

    async def bulk_retrieve(self, model: type[M], keys: Iterable[str]) -> list[M]:
        """The records with those keys, in the order of ``keys``; missing keys are skipped.

        Duplicated keys are returned once. Costs a bounded number of round trips,
        not one per key.
        """
        ...

    async def query(self, model: type[M], params: Params = ()) -> list[M]:
        """Records matching every ``(field, value)`` pair (AND); all records when empty.

        A set-valued field (``members``, ``team_leads``, ``github_urls``, ``tags``)
        matches when it contains the value; ``FOLDED_FIELDS`` (``User.github``,
        ``Team.github_team_name``) match case-insensitively (``core.models.fold``); other
        fields match on equality. Raises ``InvalidInput`` for a field the model does not have.

        Cost: when at least one pair is on an ``INDEXED_FIELDS`` field, one index read for
        that pair plus the records it matches (the other pairs filter those), independent of
        the table's size: memory (dict index), SQLite (an expression index or the
        ``set_index`` table), MongoDB (an index; ``find`` never a collection scan), DynamoDB
        (a consistent ``Query`` of the index table, then ``BatchGetItem``; never ``Scan``).
        Otherwise (no pair, or none indexed) a full scan of the table: only jobs, exports of
        the whole directory and ``team list``/``project list`` do that.
        """
        ...

    async def query_or(self, model: type[M], params: Params = ()) -> list[M]:
        """Records matching at least one ``(field, value)`` pair; all records when empty.

        Cost: when every pair is on an indexed field, one index read per pair plus the
        matching records (no scan); otherwise a full scan.
        """
        ...

    async def delete(self, model: type[M], key: str) -> bool:
        """Remove the record; True if it existed. Deleting a missing key is not an error."""
        ...

    async def increment(self, model: type[M], key: str, field: str, amount: int) -> int:
        """Atomically add ``amount`` to an integer field and return the new value.

        Also bumps ``version``, so a concurrent compare-and-set store of the same record
        fails with ``Conflict`` instead of overwriting the increment. Raises ``NotFound``
        when the record is missing and ``InvalidInput`` for a non-integer field.
        """
        ...

    async def acquire_lease(self, name: str, owner: str, ttl_seconds: float, now: float) -> bool:
        """Atomically take the lease ``name`` for ``owner`` until ``now + ttl_seconds``.

        Succeeds (True) when nobody holds it, when the holder's lease expired
        (``expires_at <= now``), or when ``owner`` already holds it (renewal). Used for
        "run this job once per trigger" and "handle this delivery id once".
        """
        ...

    async def release_lease(self, name: str, owner: str) -> None:
        """Drop the lease if ``owner`` holds it; otherwise do nothing."""
        ...

    async def purge_expired_leases(self, now: float, limit: int = 10_000) -> int:
        """Delete up to ``limit`` leases whose ``expires_at <= now``; return how many were deleted.

        Never deletes a lease that is unexpired at ``now``, including one renewed or re-taken
        while the purge runs (each deletion re-checks expiry atomically). Which expired leases
        go first is unspecified; a result equal to ``limit`` means more may remain. Deleting
        an expired lease changes nothing a caller can observe: ``acquire_lease`` treats it as
        free either way. ``limit`` must be positive (``InvalidInput`` otherwise).
        """
        ...

    async def ping(self) -> None:
        """Return when the database answers; raise ``StorageUnavailable`` otherwise."""
        ...

    async def close(self) -> None:
        """Release connections. The store is not used afterwards."""
        ...


@runtime_checkable
class BulkCreate(Protocol):
    """An optional capability of a ``Store``: creating many records in few requests.

    ``rocket db import`` (``core.usecases.directory``) uses it, when the store has it, for the
    records a ``bulk_retrieve`` has just found absent; other stores create one ``store`` at a time.
    """

    async def create_many(self, objs: Sequence[M]) -> list[M]:
        """Create ``objs`` (all of one model, each at version 0, distinct non-empty keys) and
        return the stored copies (version 1), in order.

        Unlike ``store`` the writes are NOT conditional: a record created by someone else after
        the caller found its key absent is overwritten. The caller must have just checked
        (``bulk_retrieve``) and accept that window. After ``StorageUnavailable`` any subset may
        have been written, each record whole; running the same creates again completes them.
        Raises ``InvalidInput`` for a record with a version or without a key.
        """
        ...
