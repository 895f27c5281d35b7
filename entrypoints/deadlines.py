"""``Deadlines``: many short deadlines on an event loop, served by one timer at a time.

Why. A timer per request (``loop.call_later``, or the one ``asyncio.timeout`` sets) that is
cancelled early stays in the loop's heap until it would have fired, and that heap is ordered by
``TimerHandle.__lt__``, which runs in Python: a request's body grace period and its inline
budget cost ~33k and ~20k instructions of a ``user view``'s 1.48M that way (in process, 32
in flight). Here a deadline costs two dict operations; the one timer is set for the earliest
deadline, calls every callback whose deadline has passed, and sets itself for the next.

Contract. ``add(seconds, callback)`` (on a running loop) returns a key; ``callback()`` runs on
that loop once, ``seconds`` later or a little after (at most a millisecond before, as asyncio's
own timers may fire), unless ``discard(key)`` came first. Each loop has its own deadlines and
timer (one ``Deadlines`` may serve the loops of several threads); a closed loop's are dropped.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable


class _OnLoop:
    """One loop's deadlines (key -> due time and callback) and its timer."""

    __slots__ = ("due", "loop", "timer")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.due: dict[int, tuple[float, Callable[[], object]]] = {}
        self.timer: asyncio.TimerHandle | None = None

    def fire(self) -> None:
        self.timer = None
        now = self.loop.time() + 0.001  # asyncio fires a timer up to its clock's resolution early
        for key in [key for key, (due, _) in self.due.items() if due <= now]:
            _, callback = self.due.pop(key)
            callback()
        if self.due and self.timer is None:  # a callback may have added one (and set the timer)
            self.timer = self.loop.call_at(min(due for due, _ in self.due.values()), self.fire)


class Deadlines:
    __slots__ = ("_keys", "_loops")

    def __init__(self) -> None:
        self._keys = itertools.count()
        self._loops: dict[asyncio.AbstractEventLoop, _OnLoop] = {}

    def add(self, seconds: float, callback: Callable[[], object]) -> int:
        """Run ``callback`` once ``seconds`` have passed (see the module docstring)."""
        loop = asyncio.get_running_loop()
        on_loop = self._loops.get(loop)
        if on_loop is None:
            for old in [old for old in self._loops if old.is_closed()]:
                del self._loops[old]
            on_loop = self._loops[loop] = _OnLoop(loop)
        key = next(self._keys)
        due = loop.time() + seconds
        on_loop.due[key] = (due, callback)
        timer = on_loop.timer
        if timer is None or due < timer.when():  # (never, when every one is as long)
            if timer is not None:
                timer.cancel()
            on_loop.timer = loop.call_at(due, on_loop.fire)
        return key

    def discard(self, key: int) -> None:
        """Forget that deadline of the running loop; its callback will not run (nothing happens
        if it already ran)."""
        on_loop = self._loops.get(asyncio.get_running_loop())
        if on_loop is not None:
            on_loop.due.pop(key, None)

    def __len__(self) -> int:
        """Deadlines waiting, on every loop."""
        return sum(len(on_loop.due) for on_loop in self._loops.values())
