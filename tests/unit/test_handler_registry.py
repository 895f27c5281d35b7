"""Handlers register themselves by command class (``@handles``); ``build_bus`` wires them all."""

from __future__ import annotations

import dataclasses
import inspect
import json

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


def test_each_command_names_the_module_of_its_handler() -> None:
    """``handled_in`` (core.wiring imports that module on the command's first use) is where the
    handler lives: the module of its @handles class, or of the handler wired by hand."""
    bus = build_bus(fake_world().ports, Settings())
    for cls in sorted(_command_classes(), key=lambda k: k.__name__):
        assert "handled_in" in vars(cls), cls.__name__
        registered = registered_handlers().get(cls)
        if registered is not None:
            assert registered.__module__ == f"core.usecases.{vars(cls)['handled_in']}", cls.__name__
    assert bus.handles(c.EditUser) and bus.handles(c.GitHubPing)


def test_a_command_loads_only_its_own_module_of_handlers() -> None:
    """In a fresh interpreter, handling ``ListTeams`` imports core.usecases.teams, not the other
    modules of handlers (start-up, issue 17); ``bus.commands`` then loads them all."""
    import subprocess
    import sys

    script = (
        "import asyncio, json, sys\n"
        "from core import commands as c\n"
        "from core.context import Settings\n"
        "from core.wiring import build_bus\n"
        "from tests.fakes.ports import fake_world\n"
        "bus = build_bus(fake_world().ports, Settings())\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('core.usecases.'))))\n"
        "asyncio.run(bus.handle(c.ListTeams(actor='U1')))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('core.usecases.'))))\n"
        "print(len(bus.commands))\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('core.usecases.'))))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                         timeout=120).stdout.splitlines()
    before, after_list, after_all = json.loads(out[0]), json.loads(out[1]), json.loads(out[3])
    count = int(out[2])
    assert "core.usecases.teams" not in before and "core.usecases.teams" in after_list
    assert not {"core.usecases.users", "core.usecases.karma", "core.usecases.github_events"} & set(after_list)
    assert count == len(_command_classes())
    assert {"core.usecases.users", "core.usecases.karma", "core.usecases.github_events"} <= set(after_all)


def test_a_handler_registered_by_hand_is_kept_when_its_module_loads() -> None:
    import asyncio

    from core.errors import RocketError

    bus = build_bus(fake_world().ports, Settings())

    async def stand_in(command: c.ListTeams) -> str:
        return "stand-in"

    bus.register(c.ListTeams, stand_in)

    async def session() -> object:
        with pytest.raises(RocketError):  # loads core.usecases.teams: no team "nosuch"
            await bus.handle(c.ViewTeam(actor="U1", team="nosuch"))
        return await bus.handle(c.ListTeams(actor="U1"))

    assert asyncio.run(session()) == "stand-in"
