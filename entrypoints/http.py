"""The Quart app: ``create_app(container)``, routes as in ../shared/CONTRACT.md's HTTP table.

Each route verifies the request (Slack signature and timestamp, or GitHub's HMAC) and decodes
it. Slack requests then go to the Bolt app of entrypoints/slack_app.py (the one ``rocket socket``
serves too), GitHub webhooks to ``entrypoints.handlers.RocketHandlers``. A request that fails
verification gets 401 and changes nothing; a malformed one gets a 4xx.
"""

from __future__ import annotations

import asyncio
import html
import json
import logging
import os
from typing import Any
from urllib.parse import parse_qsl

from quart import Quart, Response, request
from werkzeug.exceptions import RequestTimeout

from adapters.github.webhook import github_webhook_json, verify_github_signature
from adapters.slack.verify import SlackRequestVerifier
from core.errors import StorageUnavailable
from core.validation import bad_text_in
from entrypoints.container import Container, close_container, resolved_bus, resolved_ports
from entrypoints.handlers import RocketHandlers
from entrypoints.jobs.scheduler import attach_scheduler
from entrypoints.metrics import Metrics
from entrypoints.slack_app import bolt_routable, build_bolt_app, from_bolt_response, to_bolt_request
from entrypoints.status import integration_hints

log = logging.getLogger("rocket.http")
MAX_BODY_BYTES = 512 * 1024
BODY_SECONDS = 10
"""A request body must arrive completely within this many seconds (else 408, connection closed)."""
GRACE_SECONDS = 1.0
"""A body complete within this long never counts against ``MAX_PENDING_BODIES``."""
MAX_PENDING_BODIES = 32
"""Bodies slower than ``GRACE_SECONDS``: at most this many are being received at once per
process; more get 503 at once (so slow clients hold at most MAX_PENDING_BODIES × MAX_BODY_BYTES of memory)."""


class SlowBody(Exception):
    """A body that did not arrive in time, or one too many bodies arriving at once."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status, self.why = status, why


def _json(body: dict[str, Any], status: int = 200) -> Response:
    return _unbounded(Response(json.dumps(body), status, content_type="application/json"))


def _unbounded(response: Response) -> Response:
    """``response`` sent without Quart's ``RESPONSE_TIMEOUT``, which costs a task and a timer
    per request (``asyncio.wait_for``) and bounds nothing here: the bodies of Slack's and
    GitHub's routes are small (a Slack reply is at most ~40,000 characters), far below the
    transport's 64 KiB write buffer, so sending them never waits for the client to read."""
    response.timeout = None
    return response


def _refuse(route: str, why: str, status: int = 401) -> Response:
    log.info(json.dumps({"kind": "refused", "route": route, "status": status, "why": why}))
    return _json({"ok": False, "error": why}, status)


def create_app(container: Container, **handler_options: Any) -> Quart:
    """The Rocket web app. ``handler_options`` go to ``RocketHandlers`` (tests use them)."""
    app = Quart("rocket")
    app.config["MAX_CONTENT_LENGTH"] = MAX_BODY_BYTES
    app.config["BODY_TIMEOUT"] = BODY_SECONDS  # Quart's own bound, for routes that skip raw_body
    pending = [0]  # bodies being received now (one event loop per process: no lock needed)
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

    async def raw_body() -> bytes:
        """The whole request body, read before anything else looks at the request: within
        ``BODY_SECONDS`` and while fewer than ``MAX_PENDING_BODIES`` are being read (else
        ``SlowBody``, answered 408 / 503 with ``Connection: close``).

        The grace period is an ``asyncio.timeout`` on this task (no task or waiter of its own:
        the common body is complete on arrival); a read it interrupts loses nothing, since
        Quart keeps receiving the body into the request while the slow path waits again.
        Quart's own ``BODY_TIMEOUT`` is off for these reads (it would add a task and a timer per
        request, ``asyncio.wait_for``): the two timeouts here bound the body."""
        request.body_timeout = None
        try:
            try:
                async with asyncio.timeout(GRACE_SECONDS):
                    data = await request.get_data(cache=False, as_text=False)
            except TimeoutError:  # a slow body: it counts against the cap while it keeps arriving
                if pending[0] >= MAX_PENDING_BODIES:
                    raise SlowBody(503, "too many requests are still sending their bodies; try again") \
                        from None
                pending[0] += 1
                try:
                    async with asyncio.timeout(BODY_SECONDS - GRACE_SECONDS):
                        data = await request.get_data(cache=False, as_text=False)
                finally:
                    pending[0] -= 1
        except (TimeoutError, RequestTimeout):
            raise SlowBody(408, f"the body did not arrive within {BODY_SECONDS} seconds") from None
        return data.encode() if isinstance(data, str) else data

    @app.errorhandler(SlowBody)
    async def slow_body(error: SlowBody) -> Response:
        response = _refuse(request.path, error.why, error.status)
        response.headers["Connection"] = "close"
        return response

    async def verified_slack_body(route: str) -> bytes | Response:
        if slack_verifier is None:
            return _refuse(route, "SLACK_SIGNING_SECRET is not configured")
        body = await raw_body()
        if not slack_verifier.is_valid(body, request.headers):
            return _refuse(route, "bad or missing Slack signature, or stale timestamp")
        return body

    @app.errorhandler(StorageUnavailable)
    async def storage_unavailable(error: StorageUnavailable) -> Response:
        """A webhook or event that could not be stored: 503, so Slack and GitHub retry later."""
        log.warning(json.dumps({"kind": "storage_unavailable", "path": request.path,
                                "error": str(error)[:200]}))
        return _json({"ok": False, "error": str(error)}, 503)

    worker = str(os.getpid())

    @app.after_request
    async def name_worker(response: Response) -> Response:
        response.headers["X-Rocket-Worker"] = worker  # which process answered (scale-out checks)
        return response

    async def to_bolt(body: dict[str, Any]) -> Response:
        """Hand a verified, parsed Slack request to the Bolt app and send back its answer.

        Bolt's own routing code assumes Slack's shapes; a signed body it cannot even route (it
        raises) is refused with 400 and changes nothing."""
        try:
            answer = await bolt.async_dispatch(to_bolt_request(body, request.headers))
        except Exception as e:
            return _refuse(request.path, f"malformed Slack request ({type(e).__name__})", 400)
        status, text, content_type = from_bolt_response(answer)
        return _unbounded(Response(text, status, content_type=content_type))

    async def verified_form(route: str) -> dict[str, str] | Response:
        body = await verified_slack_body(route)
        if isinstance(body, Response):
            return body
        if request.mimetype != "application/x-www-form-urlencoded":
            return _refuse(route, "expected a form body", 415)
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except (UnicodeDecodeError, ValueError):
            return _refuse(route, "malformed form body", 400)

    @app.post("/slack/commands")
    async def slack_commands() -> Response:
        form = await verified_form("/slack/commands")
        if isinstance(form, Response):
            return form
        if not form.get("command"):
            form["command"] = "/rocket"  # Bolt routes commands by this field
        return await to_bolt(dict(form))

    @app.post("/slack/events")
    async def slack_events() -> Response:
        body = await verified_slack_body("/slack/events")
        if isinstance(body, Response):
            return body
        try:
            envelope = json.loads(body)
        except (UnicodeDecodeError, ValueError, RecursionError):  # nested too deep is not JSON to us
            return _refuse("/slack/events", "body is not JSON", 400)
        if not isinstance(envelope, dict):
            return _refuse("/slack/events", "body is not a JSON object", 400)
        problem = bad_text_in(envelope)
        if problem:
            return _refuse("/slack/events", f"refused text in {problem}", 400)
        if not bolt_routable(envelope):  # shapes Bolt's routing cannot read: Rocket ignores them itself
            outcome = await (await handlers()).slack_event(envelope)
            return _json(outcome.body, outcome.status)
        return await to_bolt(envelope)

    @app.post("/slack/interactions")
    async def slack_interactions() -> Response:
        form = await verified_form("/slack/interactions")
        if isinstance(form, Response):
            return form
        try:
            payload = json.loads(form.get("payload", ""))
        except (ValueError, RecursionError):
            return _refuse("/slack/interactions", "the payload field is not JSON", 400)
        if not isinstance(payload, dict):
            return _refuse("/slack/interactions", "the payload field is not a JSON object", 400)
        problem = bad_text_in(payload)
        if problem:
            return _refuse("/slack/interactions", f"refused text in {problem}", 400)
        return await to_bolt(payload)

    @app.post(config.webhook_path)
    async def github_webhook() -> Response:
        route = config.webhook_path
        if not config.github_webhook_secret:
            return _refuse(route, "GITHUB_WEBHOOK_SECRET is not configured")
        body = await raw_body()
        signature = request.headers.get("X-Hub-Signature-256")
        if not verify_github_signature(config.github_webhook_secret, body, signature):
            return _refuse(route, "bad or missing X-Hub-Signature-256")
        try:
            payload = json.loads(github_webhook_json(body, request.mimetype))
        except (UnicodeDecodeError, ValueError, RecursionError):  # nested too deep is not JSON to us
            return _refuse(route, "body is not JSON (nor a form with a JSON payload field)", 400)
        problem = bad_text_in(payload)
        if problem:
            return _refuse(route, f"refused text in {problem}", 400)
        event = request.headers.get("X-GitHub-Event", "")
        delivery = request.headers.get("X-GitHub-Delivery", "")[:200]
        outcome = await (await handlers()).github_webhook(event, delivery, payload)
        return _json(outcome.body, outcome.status)

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
