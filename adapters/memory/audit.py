"""``MemoryAuditLog``: the audit log port (ports/audit.py) in process memory.

Design: entries by id in a dict, plus sorted lists of ``(time, id)`` cursors: one over all
entries and one per actor, per user and per team (the "indexes"). A query picks the
shortest index among the keys it was given, bisects to its upper bound and walks it
downwards, filtering by the other keys, until ``limit`` matches or ``since`` is passed:
O(log n + entries read), never a pass over every entry. Insertion is ``bisect.insort``
(O(n) list moves, in C; fine for tests and embedding).

Atomic: no method awaits inside its critical section, so each append (all its entries and
index positions) happens in one step of the event loop.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from datetime import datetime

from core.audit import AuditEntry, AuditQuery, Cursor, check_entries, check_purge

IndexKey = tuple[str, str]
ALL: IndexKey = ("all", "")


def _index_keys(entry: AuditEntry) -> list[IndexKey]:
    return [ALL, ("actor", entry.actor), *(("user", u) for u in entry.users),
            *(("team", t) for t in entry.teams)]


class MemoryAuditLog:
    """The AuditLog port in a dict; nothing kept after exit."""

    def __init__(self) -> None:
        self._entries: dict[str, AuditEntry] = {}
        self._indexes: dict[IndexKey, list[Cursor]] = {}
        self.reads = 0  # index positions visited by queries and purges (for cost tests)

    @classmethod
    async def for_store(cls, store: object) -> MemoryAuditLog:
        """A new, empty log (a memory store keeps nothing either)."""
        return cls()

    async def append(self, entries: Iterable[AuditEntry]) -> int:
        """Store entries whose id is new; how many were (see the port)."""
        new = 0
        for entry in check_entries(entries):
            if entry.id in self._entries:
                continue
            self._entries[entry.id] = entry
            for key in _index_keys(entry):
                bisect.insort(self._indexes.setdefault(key, []), entry.cursor)
            new += 1
        return new

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
        """Newest first, filtered, paged (see the port); walks one index downwards."""
        q = AuditQuery.build(since=since, until=until, actor=actor, user=user, team=team,
                             limit=limit, before=before)
        if q.empty:
            return []
        keys: list[IndexKey] = [(kind, value) for kind, value in
                                (("actor", q.actor), ("user", q.user), ("team", q.team)) if value is not None]
        candidates = [self._indexes.get(k, []) for k in keys]
        index = min(candidates, key=len) if candidates else self._indexes.get(ALL, [])
        upper = q.upper
        pos = len(index) if upper is None else bisect.bisect_left(index, upper)
        found: list[AuditEntry] = []
        while pos > 0 and len(found) < q.limit:
            pos -= 1
            self.reads += 1
            time, entry_id = index[pos]
            if q.since is not None and time < q.since:
                break
            entry = self._entries[entry_id]
            if q.matches(entry):
                found.append(entry)
        return found

    async def purge(self, older_than: str | datetime, limit: int = 10_000) -> int:
        """Delete up to ``limit`` entries older than ``older_than``, oldest first."""
        cutoff, limit = check_purge(older_than, limit)
        everything = self._indexes.get(ALL, [])
        doomed = everything[: min(limit, bisect.bisect_left(everything, (cutoff, "")))]
        self.reads += len(doomed)
        for _, entry_id in doomed:
            entry = self._entries.pop(entry_id)
            for key in _index_keys(entry):
                index = self._indexes[key]
                del index[bisect.bisect_left(index, entry.cursor)]
                if not index:
                    del self._indexes[key]
        return len(doomed)

    async def close(self) -> None:
        """Nothing to release."""
        return None
