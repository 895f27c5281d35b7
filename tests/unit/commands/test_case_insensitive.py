"""Issue 17 finding 8: command words are case-insensitive throughout (`/rocket USER VIEW`)."""

from __future__ import annotations

import pytest

from core import commands as c
from entrypoints.commands.grammar import Help, Parsed, parse


@pytest.mark.parametrize(
    ("text", "command", "name"),
    [
        ("USER VIEW", c.ViewUser, "user view"),
        ("User View --USERNAME U1", c.ViewUser, "user view"),
        ("TEAM LIST", c.ListTeams, "team list"),
        ("Team Add devs U1", c.AddTeamMember, "team add"),
        ("KARMA view U1", None, None),
    ],
)
def test_group_subcommand_and_options_fold(text: str, command: type | None, name: str | None) -> None:
    lower = parse(text.lower())
    parsed = parse(text)
    assert isinstance(parsed, Parsed) and isinstance(lower, Parsed)
    assert parsed.command is lower.command and parsed.kwargs == lower.kwargs
    if command is not None:
        assert parsed.command is command and parsed.name == name


def test_values_keep_their_case() -> None:
    parsed = parse('USER EDIT --NAME "Ada LOVELACE"')
    assert isinstance(parsed, Parsed) and parsed.kwargs["name"] == "Ada LOVELACE"


def test_sub_help_in_capitals() -> None:
    assert isinstance(parse("USER VIEW HELP"), Help)
    assert isinstance(parse("TEAM HELP"), Help)
