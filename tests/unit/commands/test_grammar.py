"""The /rocket grammar: every example of CONTRACT.md parses to the intended command class,
help is printed on request, and malformed lines give the relevant help (never an exception)."""

from __future__ import annotations

import argparse
import re
from typing import Any

import pytest

from core import commands as c
from core.context import Settings
from core.wiring import build_bus
from entrypoints.commands.escapes import unescape
from entrypoints.commands.grammar import (
    GRAMMAR,
    Help,
    Parsed,
    ParseError,
    _build_subcommand,
    group_help,
    overview,
    parse,
    sub_help,
    usage_line,
)
from tests.fakes.ports import fake_world
from tests.support.fixtures import CONTRACT

# Each form exactly as CONTRACT.md writes it -> the intended call. Placeholders (N, TEAM,
# SLACK_ID, …) are used as the literal values; "[-f|--force]" is written "--force" and
# "{member,team_lead,admin}" as "admin" by ``concrete``.
CONTRACT_FORMS: dict[str, tuple[type[c.Command[Any]], dict[str, Any]]] = {
    "user add [-f|--force]": (c.AddUser, {"force": True}),
    "user edit [--name N] [--email E] [--pos P] [--github G] [--major M] [--bio B] "
    "[--permission {member,team_lead,admin}] [--username SLACK_ID]": (
        c.EditUser,
        {"name": "N", "email": "E", "position": "P", "github": "G", "major": "M", "bio": "B",
         "permission": "admin", "target": "SLACK_ID"},
    ),
    "user view [--username SLACK_ID] [--github G] [--email E] [--inspect]": (
        c.ViewUser,
        {"slack_id": "SLACK_ID", "github": "G", "email": "E", "inspect": True},
    ),
    "user delete SLACK_ID [--org]": (c.DeleteUser, {"slack_id": "SLACK_ID", "org": True}),
    "team list": (c.ListTeams, {"page": 1}),
    "team view TEAM": (c.ViewTeam, {"team": "TEAM"}),
    "team create TEAM [--name N] [--platform P] [--channel CHANNEL] [--lead SLACK_ID] "
    "[--folder DRIVE_FOLDER_ID]": (
        c.CreateTeam,
        {"team": "TEAM", "name": "N", "platform": "P", "channel": "CHANNEL", "lead": "SLACK_ID",
         "folder": "DRIVE_FOLDER_ID"},
    ),
    "team edit TEAM [--name N] [--platform P] [--folder F]": (
        c.EditTeam,
        {"team": "TEAM", "name": "N", "platform": "P", "folder": "F"},
    ),
    "team add TEAM SLACK_ID": (c.AddTeamMember, {"team": "TEAM", "slack_id": "SLACK_ID"}),
    "team remove TEAM SLACK_ID": (c.RemoveTeamMember, {"team": "TEAM", "slack_id": "SLACK_ID"}),
    "team lead TEAM SLACK_ID [--remove]": (
        c.SetTeamLead,
        {"team": "TEAM", "slack_id": "SLACK_ID", "remove": True},
    ),
    "team delete TEAM": (c.DeleteTeam, {"team": "TEAM"}),
    "team refresh [--dry-run]": (c.RefreshTeams, {"dry_run": True}),
    "project list": (c.ListProjects, {"page": 1}),
    "project view PROJECT_ID": (c.ViewProject, {"project_id": "PROJECT_ID"}),
    "project create GH_REPO TEAM [--name N]": (
        c.CreateProject,
        {"repo": "GH_REPO", "team": "TEAM", "name": "N"},
    ),
    "project edit PROJECT_ID [--name N]": (c.EditProject, {"project_id": "PROJECT_ID", "name": "N"}),
    "project assign PROJECT_ID TEAM [-f]": (
        c.AssignProject,
        {"project_id": "PROJECT_ID", "team": "TEAM", "force": True},
    ),
    "project unassign PROJECT_ID": (c.UnassignProject, {"project_id": "PROJECT_ID"}),
    "project delete PROJECT_ID [-f]": (c.DeleteProject, {"project_id": "PROJECT_ID", "force": True}),
    "karma view SLACK_ID": (c.ViewKarma, {"slack_id": "SLACK_ID"}),
    "karma set SLACK_ID AMOUNT": (c.SetKarma, {"slack_id": "SLACK_ID", "amount": 7}),
    "karma reset --all": (c.ResetKarma, {}),
    "export emails [--team TEAM]": (c.ExportEmails, {"team": "TEAM"}),
    "/rocket <@U123|name> ++": (c.GiveKarma, {"slack_id": "U123"}),
}

# Shorter lines: defaults are filled in, and values are taken from the right place.
MORE_LINES: list[tuple[str, type[c.Command[Any]], dict[str, Any]]] = [
    ("user add", c.AddUser, {"force": False}),
    ("user add -f", c.AddUser, {"force": True}),
    ("user edit --name 'Ada Lovelace'", c.EditUser,
     {"name": "Ada Lovelace", "email": None, "position": None, "github": None, "major": None, "bio": None,
      "permission": None, "target": None}),
    ('user edit --bio "it\'s a \\"bio\\""', c.EditUser,
     {"name": None, "email": None, "position": None, "github": None, "major": None, "bio": 'it\'s a "bio"',
      "permission": None, "target": None}),
    ("user edit --username @U9 --permission team_lead", c.EditUser,
     {"name": None, "email": None, "position": None, "github": None, "major": None, "bio": None,
      "permission": "team_lead", "target": "U9"}),
    ("user edit --name=X", c.EditUser,
     {"name": "X", "email": None, "position": None, "github": None, "major": None, "bio": None,
      "permission": None, "target": None}),
    ("user view", c.ViewUser, {"slack_id": None, "github": None, "email": None, "inspect": False}),
    ("team lead ios U1", c.SetTeamLead, {"team": "ios", "slack_id": "U1", "remove": False}),
    ("team create ios", c.CreateTeam,
     {"team": "ios", "name": None, "platform": None, "channel": None, "lead": None, "folder": None}),
    ("project create https://github.com/o/r ios", c.CreateProject,
     {"repo": "https://github.com/o/r", "team": "ios", "name": None}),
    ("project assign p1 ios", c.AssignProject, {"project_id": "p1", "team": "ios", "force": False}),
    ("project delete p1", c.DeleteProject, {"project_id": "p1", "force": False}),
    ("karma set U1 -3", c.SetKarma, {"slack_id": "U1", "amount": -3}),
    ("export emails", c.ExportEmails, {"team": None}),
    ("U123 ++", c.GiveKarma, {"slack_id": "U123"}),
    ("U123++", c.GiveKarma, {"slack_id": "U123"}),
    ("@U123 ++", c.GiveKarma, {"slack_id": "U123"}),
    ("U123 ++ thanks for the review!", c.GiveKarma, {"slack_id": "U123"}),
    ("TEAM  list", c.ListTeams, {"page": 1}),
    ("team refresh", c.RefreshTeams, {"dry_run": False}),
    ("audit", c.ViewAudit, {"user": None, "team": None, "limit": 20, "before": None}),
    ("audit --user @U9 --team ios --limit 5", c.ViewAudit,
     {"user": "U9", "team": "ios", "limit": 5, "before": None}),
    ("AUDIT --limit 50", c.ViewAudit, {"user": None, "team": None, "limit": 50, "before": None}),
]


def concrete(form: str) -> str:
    """A contract form as a line a user would type."""
    line = form.removeprefix("/rocket ")
    line = line.replace("{member,team_lead,admin}", "admin").replace("-f|--force", "--force")
    line = line.replace("[", "").replace("]", "")
    return line.replace("SLACK_ID AMOUNT", "SLACK_ID 7")


@pytest.mark.parametrize("form", list(CONTRACT_FORMS))
def test_every_contract_form_parses_to_the_intended_call(form: str) -> None:
    usecase, kwargs = CONTRACT_FORMS[form]
    command = parse(unescape(concrete(form)))
    assert command == Parsed(usecase, kwargs, command.name)


@pytest.mark.parametrize(("line", "usecase", "kwargs"), MORE_LINES)
def test_more_lines(line: str, usecase: type[c.Command[Any]], kwargs: dict[str, Any]) -> None:
    command = parse(line)
    assert isinstance(command, Parsed)
    assert (command.command, command.kwargs) == (usecase, kwargs)


def _contract_forms_in_contract() -> set[str]:
    text = CONTRACT.read_text(encoding="utf-8")
    section = text.split("## The `/rocket` commands", 1)[1].split("\n## ", 1)[0]
    forms = set()
    for line in section.splitlines():
        if line.startswith("- `"):
            for snippet in re.findall(r"`([^`]+)`", line):
                if snippet.split()[0] in GRAMMAR:
                    forms.add(snippet)
    return forms


def test_the_table_covers_every_form_written_in_the_contract() -> None:
    in_contract = _contract_forms_in_contract()
    assert len(in_contract) == 24
    assert in_contract == set(CONTRACT_FORMS) - {"/rocket <@U123|name> ++"}


def test_every_subcommand_maps_to_a_command_with_a_handler_and_matching_fields() -> None:
    """Each parser's dests are the fields of its command class (no stray or missing names),
    and the production bus has a handler for every command the grammar builds."""
    bus = build_bus(fake_world().ports, Settings())
    seen = set()
    for form, (usecase, _kwargs) in CONTRACT_FORMS.items():
        command = parse(unescape(concrete(form)))
        assert isinstance(command, Parsed)
        built = command.build("U_ACTOR")  # raises TypeError on a mismatch
        assert type(built) is usecase and built.actor == "U_ACTOR" and bus.handles(usecase)
        seen.add(usecase)
    all_subs = {uc for group in GRAMMAR.values() for uc in group.commands.values()}
    assert all_subs | {c.GiveKarma} == seen


# --- help -------------------------------------------------------------------------------------


@pytest.mark.parametrize("line", ["", "   ", "help", "HELP", "-h", "--help", "help me please"])
def test_top_level_help(line: str) -> None:
    result = parse(line)
    assert result == Help(overview(), "help")


def test_the_overview_lists_every_subcommand_as_its_parser_spells_it() -> None:
    """The overview is made from sketches of the groups (no parser built): its lines are the
    parsers' own usage lines, group by group."""
    text = overview()
    expected = [f"  {usage_line(sub)}" for group in GRAMMAR.values() for sub in group.subs.values()]
    listed = [line for line in text.splitlines() if line.startswith("  /rocket ")][:len(expected)]
    assert listed == expected and len(expected) == sum(len(g.subs) for g in GRAMMAR.values()) > 20
    for group in GRAMMAR.values():
        assert group.parser.description in text.splitlines()


def test_a_command_line_builds_only_its_own_group() -> None:
    import subprocess
    import sys

    script = ("from entrypoints.commands.grammar import GRAMMAR, parse\n"
              "parse('help'); parse('team list'); print(sorted(GRAMMAR._built))\n"
              "try:\n    parse('team bogus')\nexcept Exception:\n    print(sorted(GRAMMAR._built))")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    # `team list` builds the parser of `team list` alone; an unknown subcommand builds its group
    assert out.split("\n")[:2] == ["[]", "['team']"]


def _shape(parser: argparse.ArgumentParser) -> object:
    actions = [(a.option_strings, a.dest, a.nargs, a.default, a.type, a.choices, a.required, a.help,
                a.metavar, type(a)) for a in parser._actions]
    return (type(parser), parser.prog, parser.usage, parser.description, parser._defaults,
            parser.exit_on_error, parser.allow_abbrev, actions, parser.format_help())


@pytest.mark.parametrize(("group", "sub"), [(g, s) for g in GRAMMAR for s in GRAMMAR[g].subs])
def test_a_subcommand_parser_built_alone_is_its_group_s_own(group: str, sub: str) -> None:
    alone = _build_subcommand(group, sub)
    assert alone is not None and alone is not GRAMMAR[group].subs[sub]
    assert _shape(alone) == _shape(GRAMMAR[group].subs[sub])
    assert _build_subcommand(group, "bogus") is None and _build_subcommand(group, group) is None


@pytest.mark.parametrize("group", list(GRAMMAR))
@pytest.mark.parametrize("suffix", ["help", "-h", "--help"])
def test_group_help(group: str, suffix: str) -> None:
    result = parse(f"{group} {suffix}")
    assert isinstance(result, Help)
    assert result.text == group_help(group)
    for sub in GRAMMAR[group].subs:
        assert f"/rocket {group} {sub}" in result.text


@pytest.mark.parametrize(("group", "sub"), [(g, s) for g in GRAMMAR for s in GRAMMAR[g].subs])
@pytest.mark.parametrize("suffix", ["help", "-h", "--help"])
def test_subcommand_help_is_derived_from_its_parser(group: str, sub: str, suffix: str) -> None:
    result = parse(f"{group} {sub} {suffix}")
    assert isinstance(result, Help)
    assert result.name == f"{group} {sub} help"
    assert result.text == sub_help(group, sub)
    parser = GRAMMAR[group].subs[sub]
    assert result.text.startswith(f"usage: /rocket {group} {sub}")
    for action in parser._actions:
        for option in action.option_strings:
            assert option in result.text  # every option is documented
        if not action.option_strings:
            assert action.metavar in result.text
        if action.help:
            assert action.help in result.text


def test_overview_lists_every_subcommand_and_karma() -> None:
    text = overview()
    for group in GRAMMAR.values():
        for sub in group.subs:
            assert f"/rocket {group.name} {sub}" in text
    assert "++" in text
    assert "-f|--force" in text and "{member,team_lead,admin}" in text


# --- malformed lines get the relevant help ----------------------------------------------------


@pytest.mark.parametrize(
    ("line", "help_text", "says"),
    [
        ('user edit --bio "unterminated', lambda: group_help("user"), "No closing quotation"),
        ("team 'a", lambda: group_help("team"), "No closing quotation"),
        ('"oops', overview, "No closing quotation"),
        ("frobnicate now", overview, "unknown command 'frobnicate'"),
        ("user frob", lambda: group_help("user"), "invalid choice: 'frob'"),
        ("user", lambda: group_help("user"), "needs a subcommand"),
        ("user edit --bogus 1", lambda: sub_help("user", "edit"), "unrecognized arguments: --bogus 1"),
        ("user edit --na X", lambda: sub_help("user", "edit"), "unrecognized arguments"),
        ("user edit --permission god", lambda: sub_help("user", "edit"), "invalid choice: 'god'"),
        ("user edit --name", lambda: sub_help("user", "edit"), "expected one argument"),
        ("user delete", lambda: sub_help("user", "delete"), "required: SLACK_ID"),
        ("team view", lambda: sub_help("team", "view"), "required: TEAM"),
        ("team add ios", lambda: sub_help("team", "add"), "required: SLACK_ID"),
        ("team list extra", lambda: sub_help("team", "list"), "unrecognized arguments: extra"),
        ("project create o/r", lambda: sub_help("project", "create"), "required: TEAM"),
        ("karma set U1 lots", lambda: sub_help("karma", "set"), "'lots' is not a whole number"),
        ("karma reset", lambda: sub_help("karma", "reset"), "required: --all"),
        ("export", lambda: group_help("export"), "needs a subcommand"),
        ("export emails --team", lambda: sub_help("export", "emails"), "expected one argument"),
    ],
)
def test_malformed_lines_give_the_relevant_help(line: str, help_text: Any, says: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(line)
    assert caught.value.help == help_text()
    assert says in caught.value.message
    assert caught.value.reply.startswith("Error: ")
    assert caught.value.help in caught.value.reply


@pytest.mark.parametrize("line, name", [
    ('"oops', ""), ('frobnicate "x', ""), ('USER edit --bio "x', "user"), ("team 'a", "team"),
])
def test_bad_quoting_names_a_known_group_or_nothing(line: str, name: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse(line)
    assert caught.value.name == name


def test_every_option_value_with_spaces_and_unicode_survives() -> None:
    command = parse("user edit --name 'Zoë “Z” Ångström' --bio '🚀 to the moon' --major 'CS & Math'")
    assert isinstance(command, Parsed)
    assert command.kwargs["name"] == "Zoë “Z” Ångström"
    assert command.kwargs["bio"] == "🚀 to the moon"
    assert command.kwargs["major"] == "CS & Math"


def test_non_breaking_spaces_separate_words() -> None:
    assert parse("team\u00a0view\u00a0ios") == Parsed(c.ViewTeam, {"team": "ios"}, "team view")


@pytest.mark.parametrize(("line", "kwargs"), [
    ("karma view", {}),  # your own
    ("team list --page 3", {"page": 3}),
    ("project list --page 2", {"page": 2}),
])
def test_issue_13_forms(line: str, kwargs: dict) -> None:
    assert parse(line).kwargs == kwargs


@pytest.mark.parametrize("line", ["team list --page 0", "team list --page -1", "project list --page x"])
def test_a_bad_page_gets_help(line: str) -> None:
    with pytest.raises(ParseError, match="--page"):
        parse(line)


async def test_karma_view_without_an_argument_shows_your_own() -> None:
    from adapters.memory.store import MemoryStore
    from core.models import User
    from entrypoints.commands.dispatch import run_command
    from tests.fakes.ports import store_bus

    store = MemoryStore()
    await store.store(User("U0ME", karma=5))
    await store.store(User("U0OTHER", karma=2))
    reply = await run_command(store_bus(store), "U0ME", "karma view")
    assert reply.ok and "5 karma" in reply.text
