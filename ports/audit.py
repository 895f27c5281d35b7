"""The audit log port: append-only entries, queried by time, actor, user and team.

Every backend (adapters/memory, sqlite, mongo, dynamo ``audit.py``) passes the contract
suite tests/contract/test_audit_contract.py. Entries are ``core.audit.AuditEntry``; the
arguments are validated by ``core.audit`` (``InvalidInput``, nothing written, for bad ones).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # annotations only: opening an audit log needs no core.audit (start-up, issue 17)
    from core.audit import AuditEntry, Cursor


class AuditLog(Protocol):
    """An append-only log of changes.

    All methods may raise ``core.errors.StorageUnavailable`` when the database does not
    answer; after it, an ``append`` may or may not have stored some of its entries, and
    appending the same entries again is always safe (idempotent by id).
    """

    async def append(self, entries: Iterable[AuditEntry]) -> int:
        """Store each entry whose ``id`` is not stored yet; return how many were new.

        Atomic per entry: a query sees an entry whole (every index it belongs to: time,
        actor, each user, each team) or not at all, never half-written. Idempotent by id:
        an entry whose id is already stored is skipped whatever its other fields hold (the
        first write wins), also when two appends of the same id race. Concurrent appends
        lose nothing. Cost: one round trip per call on SQLite and MongoDB; one
        TransactWriteItems per entry on DynamoDB. The count is exact except after a write
        resent because its first answer was lost (DynamoDB), where it may count low.
        """
        ...

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
        """Entries matching every given filter, newest first (``time`` desc, then ``id`` desc).

        ``since`` inclusive, ``until`` exclusive (ISO 8601 or aware datetimes); ``user`` /
        ``team`` match when the entry's ``users`` / ``teams`` contain them. At most
        ``limit`` (1..1000) entries. Paging: pass the last entry's ``cursor`` (or
        ``core.audit.encode_cursor`` of it) as ``before`` to get the next page; paging
        through a log being appended to never repeats or skips an older entry.

        Never a full scan: each backend reads an index ordered by time (the one of the
        actor, user or team when one is given) from the upper bound downwards and stops
        after ``limit`` matches. Cost is proportional to the entries read: ``limit`` when
        one key is given, more when a second key filters the first key's index.
        """
        ...

    async def purge(self, older_than: str | datetime, limit: int = 10_000) -> int:
        """Delete up to ``limit`` entries with ``time < older_than``, oldest first; how many.

        Each entry goes whole (with its index rows/items). A result equal to ``limit`` means
        more may remain. Cost: proportional to the entries deleted (the time index is read
        from the oldest end), never a scan of the newer entries.
        """
        ...

    async def close(self) -> None:
        """Release what the log opened itself; it is not used afterwards. Safe twice."""
        ...
