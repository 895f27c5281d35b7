"""What a ``/rocket`` command answers, whatever ran it (Slack, the CLI, a test)."""

from __future__ import annotations

from dataclasses import field
from typing import Any

from core.records import record


@record(frozen=False)
class Reply:
    """The answer to one command line.

    - ``ok``: False when the command was refused, malformed or failed (the CLI exits 1).
    - ``result``: the use-case's result object, or None (help, errors).
    - ``text``: readable plain text; never empty.
    - ``blocks``: Slack Block Kit blocks showing the same thing (may be empty).
    - ``slack_text``: ``text`` as Slack's mrkdwn (user data escaped, people as ``<@U…>`` mentions,
      GitHub logins linked); "" when the reply has no result (then Slack gets ``text`` escaped).
    - ``command``: which command it was (``"team add"``, ``"karma give"``, ``"help"``), or
      ``""`` when the line could not be parsed; for logs and metrics.
    """

    ok: bool
    result: Any = None
    text: str = ""
    blocks: list[dict[str, Any]] = field(default_factory=list)
    command: str = ""
    slack_text: str = ""
