"""A storage wrapper that counts calls per method, to test how many round trips a use-case makes."""

from __future__ import annotations

from collections import Counter
from typing import Any

from adapters.memory import MemoryStore

READS = frozenset({"retrieve", "bulk_retrieve", "query", "query_or"})
WRITES = frozenset({"store", "delete", "increment"})


class CountingStore:
    """Delegates every port method to ``inner`` (a MemoryStore by default) and counts it in ``calls``."""

    def __init__(self, inner: Any | None = None) -> None:
        self.inner = inner if inner is not None else MemoryStore()
        self.calls: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.inner, name)
        if name.startswith("_") or not callable(target):
            return target

        async def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            return await target(*args, **kwargs)

        return counted

    @property
    def reads(self) -> int:
        return sum(n for m, n in self.calls.items() if m in READS)

    @property
    def writes(self) -> int:
        return sum(n for m, n in self.calls.items() if m in WRITES)

    def reset(self) -> None:
        self.calls.clear()
