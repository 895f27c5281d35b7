"""Rocket over Slack Socket Mode (``rocket socket``): the same bot with no public URL.

Slack pushes envelopes over a websocket opened with the app-level token ``SLACK_APP_TOKEN``
(``xapp-…``, scope ``connections:write``); slack-sdk's aiohttp ``SocketModeClient`` keeps the
connection (and reconnects). Each envelope goes to :func:`handle_socket_request`, which hands
it to the same ``entrypoints.handlers.RocketHandlers`` as the HTTP app, so replies, stored
state, de-duplication and metrics are the same on both transports. There is no signature to
check: the websocket itself is authenticated by the app token.

Contract of :func:`handle_socket_request`:

- ``slash_commands``: the payload carries the same fields as the HTTP form (``user_id``,
  ``text``, ``response_url``, …) and goes to ``RocketHandlers.slash_command``. The reply is the
  ack's payload (``{"response_type": "ephemeral", "text": …}``); a command slower than the
  handlers' inline budget is acked with "Working on it…" and its result is POSTed to
  ``response_url``, exactly as over HTTP. A command that crashes is acked with an apology
  (Slack never redelivers slash commands).
- ``events_api``: the payload is the Events API envelope (``event_callback``) and goes to
  ``RocketHandlers.slack_event`` (``team_join`` stored once per ``event_id``); the ack is
  ``SocketModeResponse(envelope_id)`` sent after the event was handled. If handling *raises*
  (the store is down, say), the envelope is deliberately left unacknowledged so that Slack
  redelivers it, as it does after an HTTP 500; the handlers released the event's lease, so
  the redelivery is applied.
- any other type (``interactive``, …): acked and ignored.
- Otherwise every envelope gets exactly one ``client.send_socket_mode_response`` call.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from typing import Any, Protocol

from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from entrypoints.config import Config
from entrypoints.handlers import RocketHandlers, reply_payload

log = logging.getLogger("rocket.socket")

SLASH_COMMANDS = "slash_commands"
EVENTS_API = "events_api"
DEFAULT_API_URL = "https://slack.com/api/"
CRASH_REPLY = "Sorry, something went wrong while running that command; nothing more is known. Try again."


class AckSender(Protocol):
    """What :func:`handle_socket_request` needs of a Socket Mode client."""

    async def send_socket_mode_response(self, response: SocketModeResponse) -> Any: ...


class SocketModeSetupError(Exception):
    """``rocket socket`` cannot start; the message is one line for the operator."""


def _form(payload: dict[str, Any]) -> dict[str, str]:
    """A slash command payload as the string mapping the HTTP form gives."""
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in payload.items()}


async def handle_socket_request(handlers: RocketHandlers, client: AckSender, req: SocketModeRequest) -> None:
    """Handle one envelope and acknowledge it (see the module docstring for the contract)."""
    if req.type == SLASH_COMMANDS:
        try:
            reply = await handlers.slash_command(_form(req.payload or {}))
        except Exception:
            log.exception("slash command over Socket Mode failed")
            reply = reply_payload(CRASH_REPLY)
        await client.send_socket_mode_response(SocketModeResponse(req.envelope_id, reply))
        return
    if req.type == EVENTS_API:
        try:
            outcome = await handlers.slack_event(req.payload or {})
        except Exception:
            log.exception("Slack event over Socket Mode failed; left unacknowledged so Slack redelivers it")
            return
        log.debug(json.dumps({"kind": "socket_event", "status": outcome.status, "retry": req.retry_attempt}))
        await client.send_socket_mode_response(SocketModeResponse(req.envelope_id))
        return
    log.info(json.dumps({"kind": "socket_envelope", "type": str(req.type)[:40], "outcome": "ignored"}))
    await client.send_socket_mode_response(SocketModeResponse(req.envelope_id))


def app_token(config: Config) -> str:
    """``SLACK_APP_TOKEN``, checked; ``SocketModeSetupError`` naming it when absent or not ``xapp-``."""
    token = config.get("SLACK_APP_TOKEN").strip()
    if not token:
        raise SocketModeSetupError(
            "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token "
            "(xapp-…, scope connections:write)"
        )
    if not token.startswith("xapp-"):
        raise SocketModeSetupError("SLACK_APP_TOKEN: an app-level token starts with xapp-")
    return token


async def run_socket_mode(config: Config, stop: asyncio.Event | None = None) -> int:
    """Connect to Slack and serve envelopes until ``stop`` is set (or SIGINT/SIGTERM).

    Scheduled jobs run here too, as in the HTTP app, unless ``ROCKET_SCHEDULER=off``.

    The web client uses ``SLACK_API_TOKEN`` and ``SLACK_API_URL`` (the app token is what opens
    the connection). Delayed replies in flight are awaited before the store is closed.
    """
    import aiohttp
    from slack_sdk.errors import SlackApiError
    from slack_sdk.socket_mode.aiohttp import SocketModeClient
    from slack_sdk.web.async_client import AsyncWebClient

    from entrypoints.container import close_container, make_container, resolved_bus, resolved_ports
    from entrypoints.jobs.scheduler import scheduler_enabled, start_scheduler, stop_scheduler
    from entrypoints.metrics import Metrics

    token = app_token(config)
    jobs_on = scheduler_enabled(config.env)  # ConfigError naming ROCKET_SCHEDULER when malformed
    container = make_container(config)
    stop = stop or asyncio.Event()
    client: SocketModeClient | None = None
    handlers: RocketHandlers | None = None
    scheduler: Any = None
    try:
        ports = await resolved_ports(container)
        bus = await resolved_bus(container)
        handlers = RocketHandlers(bus, ports, config.settings, Metrics())
        base_url = config.get("SLACK_API_URL", DEFAULT_API_URL).strip() or DEFAULT_API_URL
        web = AsyncWebClient(token=config.get("SLACK_API_TOKEN").strip() or None,
                             base_url=base_url if base_url.endswith("/") else base_url + "/")
        client = SocketModeClient(app_token=token, web_client=web)
        bound = handlers

        async def listener(socket_client: Any, req: SocketModeRequest) -> None:
            await handle_socket_request(bound, socket_client, req)

        client.socket_mode_request_listeners.append(listener)
        _stop_on_signals(stop)
        # slack-sdk's connect() retries every failure forever; check the token once first so a
        # refused token ends start-up with one line, and hand the issued URL to the client.
        try:
            opened = await web.apps_connections_open(app_token=token)
        except SlackApiError as e:
            code = e.response.get("error", "refused") if e.response is not None else "refused"
            raise SocketModeSetupError(
                f"SLACK_APP_TOKEN: Slack refused to open a Socket Mode connection ({code})"
            ) from None
        except (OSError, TimeoutError, aiohttp.ClientError) as e:
            raise SocketModeSetupError(f"SLACK_API_URL: cannot reach Slack at {base_url} ({e})") from None
        client.wss_uri = opened["url"]
        await client.connect()
        if jobs_on:  # the same scheduled jobs as the HTTP app; leases keep each fire to one runner
            scheduler = start_scheduler(ports, config.settings)
        print(f"Rocket connected to Slack over Socket Mode (database: {config.database.backend})", flush=True)
        await stop.wait()
        return 0
    finally:
        if scheduler is not None:
            await stop_scheduler(scheduler)
        if client is not None:
            await client.close()
        if handlers is not None:
            await handlers.drain()
        await close_container(container)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
            pass
