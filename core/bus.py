"""The message bus: one handler per command class, any number of subscribers per event class.

``bus.handle(command)`` looks the handler up by ``type(command)`` (``UnknownCommand`` if none
is registered), runs it, then hands every domain event recorded meanwhile
(``core.events.record``) to the subscribers of its class, in recording order, each event's
subscribers in registration order. Events recorded by subscribers are dispatched after those
already queued (so ``core.events.recorded()`` lets a subscriber see what followed).

The change is made once the handler returns: a subscriber that fails never undoes it and
never makes ``handle`` raise. Its failure (and any warning it returns) is appended to the
result's ``warnings``. An error of the handler propagates unchanged, and then no event is
dispatched. ``asyncio.CancelledError`` is never swallowed.

Handlers may be registered on demand: ``load_with(loader)`` has the bus ask ``loader.load(C)``
to register the handler of a command class ``C`` it has none for (``core.wiring`` imports that
command's module of handlers then, so a process imports only the handlers it runs; start-up,
issue 17), and ``loader.load_all()`` before answering ``commands``. Likewise
``subscribe_later(wire)`` subscribes what ``wire()`` returns when the first event is dispatched,
in the place among the subscribers it would have had if subscribed at the call (so a command
that records no event, e.g. a listing, imports no subscriber).

Typed end to end: ``Command[R]`` → ``handle`` returns ``R``; ``register(AddTeamMember, h)``
checks that ``h`` takes an ``AddTeamMember``.
"""

from __future__ import annotations

import logging
import types
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar, runtime_checkable

from core import events as _events
from core.commands import Command
from core.errors import RocketError
from core.events import Event

log = logging.getLogger("rocket.bus")

C = TypeVar("C", bound=Command[Any])
R = TypeVar("R")
E = TypeVar("E", bound=Event)

Subscriber = Callable[[E], Awaitable[list[str] | None]]
"""An async callable given one event; returns warnings to add to the result (or None)."""


class UnknownCommand(LookupError):
    """No handler is registered for this command class (a wiring mistake, not user input)."""


@runtime_checkable
class HasWarnings(Protocol):
    warnings: list[str]


if TYPE_CHECKING:  # annotations only: a Protocol class costs every start (issue 17)

    class HandlerLoader(Protocol):
        """Registers handlers on the bus on demand (see the module docstring)."""

        def load(self, command: type[Any]) -> None:
            """Register the handler of ``command`` (and any others loaded with it), if there is one."""

        def load_all(self) -> None:
            """Register every handler there is."""


class MessageBus:
    """Routes commands to handlers and events to subscribers (see the module docstring)."""

    def __init__(self) -> None:
        self._handlers: dict[type[Any], Callable[[Any], Awaitable[Any]]] = {}
        self._subscribers: list[tuple[type[Event], Callable[[Any], Awaitable[list[str] | None]]]] = []
        self._closers: list[Callable[[], Awaitable[None]]] = []
        self._loader: HandlerLoader | None = None
        self._later: list[tuple[int, Callable[[], Iterable[tuple[type[Event], Subscriber[Any]]]]]] = []

    def load_with(self, loader: HandlerLoader) -> None:
        """Ask ``loader`` for the handler of a command class that has none registered yet."""
        self._loader = loader

    def on_close(self, closer: Callable[[], Awaitable[None]]) -> None:
        """Have ``aclose()`` await ``closer()``: background work owned by a handler (e.g. the
        GitHub verifications' waits) is stopped when the app shuts down."""
        self._closers.append(closer)

    async def aclose(self) -> None:
        """Stop the handlers' background work (each closer once, in registration order)."""
        closers, self._closers = self._closers, []
        for closer in closers:
            try:
                await closer()
            except Exception:
                log.exception("closing %s failed", _name(closer))

    def register(self, command: type[C], handler: Callable[[C], Awaitable[Any]]) -> None:
        """Make ``handler`` the one handler of ``command`` (replacing any earlier one)."""
        self._handlers[command] = handler

    def subscribe(self, event: type[E], subscriber: Subscriber[E]) -> None:
        """Call ``subscriber`` for every recorded event that is an instance of ``event``."""
        self._subscribers.append((event, subscriber))

    def subscribe_later(self, wire: Callable[[], Iterable[tuple[type[Event], Subscriber[Any]]]]) -> None:
        """Subscribe each ``(event, subscriber)`` of ``wire()`` before the first event is
        dispatched, in order, where they stand if subscribed now (before any subscribed later)."""
        self._later.append((len(self._subscribers), wire))

    def _wire_later(self) -> None:
        later, self._later = self._later, []
        for index, wire in reversed(later):  # the last first: the earlier places stay as counted
            self._subscribers[index:index] = list(wire())

    def handles(self, command: type[Command[Any]], *, load: bool = True) -> bool:
        """Whether ``command`` has a handler (``load=False``: registered already, without asking
        the loader)."""
        if command not in self._handlers and load and self._loader is not None:
            self._loader.load(command)
        return command in self._handlers

    @property
    def commands(self) -> frozenset[type[Any]]:
        """Every command class with a handler."""
        if self._loader is not None:
            self._loader.load_all()
        return frozenset(self._handlers)

    async def handle(self, command: Command[R]) -> R:
        """Run ``command``'s handler, then dispatch the events it recorded; its result."""
        handler = self._handlers.get(type(command))
        if handler is None and self.handles(type(command)):
            handler = self._handlers[type(command)]
        if handler is None:
            raise UnknownCommand(f"no handler for {type(command).__name__}")
        recorded, token = _events.begin(command)
        try:
            result: R = await handler(command)
            warnings = await self._dispatch(recorded.events)
        finally:
            _events.end(token)
        if warnings:
            if isinstance(result, HasWarnings):
                result.warnings.extend(warnings)
            else:
                log.warning("%s: %s", type(command).__name__, "; ".join(warnings))
        return result

    async def _dispatch(self, queue: list[Event]) -> list[str]:
        warnings: list[str] = []
        if queue and self._later:
            self._wire_later()
        index = 0
        while index < len(queue):  # subscribers may record more events onto the queue
            event = queue[index]
            index += 1
            for kind, subscriber in self._subscribers:
                if not isinstance(event, kind):
                    continue
                try:
                    extra = await subscriber(event)
                except RocketError as exc:
                    log.warning("subscriber %s failed on %s: %s", _name(subscriber),
                                type(event).__name__, exc)
                    warnings.append(f"{type(event).__name__}: a follow-up step failed: {exc}")
                    continue
                except Exception as exc:
                    log.exception("subscriber %s failed on %s", _name(subscriber), type(event).__name__)
                    warnings.append(f"{type(event).__name__}: a follow-up step failed "
                                    f"({type(exc).__name__}); the change itself was made")
                    continue
                if extra:
                    warnings.extend(extra)
        return warnings


def _name(fn: object) -> str:
    if isinstance(fn, types.FunctionType | types.MethodType):
        return fn.__qualname__
    return type(fn).__qualname__
