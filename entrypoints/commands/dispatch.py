"""Run one ``/rocket`` command line as a user: unescape, parse, build the command, hand it to
the bus, render.

``run_command`` never raises (except ``asyncio.CancelledError``): a malformed line gets the
relevant help text, a refusal or failure from the core gets a clear sentence, and anything
unexpected is logged and answered with a short "Something went wrong" reply.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Protocol

from adapters.slack.render import render_blocks, render_slack_text, text_blocks
from core.errors import (
    Conflict,
    IntegrationUnavailable,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RocketError,
    StorageUnavailable,
    UpstreamError,
)
from core.validation import bad_char
from entrypoints.commands.escapes import unescape
from entrypoints.commands.grammar import Help, Parsed, ParseError, parse
from entrypoints.commands.plain import render_plain
from entrypoints.commands.reply import Reply

if TYPE_CHECKING:
    from core.commands import Command

log = logging.getLogger("rocket.commands")


class Bus(Protocol):
    """What ``run_command`` needs of the bus: ``core.bus.MessageBus``, or a stand-in that builds
    one on first use (the CLI's ``entrypoints.quick.LazyBus``: help and malformed lines need no
    handlers)."""

    async def handle(self, command: Command[Any]) -> Any: ...


MAX_TEXT = 4000
SOMETHING_WENT_WRONG = "Something went wrong running that command; it was logged. Please try again later."


def _refusal(text: str, command: str = "", help_text: str = "") -> Reply:
    blocks = text_blocks(text)
    if help_text:
        text = f"{text}\n\n{help_text}"
        blocks += text_blocks(help_text, preformatted=True)
    return Reply(False, None, text, blocks[:50], command)


def error_text(error: RocketError) -> str:
    """The reply for an error raised by the core or an adapter."""
    if isinstance(error, PermissionDenied):
        return f"Permission denied: {error.message}"
    if isinstance(error, (NotFound, Conflict, InvalidInput, IntegrationUnavailable, UpstreamError)):
        return error.message  # e.g. "GitHub is not configured", "GitHub refused: …"
    if isinstance(error, StorageUnavailable):
        return error.message
    return error.message or "That did not work."


def _clean(text: object) -> str:
    """Text that is safe to handle: a str with lone surrogates replaced."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    return text.encode("utf-8", "replace").decode("utf-8")


async def run_command(bus: Bus, actor: str, text: str) -> Reply:
    """Run ``/rocket TEXT`` as the Slack user ``actor`` and return the reply (never raises).

    ``text`` is the raw slash-command text as Slack sends it (escapes are undone here).
    Lines longer than ``MAX_TEXT`` characters are refused without being parsed.
    """
    too_long = isinstance(text, str) and len(text) > MAX_TEXT  # refused as such by _run, unscanned
    problem = None if too_long else next(
        (bad_char(v) for v in (actor, text) if isinstance(v, str) and bad_char(v)), None)
    if problem:
        return _refusal(f"That command contains {problem}, which Rocket cannot store. Nothing was done.")
    try:
        return await _run(bus, _clean(actor).strip(), _clean(text))
    except Exception:
        log.exception("command failed unexpectedly (actor=%r)", actor)
        return Reply(False, None, SOMETHING_WENT_WRONG, text_blocks(SOMETHING_WENT_WRONG))


async def _run(bus: Bus, actor: str, text: str) -> Reply:
    if len(text) > MAX_TEXT:
        return _refusal(
            f"That command is too long ({len(text):,} characters; the limit is {MAX_TEXT:,}). "
            "Nothing was done."
        )
    if not actor:
        return _refusal("No user given: a command must be run as a Slack user id.")
    try:
        parsed = parse(unescape(text))
    except ParseError as error:
        return _refusal(error.message, error.name, error.help)
    if isinstance(parsed, Help):
        return Reply(True, None, parsed.text, text_blocks(parsed.text, preformatted=True), parsed.name)
    return await _call(bus, actor, parsed)


async def _call(bus: Bus, actor: str, command: Parsed) -> Reply:
    try:
        result = await bus.handle(command.build(actor))
    except RocketError as error:
        log.debug("%s refused for %s: %s", command.name, actor, error)
        return _refusal(error_text(error), command.name)
    except Exception:
        log.exception("%s failed unexpectedly for %s", command.name, actor)
        return Reply(False, None, SOMETHING_WENT_WRONG, text_blocks(SOMETHING_WENT_WRONG), command.name)
    try:
        text, blocks, rich = render_plain(result), render_blocks(result), render_slack_text(result)
    except Exception:
        log.exception("%s succeeded but its result could not be rendered", command.name)
        text, blocks, rich = "Done (the result could not be displayed).", [], ""
    return Reply(True, result, text or "Done.", blocks, command.name, slack_text=rich if text else "")
