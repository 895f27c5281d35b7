"""The parser's fast paths: the tokenizer gives exactly shlex's words (and shlex's error for bad
quoting); a subcommand's words parsed by its own parser give what the group parser gives."""

from __future__ import annotations

import shlex
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entrypoints.commands import grammar
from entrypoints.commands.grammar import (
    GRAMMAR,
    WHITESPACE,
    ParseError,
    _HelpRequested,
    _parse_group,
    _words,
    parse,
    tokenize,
)

PIECES = ["a", "bc", " ", "\t", "\n", "\u00a0", "\u3000", "'", '"', "\\", "é", "--name", "<@U1|x>", "🚀",
          "\r"]


def shlex_words(text: str) -> list[str] | None:
    """The reference: POSIX shlex configured as the grammar's lexer; None when it refuses."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.whitespace = WHITESPACE
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError:
        return None


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=16).map("".join))
def test_the_fast_lexer_splits_as_shlex_does(text: str) -> None:
    assert _words(text) == shlex_words(text)


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from([p for p in PIECES if p not in ("'", "\\")] + ['"', '""']), max_size=16)
       .map("".join))
def test_a_line_quoted_with_double_quotes_only_splits_as_shlex_does(text: str) -> None:
    """The ``"…"``-only shortcut of ``_words`` (no backslash, no single quote)."""
    assert _words(text) == shlex_words(text)


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=40))
def test_any_text_splits_as_shlex_does(text: str) -> None:
    assert _words(text) == shlex_words(text)


@pytest.mark.parametrize(("text", "words"), [
    ('user edit --name "Bench 1"', ["user", "edit", "--name", "Bench 1"]),
    ("a\"\"b ''", ["ab", ""]),
    (r'x "q\"uote \\ \n"', ["x", 'q"uote \\ \\n']),
    ("es\\ caped\u00a0nbsp", ["es caped", "nbsp"]),
])
def test_examples(text: str, words: list[str]) -> None:
    assert tokenize(text) == words == shlex_words(text)


@pytest.mark.parametrize(("text", "message"), [
    ('user edit --name "Bench', "No closing quotation"),
    ("user edit --bio 'x", "No closing quotation"),
    ("user edit --bio x\\", "No escaped character"),
])
def test_bad_quoting_is_shlex_s_error(text: str, message: str) -> None:
    with pytest.raises(ParseError) as caught:
        tokenize(text)
    assert message in caught.value.message


# --- the subcommand shortcut of parse() -----------------------------------------------------

WORDS = sorted({opt for group in GRAMMAR.values() for sub in group.subs.values()
                for action in sub._actions for opt in action.option_strings}
               | {"U1", "<@U2>", "backend", "x y", "-", "--", "3", "-1", "help", "true"})
SUBCOMMANDS = [(g, s) for g, group in GRAMMAR.items() for s in group.subs]


def _through_argparse(group: str, words: list[str]) -> object:
    try:
        namespace, extra = GRAMMAR[group].parser.parse_known_args(words)
        return vars(namespace), extra
    except (ParseError, _HelpRequested) as exc:
        return type(exc).__name__, str(exc)


def _through_shortcut(group: str, words: list[str]) -> object:
    try:
        namespace, extra = _parse_group(GRAMMAR[group], words)
        return vars(namespace), extra
    except (ParseError, _HelpRequested) as exc:
        return type(exc).__name__, str(exc)


@settings(max_examples=1500, deadline=None)
@given(st.sampled_from(SUBCOMMANDS), st.lists(st.sampled_from(WORDS), max_size=6))
def test_the_subcommand_shortcut_parses_as_the_group_parser(pick: tuple[str, str], words: list[str]) -> None:
    group, sub = pick
    assert _through_shortcut(group, [sub, *words]) == _through_argparse(group, [sub, *words])


def _parsed(line: str) -> object:
    try:
        return parse(line)
    except ParseError as exc:
        return exc.message, exc.help, exc.name


@settings(max_examples=800, deadline=None)
@given(st.sampled_from(SUBCOMMANDS), st.lists(st.sampled_from(WORDS), max_size=5), st.booleans())
def test_a_line_parsed_by_its_subcommand_s_parser_alone_is_parsed_as_through_its_group(
        pick: tuple[str, str], words: list[str], shout: bool) -> None:
    group, sub = pick
    line = shlex.join([group, sub.upper() if shout else sub, *words])
    alone = _parsed(line)  # `_subcommand`: that subcommand's parser (issue 17)
    with mock.patch.object(grammar, "_subcommand", lambda _group, _sub: None):
        through_group = _parsed(line)  # the group's parser, as before the fast path
    assert alone == through_group
