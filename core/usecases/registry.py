"""Handlers register themselves for their command class.

``@handles(c.AddTeamMember)`` above a handler class in ``core.usecases`` makes it the handler of
that command: ``core.wiring.build_bus`` builds one instance of each registered class as
``cls(ports, settings)`` and puts it on the bus. So adding a ``/rocket`` subcommand touches three
files: its command in ``core/commands.py``, its handler here in ``core/usecases/<area>.py``,
and its grammar entry. A handler that needs more than the ports and settings is registered by
hand in ``core.wiring`` instead (which replaces any registered class for that command).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from core.commands import Command
from core.context import Ports, Settings

HandlerClass = Callable[[Ports, Settings], Callable[[Any], Awaitable[Any]]]
T = TypeVar("T")

_HANDLERS: dict[type[Command[Any]], HandlerClass] = {}


def handles(command: type[Command[Any]]) -> Callable[[type[T]], type[T]]:
    """Class decorator: the decorated class handles ``command`` (one class per command)."""

    def register(cls: type[T]) -> type[T]:
        known = _HANDLERS.get(command)
        if known is not None and known is not cls:
            raise RuntimeError(f"{command.__name__} already has a handler: {known!r}")
        _HANDLERS[command] = cls  # type: ignore[assignment]
        return cls

    return register


def registered_handlers() -> dict[type[Command[Any]], HandlerClass]:
    """Every command class with its handler class, in registration (import) order."""
    return dict(_HANDLERS)
