"""``FaultyStore``: a real store behind a switch that makes the database "go down".

It delegates every storage call to the store it wraps (in these tests the real SQLite
store). ``go_down_at(n)`` arms a fault: the ``n``-th storage call from now raises
``StorageUnavailable``, and so does every call after it (``ping`` included, so ``/healthz``
sees the outage) until ``repair()``. That models a database that becomes unreachable in the
middle of a command and comes back later, with no restart of the app.
"""

from __future__ import annotations

import inspect
from typing import Any

from core.errors import StorageUnavailable

UNCOUNTED = {"ping", "close"}


class FaultyStore:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.down = False
        self.tripped = False  # the armed fault fired since the last go_down_at()
        self.calls: list[str] = []
        self._countdown: int | None = None

    def go_down_at(self, n: int) -> None:
        """The ``n``-th counted call from now (1-based) and every later call fail."""
        self._countdown = n
        self.tripped = False
        self.calls.clear()

    def go_down(self) -> None:
        self.down = self.tripped = True
        self._countdown = None

    def repair(self) -> None:
        self.down = False
        self._countdown = None

    def _check(self, name: str) -> None:
        if name not in UNCOUNTED:
            self.calls.append(name)
            if self._countdown is not None:
                self._countdown -= 1
                if self._countdown <= 0:
                    self.go_down()
        if self.down:
            raise StorageUnavailable()

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if name == "close" or not inspect.iscoroutinefunction(attr):
            return attr

        async def call(*args: Any, **kwargs: Any) -> Any:
            self._check(name)
            return await attr(*args, **kwargs)

        return call
