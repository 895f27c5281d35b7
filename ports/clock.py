"""Time and identifiers, injected so tests can control them."""

from __future__ import annotations

import time
import uuid
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
        return uuid.uuid4().hex
