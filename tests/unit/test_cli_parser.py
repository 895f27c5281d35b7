"""``rocket SUB …`` is parsed by a parser holding ``SUB`` alone (entrypoints/cli.py, start-up):
every line parses, fails and prints help exactly as with the whole parser."""

from __future__ import annotations

import contextlib
import io

import pytest

from entrypoints.cli import SUBCOMMANDS, build_parser

LINES = [
    ["exec"], ["exec", "--as"], ["exec", "--as", "U1", "team", "list"], ["exec", "--help"],
    ["exec", "--as", "U1", "-h"], ["admin"], ["admin", "U1"], ["admin", "U1", "extra"],
    ["db"], ["db", "export", "--bad"], ["db", "export", "-o", "x.json"], ["db", "import"],
    ["audit", "--limit", "x"], ["audit", "--since", "2026-01-01", "--limit", "5"], ["serve", "--help"],
    ["serve", "--port", "8080"], ["socket"], ["socket", "now"], ["slack-manifest", "--socket"],
]


def outcome(only: str | None, argv: list[str]) -> tuple[object, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result: object = vars(build_parser(only).parse_args(argv))
        except SystemExit as exit_:
            result = ("exit", exit_.code)
    return result, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv", LINES, ids=" ".join)
def test_one_subcommand_parses_as_the_whole_parser(argv: list[str]) -> None:
    whole = outcome(None, argv)
    assert outcome(argv[0], argv) == whole
    assert whole[1] or whole[2] or whole[0] != ("exit", 0)  # something was parsed or printed


def test_every_subcommand_is_listed_and_the_usage_is_the_same() -> None:
    actions = [a for a in build_parser()._actions if a.dest == "command"]
    assert tuple(actions[0].choices) == SUBCOMMANDS  # type: ignore[arg-type]
    for name in SUBCOMMANDS:
        assert build_parser(name).format_usage() == build_parser().format_usage()


@pytest.mark.parametrize(("argv", "collects"), [
    (["exec", "--as", "U1", "help"], False), (["admin", "U1"], False), (["audit"], False),
    (["db", "export"], True), (["db", "import", "users.json"], True), (["serve"], True), (["socket"], True),
])
def test_the_cyclic_collector_is_off_while_a_one_shot_command_runs_and_restored(monkeypatch, argv, collects):
    import gc

    import entrypoints.cli as cli

    seen = []
    monkeypatch.setattr(cli, "_run", lambda args: seen.append(gc.isenabled()) or 0)
    assert gc.isenabled()
    assert cli.main(argv) == 0
    assert seen == [collects] and gc.isenabled()


def _helps() -> list[str]:
    import entrypoints.cli as cli

    parser = cli.build_parser()
    [sub] = [a for a in parser._actions if a.dest == "command"]
    texts = [parser.format_help()]
    for child in sub.choices.values():  # type: ignore[union-attr]
        texts.append(child.format_help())
        texts += [p.format_help() for a in child._actions if a.dest == "db_command"
                  for p in a.choices.values()]  # type: ignore[union-attr]
    return texts


@pytest.mark.parametrize("columns", [None, "57", "200", "0", "wide"])
def test_help_is_laid_out_as_argparse_lays_it_out(monkeypatch, columns):
    """The CLI's formatter takes the width argparse takes (``shutil.get_terminal_size``)
    without importing shutil: every help text is the same as with argparse's own formatter."""
    import argparse

    import entrypoints.cli as cli

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    ours = _helps()
    monkeypatch.setattr(cli, "_Formatter", argparse.HelpFormatter)
    theirs = _helps()
    assert ours == theirs and len(ours) == 10  # rocket, its 7 subcommands, db export and import
    monkeypatch.undo()
    monkeypatch.setenv("COLUMNS", "40" if columns == "200" else "200")
    assert _helps() != ours  # the width is honoured: another width, another layout


def test_the_console_script_exits_without_the_collectors_last_pass(monkeypatch):
    import gc

    import entrypoints.cli as cli

    monkeypatch.setattr(cli, "main", lambda: 3)
    try:
        with pytest.raises(SystemExit) as exit_:
            cli.entry()
        assert exit_.value.code == 3 and not gc.isenabled()
    finally:
        gc.enable()
