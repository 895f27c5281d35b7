"""Undo what Slack does to the text of a slash command, before it is tokenized.

Exactly the contract's list:

- ``<@U123|name>`` and ``<@U123>`` become ``U123`` (user mentions);
- ``<#C123|general>`` and ``<#C123>`` become ``C123`` (channel mentions);
- ``<mailto:a@b.c|a@b.c>`` becomes ``a@b.c``;
- ``<https://x/y|x/y>`` and ``<https://x/y>`` become ``https://x/y`` (any ``scheme:`` link);
- the HTML entities Slack sends, ``&amp;`` ``&lt;`` ``&gt;``, become ``&`` ``<`` ``>``;
- smart quotes “ ” ‘ ’ become plain quotes ``"`` ``'``; an em dash ``—`` becomes ``--``.

Entities are decoded in one pass (``&amp;lt;`` becomes ``&lt;``, not ``<``), and a ``<``
produced by decoding never starts a link. Anything else in angle brackets (``<!here>``,
``<!subteam^S1|@team>``) is left as it is.
"""

from __future__ import annotations

import functools
import re

_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2014": "--"})


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The token, entity, mention and link patterns, compiled on first use: a line without
    ``<`` or ``&`` (most typed lines, ``help``) needs none (start-up, issue 17)."""
    return (
        re.compile(r"<([^<>]*)>|&(amp|lt|gt);"),  # one scan: a Slack <...> sequence, or an entity
        re.compile(r"&(amp|lt|gt);"),
        re.compile(r"[@#]([A-Za-z0-9_]+)(?:\|.*)?", re.DOTALL),
        re.compile(r"([A-Za-z][A-Za-z0-9+.-]*:[^|\s]+)(?:\|.*)?", re.DOTALL),
    )


def _decode_entities(text: str) -> str:
    return _patterns()[1].sub(lambda m: _ENTITIES[m.group(1)], text)


def _replace(match: re.Match[str]) -> str:
    if match.group(2) is not None:
        return _ENTITIES[match.group(2)]
    inner = match.group(1)
    _, _, mention_pattern, link_pattern = _patterns()
    mention = mention_pattern.fullmatch(inner)
    if mention:
        return mention.group(1)
    link = link_pattern.fullmatch(inner)
    if link:
        target = _decode_entities(link.group(1))
        if target.lower().startswith("mailto:"):
            return target[len("mailto:") :]
        return target
    return _decode_entities(match.group(0))


def unescape(text: str) -> str:
    """The text as the user typed it (see the module docstring for the exact rules)."""
    if "<" not in text and "&" not in text:  # no sequence nor entity: nothing to undo
        return text.translate(_QUOTES)
    return _patterns()[0].sub(_replace, text).translate(_QUOTES)
