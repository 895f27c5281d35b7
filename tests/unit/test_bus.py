"""The message bus on its own: routing by command class, event order, failing subscribers."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from core.bus import MessageBus, UnknownCommand
from core.commands import Command
from core.errors import IntegrationUnavailable, NotFound
from core.events import Event, record, recorded


@dataclass
class Out:
    value: str
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Say(Command[Out]):
    actor: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class Other(Command[Out]):
    actor: str


@dataclass(frozen=True)
class Said(Event):
    word: str


@dataclass(frozen=True)
class Echoed(Event):
    word: str


async def say(cmd: Say) -> Out:
    for word in cmd.words:
        record(Said(word))
    return Out(" ".join(cmd.words))


def make_bus() -> tuple[MessageBus, list[str]]:
    bus = MessageBus()
    bus.register(Say, say)
    seen: list[str] = []
    return bus, seen


async def test_handler_is_picked_by_command_class_and_events_go_out_in_order():
    bus, seen = make_bus()

    async def first(e: Said) -> None:
        seen.append(f"first:{e.word}")

    async def second(e: Said) -> None:
        seen.append(f"second:{e.word}")

    bus.subscribe(Said, first)
    bus.subscribe(Said, second)
    out = await bus.handle(Say("U1", ("a", "b")))
    assert out.value == "a b" and out.warnings == []
    assert seen == ["first:a", "second:a", "first:b", "second:b"]


async def test_events_recorded_by_subscribers_follow_the_queue_and_are_visible():
    bus, seen = make_bus()

    async def echo(e: Said) -> None:
        record(Echoed(e.word))

    async def on_echo(e: Echoed) -> None:
        seen.append(f"echo:{e.word}:{len(recorded())}")

    async def on_any(e: Event) -> None:
        seen.append(type(e).__name__)

    bus.subscribe(Said, echo)
    bus.subscribe(Echoed, on_echo)
    bus.subscribe(Event, on_any)
    await bus.handle(Say("U1", ("x", "y")))
    assert seen == ["Said", "Said", "echo:x:4", "Echoed", "echo:y:4", "Echoed"]


async def test_subscriber_failure_becomes_a_warning_and_the_rest_still_run():
    bus, seen = make_bus()

    async def broken(e: Said) -> None:
        raise IntegrationUnavailable("Drive is not configured")

    async def crashing(e: Said) -> None:
        raise KeyError("internals")

    async def warns(e: Said) -> list[str]:
        seen.append(e.word)
        return [f"note about {e.word}"]

    bus.subscribe(Said, broken)
    bus.subscribe(Said, crashing)
    bus.subscribe(Said, warns)
    out = await bus.handle(Say("U1", ("a",)))
    assert out.value == "a" and seen == ["a"]
    assert len(out.warnings) == 3
    assert "Drive is not configured" in out.warnings[0]
    assert "KeyError" in out.warnings[1] and "internals" not in out.warnings[1]
    assert out.warnings[2] == "note about a"


async def test_unknown_command_class_raises():
    bus, _ = make_bus()
    with pytest.raises(UnknownCommand, match="Other"):
        await bus.handle(Other("U1"))


async def test_handler_error_propagates_and_nothing_is_dispatched():
    bus = MessageBus()
    seen: list[Event] = []

    async def failing(cmd: Say) -> Out:
        record(Said("lost"))
        raise NotFound("no such thing")

    async def sub(e: Said) -> None:
        seen.append(e)

    bus.register(Say, failing)
    bus.subscribe(Said, sub)
    with pytest.raises(NotFound):
        await bus.handle(Say("U1", ()))
    assert seen == []


async def test_record_outside_the_bus_is_a_no_op():
    record(Said("nowhere"))
    assert recorded() == ()
    assert (await say(Say("U1", ("z",)))).value == "z"


async def test_subscribers_wired_later_take_their_place_on_the_first_event_only():
    bus, seen = make_bus()
    wired: list[int] = []

    def note(name: str):
        async def subscriber(e: Said) -> None:
            seen.append(f"{name}:{e.word}")
        return subscriber

    def later():
        wired.append(1)
        return [(Said, note("later1")), (Said, note("later2"))]

    bus.subscribe(Said, note("before"))
    bus.subscribe_later(later)
    bus.subscribe(Said, note("after"))
    bus.register(Other, lambda cmd: _out())
    await bus.handle(Other("U1"))  # no event: nothing wired yet
    assert wired == [] and seen == []
    await bus.handle(Say("U1", ("a",)))
    await bus.handle(Say("U1", ("b",)))
    assert wired == [1]  # once
    assert seen == ["before:a", "later1:a", "later2:a", "after:a",
                    "before:b", "later1:b", "later2:b", "after:b"]


async def _out() -> Out:
    return Out("")


class CountingLoader:
    """Registers ``say`` for ``Say`` when asked, and counts the questions."""

    def __init__(self, bus: MessageBus) -> None:
        self.bus, self.asked, self.all = bus, [], 0

    def load(self, command: type) -> None:
        self.asked.append(command.__name__)
        if command is Say:
            self.bus.register(Say, say)

    def load_all(self) -> None:
        self.all += 1
        self.load(Say)


async def test_a_loader_is_asked_for_a_missing_handler_only():
    bus = MessageBus()
    loader = CountingLoader(bus)
    bus.load_with(loader)
    assert not bus.handles(Say, load=False) and loader.asked == []
    assert (await bus.handle(Say("U1", ("x",)))).value == "x"
    await bus.handle(Say("U1", ("y",)))
    assert loader.asked == ["Say"]  # once: then it is registered
    with pytest.raises(UnknownCommand):
        await bus.handle(Other("U1"))
    assert loader.asked == ["Say", "Other"]
    assert bus.commands == frozenset({Say}) and loader.all == 1
