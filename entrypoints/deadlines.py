"""``Deadlines``: many short deadlines on one event loop, served by one timer at a time.

Why. A timer per request (``loop.call_later``, or the one ``asyncio.timeout`` sets) that is
cancelled early stays in the loop's heap until it would have fired, and that heap is ordered by
``TimerHandle.__lt__``, which runs in Python: a request's body grace period and its inline
budget cost ~33k and ~20k instructions of a ``user view``'s 1.48M that way (in process, 32
in flight). Here a deadline costs two dict operations; the one timer is set for the earliest
deadline, calls every callback whose deadline has passed, and sets itself for the next.

Contract. ``add(seconds, callback)`` returns a key; ``callback()`` runs on the loop once,
``seconds`` later or a little after (at most a millisecond before, as asyncio's own timers may
fire), unless ``discard(key)`` came first. One loop at
a time: a deadline added from another loop (in tests, each test has its own) takes the timer
over, and the deadlines of the previous loop are dropped without their callbacks.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable


class Deadlines:
    __slots__ = ("_due", "_keys", "_loop", "_timer")

    def __init__(self) -> None:
        self._due: dict[int, tuple[float, Callable[[], object]]] = {}
        self._keys = itertools.count()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None

    def add(self, seconds: float, callback: Callable[[], object]) -> int:
        """Run ``callback`` once ``seconds`` have passed (see the module docstring)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            if self._timer is not None:
                self._timer.cancel()
            self._due.clear()
            self._loop, self._timer = loop, None
        key = next(self._keys)
        due = loop.time() + seconds
        self._due[key] = (due, callback)
        if self._timer is None or due < self._timer.when():  # (never, when every one is as long)
            if self._timer is not None:
                self._timer.cancel()
            self._timer = loop.call_at(due, self._fire)
        return key

    def discard(self, key: int) -> None:
        """Forget that deadline; its callback will not run (nothing happens if it already ran)."""
        self._due.pop(key, None)

    def __len__(self) -> int:
        return len(self._due)

    def _fire(self) -> None:
        loop, self._timer = self._loop, None
        assert loop is not None
        now = loop.time() + 0.001  # asyncio fires a timer up to its clock's resolution early
        passed = [key for key, (due, _) in self._due.items() if due <= now]
        for key in passed:
            _, callback = self._due.pop(key)
            callback()
        if self._due and self._timer is None:  # a callback may have added one (and the timer)
            self._timer = loop.call_at(min(due for due, _ in self._due.values()), self._fire)
