"""``MemoryStore``: the storage port over plain dicts (``memory://``).

Every method runs without awaiting in its critical section, so each is atomic on the
event loop; this is the reference behaviour the other backends are tested against.
``INDEXED_FIELDS`` are served from dict indexes (field, folded value) -> keys kept beside the
tables; ``scans`` counts the queries that read a whole table (the counting tests read it).
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import islice
from typing import Any

from adapters.storage_common import (
    check_increment,
    check_params,
    check_purge_limit,
    index_entries,
    index_plan,
    index_value,
    match_all,
    match_any,
    unique_keys,
)
from core.errors import Conflict, NotFound
from core.models import M, Model, from_dict, key_of, to_dict
from core.records import replace as replace_record


class MemoryStore:
    def __init__(self) -> None:
        self._tables: dict[str, dict[str, dict[str, Any]]] = {}
        self._leases: dict[str, tuple[str, float]] = {}
        # table -> (field, indexed value) -> keys
        self._indexes: dict[str, dict[tuple[str, str], set[str]]] = {}
        self.scans = 0  # queries that read a whole table
        self._seq: dict[tuple[str, str], int] = {}  # creation order of every key (results keep it)
        self._next = 0

    def _unindex(self, model: type[Model], key: str, data: dict[str, Any] | None) -> None:
        if data is None:
            return
        index = self._indexes.setdefault(model.TABLE, {})
        for entry in index_entries(from_dict(model, data)):  # type: ignore[type-var]
            keys = index.get(entry)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del index[entry]

    def _index(self, obj: Model) -> None:
        index = self._indexes.setdefault(type(obj).TABLE, {})
        for entry in index_entries(obj):
            index.setdefault(entry, set()).add(key_of(obj))

    def _candidates(self, model: type[M], checked: list[tuple[str, Any]],
                    joiner: str) -> list[dict[str, Any]]:
        """The rows a query must look at: through the indexes, or the whole table (a scan)."""
        table = self._table(model)
        plan = index_plan(model, checked, joiner)
        if plan is None:
            self.scans += 1
            return list(table.values())
        index = self._indexes.get(model.TABLE, {})
        keys: set[str] = set()
        for name, value in plan:
            folded = index_value(model, name, value)
            if folded is not None:
                keys |= index.get((name, folded), set())
        seq = self._seq
        present = (k for k in keys if k in table)
        return [table[k] for k in sorted(present, key=lambda k: seq[(model.TABLE, k)])]

    def _table(self, model: type[Model]) -> dict[str, dict[str, Any]]:
        return self._tables.setdefault(model.TABLE, {})

    async def store(self, obj: M) -> M:
        table = self._table(type(obj))
        key = key_of(obj)
        current = table.get(key)
        if obj.version == 0 and current is not None:
            raise Conflict(f"{type(obj).__name__} {key} already exists")
        if obj.version > 0 and (current is None or current["version"] != obj.version):
            raise Conflict(f"{type(obj).__name__} {key} was changed by someone else")
        stored = replace_record(obj, version=obj.version + 1)
        self._unindex(type(obj), key, current)
        if current is None:
            self._next += 1
            self._seq[(type(obj).TABLE, key)] = self._next
        table[key] = to_dict(stored)
        self._index(stored)
        return stored

    async def retrieve(self, model: type[M], key: str) -> M:
        data = self._table(model).get(key)
        if data is None:
            raise NotFound(f"{model.__name__} {key} not found")
        return from_dict(model, data)

    async def bulk_retrieve(self, model: type[M], keys: Iterable[str]) -> list[M]:
        table = self._table(model)
        return [from_dict(model, table[k]) for k in unique_keys(keys) if k in table]

    async def query(self, model: type[M], params=()) -> list[M]:
        checked = check_params(model, params)
        records = (from_dict(model, d) for d in self._candidates(model, checked, "AND"))
        return [r for r in records if match_all(r, checked)]

    async def query_or(self, model: type[M], params=()) -> list[M]:
        checked = check_params(model, params)
        records = (from_dict(model, d) for d in self._candidates(model, checked, "OR"))
        return [r for r in records if match_any(r, checked)]

    async def delete(self, model: type[M], key: str) -> bool:
        data = self._table(model).pop(key, None)
        self._unindex(model, key, data)
        return data is not None

    async def increment(self, model: type[M], key: str, field: str, amount: int) -> int:
        check_increment(model, field, amount)
        data = self._table(model).get(key)
        if data is None:
            raise NotFound(f"{model.__name__} {key} not found")
        data[field] += amount
        data["version"] += 1
        return data[field]

    async def acquire_lease(self, name: str, owner: str, ttl_seconds: float, now: float) -> bool:
        held = self._leases.get(name)
        if held is not None and held[0] != owner and held[1] > now:
            return False
        self._leases[name] = (owner, now + ttl_seconds)
        return True

    async def release_lease(self, name: str, owner: str) -> None:
        held = self._leases.get(name)
        if held is not None and held[0] == owner:
            del self._leases[name]

    async def purge_expired_leases(self, now: float, limit: int = 10_000) -> int:
        """Delete up to ``limit`` leases with ``expires_at <= now``; how many were deleted."""
        check_purge_limit(limit)
        expired = list(islice((n for n, (_, expires_at) in self._leases.items() if expires_at <= now), limit))
        for name in expired:
            del self._leases[name]
        return len(expired)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
