"""Handlers register themselves by command class (``@handles``); ``build_bus`` wires them all."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from core import commands as c
from core.context import Settings
from core.usecases.registry import handles, registered_handlers
from core.wiring import build_bus
from tests.fakes.ports import fake_world


def _command_classes() -> set[type]:
    return {cls for _, cls in inspect.getmembers(c, inspect.isclass)
            if issubclass(cls, c.Command) and cls is not c.Command and dataclasses.is_dataclass(cls)}


def test_every_command_class_has_a_handler_on_the_bus() -> None:
    bus = build_bus(fake_world().ports, Settings())
    missing = sorted(cls.__name__ for cls in _command_classes() if not bus.handles(cls))
    assert missing == []


def test_registered_classes_are_built_with_the_ports_and_settings() -> None:
    handlers = registered_handlers()
    assert c.AddTeamMember in handlers and c.EditUser not in handlers  # EditUser is wired by hand
    world = fake_world()
    handler = handlers[c.AddTeamMember](world.ports, Settings())
    assert callable(handler)


def test_a_second_handler_for_one_command_is_refused() -> None:
    with pytest.raises(RuntimeError, match="AddTeamMember already has a handler"):
        @handles(c.AddTeamMember)
        class Another:  # noqa: B903
            def __init__(self, ports: object, settings: object) -> None: ...
