"""The fast path past argparse (entrypoints/commands/fastparse.py): whenever it answers, it
answers what argparse answers, for every parser of the grammar and for parsers built to use
the argparse features the grammar does not (string defaults, set_defaults, shared dests…);
``parse(text)`` is the same with and without it; and the hot lines of issue 19 take it."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from entrypoints.commands import fastparse
from entrypoints.commands.grammar import (
    GRAMMAR,
    Help,
    Parsed,
    ParseError,
    RocketParser,
    _HelpRequested,
    _subcommand,
    audit_parser,
    parse,
)
from entrypoints.commands.grammar import _build_group as build_group

# --- parsers the grammar does not have, each using an argparse feature it does -----------


def _odd_parsers() -> dict[str, argparse.ArgumentParser]:
    parsers: dict[str, argparse.ArgumentParser] = {}

    p = RocketParser(prog="odd defaults")
    p.add_argument("--page", type=int, default="7")  # a string default goes through type
    p.add_argument("--word", type=str.upper, default="low")
    p.add_argument("--bad", type=int, default="not a number")  # argparse fails unless given
    p.add_argument("--keep", default=argparse.SUPPRESS)
    p.add_argument("--color", choices=("red", "green"), default="blue")
    p.set_defaults(word="set", extra="from set_defaults", page="8")
    parsers["defaults"] = p

    p = RocketParser(prog="odd early")
    p.set_defaults(name="from set_defaults", size="9")
    p.add_argument("--name", default="its own")  # added after set_defaults: its default wins
    p.add_argument("--size", type=int)  # default None: set_defaults' "9" stays a string
    parsers["set_defaults first"] = p

    p = RocketParser(prog="odd shared")
    p.add_argument("--on", dest="switch", action="store_true")
    p.add_argument("--off", dest="switch", action="store_false")
    p.add_argument("--level", dest="switch", type=int)
    p.add_argument("-q", "--quiet", action="store_false", default="x")
    parsers["shared dest"] = p

    p = RocketParser(prog="odd required")
    p.add_argument("--must", required=True, type=float)
    p.add_argument("--flag", action="store_true", required=True)
    p.add_argument("--opt", choices=["1", "2"])
    parsers["required"] = p

    p = RocketParser(prog="odd others")
    p.add_argument("--many", action="append")
    p.add_argument("-v", action="count", default=0)
    p.add_argument("--two", nargs=2)
    p.add_argument("--maybe", nargs="?", const="c")
    p.add_argument("--const", action="store_const", const=5)
    p.add_argument("--name")
    parsers["other actions"] = p

    p = RocketParser(prog="odd mutex")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--a", action="store_true")
    group.add_argument("--b", action="store_true")
    p.add_argument("--name")
    parsers["mutex"] = p

    p = RocketParser(prog="odd prefixes", prefix_chars="-+")
    p.add_argument("--name")
    p.add_argument("+x", action="store_true")
    parsers["prefix chars"] = p

    p = RocketParser(prog="odd negative")
    p.add_argument("-1", dest="one", action="store_true")
    p.add_argument("--name")
    parsers["negative-number option"] = p

    p = RocketParser(prog="odd positional")
    p.add_argument("thing")
    p.add_argument("--name")
    parsers["positional"] = p

    p = RocketParser(prog="odd namespace names")
    p.add_argument("--kw", dest="_get_kwargs")
    p.add_argument("--name")
    parsers["namespace-name dest"] = p

    p = RocketParser(prog="odd abbrev", allow_abbrev=True)
    p.add_argument("--name")
    p.add_argument("--names")
    parsers["abbreviations"] = p

    p = RocketParser(prog="odd choices")
    p.add_argument("--letters", choices="abc")  # a str: `in` is a substring test
    p.add_argument("--number", type=int, choices=range(3))
    parsers["choices"] = p
    return parsers


def _alone(group: str, sub: str) -> RocketParser:
    parser = _subcommand(group, sub)
    assert parser is not None
    return parser


ODD = _odd_parsers()
SUBCOMMANDS = {
    f"{group} {sub}": parser for group in GRAMMAR for sub, parser in GRAMMAR[group].subs.items()
}
PARSERS: dict[str, argparse.ArgumentParser] = {
    **SUBCOMMANDS,
    **{f"{group} {sub} (as parse gets it)": _alone(group, sub)
       for group in GRAMMAR for sub in GRAMMAR[group].subs},
    **{f"{group} (group)": GRAMMAR[group].parser for group in GRAMMAR},
    "audit": audit_parser(),
    **{f"odd {name}": parser for name, parser in ODD.items()},
}

OPTIONS = sorted({string for parser in PARSERS.values() for string in parser._option_string_actions})
TRICKY = [
    "", " ", "-", "--", "---", "-1", "-1.5", "-x", "-f", "-h", "--help", "help", "HELP", "--name=x",
    "--name=", "--na", "--n", "--NAME", "--name x", "a b", "x=y", "+x", "+", "member", "admin",
    "team_lead", "Member", "red", "blue", "a", "ab", "1", "0", "2", "7", "20", "50", "51", "100000",
    "100001", " 3 ", "\u0661", "1e3", "U1", "@U1", "@", "@ ", "==SUPPRESS==", "é", "🚀", "\u00a0",
    "\u200b", "\x00", "İ", "ß", "\U0001f9d1\u200d\U0001f680", "++", "'", '"', "\\",
]

PLAIN = [word for word in TRICKY if not word.startswith("-")]  # the values the fast path takes


def _words(parser: argparse.ArgumentParser) -> st.SearchStrategy[list[str]]:
    """Word lists for ``parser``: any of its option strings, others' and tricky words; lines of
    its store options with values and its flags, which the fast path takes unless a value is
    odd; and such lines with one word of the first kind put in."""
    actions = parser._option_string_actions
    own = sorted(actions)
    stores = sorted(string for string, action in actions.items() if type(action) is argparse._StoreAction)
    flags = sorted(string for string, action in actions.items()
                   if type(action) in (argparse._StoreTrueAction, argparse._StoreFalseAction))
    word = st.one_of(st.sampled_from(own), st.sampled_from(OPTIONS), st.sampled_from(TRICKY),
                     st.text(max_size=6))
    store = st.sampled_from(stores).flatmap(lambda s: st.tuples(st.just(s), _value(actions[s])).map(list)) \
        if stores else st.nothing()
    flag = st.sampled_from(flags).map(lambda f: [f]) if flags else st.nothing()
    items = st.lists(st.one_of(store, flag), max_size=6) if stores or flags else st.just([])
    line = items.map(lambda items: [w for ws in items for w in ws])
    spoilt = st.tuples(line, st.integers(0, 12), word).map(lambda t: [*t[0][:t[1]], t[2], *t[0][t[1]:]])
    kinds = [st.lists(word, max_size=8), spoilt, line, line]  # half of them plain lines
    return st.integers(0, len(kinds) - 1).flatmap(lambda kind: kinds[kind])


def _value(action: argparse.Action) -> st.SearchStrategy[str]:
    """A value word for ``action``: often a good one (its choices, a small number, a plain word)."""
    choices = st.sampled_from([str(c) for c in action.choices]) if action.choices else st.nothing()
    return st.one_of(choices, choices, st.integers(-3, 60).map(str), st.sampled_from(TRICKY),
                     st.sampled_from(PLAIN), st.text(max_size=6))


# half the cases on a parser without positionals or an odd one, so the fast path is often tried
FOCUS = sorted(name for name, parser in PARSERS.items()
               if name.startswith("odd") or all(action.option_strings for action in parser._actions))
parser_and_words = st.one_of(st.sampled_from(sorted(PARSERS)), st.sampled_from(FOCUS)).flatmap(
    lambda name: st.tuples(st.just(name), _words(PARSERS[name]))
)


def _argparse(parser: argparse.ArgumentParser, words: list[str]) -> tuple[argparse.Namespace, list[str]]:
    """Plain argparse: ``ArgumentParser.parse_known_args`` itself, past RocketParser's fast path
    (turned off too, for the subcommand parser a group parser hands the words to)."""
    with fast_path(False):
        return argparse.ArgumentParser.parse_known_args(parser, list(words))


@contextmanager
def fast_path(enabled: bool) -> Iterator[None]:
    before, fastparse.ENABLED = fastparse.ENABLED, enabled
    try:
        yield
    finally:
        fastparse.ENABLED = before


def _typed(values: dict[str, Any]) -> dict[str, tuple[type, Any]]:
    return {key: (type(value), value) for key, value in values.items()}


@settings(max_examples=1500, deadline=None)
@given(case=parser_and_words)
def test_the_fast_path_answers_what_argparse_answers(case: tuple[str, list[str]]) -> None:
    name, words = case
    parser = PARSERS[name]
    fast = fastparse.parse_options(parser, list(words))
    event("fast path" if fast is not None else "argparse")
    if fast is None:
        return
    try:
        namespace, extra = _argparse(parser, words)
    except (argparse.ArgumentError, ParseError, _HelpRequested) as exc:
        raise AssertionError(f"{name} {words!r}: the fast path answered {fast}, argparse: {exc}") from exc
    assert extra == []
    assert type(fast) is argparse.Namespace
    assert _typed(vars(fast)) == _typed(vars(namespace))
    assert list(vars(fast)) == list(vars(namespace))  # the same order, too


def _outcome(text: str) -> tuple[Any, ...]:
    try:
        result = parse(text)
    except ParseError as exc:
        return ("error", exc.message, exc.help, exc.name)
    if isinstance(result, Parsed):
        return ("parsed", result, _typed(result.kwargs))
    assert isinstance(result, Help)
    return ("help", result)


def _lines() -> st.SearchStrategy[str]:
    command = st.sampled_from(sorted(SUBCOMMANDS) + ["audit", "user", "team", "USER EDIT"])
    words = st.sampled_from(sorted(SUBCOMMANDS)).flatmap(lambda name: _words(SUBCOMMANDS[name]))
    return st.one_of(
        st.tuples(command, words).map(lambda t: f"{t[0]} {shlex.join(t[1])}"),
        st.tuples(command, words).map(lambda t: " ".join([t[0], *t[1]])),
    )


@settings(max_examples=600, deadline=None)
@given(text=_lines())
def test_parse_is_the_same_with_and_without_the_fast_path(text: str) -> None:
    with fast_path(False):
        expected = _outcome(text)
    with fast_path(True):
        assert _outcome(text) == expected


# --- the hot lines take it -----------------------------------------------------------------

HOT = [
    ('user edit --name "Bench 3"', {"name": "Bench 3"}),
    ("user edit --bio x --major y", {"bio": "x", "major": "y"}),
    ("user edit --permission admin --username @U1", {"permission": "admin", "target": "U1"}),
    ("user edit --NAME x --name y", {"name": "y"}),  # folded, last repeat wins
    ("user view --username U1 --inspect", {"slack_id": "U1", "inspect": True}),
    ("user add -f", {"force": True}),
    ("team list --page 2", {"page": 2}),
    ("team list", {"page": 1}),
    ("team refresh --dry-run", {"dry_run": True}),
    ("project list --page 3", {"page": 3}),
    ("karma reset --all", {}),  # `all` only confirms: not a field of ResetKarma
    ("export emails --team web", {"team": "web"}),
    ("audit --limit 5 --team web", {"limit": 5, "team": "web"}),
]
SLOW = [  # argparse's own: a positional, --opt=value, an error, help
    "team edit web --name x", "team view web", "user delete U1", "user edit --name=x",
    "user edit --name", "user edit --permission boss", "team list --page 0", "karma reset",
    "user edit -h", "user edit --bio -x",
]


@pytest.fixture
def argparse_passes(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The word lists argparse's own parsing ran on."""
    passes: list[list[str]] = []
    real = argparse.ArgumentParser._parse_known_args

    def counted(self: argparse.ArgumentParser, arg_strings: list[str], *args: Any) -> Any:
        passes.append(list(arg_strings))
        return real(self, arg_strings, *args)

    monkeypatch.setattr(argparse.ArgumentParser, "_parse_known_args", counted)
    return passes


@pytest.mark.parametrize(("line", "given"), HOT)
def test_the_hot_lines_take_the_fast_path(line: str, given: dict[str, Any],
                                          argparse_passes: list[list[str]]) -> None:
    parsed = parse(line)
    assert argparse_passes == []
    assert isinstance(parsed, Parsed)
    assert {key: parsed.kwargs[key] for key in given} == given
    with fast_path(False):
        expected = _outcome(line)
    assert len(argparse_passes) == 1  # without the fast path, argparse parsed it
    assert _outcome(line) == expected


@pytest.mark.parametrize("line", SLOW)
def test_other_lines_go_through_argparse(line: str, argparse_passes: list[list[str]]) -> None:
    _outcome(line)
    assert len(argparse_passes) == 1


def test_a_disabled_fast_path_answers_nothing() -> None:
    with fast_path(False):
        assert fastparse.parse_options(SUBCOMMANDS["user edit"], ["--name", "x"]) is None


def test_a_parser_changed_after_its_first_parse_is_read_again() -> None:
    parser = build_group("user").subs["edit"]
    assert fastparse.parse_options(parser, ["--new", "x"]) is None
    parser.add_argument("--new", type=int, default="5")
    parser.set_defaults(name="nobody")
    namespace = fastparse.parse_options(parser, ["--new", "3"])
    assert namespace is not None and (namespace.new, namespace.name) == (3, "nobody")
    parser.set_defaults(name="somebody")
    namespace = fastparse.parse_options(parser, [])
    assert namespace is not None and (namespace.new, namespace.name) == (5, "somebody")
    assert vars(namespace) == vars(_argparse(parser, [])[0])


def test_a_subclass_that_parses_differently_is_left_to_argparse() -> None:
    class Custom(RocketParser):
        def _get_value(self, action: argparse.Action, arg_string: str) -> Any:
            return arg_string.upper()

    parser = Custom(prog="custom")
    parser.add_argument("--name")
    assert fastparse.parse_options(parser, ["--name", "x"]) is None
    assert parser.parse_known_args(["--name", "x"])[0].name == "X"
