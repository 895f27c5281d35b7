"""The ``/rocket`` grammar: shlex tokens, then one argparse parser per command group.

``parse(text)`` takes the command text with Slack's escapes already undone and returns
either a ``Parsed`` (the ``core.commands`` class the line asks for and its keyword
arguments; ``parsed.build(actor)`` is the command to hand to the bus) or a ``Help`` (text
to print). It never prints, never exits and never raises
anything but ``ParseError``, which carries the help text of the group or subcommand the
line was aimed at.

Grammar (CONTRACT.md, "The /rocket commands"):

- ``help`` / ``-h`` / ``--help`` / empty: the overview; ``GROUP help``, ``GROUP -h``: the
  group's help; ``GROUP SUB -h`` and ``GROUP SUB help`` (exactly three words): that
  subcommand's help.
- ``SLACK_ID ++`` (``<@U123|name> ++`` after unescaping) gives one karma point; words after
  ``++`` are ignored (a thank-you note), ``SLACK_ID++`` is accepted too.
- Every other line is ``GROUP SUB [ARGS]``, with the argparse parsers built below. The
  ``dest`` of every argument is a field of the subcommand's command class, so the help texts
  and the mapping to commands come from one definition.
"""

from __future__ import annotations

import argparse
import functools
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import field
from typing import Any, NoReturn, cast

from core import commands as c
from core.records import record
from entrypoints.commands import fastparse

PROG = "/rocket"
COMMAND = "_command"  # the namespace attribute holding the subcommand's command class
_INTERNAL = {COMMAND, "command", "all"}
HELP_WORDS = {"help", "-h", "--help"}
WHITESPACE = " \t\r\n\u00a0\u2007\u202f\u3000\u2028\u2029\x0b\x0c"


CommandClass = type[c.Command[Any]]


@record
class Parsed:
    """One parsed line: the command class and its arguments (all but ``actor``)."""

    command: CommandClass
    kwargs: dict[str, Any] = field(default_factory=dict)
    name: str = ""  # e.g. "user edit", "karma give": for logs and metrics

    def build(self, actor: str) -> c.Command[Any]:
        """The command, run as Slack user ``actor``."""
        return self.command(actor=actor, **self.kwargs)  # type: ignore[call-arg]


@record
class Help:
    """A request for help; ``text`` is the help to reply with."""

    text: str
    name: str = "help"


class ParseError(Exception):
    """A malformed line: ``message`` says what is wrong, ``help`` is the relevant help text."""

    def __init__(self, message: str, help_text: str, name: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.help = help_text
        self.name = name

    @property
    def reply(self) -> str:
        return f"{self.message}\n\n{self.help}"


class _HelpRequested(Exception):
    def __init__(self, text: str, name: str) -> None:
        super().__init__(text)
        self.text = text
        self.name = name


def _formatter(prog: str) -> argparse.HelpFormatter:
    return argparse.HelpFormatter(prog, max_help_position=34, width=100)


class RocketParser(argparse.ArgumentParser):
    """An ArgumentParser that never prints and never exits: it raises instead.

    ``-h`` raises ``_HelpRequested`` with this parser's help; every error (including the
    ``ArgumentError`` that ``exit_on_error=False`` lets through) raises ``ParseError`` with
    this parser's help, so a subcommand's mistake shows that subcommand's help. A plain option
    line (``--name x --bio y``) skips argparse: ``fastparse`` gives the namespace it would.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("exit_on_error", False)
        kwargs.setdefault("allow_abbrev", False)
        kwargs.setdefault("formatter_class", _formatter)
        super().__init__(*args, **kwargs)

    def parse_known_args(  # type: ignore[override]
        self, args: Any = None, namespace: Any = None
    ) -> tuple[argparse.Namespace, list[str]]:
        if args is not None and namespace is None:  # a plain option line needs no argparse pass
            fast = fastparse.parse_options(self, args)
            if fast is not None:
                return fast, []
        try:
            return super().parse_known_args(args, namespace)
        except argparse.ArgumentError as exc:
            self.error(str(exc))

    @property
    def command_name(self) -> str:
        """``"user edit"`` for the parser of ``/rocket user edit``."""
        return self.prog.removeprefix(PROG).strip()

    def error(self, message: str) -> NoReturn:
        raise ParseError(f"Error: {message}", self.format_help().strip(), self.command_name)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        self.error(message or "invalid command")

    def print_help(self, file: Any = None) -> NoReturn:
        raise _HelpRequested(self.format_help().strip(), f"{self.command_name} help")

    def print_usage(self, file: Any = None) -> NoReturn:
        raise _HelpRequested(self.format_usage().strip(), f"{self.command_name} help")

    def _print_message(self, message: str, file: Any = None) -> None:
        return None


def slack_id(value: str) -> str:
    """A Slack user id as typed: a leading ``@`` is dropped (``@U123`` means ``U123``)."""
    value = value.strip()
    if value.startswith("@") and len(value) > 1:
        value = value[1:]
    if not value:
        raise argparse.ArgumentTypeError("a Slack user id must not be empty")
    return value


def amount(value: str) -> int:
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None


# --- the command groups ------------------------------------------------------------------

Sub = Callable[[str, CommandClass, str], RocketParser]


def _user(add: Sub) -> None:
    p = add("add", c.AddUser, "Register yourself in the directory.")
    p.add_argument("-f", "--force", action="store_true", help="overwrite your existing record")

    p = add("edit", c.EditUser, "Edit your profile (admins and team leads: anyone's, with --username).")
    p.add_argument("--name", help="display name")
    p.add_argument("--email", help="email address (Drive folders are shared with it)")
    p.add_argument("--pos", dest="position", metavar="POS", help="position, e.g. Developer")
    p.add_argument("--github", metavar="LOGIN", help="GitHub login: invites it to the organization")
    p.add_argument("--major", help="major")
    p.add_argument("--bio", help="short biography (quote it if it has spaces)")
    p.add_argument(
        "--permission", choices=["member", "team_lead", "admin"], help="permission level (admins only)"
    )
    p.add_argument("--username", dest="target", type=slack_id, metavar="SLACK_ID", help="the user to edit")

    p = add("view", c.ViewUser, "Show a user (yourself when no option is given).")
    p.add_argument("--username", dest="slack_id", type=slack_id, metavar="SLACK_ID", help="by Slack id")
    p.add_argument("--github", metavar="LOGIN", help="by GitHub login")
    p.add_argument("--email", help="by email address")
    p.add_argument("--inspect", action="store_true", help="also list the teams they are in and lead")

    p = add("delete", c.DeleteUser,
            "Delete a user, removing them from every GitHub team and team Drive folder (admins only).")
    p.add_argument("slack_id", type=slack_id, metavar="SLACK_ID", help="the user to delete")
    p.add_argument("--org", action="store_true",
                   help="also remove them from the GitHub organization (or cancel their invitation)")


def page_number(value: str) -> int:
    """A page number: a whole number from 1 to 100,000."""
    if not value.strip().isdigit() or not 1 <= int(value) <= 100_000:
        raise argparse.ArgumentTypeError(f"--page takes a whole number from 1, not {value!r}")
    return int(value)


def _team(add: Sub) -> None:
    p = add("list", c.ListTeams, "List every team (a page at a time).")
    p.add_argument("--page", type=page_number, default=1, metavar="N", help="which page (from 1)")

    p = add("view", c.ViewTeam, "Show a team with its leads, members and projects.")
    p.add_argument("team", metavar="TEAM", help="the team's GitHub slug")

    p = add("create", c.CreateTeam, "Create a team on GitHub and in the directory (admins and team leads).")
    p.add_argument("team", metavar="TEAM", help="the new team's GitHub slug")
    p.add_argument("--name", help="display name")
    p.add_argument("--platform", help="platform, e.g. iOS")
    p.add_argument("--channel", metavar="CHANNEL", help="add every member of this Slack channel")
    p.add_argument("--lead", type=slack_id, metavar="SLACK_ID", help="make this user the team lead")
    p.add_argument("--folder", metavar="DRIVE_FOLDER_ID", help="Google Drive folder shared with members")

    p = add("edit", c.EditTeam, "Edit a team (its leads and admins).")
    p.add_argument("team", metavar="TEAM", help="the team's GitHub slug")
    p.add_argument("--name", help="display name")
    p.add_argument("--platform", help="platform, e.g. iOS")
    p.add_argument("--folder", metavar="F", help="Google Drive folder id shared with members")

    p = add("add", c.AddTeamMember, "Add a user to a team (its leads and admins).")
    p.add_argument("team", metavar="TEAM", help="the team's GitHub slug")
    p.add_argument("slack_id", type=slack_id, metavar="SLACK_ID", help="the user to add (needs --github set)")

    p = add("remove", c.RemoveTeamMember, "Remove a user from a team, also as lead (its leads and admins).")
    p.add_argument("team", metavar="TEAM", help="the team's GitHub slug")
    p.add_argument("slack_id", type=slack_id, metavar="SLACK_ID", help="the user to remove")

    p = add("lead", c.SetTeamLead, "Make a user a lead of a team, or stop (its leads and admins).")
    p.add_argument("team", metavar="TEAM", help="the team's GitHub slug")
    p.add_argument("slack_id", type=slack_id, metavar="SLACK_ID", help="the user")
    p.add_argument("--remove", action="store_true", help="remove them as lead instead")

    p = add("delete", c.DeleteTeam, "Delete a team on GitHub and in the directory (its leads and admins).")
    p.add_argument("team", metavar="TEAM", help="the team's GitHub slug")

    p = add("refresh", c.RefreshTeams, "Re-read every team from GitHub (admins only).")
    p.add_argument("--dry-run", dest="dry_run", action="store_true",
                   help="only show the plan: what would change; nothing is changed")


def _project(add: Sub) -> None:
    p = add("list", c.ListProjects, "List every project (a page at a time).")
    p.add_argument("--page", type=page_number, default=1, metavar="N", help="which page (from 1)")

    p = add("view", c.ViewProject, "Show a project.")
    p.add_argument("project_id", metavar="PROJECT_ID", help="the project's id")

    p = add("create", c.CreateProject, "Create a project for a repository, assigned to a team.")
    p.add_argument("repo", metavar="GH_REPO", help="repository URL or owner/repo")
    p.add_argument("team", metavar="TEAM", help="the team's GitHub slug")
    p.add_argument("--name", help="display name")

    p = add("edit", c.EditProject, "Edit a project.")
    p.add_argument("project_id", metavar="PROJECT_ID", help="the project's id")
    p.add_argument("--name", help="display name")

    p = add("assign", c.AssignProject, "Assign a project to a team (-f if it has a team already).")
    p.add_argument("project_id", metavar="PROJECT_ID", help="the project's id")
    p.add_argument("team", metavar="TEAM", help="the team's GitHub slug")
    p.add_argument("-f", "--force", action="store_true", help="reassign from its current team")

    p = add("unassign", c.UnassignProject, "Take a project away from its team.")
    p.add_argument("project_id", metavar="PROJECT_ID", help="the project's id")

    p = add("delete", c.DeleteProject, "Delete a project (-f if it is assigned to a team).")
    p.add_argument("project_id", metavar="PROJECT_ID", help="the project's id")
    p.add_argument("-f", "--force", action="store_true", help="delete even if assigned to a team")


def _karma(add: Sub) -> None:
    p = add("view", c.ViewKarma, "Show a user's karma (yours without SLACK_ID).")
    p.add_argument("slack_id", type=slack_id, metavar="SLACK_ID", nargs="?", default=argparse.SUPPRESS,
                   help="the user (default: you)")

    p = add("set", c.SetKarma, "Set a user's karma (admins only).")
    p.add_argument("slack_id", type=slack_id, metavar="SLACK_ID", help="the user")
    p.add_argument("amount", type=amount, metavar="AMOUNT", help="the new karma, a whole number")

    p = add("reset", c.ResetKarma, "Set everyone's karma back to 1 (admins only).")
    p.add_argument("--all", action="store_true", required=True, help="required: confirms resetting everyone")


def _export(add: Sub) -> None:
    p = add("emails", c.ExportEmails, "List email addresses (admins and team leads).")
    p.add_argument("--team", metavar="TEAM", help="only this team's members")


GROUPS: dict[str, tuple[str, Callable[[Sub], None]]] = {
    "user": ("Users: register, edit and view profiles.", _user),
    "team": ("Teams: mirrored from GitHub, where changes go first.", _team),
    "project": ("Projects: repositories assigned to teams.", _project),
    "karma": ("Karma: `/rocket @user ++` gives one point.", _karma),
    "export": ("Export directory data.", _export),
}
KARMA_LINE = "@user ++"


def _option_usage(action: argparse.Action) -> str:
    names = "|".join(action.option_strings)
    if action.nargs == 0:
        text = names
    elif action.choices:
        text = f"{names} {{{','.join(map(str, action.choices))}}}"
    else:
        text = f"{names} {action.metavar or action.dest.upper()}"
    return text if action.required else f"[{text}]"


def arguments_line(parser: argparse._ActionsContainer) -> str:
    """The arguments of a subcommand in the contract's order: positionals, then options.

    Derived from the parser's actions (``-h`` left out), so help never drifts from parsing
    (or from a ``_Sketch``'s actions: the same definitions made into the same Actions).
    """
    positionals = [a.metavar if isinstance(a.metavar, str) else a.dest
                   for a in parser._actions if not a.option_strings]
    options = [
        _option_usage(a)
        for a in parser._actions
        if a.option_strings and not isinstance(a, argparse._HelpAction)
    ]
    return " ".join([*positionals, *options])


def usage_line(parser: argparse.ArgumentParser) -> str:
    """``/rocket team create TEAM [--name NAME] …``: one line, no wrapping."""
    return f"{parser.prog} {arguments_line(parser)}".rstrip()


@record(frozen=False)
class Group:
    name: str
    parser: RocketParser
    subs: dict[str, RocketParser]
    commands: dict[str, CommandClass]  # subcommand -> its command class

    def help(self) -> str:
        """The group's help: its description and one usage line per subcommand."""
        lines = [f"{self.parser.description}", ""]
        for sub in self.subs.values():
            lines.append(f"  {usage_line(sub)}")
            lines.append(f"      {sub.description}")
        lines += ["", f"`{self.parser.prog} SUBCOMMAND -h` explains one subcommand."]
        return "\n".join(lines)


def _build_group(name: str) -> Group:
    description, define = GROUPS[name]
    parser = RocketParser(prog=f"{PROG} {name}", description=description, add_help=True)
    subparsers = parser.add_subparsers(dest="command", metavar="SUBCOMMAND", required=True)
    subs: dict[str, RocketParser] = {}
    commands: dict[str, CommandClass] = {}

    def add(sub: str, command: CommandClass, text: str) -> RocketParser:
        p = subparsers.add_parser(sub, help=text, description=text)
        p.set_defaults(**{COMMAND: command})
        subs[sub] = p
        commands[sub] = command
        return p

    define(add)
    for sub in subs.values():
        _set_usage(sub)
    return Group(name, parser, subs, commands)


def _set_usage(sub: RocketParser) -> None:
    """A subcommand's usage line: its prog, then its arguments as ``arguments_line`` writes them."""
    sub.usage = ("%(prog)s " + arguments_line(sub).replace("%", "%%")).rstrip()


class _Grammar(Mapping[str, Group]):
    """``GRAMMAR[name]``: the group ``name`` of ``GROUPS``, its parsers built on first use.

    Building every group's argparse parsers costs ~10 ms (~250 µs a parser); a command line
    needs one group, and the overview none (``_sketch_lines``). Mapping-like, read-only."""

    def __init__(self) -> None:
        self._built: dict[str, Group] = {}

    def __getitem__(self, name: str) -> Group:
        group = self._built.get(name)
        if group is None:
            if name not in GROUPS:
                raise KeyError(name)
            group = self._built[name] = _build_group(name)
        return group

    def __iter__(self) -> Iterator[str]:
        return iter(GROUPS)

    def __len__(self) -> int:
        return len(GROUPS)

    def __contains__(self, name: object) -> bool:
        return name in GROUPS


_GRAMMAR = _Grammar()
GRAMMAR: Mapping[str, Group] = _GRAMMAR


class _Ignored:
    """What ``_subcommand``'s ``add`` returns for the subcommands it does not build."""

    def add_argument(self, *args: Any, **kwargs: Any) -> None:
        return None


_IGNORED = _Ignored()


@functools.cache
def _subcommand(group: str, sub: str) -> RocketParser | None:
    """The parser of ``/rocket GROUP SUB`` (``sub`` as the grammar spells it), or None when the
    group has no such subcommand. Built alone, as ``_build_group`` builds it (the same class,
    ``prog``, description, defaults and usage), when the group is not built yet: a command line
    needs one parser, not its group's ten (~2 ms of every ``rocket exec``, issue 17).
    tests/unit/commands/test_grammar.py checks each equals its group's own."""
    built = _GRAMMAR._built.get(group)
    if built is not None:
        return built.subs.get(sub)
    return _build_subcommand(group, sub)


def _build_subcommand(group: str, sub: str) -> RocketParser | None:
    """``_subcommand``'s parser built alone (see there)."""
    found: RocketParser | None = None

    def add(name: str, command: CommandClass, text: str) -> RocketParser:
        nonlocal found
        if name != sub:
            return cast(RocketParser, _IGNORED)  # its add_argument calls do nothing
        found = RocketParser(prog=f"{PROG} {group} {name}", description=text)
        found.set_defaults(**{COMMAND: command})
        return found

    GROUPS[group][1](add)
    if found is not None:
        _set_usage(found)
    return found


class _Sketch(argparse._ActionsContainer):
    """One subcommand's arguments as argparse's own ``Action`` objects, made by argparse's
    ``add_argument`` from the same definitions (``GROUPS``) but without an ``ArgumentParser``
    (a tenth of its cost): enough for ``arguments_line``, so the overview needs no parser.
    tests/unit/commands/test_grammar.py checks its lines equal the parsers' own."""

    def __init__(self) -> None:
        super().__init__(description=None, prefix_chars="-", argument_default=None, conflict_handler="error")
        self.register("type", None, _identity)  # what ArgumentParser registers for "no type"


def _identity(value: str) -> str:
    return value


def _sketch_lines(name: str) -> list[str]:
    """The usage line of each subcommand of group ``name``, as ``usage_line`` gives it for the
    group's parsers (a subcommand's ``prog`` is ``/rocket GROUP SUB``)."""
    sketches: list[tuple[str, _Sketch]] = []

    def add(sub: str, command: CommandClass, text: str) -> Any:
        sketches.append((sub, _Sketch()))
        return sketches[-1][1]

    GROUPS[name][1](add)
    return [f"{PROG} {name} {sub} {arguments_line(sketch)}".rstrip() for sub, sketch in sketches]


def _page_size(value: str) -> int:
    number = amount(value)
    if not 1 <= number <= 50:
        raise argparse.ArgumentTypeError(f"{value!r} is not a page size from 1 to 50")
    return number


def _audit_parser() -> RocketParser:
    text = "Show who changed what, newest first (admins; team leads: the teams they lead)."
    p = RocketParser(prog=f"{PROG} audit", description=text, add_help=True)
    p.add_argument("--user", type=slack_id, metavar="SLACK_ID", help="only entries about this user")
    p.add_argument("--team", metavar="TEAM", help="only entries about this team")
    p.add_argument("--limit", type=_page_size, default=20, metavar="N", help="at most N entries (default 20)")
    p.add_argument("--before", metavar="CURSOR", help=argparse.SUPPRESS)
    p.usage = "%(prog)s [--user SLACK_ID] [--team TEAM] [--limit N]"
    return p


@functools.cache
def audit_parser() -> RocketParser:
    """The parser of ``/rocket audit [options]``, a command without subcommands (built once,
    on first use)."""
    return _audit_parser()


@functools.cache
def overview() -> str:
    """The top-level help: every group's subcommands, one usage line each (from sketches of
    the groups: the overview builds no parser)."""
    lines = [f"{PROG}: manage the team directory. Quote values that contain spaces.", ""]
    for name, (description, _) in GROUPS.items():
        lines.append(description)
        lines.extend(f"  {line}" for line in _sketch_lines(name))
        lines.append("")
    lines.append(f"  {PROG} {KARMA_LINE}    give someone one karma point")
    lines.append(f"  {PROG} audit [--user SLACK_ID] [--team TEAM] [--limit N]    who changed what")
    lines.append("")
    lines.append(f"`{PROG} GROUP help` or `{PROG} GROUP SUBCOMMAND -h` tells more.")
    return "\n".join(lines)


def group_help(group: str) -> str:
    return GRAMMAR[group].help()


def sub_help(group: str, sub: str) -> str:
    return GRAMMAR[group].subs[sub].format_help().strip()


_TO_SPACE = str.maketrans(dict.fromkeys(WHITESPACE, " "))


@functools.cache
def _segment_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """The patterns of ``_words`` for a line with quotes or backslashes, compiled on first use
    (a line without any, ``help`` or ``team list``, needs none: start-up, issue 17)."""
    space_class = "".join(re.escape(ch) for ch in WHITESPACE)
    segment = re.compile(
        rf"""([^{space_class}'"\\]+)|'([^']*)'|"((?:[^"\\]|\\.)*)"|\\(.)|([{space_class}]+)""", re.S
    )
    return segment, re.compile(r'\\(["\\])')


def _double_quoted_words(parts: list[str]) -> list[str]:
    """``_words`` of a line whose only quoting is balanced ``"`` without backslashes, given as
    ``line.split('"')``: the odd parts are quoted (literal, spaces kept; ``""`` is a word), the
    even ones are split at whitespace; parts not separated by whitespace join into one word."""
    words: list[str] = []
    current: str | None = None
    for index, part in enumerate(parts):
        if index % 2:
            current = part if current is None else current + part
            continue
        for position, piece in enumerate(part.translate(_TO_SPACE).split(" ")):
            if position and current is not None:  # whitespace ended the word
                words.append(current)
                current = None
            if piece:
                current = piece if current is None else current + piece
    if current is not None:
        words.append(current)
    return words


def _words(text: str) -> list[str] | None:
    """``shlex`` (POSIX, whitespace-split, no comments) words of well-formed ``text``, or None
    when its quoting is malformed (``tokenize`` then asks shlex for the exact error).

    The same words as shlex, one regular-expression match per segment instead of shlex's
    character loop: a plain run, a '…' run (literal), a "…" run (backslash escapes only " and
    itself), a backslash-escaped character, or a run of whitespace ending a word. Segments
    without whitespace between them join into one word; an empty quoted segment is a word.
    """
    if "\\" not in text and "'" not in text:
        if '"' not in text:  # plain runs between spaces only
            return [word for word in text.translate(_TO_SPACE).split(" ") if word]
        if text.count('"') % 2 == 0:  # "…" runs only, without escapes: literal between the quotes
            return _double_quoted_words(text.split('"'))
    segment_pattern, escaped_in_double = _segment_patterns()
    words: list[str] = []
    current: str | None = None
    pos, end = 0, len(text)
    while pos < end:
        match = segment_pattern.match(text, pos)
        if match is None:
            return None
        plain, single, double, escaped, space = match.groups()
        pos = match.end()
        if space is not None:
            if current is not None:
                words.append(current)
                current = None
            continue
        if plain is not None:
            piece = plain
        elif single is not None:
            piece = single
        elif escaped is not None:
            piece = escaped
        else:
            piece = escaped_in_double.sub(r"\1", double)
        current = piece if current is None else current + piece
    if current is not None:
        words.append(current)
    return words


def tokenize(text: str) -> list[str]:
    """POSIX shlex words; raises ``ParseError`` (with the overview) for bad quoting.

    Non-breaking and other Unicode spaces separate words too.
    """
    words = _words(text)
    if words is not None:
        return words
    import shlex  # only for malformed quoting, to give shlex's own error (start-up, issue 17)

    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.whitespace = WHITESPACE
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as exc:
        words = text.split()
        group = words[0].lower() if words else ""
        if group not in GRAMMAR:  # the name labels logs and metrics: never the user's own word
            group = ""
        help_text = group_help(group) if group else overview()
        raise ParseError(f"Error: {exc} (quote values with spaces, e.g. --bio \"I like rockets\")",
                         help_text, group) from None


def parse(text: str) -> Parsed | Help:
    """The command or the help a line asks for; ``ParseError`` if malformed."""
    words = tokenize(text)
    if not words or words[0].lower() in HELP_WORDS:
        return Help(overview())
    first = words[0]
    if len(words) >= 2 and words[1] == "++" and first.lower() not in GRAMMAR:
        return Parsed(c.GiveKarma, {"slack_id": slack_id_or_error(first)}, "karma give")
    if len(words) == 1 and first.endswith("++") and len(first) > 2:
        return Parsed(c.GiveKarma, {"slack_id": slack_id_or_error(first[:-2])}, "karma give")
    if first.lower() == "audit":
        return _parse_audit(words[1:])
    if len(words) >= 2 and first.lower() in GROUPS:
        parser = _subcommand(first.lower(), words[1].lower())
        if parser is not None:  # `GROUP SUB …`: through that subcommand's parser alone
            return _parse_subcommand(first.lower(), words[1].lower(), parser,
                                     _fold_options(parser, words[2:]))
    group = GRAMMAR.get(first.lower())
    if group is None:
        raise ParseError(f"Error: unknown command {first!r}", overview())
    rest = words[1:]
    if rest and rest[0].lower() in group.subs:  # command words are case-insensitive: `USER VIEW`
        rest[0] = rest[0].lower()
        rest = [rest[0], *_fold_options(group.subs[rest[0]], rest[1:])]
    if not rest:
        raise ParseError(
            f"Error: `{group.parser.prog}` needs a subcommand: {', '.join(group.subs)}",
            group.help(),
            group.name,
        )
    if rest[0].lower() == "help":
        return Help(group.help(), f"{group.name} help")
    if rest[0] in ("-h", "--help"):
        return Help(group.help(), f"{group.name} help")
    if len(rest) == 2 and rest[1].lower() == "help" and rest[0] in group.subs:
        return Help(sub_help(group.name, rest[0]), f"{group.name} {rest[0]} help")
    try:
        namespace, extra = _parse_group(group, rest)
    except _HelpRequested as exc:
        return Help(exc.text, exc.name)
    except ParseError as exc:
        if exc.name == group.name:  # the group parser itself failed (e.g. unknown subcommand)
            raise ParseError(exc.message, group.help(), group.name) from None
        raise
    sub = namespace.command
    if extra:
        raise ParseError(
            f"Error: unrecognized arguments: {' '.join(extra)}",
            sub_help(group.name, sub),
            f"{group.name} {sub}",
        )
    fields = vars(namespace)
    kwargs = {k: v for k, v in fields.items() if k not in _INTERNAL}
    return Parsed(fields[COMMAND], kwargs, f"{group.name} {sub}")


def _parse_subcommand(group: str, sub: str, parser: RocketParser, args: list[str]) -> Parsed | Help:
    """``GROUP SUB ARGS`` (``args`` with options folded) as ``parse`` reads it through the
    group: ``GROUP SUB help`` is the subcommand's help, extra words are an error showing it."""
    if len(args) == 1 and args[0].lower() == "help":
        return Help(parser.format_help().strip(), f"{group} {sub} help")
    try:
        namespace, extra = parser.parse_known_args(args)
    except _HelpRequested as exc:
        return Help(exc.text, exc.name)
    if extra:
        raise ParseError(f"Error: unrecognized arguments: {' '.join(extra)}",
                         parser.format_help().strip(), f"{group} {sub}")
    fields = vars(namespace)
    kwargs = {k: v for k, v in fields.items() if k not in _INTERNAL}
    return Parsed(fields[COMMAND], kwargs, f"{group} {sub}")


def _parse_group(group: Group, rest: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """``group.parser.parse_known_args(rest)``, straight through the subcommand's parser when
    ``rest[0]`` names one: the group parser would only hand it every later word (its
    subcommand action takes them all, options included) and set ``command``; skipping it saves
    a second argparse pass on every command."""
    sub = group.subs.get(rest[0])
    if sub is None:
        return group.parser.parse_known_args(rest)
    namespace, extra = sub.parse_known_args(rest[1:])
    namespace.command = rest[0]
    return namespace, extra


def _fold_options(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    """``--NAME`` → ``--name`` when the folded word is one of ``parser``'s option strings (a
    value is never changed unless it spells an option exactly, e.g. ``--bio --NAME``)."""
    known = parser._option_string_actions  # argparse keeps every option string here
    folded = []
    for word in words:
        flag, eq, value = word.partition("=")
        if word.startswith("-") and flag not in known and flag.lower() in known:
            word = flag.lower() + eq + value
        folded.append(word)
    return folded


def slack_id_or_error(value: str) -> str:
    try:
        return slack_id(value)
    except argparse.ArgumentTypeError as exc:
        raise ParseError(f"Error: {exc}", overview(), "karma give") from None


def _parse_audit(rest: list[str]) -> Parsed | Help:
    if rest and rest[0].lower() in HELP_WORDS:
        return Help(audit_parser().format_help().strip(), "audit help")
    try:
        namespace, extra = audit_parser().parse_known_args(rest)
    except _HelpRequested as exc:
        return Help(exc.text, "audit help")
    except ParseError as exc:
        raise ParseError(exc.message, exc.help, "audit") from None
    if extra:
        raise ParseError(f"Error: unrecognized arguments: {' '.join(extra)}",
                         audit_parser().format_help().strip(), "audit")
    return Parsed(c.ViewAudit, dict(vars(namespace)), "audit")
