"""Time and identifiers, injected so tests can control them."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since the Unix epoch."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        return time.time()


class IdGenerator(Protocol):
    def new_id(self) -> str:
        """A new unique identifier."""
        ...


class UuidGenerator:
    def new_id(self) -> str:
        import uuid  # on first use: uuid loads platform (~4 ms), which a CLI command rarely needs

        return uuid.uuid4().hex
