"""The Bolt app's authorization: the configured bot token, with no ``auth.test`` call.

A Bolt global middleware added after Rocket's app is built sees the context Rocket's own
listeners see. Slack is pointed at a port nothing listens on, so an ``auth.test`` call (what
Bolt does for a token given without ``authorize``) would fail the request.
"""

from __future__ import annotations

from typing import Any

from pydantic import SecretStr
from slack_bolt.request.async_request import AsyncBoltRequest

from adapters.slack.settings import SlackSettings
from entrypoints.slack_app import build_bolt_app

UNREACHABLE = "http://127.0.0.1:9/api/"  # the discard port: nothing answers there


class Handlers:
    """The one method the ``/rocket`` listener calls, recording the form it was given."""

    def __init__(self) -> None:
        self.forms: list[dict[str, str]] = []

    async def slash_command(self, form: dict[str, str]) -> dict[str, Any]:
        self.forms.append(form)
        return {"response_type": "ephemeral", "text": f"ran {form['text']}"}


def command(text: str) -> AsyncBoltRequest:
    body = {"command": "/rocket", "text": text, "user_id": "U1", "team_id": "T1", "channel_id": "C1"}
    return AsyncBoltRequest(body=body, mode="socket_mode")


def built(token: str) -> tuple[Any, list[dict[str, Any]], Handlers]:
    """Rocket's Bolt app with a spy middleware; what the spy saw; the handlers it calls."""
    handlers = Handlers()

    async def provider() -> Any:
        return handlers

    app = build_bolt_app(provider, SlackSettings(token=SecretStr(token), api_url=UNREACHABLE))
    seen: list[dict[str, Any]] = []

    @app.middleware
    async def spy(context: Any, next: Any) -> None:  # noqa: A002 - Bolt injects it by this name
        seen.append({"token": context.token, "bot_token": context.bot_token,
                     "client_token": context.client.token, "team_id": context.team_id,
                     "user_id": context.user_id})
        await next()

    return app, seen, handlers


async def served(token: str, request: AsyncBoltRequest) -> tuple[Any, list[dict[str, Any]], Handlers]:
    app, seen, handlers = built(token)
    return await app.async_dispatch(request), seen, handlers


async def test_listeners_get_the_configured_bot_token_without_calling_slack():
    response, seen, handlers = await served("xoxb-configured", command("user view"))
    assert response.status == 200
    assert '"ran user view"' in response.body
    assert seen == [{"token": "xoxb-configured", "bot_token": "xoxb-configured",
                     "client_token": "xoxb-configured", "team_id": "T1", "user_id": "U1"}]
    assert [f["text"] for f in handlers.forms] == ["user view"]


async def test_every_request_of_one_app_gets_the_token():
    app, seen, handlers = built("xoxb-again")
    for text in ("user view", "karma"):
        assert (await app.async_dispatch(command(text))).status == 200
    assert [s["client_token"] for s in seen] == ["xoxb-again", "xoxb-again"]
    assert [f["text"] for f in handlers.forms] == ["user view", "karma"]


async def test_without_a_token_commands_still_run():
    response, seen, handlers = await served("", command("user view"))
    assert response.status == 200
    assert seen[0]["bot_token"] is None
    assert len(handlers.forms) == 1
