"""Slack's escapes are undone exactly as CONTRACT.md lists, before any parsing."""

from __future__ import annotations

import pytest

from entrypoints.commands.escapes import unescape


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # the contract's list
        ("<@U123|name>", "U123"),
        ("<@U123>", "U123"),
        ("<mailto:a@b.c|a@b.c>", "a@b.c"),
        ("<https://x/y|x/y>", "https://x/y"),
        ("<https://x/y>", "https://x/y"),
        ("<#C123|general>", "C123"),
        ("<#C123>", "C123"),
        ("\u201cquoted words\u201d", '"quoted words"'),
        ("\u2018single\u2019", "'single'"),
        ("\u2014name", "--name"),
        ("&amp;", "&"),
        ("&lt;", "<"),
        ("&gt;", ">"),
        # in context
        ("<@U123|alice> ++", "U123 ++"),
        ("team add ios <@W0ABC|bob smith>", "team add ios W0ABC"),
        (
            "user edit \u2014email <mailto:me@x.org|me@x.org> \u2014bio \u201cI\u2019m here\u201d",
            "user edit --email me@x.org --bio \"I'm here\"",
        ),
        (
            "project create <https://github.com/o/r|github.com/o/r> ios",
            "project create https://github.com/o/r ios",
        ),
        ("team create t --channel <#C9|random>", "team create t --channel C9"),
        ("--bio \"R&amp;D &lt;3\"", '--bio "R&D <3"'),
    ],
)
def test_contract_escapes(raw: str, expected: str) -> None:
    assert unescape(raw) == expected


def test_entities_are_decoded_once() -> None:
    # Slack sends a typed "&lt;" as "&amp;lt;": it must come back as "&lt;", not "<".
    assert unescape("&amp;lt;b&amp;gt;") == "&lt;b&gt;"


def test_decoded_angle_brackets_never_form_a_mention() -> None:
    # The user typed the characters "<@U1>" literally; Slack sent them as entities.
    assert unescape("&lt;@U1&gt;") == "<@U1>"


def test_entities_inside_a_link_are_decoded() -> None:
    assert unescape("<https://x.org/p?a=1&amp;b=2|x.org>") == "https://x.org/p?a=1&b=2"


@pytest.mark.parametrize("raw", ["<!here>", "<!subteam^S1|@devs>", "a < b > c", "<>", "x<y"])
def test_other_angle_brackets_are_left_alone(raw: str) -> None:
    assert unescape(raw) == raw


@pytest.mark.parametrize("raw", ["team list", "user edit --name 'A B'", "ünïcödé ✓ 🚀", ""])
def test_plain_text_is_unchanged(raw: str) -> None:
    assert unescape(raw) == raw
