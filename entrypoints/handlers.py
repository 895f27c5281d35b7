"""What Rocket does with a verified request, shared by the HTTP app and Socket Mode.

Transport code (entrypoints/http.py, entrypoints/socket_mode.py) verifies and decodes a
request, then calls one of these methods; nothing here knows about HTTP.

- ``slash_command``: runs ``/rocket TEXT``; answers inline when done within
  ``inline_seconds``, else answers "working on it" and POSTs the reply to ``response_url``.
- ``slack_event``: ``url_verification`` and ``team_join``; each ``event_id`` handled once.
- ``github_webhook``: turns the payload into a typed event (``adapters.github.events``) and
  hands it to the bus; each delivery id handled once. The notice to
  ``SLACK_NOTIFICATION_CHANNEL`` is posted by the bus's ``Notices`` subscriber.

Every change goes through ``bus.handle(command)``.

De-duplication: an event or delivery id is first claimed for ``IN_PROGRESS_SECONDS`` and only
marked handled (for ``DEDUP_SECONDS``) once applied. When applying fails the claim is released;
if even that fails (the database is down) the claim lapses by itself, so a retry from Slack or
a redelivery from GitHub is applied instead of being taken for a duplicate.
``StorageUnavailable`` propagates (the HTTP app answers 503, so the sender retries).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from adapters.github.events import WebhookScope, ignored_summary, parse_webhook
from adapters.unavailable import Unavailable
from core.audit import audit_scope
from core.bus import MessageBus
from core.commands import OnboardUser
from core.context import Ports, Settings
from core.errors import IntegrationUnavailable, RocketError, StorageUnavailable
from core.results import EventOutcome, TeamResult
from core.subscribers.home import CONCERNING, HomeRefresh
from core.validation import bad_text_in
from entrypoints.commands.dispatch import run_command
from entrypoints.deadlines import Deadlines
from entrypoints.interactions import Surfaces
from entrypoints.metrics import Metrics

log = logging.getLogger("rocket.requests")

DEDUP_SECONDS = 7 * 24 * 3600
IN_PROGRESS_SECONDS = 60
KNOWN_GITHUB_EVENTS = {"ping", "organization", "team", "membership", "team_add", "repository", "push"}
INLINE_SECONDS = 2.0  # a slash command's inline budget by default (Slack waits 3 s)
MAX_COMMAND_SECONDS = 600

_REFRESHED_BUSES: weakref.WeakSet[MessageBus] = weakref.WeakSet()
Responder = Callable[[str, dict[str, Any]], Awaitable[None]]


async def post_to_response_url(url: str, payload: dict[str, Any]) -> None:
    """Deliver a delayed reply with slack-sdk's webhook client."""
    from slack_sdk.webhook.async_client import AsyncWebhookClient

    response = await AsyncWebhookClient(url, timeout=10).send_dict(payload)
    if response.status_code >= 400:
        log.warning(json.dumps({"delayed_reply": "rejected", "status": response.status_code}))


def _text(*values: Any) -> str:
    """The first non-empty string among ``values`` (Slack's fields are strings; others are ignored)."""
    return next((v for v in values if isinstance(v, str) and v), "")


def escape_reply_text(text: str) -> str:
    """``text`` escaped for Slack (``&``, ``<``, ``>``) as blocks are, so nothing echoed from a
    user (``<!channel>``, ``<@U1>``, ``<http://evil|Reset password>``) pings or forms a link.
    Rocket's own mentions and links come from the renderer (``Reply.slack_text``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


MAX_MESSAGE_TEXT = 40_000  # Slack's limit on a message's text
CUT_NOTE = "\n… cut short for Slack; `rocket exec` on the command line shows everything."


def clip_message_text(text: str) -> str:
    """``text`` within ``MAX_MESSAGE_TEXT``: when longer, cut at the last line end that fits (a
    note saying so appended), so a view of a team of 50,000 members is still a valid message."""
    if len(text) <= MAX_MESSAGE_TEXT:
        return text
    room = MAX_MESSAGE_TEXT - len(CUT_NOTE)
    cut = text.rfind("\n", 0, room)
    if cut > room // 2:
        head = text[:cut]
    else:  # no line end near: cut anywhere, but never inside an entity such as &amp;
        head = text[:room]
        amp = head.rfind("&")
        if amp > room - 6 and ";" not in head[amp:]:
            head = head[:amp]
    return head + CUT_NOTE


def reply_payload(text: str, blocks: list[dict[str, Any]] | None = None,
                  slack_text: str = "") -> dict[str, Any]:
    """A slash command's reply for Slack: ``slack_text`` (mrkdwn the renderer built, user data
    escaped) when given, else ``text`` escaped (``escape_reply_text``); blocks as given (their
    user data is escaped where they are built)."""
    payload: dict[str, Any] = {"response_type": "ephemeral",
                               "text": clip_message_text(slack_text or escape_reply_text(text))}
    if blocks:
        payload["blocks"] = blocks
    return payload


@dataclass
class Outcome:
    """An HTTP-agnostic answer: status code and JSON body."""

    status: int
    body: dict[str, Any]


_BUDGETS = Deadlines()  # the inline budgets of the commands in flight: one timer for all


async def finished_within(task: asyncio.Task[Any], seconds: float) -> bool:
    """Whether ``task`` is done within ``seconds``; it is never cancelled. (``asyncio.wait`` for
    one task, without its sets and closures and with a shared timer: this runs for every slash
    command.)"""
    if task.done():
        return True
    woken: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def wake(_: object = None) -> None:
        if not woken.done():
            woken.set_result(None)

    key = _BUDGETS.add(seconds, wake)
    task.add_done_callback(wake)
    try:
        await woken
    finally:
        _BUDGETS.discard(key)
        task.remove_done_callback(wake)
    return task.done()


class RocketHandlers:
    def __init__(self, bus: MessageBus, ports: Ports, settings: Settings, metrics: Metrics,
                 responder: Responder = post_to_response_url, inline_seconds: float | None = None) -> None:
        self.bus = bus
        self.ports = ports
        self.settings = settings
        self.metrics = metrics
        self.responder = responder
        if inline_seconds is None:
            inline_seconds = INLINE_SECONDS
        self.inline_seconds = inline_seconds
        self._background: set[asyncio.Task[Any]] = set()
        self.surfaces = Surfaces(bus, ports, self._respond, settings, inline_seconds)
        if bus not in _REFRESHED_BUSES:  # once per bus, however many handlers share it
            _REFRESHED_BUSES.add(bus)
            refresh = HomeRefresh(self.surfaces.refresh_home)
            for kind in CONCERNING:  # a change concerning a user republishes their Home tab
                bus.subscribe(kind, refresh.on_event)

    # --- slash commands -----------------------------------------------------------------------
    async def slash_command(self, form: Mapping[str, str]) -> dict[str, Any]:
        """The reply payload to send now; a slow command's result goes to ``response_url``."""
        actor, text = form.get("user_id", ""), form.get("text", "")
        if not actor:
            return reply_payload("This request has no user_id; nothing was done.")
        trigger = form.get("trigger_id", "")
        if trigger and text.replace("\u00a0", " ").lower().split() == ["user", "edit"]:
            try:  # no options: the profile editor, a modal
                await self.surfaces.open_profile_editor(actor, trigger)
                return reply_payload("Opening your profile editor…")
            except StorageUnavailable:
                raise
            except RocketError as exc:
                log.warning(json.dumps({"kind": "modal", "outcome": "not opened", "error": str(exc)[:200]}))
        if trigger and text.replace("\u00a0", " ").lower().split() == ["team", "create"]:
            try:  # no arguments: the team dialog, a modal
                refused = await self.surfaces.open_team_creator(actor, trigger)
                return reply_payload(refused or "Opening the team dialog…")
            except StorageUnavailable:
                raise
            except RocketError as exc:
                log.warning(json.dumps({"kind": "modal", "outcome": "not opened", "error": str(exc)[:200]}))
        task = asyncio.create_task(self._timed_command(actor, text))
        budget = self.inline_seconds  # 0 or less: every command answers later
        if budget <= 0 or not await finished_within(task, budget):
            # slower than the inline budget: it goes on, and its answer follows
            url = form.get("response_url", "")
            self._keep(asyncio.create_task(self._finish_later(task, url, actor)))
            return reply_payload("Working on it… the answer will follow here shortly.")
        reply = task.result()
        return reply_payload(reply.text, await self._with_buttons(actor, reply), reply.slack_text)

    async def _with_buttons(self, actor: str, reply: Any) -> list[dict[str, Any]]:
        """The reply's blocks, plus the team buttons under a ``team view`` for its leads and admins
        (``Surfaces.team_buttons``); a lookup failure only leaves the buttons out."""
        blocks: list[dict[str, Any]] = list(reply.blocks or [])
        if reply.command != "team view" or not isinstance(reply.result, TeamResult) or not blocks:
            return blocks
        try:
            extra = await self.surfaces.team_buttons(actor, reply.result.team)
        except RocketError as exc:
            log.warning(json.dumps({"kind": "team_buttons", "outcome": "left out", "error": str(exc)[:200]}))
            return blocks
        return (blocks[: 50 - len(extra)] + extra) if extra else blocks

    async def _respond(self, url: str, payload: dict[str, Any]) -> None:
        await self.responder(url, payload)

    async def _timed_command(self, actor: str, text: str) -> Any:
        started = time.perf_counter()
        reply = await run_command(self.bus, actor, text)
        seconds = time.perf_counter() - started
        name = reply.command or "unparsed"
        outcome = "ok" if reply.ok else "refused"
        self.metrics.command(name, outcome, seconds)
        if log.isEnabledFor(logging.INFO):
            log.info(json.dumps({"kind": "command", "command": name, "user": actor, "outcome": outcome,
                                 "ms": round(seconds * 1000, 1)}))
        return reply

    async def _finish_later(self, task: asyncio.Task[Any], url: str, actor: str = "") -> None:
        try:
            reply = await asyncio.wait_for(task, MAX_COMMAND_SECONDS)
            payload = reply_payload(reply.text, await self._with_buttons(actor, reply), reply.slack_text)
        except TimeoutError:
            payload = reply_payload("That took too long and was stopped; check the result and try again.")
        if not url:
            log.warning(json.dumps({"delayed_reply": "dropped", "reason": "no response_url"}))
            return
        try:
            await self.responder(url, payload)
        except Exception:
            log.exception("could not deliver a delayed reply")

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self, timeout: float = 30) -> None:
        """Wait for delayed replies still in flight (on shutdown, and in tests)."""
        if self._background:
            await asyncio.wait(list(self._background), timeout=timeout)
        await self.surfaces.drain(timeout)

    # --- de-duplication -------------------------------------------------------------------------
    async def _first_time(self, key: str) -> str | None:
        """A lease owner token when ``key`` is new (claimed for ``IN_PROGRESS_SECONDS``), None
        when it was already handled or is being handled."""
        owner = uuid.uuid4().hex
        taken = await self.ports.store.acquire_lease(key, owner, IN_PROGRESS_SECONDS, self.ports.clock.now())
        return owner if taken else None

    async def _handled(self, key: str, owner: str) -> None:
        """Mark ``key`` handled for ``DEDUP_SECONDS`` (best effort: the change is already made)."""
        try:
            await self.ports.store.acquire_lease(key, owner, DEDUP_SECONDS, self.ports.clock.now())
        except RocketError as exc:
            log.warning(json.dumps({"kind": "dedup", "key": key[:120], "outcome": "not marked",
                                    "error": str(exc)[:200]}))

    async def _release(self, key: str, owner: str) -> None:
        """Give up the claim so a retry is applied; if storage is down it lapses by itself."""
        try:
            await self.ports.store.release_lease(key, owner)
        except RocketError as exc:
            log.warning(json.dumps({"kind": "dedup", "key": key[:120], "outcome": "not released",
                                    "error": str(exc)[:200]}))

    # --- Slack events ---------------------------------------------------------------------------
    async def slack_event(self, envelope: Mapping[str, Any]) -> Outcome:
        problem = bad_text_in(envelope)
        if problem:  # NUL or a lone surrogate anywhere: 400, nothing stored (every transport)
            self.metrics.webhook("slack", "other", "refused")
            return Outcome(400, {"ok": False, "error": f"refused text in {problem}"})
        kind = envelope.get("type")
        if kind == "url_verification":
            return Outcome(200, {"challenge": str(envelope.get("challenge", ""))})
        if kind != "event_callback" or not isinstance(envelope.get("event"), dict):
            self.metrics.webhook("slack", "other", "ignored")
            return Outcome(200, {"ok": True, "ignored": True})
        event = envelope["event"]
        event_type = str(event.get("type", ""))
        event_id = _text(envelope.get("event_id"))  # a null or numeric id is no id (was "None")
        user = event.get("user")
        if event_type != "team_join" or not isinstance(user, dict) or not _text(user.get("id")).strip():
            self.metrics.webhook("slack", "other", "ignored")  # not a team_join with a Slack user id
            return Outcome(200, {"ok": True, "ignored": True})
        if not event_id:
            return Outcome(400, {"ok": False, "error": "event_id missing"})
        owner = await self._first_time(f"slack-event:{event_id}")
        if owner is None:
            self.metrics.webhook("slack", event_type, "duplicate")
            return Outcome(200, {"ok": True, "duplicate": True})
        try:
            raw_profile = user.get("profile")
            profile: dict[str, Any] = raw_profile if isinstance(raw_profile, dict) else {}
            result = await self.bus.handle(OnboardUser(
                _text(user.get("id")),
                name=_text(profile.get("real_name"), user.get("real_name"), user.get("name")),
                email=_text(profile.get("email")),
                image_url=_text(profile.get("image_192"), profile.get("image_72")),
            ))
        except StorageUnavailable:
            await self._release(f"slack-event:{event_id}", owner)
            self.metrics.webhook("slack", event_type, "failed")
            raise
        except RocketError as exc:
            await self._release(f"slack-event:{event_id}", owner)
            self.metrics.webhook("slack", event_type, "failed")
            log.warning(json.dumps({"kind": "slack_event", "event": event_type, "outcome": "failed",
                                    "error": str(exc)}))
            return Outcome(200, {"ok": False, "error": str(exc)})
        except Exception:
            await self._release(f"slack-event:{event_id}", owner)
            raise
        await self._handled(f"slack-event:{event_id}", owner)
        self.metrics.webhook("slack", event_type, "applied")
        log.info(json.dumps({"kind": "slack_event", "event": event_type, "user": result.user.slack_id,
                             "outcome": "applied", "warnings": result.warnings}))
        return Outcome(200, {"ok": True})

    # --- GitHub webhooks ------------------------------------------------------------------------
    async def _webhook_scope(self) -> WebhookScope | None:
        """Our organization and installation, from the GitHub adapter (``GitHubApp.webhook_scope``);
        None when the adapter has no scope to offer (GitHub not configured, or a test fake)."""
        github = self.ports.github
        if isinstance(github, Unavailable):
            return None
        from adapters.github.client import GitHubApp  # imported already when GitHub is configured

        if not isinstance(github, GitHubApp):
            return None
        try:
            scope = await github.webhook_scope()
        except IntegrationUnavailable:
            return None
        return scope if isinstance(scope, WebhookScope) else None

    async def close(self) -> None:
        """Shutdown: wait for delayed replies, then stop the bus's background work (GitHub
        verifications waiting for approval)."""
        await self.drain()
        await self.bus.aclose()

    async def github_webhook(self, event: str, delivery: str, payload: Any) -> Outcome:
        label = event if event in KNOWN_GITHUB_EVENTS else "other"
        problem = bad_text_in(payload) or bad_text_in([event, delivery])
        if problem:  # NUL or a lone surrogate anywhere: 400, nothing applied
            self.metrics.webhook("github", label, "refused")
            return Outcome(400, {"ok": False, "error": f"refused text in {problem}"})
        key = f"github-delivery:{delivery}"
        owner = await self._first_time(key) if delivery else uuid.uuid4().hex
        if owner is None:
            self.metrics.webhook("github", label, "duplicate")
            return Outcome(200, {"ok": True, "duplicate": True})
        started = time.perf_counter()
        try:
            with audit_scope(key=key if delivery else ""):  # a redelivery derives the same entry ids
                outcome = await apply_github_webhook(self.bus, event, payload, await self._webhook_scope())
        except Exception:
            if delivery:
                await self._release(key, owner)
            self.metrics.webhook("github", label, "failed")
            raise
        if delivery:
            await self._handled(key, owner)
        status = "applied" if outcome.applied else "ignored"
        self.metrics.webhook("github", label, status)
        log.info(json.dumps({"kind": "github_webhook", "event": event[:40], "delivery": delivery[:64],
                             "outcome": status, "summary": outcome.summary,
                             "ms": round((time.perf_counter() - started) * 1000, 1)}))
        return Outcome(200, {"ok": True, "applied": outcome.applied, "summary": outcome.summary})


async def apply_github_webhook(bus: MessageBus, event: str, payload: Any,
                               scope: WebhookScope | None = None) -> EventOutcome:
    """Parse one webhook delivery into a typed event and hand it to the bus; a delivery
    Rocket does not handle, or (with ``scope``) about another organization or installation,
    is answered with why, changing nothing."""
    command = parse_webhook(event, payload, scope)
    if command is None:
        return EventOutcome(False, ignored_summary(event, payload))
    return await bus.handle(command)
