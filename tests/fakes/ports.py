"""Build a ``core.context.Ports`` of the memory store and the stateful fakes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from adapters.memory import MemoryStore
from adapters.unavailable import Unavailable
from core.bus import MessageBus
from core.commands import Command
from core.context import Ports, Settings
from core.wiring import build_bus
from ports.storage import Store
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

    def bus(self, settings: Settings | None = None) -> MessageBus:
        """The production wiring (``core.wiring.build_bus``) over this world's ports."""
        return build_bus(self.ports, settings or Settings())


def runner(bus: MessageBus, cls: type[Command[Any]]) -> Any:
    """``cls``'s old call shape for tables of tests: ``runner(bus, AddTeamMember)(actor, team, id)``
    builds the command from the same arguments and hands it to the bus."""

    async def run(*args: Any, **kwargs: Any) -> Any:
        return await bus.handle(cls(*args, **kwargs))

    return run


def usecase(cls: type[Command[Any]], ports: Ports, settings: Settings | None = None) -> Any:
    """``runner`` over a bus built on ``ports`` with the production wiring."""
    return runner(build_bus(ports, settings or Settings()), cls)


def github_webhook(ports: Ports, settings: Settings | None = None) -> Any:
    """``(event, payload) -> EventOutcome`` through the webhook path: the adapter's
    ``parse_webhook`` to a typed event, then the bus (as ``RocketHandlers.github_webhook``)."""
    from entrypoints.handlers import apply_github_webhook

    bus = build_bus(ports, settings or Settings())

    async def apply(event: str, payload: Any) -> Any:
        return await apply_github_webhook(bus, event, payload)

    return apply


def store_bus(store: Store, settings: Settings | None = None) -> MessageBus:
    """A bus over ``store`` alone (GitHub, Slack and Drive unavailable): for setting up a
    directory through commands (``rocket admin`` in e2e tests)."""
    ports = Ports(store, Unavailable("GitHub"), Unavailable("Slack"), Unavailable("Google Drive"))
    return build_bus(ports, settings or Settings())


def fake_world() -> FakeWorld:
    return FakeWorld(MemoryStore(), FakeGitHub(), FakeChat(), FakeDrive(), FixedClock(), CountingIds())
