"""Run one ``/rocket`` command line as a user: unescape, parse, build the command, hand it to
the bus, render.

``run_command`` never raises (except ``asyncio.CancelledError``): a malformed line gets the
relevant help text, a refusal or failure from the core gets a clear sentence, and anything
unexpected is logged and answered with a short "Something went wrong" reply.

Start-up (``rocket exec``, issue 17): the Slack rendering module (``adapters.slack.render``)
is imported when a reply needs it, not with this module; the CLI, which prints text only,
asks for no blocks (nor Slack text), so help and refusals never import it, and a result is
rendered as plain text only.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any, Protocol

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


@functools.cache
def _render() -> ModuleType:
    """``adapters.slack.render``, imported on first use (see the module docstring) and then
    held, so a served command pays no import statement."""
    import adapters.slack.render as render

    return render


@functools.cache
def _plain() -> Callable[[Any], str]:
    """``entrypoints.commands.plain.render_plain``, imported on first use (it imports render)."""
    from entrypoints.commands.plain import render_plain

    return render_plain


def text_blocks(text: str, *, preformatted: bool = False) -> list[dict[str, Any]]:
    """``adapters.slack.render.text_blocks`` (imported on first use: see the module docstring)."""
    blocks: list[dict[str, Any]] = _render().text_blocks(text, preformatted=preformatted)
    return blocks


def _refusal(text: str, command: str = "", help_text: str = "", *, blocks: bool = True) -> Reply:
    shown = text_blocks(text) if blocks else []
    if help_text:
        text = f"{text}\n\n{help_text}"
        if blocks:
            shown += text_blocks(help_text, preformatted=True)
    return Reply(False, None, text, shown[:50], command)


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


async def run_command(bus: Bus, actor: str, text: str, *, blocks: bool = True) -> Reply:
    """Run ``/rocket TEXT`` as the Slack user ``actor`` and return the reply (never raises).

    ``text`` is the raw slash-command text as Slack sends it (escapes are undone here).
    Lines longer than ``MAX_TEXT`` characters are refused without being parsed.
    ``blocks=False`` (a caller that shows ``text`` only, the CLI): the reply comes without
    ``blocks`` and, for a result, without ``slack_text`` (neither Slack form is rendered);
    every other field is the same.
    """
    too_long = isinstance(text, str) and len(text) > MAX_TEXT  # refused as such by _run, unscanned
    problem = None if too_long else next(
        (bad_char(v) for v in (actor, text) if isinstance(v, str) and bad_char(v)), None)
    if problem:
        return _refusal(f"That command contains {problem}, which Rocket cannot store. Nothing was done.",
                        blocks=blocks)
    try:
        return await _run(bus, _clean(actor).strip(), _clean(text), blocks)
    except Exception:
        log.exception("command failed unexpectedly (actor=%r)", actor)
        return Reply(False, None, SOMETHING_WENT_WRONG, text_blocks(SOMETHING_WENT_WRONG) if blocks else [])


async def _run(bus: Bus, actor: str, text: str, blocks: bool) -> Reply:
    if len(text) > MAX_TEXT:
        return _refusal(
            f"That command is too long ({len(text):,} characters; the limit is {MAX_TEXT:,}). "
            "Nothing was done.", blocks=blocks,
        )
    if not actor:
        return _refusal("No user given: a command must be run as a Slack user id.", blocks=blocks)
    try:
        parsed = parse(unescape(text))
    except ParseError as error:
        return _refusal(error.message, error.name, error.help, blocks=blocks)
    if isinstance(parsed, Help):
        shown = text_blocks(parsed.text, preformatted=True) if blocks else []
        return Reply(True, None, parsed.text, shown, parsed.name)
    return await _call(bus, actor, parsed, blocks)


async def _call(bus: Bus, actor: str, command: Parsed, want_blocks: bool) -> Reply:
    try:
        result = await bus.handle(command.build(actor))
    except RocketError as error:
        log.debug("%s refused for %s: %s", command.name, actor, error)
        return _refusal(error_text(error), command.name, blocks=want_blocks)
    except Exception:
        log.exception("%s failed unexpectedly for %s", command.name, actor)
        return Reply(False, None, SOMETHING_WENT_WRONG,
                     text_blocks(SOMETHING_WENT_WRONG) if want_blocks else [], command.name)
    try:
        if want_blocks:  # the text, blocks and Slack text of one view
            text, blocks, rich = _render().render_reply(result)
        else:  # the CLI shows the text alone: neither Slack form is rendered
            text, blocks, rich = _plain()(result), [], ""
    except Exception:
        log.exception("%s succeeded but its result could not be rendered", command.name)
        text, blocks, rich = "Done (the result could not be displayed).", [], ""
    return Reply(True, result, text or "Done.", blocks, command.name, slack_text=rich if text else "")
