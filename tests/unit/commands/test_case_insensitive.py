"""Issue 17 finding 8: command words are case-insensitive throughout (`/rocket USER VIEW`)."""

from __future__ import annotations

import pytest

from core import commands as c
from entrypoints.commands.grammar import Help, Parsed, parse


@pytest.mark.parametrize(
    ("text", "same_as", "command"),
    [
        ("USER VIEW", "user view", c.ViewUser),
        ("User View --USERNAME U1", "user view --username U1", c.ViewUser),
        ("TEAM LIST", "team list", c.ListTeams),
        ("Team Add devs U1", "team add devs U1", c.AddTeamMember),
        ("PROJECT LIST", "project list", None),
        ("KARMA VIEW U1", "karma view U1", None),
        ("U1 ++", "U1 ++", c.GiveKarma),
    ],
)
def test_group_subcommand_and_options_fold(text: str, same_as: str, command: type | None) -> None:
    expected = parse(same_as)
    parsed = parse(text)
    assert isinstance(parsed, Parsed) and isinstance(expected, Parsed)
    assert (parsed.command, parsed.kwargs, parsed.name) == (expected.command, expected.kwargs, expected.name)
    if command is not None:
        assert parsed.command is command


def test_values_keep_their_case() -> None:
    parsed = parse('USER EDIT --NAME "Ada LOVELACE"')
    assert isinstance(parsed, Parsed) and parsed.kwargs["name"] == "Ada LOVELACE"


def test_sub_help_in_capitals() -> None:
    assert isinstance(parse("USER VIEW HELP"), Help)
    assert isinstance(parse("TEAM HELP"), Help)
