"""A fake clock for code that takes ``clock`` and ``sleep`` (e.g. the device-flow adapter).

One ``FakeTime`` can be shared by the code under test and a stand-in server thread: calling it
reads the time (thread-safe), ``await sleep(s)`` advances it by ``s`` at once, records ``s`` in
``sleeps`` and then runs ``on_sleep(number of sleeps so far)``, so a test can act "after the
third poll" without waiting.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable


class FakeTime:
    """A clock both sides read; ``sleep`` advances it at once, then runs ``on_sleep(n)``."""

    def __init__(self, start: float = 1000.0) -> None:
        self._now = start
        self._lock = threading.Lock()
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[int], None] | None = None

    def __call__(self) -> float:
        with self._lock:
            return self._now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        with self._lock:
            self._now += seconds
        if self.on_sleep is not None:
            self.on_sleep(len(self.sleeps))
        await asyncio.sleep(0)
