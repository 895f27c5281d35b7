"""Build a ``core.context.Ports`` of the memory store and the stateful fakes."""

from __future__ import annotations

from dataclasses import dataclass

from adapters.memory import MemoryStore
from core.context import Ports
from tests.fakes.chat import FakeChat
from tests.fakes.drive import FakeDrive
from tests.fakes.github import FakeGitHub


class FixedClock:
    """A clock that only moves when told to."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.t = now

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class CountingIds:
    def __init__(self) -> None:
        self.n = 0

    def new_id(self) -> str:
        self.n += 1
        return f"id{self.n}"


@dataclass
class FakeWorld:
    store: MemoryStore
    github: FakeGitHub
    chat: FakeChat
    drive: FakeDrive
    clock: FixedClock
    ids: CountingIds

    @property
    def ports(self) -> Ports:
        return Ports(self.store, self.github, self.chat, self.drive, self.clock, self.ids)


def fake_world() -> FakeWorld:
    return FakeWorld(MemoryStore(), FakeGitHub(), FakeChat(), FakeDrive(), FixedClock(), CountingIds())
