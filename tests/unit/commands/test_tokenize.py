"""The tokenizer's fast path gives exactly shlex's words, and shlex's error for bad quoting."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from entrypoints.commands.grammar import WHITESPACE, ParseError, _words, tokenize

PIECES = ["a", "bc", " ", "\t", "\n", "\u00a0", "\u3000", "'", '"', "\\", "é", "--name", "<@U1|x>", "🚀", "\r"]


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
