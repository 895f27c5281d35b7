"""The Slack edge: ONE slack-bolt ``AsyncApp`` that both transports serve.

``build_bolt_app(handlers, slack)`` makes it. ``rocket serve`` hands it verified HTTP requests
(entrypoints/http.py, through :func:`to_bolt_request` / :func:`from_bolt_response`);
``rocket socket`` hands it Socket Mode envelopes (entrypoints/socket_mode.py, Bolt's async
Socket Mode handler). So replies, stored state, de-duplication and metrics are the same on both.

Listeners (the place to add a Slack feature: see README "How to add…"):

- any slash command (Slack sends ``/rocket``): ``RocketHandlers.slash_command``. The reply is the
  ack's body ``{"response_type": "ephemeral", "text": …}``; a command slower than the handlers'
  inline budget (~2 s) is acked "Working on it…" and its answer POSTed to ``response_url``. A
  command that crashes is acked with an apology (Slack never redelivers slash commands).
- events: ``team_join`` and every other ``event_callback`` go to ``RocketHandlers.slack_event``
  (which stores ``team_join`` once per ``event_id``: de-duplication stays in RocketHandlers, on
  storage leases, so it holds across workers and transports); ``app_home_opened`` (tab ``home``)
  publishes the user's Home tab (``Surfaces.home_opened``, ``views.publish``) before the ack.
  ``url_verification`` is answered by Bolt's own middleware
  (``{"challenge": …}``).
- interactivity: ``block_actions`` go to ``Surfaces.block_action`` (buttons open modals with the
  payload's ``trigger_id``, "More" posts a list's next page), ``view_submission`` to
  ``Surfaces.view_submission`` whose answer (``response_action: errors`` or nothing) is the ack's
  body; ``view_closed`` and ``shortcut`` are acked (entrypoints/interactions.py).
- anything else Slack sends is acknowledged and ignored (an event: 200 ``{"ok": true, "ignored":
  true}``; an interaction: an empty 200, since Slack reads an interaction's body as its answer).

Statuses: the listener's answer is returned as is (400 for an event without ``event_id``); a store
that is down gives 503 (HTTP: Slack retries; Socket Mode: left unacknowledged, so Slack
redelivers); a crash while handling an event 500 (likewise unacknowledged over Socket Mode); a
body whose shapes Bolt's routing cannot read 400.

No real Slack is needed: Bolt's request verification is off (the HTTP adapter verifies the
signature and timestamp itself, before Bolt, so even Bolt's unsigned ``ssl_check=1`` shortcut
gets 401), and ``authorize`` answers from configuration instead of calling ``auth.test``. The
Web API client Bolt gives listeners uses ``SLACK_API_TOKEN`` and ``SLACK_API_URL``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.settings import SlackSettings
from core.errors import RocketError, StorageUnavailable
from entrypoints.handlers import Outcome, RocketHandlers, reply_payload

log = logging.getLogger("rocket.slack")

HandlersProvider = Callable[[], Awaitable[RocketHandlers]]
CRASH_REPLY = "Sorry, something went wrong while running that command; nothing more is known. Try again."
ANY = re.compile(".*")
TRANSPORT = "rocket_transport"  # context key: "http" for requests from the Quart app
INTERACTIVE_TYPES = ("block_actions", "view_submission", "view_closed", "shortcut", "message_action",
                     "block_suggestion", "interactive_message", "dialog_submission")


def json_response(body: Mapping[str, Any], status: int = 200) -> BoltResponse:
    """A Bolt response carrying ``body`` as JSON (Socket Mode acks it as the envelope's payload)."""
    return BoltResponse(status=status, body=json.dumps(body), headers={"content-type": "application/json"})


def _outcome(outcome: Outcome) -> BoltResponse:
    return json_response(outcome.body, outcome.status)


def _form(body: Mapping[str, Any]) -> dict[str, str]:
    """A slash command's fields as the string mapping the HTTP form gives (Socket Mode may carry
    non-string values)."""
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}


class ConfiguredToken(AsyncAuthorize):
    """Bolt's ``authorize`` for one workspace: the bot token from configuration, without an
    ``auth.test`` call. (A plain function would do the same; Bolt then inspects its arguments on
    every request.)"""

    def __init__(self, token: str | None) -> None:
        super().__init__()
        self.token = token

    async def __call__(self, *, context: Any, enterprise_id: str | None, team_id: str | None,
                       user_id: str | None, **_: Any) -> AuthorizeResult:
        return AuthorizeResult(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id,
                               bot_token=self.token)


def build_bolt_app(handlers: HandlersProvider, slack: SlackSettings) -> AsyncApp:
    """The one Bolt app. ``handlers`` returns the process's ``RocketHandlers`` (built on first use)."""
    app = AsyncApp(
        name="rocket",
        logger=logging.getLogger("rocket.bolt"),
        client=AsyncWebClient(token=None, base_url=slack.base_url),
        signing_secret="unused: the transport verifies",  # never read: verification is off
        authorize=ConfiguredToken(slack.token.get_secret_value() or None),
        process_before_response=True,  # the ack waits for the listener (Rocket times the reply itself)
        raise_error_for_unhandled_request=True,  # unhandled requests reach on_error: ack and ignore
        request_verification_enabled=False,
        ssl_check_enabled=False,
        ignoring_self_events_enabled=False,
        url_verification_enabled=True,
        attaching_function_token_enabled=False,  # Rocket has no Slack workflow functions
    )

    # --- /rocket ------------------------------------------------------------------------------
    @app.command(ANY)
    async def rocket_command(ack: AsyncAck, body: dict[str, Any]) -> None:
        try:
            reply = await (await handlers()).slash_command(_form(body))
        except Exception:
            log.exception("slash command failed")
            reply = reply_payload(CRASH_REPLY)
        await ack(reply)

    # --- events -------------------------------------------------------------------------------
    async def to_handlers(body: dict[str, Any], context: Mapping[str, Any]) -> BoltResponse:
        """``RocketHandlers.slack_event``'s answer: over HTTP its status and JSON body; over Socket
        Mode an ack with the envelope id only (an events_api ack carries no payload)."""
        try:
            outcome = await (await handlers()).slack_event(body)
        except StorageUnavailable as e:
            return json_response({"ok": False, "error": str(e)}, 503)
        except Exception:  # a bug: 500, so Slack redelivers (HTTP) or the envelope stays unacked
            log.exception("Slack event handling failed")
            return json_response({"ok": False, "error": "internal error"}, 500)
        if context.get(TRANSPORT) != "http":
            return BoltResponse(status=200, body="")
        return _outcome(outcome)

    @app.event("team_join")
    async def team_join(body: dict[str, Any], context: dict[str, Any]) -> BoltResponse:
        return await to_handlers(body, context)

    @app.event("app_home_opened")
    async def app_home_opened(body: dict[str, Any], context: dict[str, Any]) -> BoltResponse:
        """The Home tab (tab ``home``) is published with ``views.publish``; the Messages tab is
        ignored. A Slack failure is logged: the event is still acked (a retry would fail too)."""
        raw = body.get("event")
        event: dict[str, Any] = raw if isinstance(raw, dict) else {}
        user = event.get("user")
        if event.get("tab", "home") != "home" or not isinstance(user, str) or not user:
            return await to_handlers(body, context)
        try:
            await (await handlers()).surfaces.home_opened(user)
        except StorageUnavailable as e:
            return json_response({"ok": False, "error": str(e)}, 503)
        except RocketError as e:
            log.warning(json.dumps({"kind": "home", "outcome": "not published", "error": str(e)[:200]}))
        except Exception:
            log.exception("publishing the Home tab failed")
            return json_response({"ok": False, "error": "internal error"}, 500)
        if context.get(TRANSPORT) != "http":
            return BoltResponse(status=200, body="")
        return json_response({"ok": True, "home": "published"})

    @app.event(ANY)
    async def other_event(body: dict[str, Any], context: dict[str, Any]) -> BoltResponse:
        return await to_handlers(body, context)  # counted and ignored

    # --- interactivity (later issues fill these) ----------------------------------------------
    async def acknowledge(ack: AsyncAck, body: dict[str, Any]) -> None:
        log.info(json.dumps({"kind": "interaction", "type": str(body.get("type", ""))[:40],
                             "outcome": "acknowledged"}))
        await ack()

    async def act(kind: str, surface: Callable[[dict[str, Any]], Awaitable[None]],
                  body: dict[str, Any]) -> None:
        """Run a button's or shortcut's work; a refusal is logged, a store outage propagates (503)."""
        try:
            await surface(body)
        except StorageUnavailable:
            raise
        except RocketError as e:  # the trigger lapses in 3 s: nothing to retry
            log.warning(json.dumps({"kind": "interaction", "type": kind, "outcome": "failed",
                                    "error": str(e)[:200]}))

    @app.action(ANY)
    async def block_action(ack: AsyncAck, body: dict[str, Any]) -> None:
        await act("block_actions", (await handlers()).surfaces.block_action, body)
        await ack()

    @app.view(ANY)
    async def view_submission(ack: AsyncAck, body: dict[str, Any]) -> None:
        try:
            answer = await (await handlers()).surfaces.view_submission(body)
        except StorageUnavailable:
            raise  # 503: the modal stays open with Slack's own error, nothing saved
        except RocketError as e:
            log.warning(json.dumps({"kind": "interaction", "type": "view_submission", "outcome": "failed",
                                    "error": str(e)[:200]}))
            answer = None
        if answer:  # response_action "errors" (with errors) or "update" (with view)
            await ack(**answer)
        else:
            await ack()

    @app.view_closed(ANY)
    async def view_closed(ack: AsyncAck, body: dict[str, Any]) -> None:
        """Nothing changes (``Surfaces.view_closed`` only forgets a closed device-flow modal)."""
        await (await handlers()).surfaces.view_closed(body)
        await acknowledge(ack, body)

    @app.shortcut(ANY)
    async def shortcut(ack: AsyncAck, body: dict[str, Any]) -> None:
        """The global shortcut "Edit my profile" opens the profile editor (``Surfaces.shortcut``)."""
        await act("shortcut", (await handlers()).surfaces.shortcut, body)
        await acknowledge(ack, body)

    # --- whatever no listener took --------------------------------------------------------------
    @app.error
    async def on_error(error: Exception, request: AsyncBoltRequest) -> BoltResponse | None:
        if isinstance(error, BoltUnhandledRequestError):
            body = request.body if isinstance(request.body, dict) else {}
            if "command" not in body and str(body.get("type", "")) not in INTERACTIVE_TYPES:
                return await to_handlers(body, request.context)  # another Events API envelope: ignored
            # an empty ack: Slack reads a body sent to an interaction as its response_action
            return BoltResponse(status=200, body="")
        if isinstance(error, StorageUnavailable):
            return json_response({"ok": False, "error": str(error)}, 503)
        # Rocket's listeners answer their own failures, so what reaches here is Bolt's routing
        # failing on a shape Slack never sends (a list where an id belongs): bad input, 400.
        log.warning(json.dumps({"kind": "slack_request", "outcome": "refused",
                                "error": f"{type(error).__name__}: {str(error)[:200]}"}))
        if request.context.get(TRANSPORT) != "http":
            return BoltResponse(status=200, body="")  # Socket Mode: acked (a redelivery would fail again)
        return json_response({"ok": False, "error": "malformed Slack request"}, 400)

    return app


_STR_FIELDS = ("team_id", "enterprise_id", "api_app_id", "event_id", "user_id", "channel_id", "token")


def _str_or_absent(mapping: Mapping[str, Any], *names: str) -> bool:
    return all(mapping.get(n) is None or isinstance(mapping.get(n), str) for n in names)


def _id_holder(value: Any) -> bool:
    """Slack gives ``user``/``team``/``channel``/``enterprise`` as an id or an object with an id."""
    return value is None or isinstance(value, str) or (
        isinstance(value, dict) and _str_or_absent(value, "id"))


def bolt_routable(body: Mapping[str, Any]) -> bool:
    """Whether an Events API envelope has the shapes Bolt's routing code reads (it raises on a
    list where Slack puts a string). The HTTP route sends any other signed envelope straight to
    ``RocketHandlers.slack_event`` (which ignores it), so a malformed body is never a 500."""
    if not isinstance(body.get("type"), str) or not _str_or_absent(body, *_STR_FIELDS):
        return False
    if not all(_id_holder(body.get(n)) for n in ("team", "enterprise", "user", "channel")):
        return False
    authorizations = body.get("authorizations")
    if authorizations is not None and not (
            isinstance(authorizations, list)
            and all(isinstance(a, dict) and _str_or_absent(a, "team_id", "enterprise_id", "user_id")
                    for a in authorizations)):
        return False
    if body.get("type") != "event_callback":
        return True
    event = body.get("event")
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        return False
    if not _str_or_absent(event, "subtype", "team", "user_team", "source_team", "thread_ts", "ts",
                          "channel_type", "tab", "bot_id"):
        return False
    if not all(_id_holder(event.get(n)) for n in ("user", "channel", "item_user")):
        return False
    item = event.get("item")
    return item is None or (isinstance(item, dict) and _id_holder(item.get("channel")))


def to_bolt_request(body: dict[str, Any], headers: Mapping[str, str]) -> AsyncBoltRequest:
    """A verified, already-parsed Slack request as Bolt's request; ``headers`` with lower-cased
    names (as entrypoints/body_routes.py gives them).

    The body is handed over parsed (Bolt's "pre-parsed" mode, the one its Socket Mode adapter
    uses): the transport has checked the signature already, and Bolt's own parse of a raw form
    drops every field of a slash command whose text contains the word "payload".
    """
    kept: dict[str, str | Sequence[str]] = {k: headers[k] for k in _BOLT_HEADERS if k in headers}
    return AsyncBoltRequest(body=body, headers=kept, context={TRANSPORT: "http"}, mode="socket_mode")


_BOLT_HEADERS = ("content-type", "x-slack-retry-num", "x-slack-retry-reason")  # all Bolt reads of ours


def from_bolt_response(response: BoltResponse) -> tuple[int, str, str]:
    """(status, body, content type) of Bolt's answer."""
    content_type = response.first_headers().get("content-type", "application/json")
    body = response.body or ""
    if response.status == 200 and not body:
        body, content_type = "", "text/plain; charset=utf-8"
    return response.status, body, content_type
