"""The Quart app: ``create_app(container)``, routes as in ../shared/CONTRACT.md's HTTP table.

Each route verifies the request (Slack signature and timestamp, or GitHub's HMAC) and decodes
it. Slack requests then go to the Bolt app of entrypoints/slack_app.py (the one ``rocket socket``
serves too), GitHub webhooks to ``entrypoints.handlers.RocketHandlers``. A request that fails
verification gets 401 and changes nothing; a malformed one gets a 4xx.

The routes that take a body (Slack's three and GitHub's webhook) are plain ``(body, headers) ->
Answer`` functions answered in front of Quart by ``entrypoints.body_routes.BodyRoutes``, which
reads and bounds the body; Quart serves the pages (``/``, ``/healthz``, ``/metrics``) and the
lifespan (scheduler, shutdown).
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import os
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from quart import Quart, Response

from adapters.github.webhook import github_webhook_json, verify_github_signature
from adapters.slack.verify import SlackRequestVerifier
from core.errors import StorageUnavailable
from core.validation import bad_text_in
from entrypoints.body_routes import MAX_BODY_BYTES, Answer, BodyRoutes, json_answer, refuse
from entrypoints.container import Container, close_container, resolved_bus, resolved_ports
from entrypoints.handlers import RocketHandlers
from entrypoints.jobs.scheduler import attach_scheduler
from entrypoints.metrics import Metrics
from entrypoints.slack_app import bolt_routable, build_bolt_app, from_bolt_response, to_bolt_request
from entrypoints.status import integration_hints

log = logging.getLogger("rocket.http")


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(body), status, content_type="application/json")


def _mimetype(headers: Mapping[str, str]) -> str:
    return headers.get("content-type", "").split(";", 1)[0].strip().lower()


def create_app(container: Container, **handler_options: Any) -> Quart:
    """The Rocket web app. ``handler_options`` go to ``RocketHandlers`` (tests use them)."""
    app = Quart("rocket")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES  # Quart's routes take no body; a bound all the same
    config = container.config()
    metrics = Metrics()
    secret = config.slack_signing_secret
    slack_verifier = SlackRequestVerifier(secret) if secret else None
    state: dict[str, RocketHandlers] = {}

    building = asyncio.Lock()

    async def handlers() -> RocketHandlers:
        """The one ``RocketHandlers`` of this app, built on first use (once, even when the
        first requests arrive together)."""
        if "handlers" not in state:
            async with building:
                if "handlers" not in state:
                    ports = await resolved_ports(container)
                    bus = await resolved_bus(container)
                    state["handlers"] = RocketHandlers(
                        bus, ports, config.settings, metrics, **handler_options
                    )
        return state["handlers"]

    app.extensions["rocket_handlers"] = handlers
    bolt = build_bolt_app(handlers, config.rocket.slack)  # the same Bolt app `rocket socket` serves
    app.extensions["rocket_bolt"] = bolt

    # Scheduled jobs (entrypoints/jobs/); ROCKET_SCHEDULER=off disables them. Registered before
    # shut_down so the jobs stop before the store closes.
    attach_scheduler(app, container)

    @app.after_serving
    async def shut_down() -> None:
        if "handlers" in state:
            await state["handlers"].close()  # delayed replies, then background verifications
        await close_container(container)

    def verified_slack_body(route: str, body: bytes, headers: Mapping[str, str]) -> Answer | None:
        """None when ``body`` is signed by Slack (and fresh), else the refusal."""
        if slack_verifier is None:
            return refuse(route, "SLACK_SIGNING_SECRET is not configured")
        if not slack_verifier.is_valid(body, headers):
            return refuse(route, "bad or missing Slack signature, or stale timestamp")
        return None

    async def to_bolt(route: str, body: dict[str, Any], headers: Mapping[str, str]) -> Answer:
        """Hand a verified, parsed Slack request to the Bolt app and send back its answer.

        Bolt's own routing code assumes Slack's shapes; a signed body it cannot even route (it
        raises) is refused with 400 and changes nothing."""
        try:
            answer = await bolt.async_dispatch(to_bolt_request(body, headers))
        except Exception as e:
            return refuse(route, f"malformed Slack request ({type(e).__name__})", 400)
        return Answer(*from_bolt_response(answer))

    def verified_form(route: str, body: bytes, headers: Mapping[str, str]) -> dict[str, str] | Answer:
        refused = verified_slack_body(route, body, headers)
        if refused is not None:
            return refused
        if _mimetype(headers) != "application/x-www-form-urlencoded":
            return refuse(route, "expected a form body", 415)
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError):
            return refuse(route, "malformed form body", 400)

    async def slack_commands(body: bytes, headers: Mapping[str, str]) -> Answer:
        form = verified_form("/slack/commands", body, headers)
        if isinstance(form, Answer):
            return form
        if not form.get("command"):
            form["command"] = "/rocket"  # Bolt routes commands by this field
        return await to_bolt("/slack/commands", form, headers)

    async def slack_events(body: bytes, headers: Mapping[str, str]) -> Answer:
        refused = verified_slack_body("/slack/events", body, headers)
        if refused is not None:
            return refused
        try:
            envelope = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError):  # nested too deep is not JSON to us
            return refuse("/slack/events", "body is not JSON", 400)
        if not isinstance(envelope, dict):
            return refuse("/slack/events", "body is not a JSON object", 400)
        problem = bad_text_in(envelope)
        if problem:
            return refuse("/slack/events", f"refused text in {problem}", 400)
        if not bolt_routable(envelope):  # shapes Bolt's routing cannot read: Rocket ignores them itself
            outcome = await (await handlers()).slack_event(envelope)
            return json_answer(outcome.body, outcome.status)
        return await to_bolt("/slack/events", envelope, headers)

    async def slack_interactions(body: bytes, headers: Mapping[str, str]) -> Answer:
        form = verified_form("/slack/interactions", body, headers)
        if isinstance(form, Answer):
            return form
        try:
            payload = json.loads(form.get("payload", ""))
        except (ValueError, RecursionError):
            return refuse("/slack/interactions", "the payload field is not JSON", 400)
        if not isinstance(payload, dict):
            return refuse("/slack/interactions", "the payload field is not a JSON object", 400)
        problem = bad_text_in(payload)
        if problem:
            return refuse("/slack/interactions", f"refused text in {problem}", 400)
        return await to_bolt("/slack/interactions", payload, headers)

    async def github_webhook(body: bytes, headers: Mapping[str, str]) -> Answer:
        route = config.webhook_path
        if not config.github_webhook_secret:
            return refuse(route, "GITHUB_WEBHOOK_SECRET is not configured")
        signature = headers.get("x-hub-signature-256")
        if not verify_github_signature(config.github_webhook_secret, body, signature):
            return refuse(route, "bad or missing X-Hub-Signature-256")
        try:
            payload = json.loads(github_webhook_json(body, _mimetype(headers)))
        except (UnicodeDecodeError, ValueError, RecursionError):  # nested too deep is not JSON to us
            return refuse(route, "body is not JSON (nor a form with a JSON payload field)", 400)
        problem = bad_text_in(payload)
        if problem:
            return refuse(route, f"refused text in {problem}", 400)
        event = headers.get("x-github-event", "")
        delivery = headers.get("x-github-delivery", "")[:200]
        outcome = await (await handlers()).github_webhook(event, delivery, payload)
        return json_answer(outcome.body, outcome.status)

    # The routes that take a body are answered in front of Quart (entrypoints/body_routes.py).
    worker = str(os.getpid())
    app.asgi_app = BodyRoutes(app.asgi_app, {  # type: ignore[method-assign,assignment]
        "/slack/commands": slack_commands, "/slack/events": slack_events,
        "/slack/interactions": slack_interactions, config.webhook_path: github_webhook}, worker)

    @app.after_request
    async def name_worker(response: Response) -> Response:
        response.headers["X-Rocket-Worker"] = worker  # which process answered (scale-out checks)
        return response

    hints = integration_hints(config.rocket)
    health = container.health()

    def integration_row(name: str, on: bool) -> str:
        if on:
            said = f"on, {health.describe(name)}"
            if name == "Slack" and not secret:
                said += "; SLACK_SIGNING_SECRET is unset, so Slack's requests get 401"
        else:
            missing = hints.get(name) or []
            said = "off" + (f"; set {', '.join(missing)} to turn it on" if missing else "")
        return f"<li>{html.escape(name)}: {html.escape(said)}</li>"

    @app.get("/")
    async def status_page() -> Response:
        """Each integration: off with the variables that turn it on, or on with whether its
        last call worked (entrypoints/status.py); never a value."""
        rows = "".join(integration_row(name, on) for name, on in config.integrations.items())
        body = (
            "<!doctype html><title>Rocket</title><h1>Rocket is running</h1>"
            f"<p>Database: {html.escape(config.database.backend)}</p><h2>Integrations</h2><ul>{rows}</ul>"
        )
        return Response(body, 200, content_type="text/html; charset=utf-8")

    @app.get("/healthz")
    async def healthz() -> Response:
        try:
            store = await container.store()
            await store.ping()
        except StorageUnavailable as e:
            return _json({"status": "unavailable", "database": str(e)}, 503)
        except Exception:  # a store that cannot even open is unhealthy, not a crash
            log.exception("health check failed")
            return _json({"status": "unavailable"}, 503)
        return _json({"status": "ok"})

    @app.get("/metrics")
    async def metrics_page() -> Response:
        return Response(metrics.render(), 200, content_type=metrics.content_type)

    return app
