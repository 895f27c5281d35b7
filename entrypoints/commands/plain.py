"""Plain-text rendering for the CLI: the same text function as Slack's fallback text.

The formatting of each result lives once, in ``adapters.slack.render`` (``render_text``);
this module is the CLI's name for it, plus how a whole ``Reply`` is printed.
"""

from __future__ import annotations

from typing import Any

from entrypoints.commands.reply import Reply

__all__ = ["render_plain", "reply_text"]


def render_plain(result: Any) -> str:
    """A use-case result as plain text."""
    from adapters.slack.render import render_text  # on first use: help needs no rendering (issue 17)

    return render_text(result)


def reply_text(reply: Reply) -> str:
    """What the CLI prints for a reply: its text, with a final newline."""
    return reply.text.rstrip("\n") + "\n"
