"""Rocket over Slack Socket Mode (``rocket socket``): the same bot with no public URL.

Slack pushes envelopes over a websocket opened with the app-level token ``SLACK_APP_TOKEN``
(``xapp-…``, scope ``connections:write``). Bolt's async Socket Mode handler (aiohttp) keeps the
connection (and reconnects) and hands each envelope to the SAME Bolt app the HTTP server uses
(``entrypoints.slack_app.build_bolt_app``), so replies, stored state, de-duplication and metrics
are the same on both transports. There is no signature to check: the websocket itself is
authenticated by the app token.

Contract of :func:`handle_socket_request` (what the handler does with one envelope):

- ``slash_commands``: acked with the reply as payload (``{"response_type": "ephemeral", "text": …}``);
  a slow command is acked "Working on it…" and its result POSTed to ``response_url``; a command
  that crashes is acked with an apology.
- ``events_api``: acked with the envelope id only, after the event was handled (``team_join``
  stored once per ``event_id``). If handling fails (the store is down, say) the envelope is
  deliberately left unacknowledged so that Slack redelivers it, as it does after an HTTP 5xx;
  the handlers released the event's lease, so the redelivery is applied.
- ``interactive`` (block actions, views, shortcuts): acked (listeners in slack_app.py).
- Otherwise every envelope gets exactly one ``client.send_socket_mode_response`` call.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import Any

from slack_bolt.adapter.socket_mode.async_internals import run_async_bolt_app, send_async_response
from slack_bolt.async_app import AsyncApp
from slack_sdk.socket_mode.request import SocketModeRequest

from entrypoints.config import Config

log = logging.getLogger("rocket.socket")


class SocketModeSetupError(Exception):
    """``rocket socket`` cannot start; the message is one line for the operator."""


async def handle_socket_request(app: AsyncApp, client: Any, req: SocketModeRequest) -> None:
    """Run one envelope through the Bolt app and acknowledge it, exactly as Bolt's Socket Mode
    handler does (``client`` needs ``send_socket_mode_response`` and ``logger``)."""
    await send_async_response(client, req, await run_async_bolt_app(app, req), time.time())


def app_token(config: Config) -> str:
    """``SLACK_APP_TOKEN``, checked; ``SocketModeSetupError`` naming it when absent."""
    token = config.rocket.slack_app_token.get_secret_value().strip()
    if not token:
        raise SocketModeSetupError(
            "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token "
            "(xapp-…, scope connections:write)"
        )
    return token


async def run_socket_mode(config: Config, stop: asyncio.Event | None = None) -> int:
    """Connect to Slack and serve envelopes until ``stop`` is set (or SIGINT/SIGTERM).

    Scheduled jobs run here too, as in the HTTP app, unless ``ROCKET_SCHEDULER=off``.

    The web client uses ``SLACK_API_TOKEN`` and ``SLACK_API_URL`` (the app token is what opens
    the connection). Delayed replies in flight are awaited before the store is closed.
    """
    import aiohttp
    from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
    from slack_sdk.errors import SlackApiError

    from entrypoints.container import close_container, make_container, resolved_bus, resolved_ports
    from entrypoints.handlers import RocketHandlers
    from entrypoints.jobs.scheduler import scheduler_enabled, start_scheduler, stop_scheduler
    from entrypoints.metrics import Metrics
    from entrypoints.settings import without_password
    from entrypoints.slack_app import build_bolt_app

    token = app_token(config)
    jobs_on = scheduler_enabled(config.env)  # ConfigError naming ROCKET_SCHEDULER when malformed
    container = make_container(config)
    stop = stop or asyncio.Event()
    handler: AsyncSocketModeHandler | None = None
    handlers: RocketHandlers | None = None
    scheduler: Any = None
    try:
        ports = await resolved_ports(container)
        bus = await resolved_bus(container)
        handlers = RocketHandlers(bus, ports, config.settings, Metrics())
        built = handlers

        async def provide() -> RocketHandlers:
            return built

        app = build_bolt_app(provide, config.rocket.slack)
        handler = AsyncSocketModeHandler(app, token, logger=log)
        _stop_on_signals(stop)
        # slack-sdk's connect() retries every failure forever; check the token once first so a
        # refused token ends start-up with one line, and hand the issued URL to the client.
        base_url = config.rocket.slack.base_url
        try:
            opened = await app.client.apps_connections_open(app_token=token)
        except SlackApiError as e:
            code = e.response.get("error", "refused") if e.response is not None else "refused"
            raise SocketModeSetupError(
                f"SLACK_APP_TOKEN: Slack refused to open a Socket Mode connection ({code})"
            ) from None
        except (OSError, TimeoutError, aiohttp.ClientError) as e:
            raise SocketModeSetupError(
                f"SLACK_API_URL: cannot reach Slack at {without_password(base_url)} ({type(e).__name__})"
            ) from None
        handler.client.wss_uri = opened["url"]
        await handler.connect_async()
        if jobs_on:  # the same scheduled jobs as the HTTP app; leases keep each fire to one runner
            scheduler = start_scheduler(ports, config.settings)
        print(f"Rocket connected to Slack over Socket Mode (database: {config.database.backend})", flush=True)
        await stop.wait()
        return 0
    finally:
        if scheduler is not None:
            await stop_scheduler(scheduler)
        if handler is not None:
            await handler.close_async()
        if handlers is not None:
            await handlers.close()  # delayed replies, then background verifications
        await close_container(container)


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread, or no signals here
            pass
