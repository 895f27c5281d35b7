"""The Slack app manifest for Rocket (``rocket slack-manifest --url https://HOST [--socket]``).

Paste the printed JSON into https://api.slack.com/apps → "Create New App" → "From an app
manifest". It declares:

- the ``/rocket`` slash command at ``https://HOST/slack/commands`` with ``should_escape: true``
  ("Escape channels, users, and links sent to your app" on: Rocket undoes ``<@U123|name>``
  itself, so members are named by id);
- Events API subscriptions at ``https://HOST/slack/events`` for the bot events ``team_join`` and
  ``app_home_opened`` (the Home tab, which is enabled);
- interactivity (buttons, modals) at ``https://HOST/slack/interactions``;
- the global shortcut "Edit my profile" (callback id ``PROFILE_SHORTCUT``, the one
  ``adapters.slack.views`` answers; kept as a literal so the manifest imports no Slack models);
- the bot scopes the Slack adapter and the events need (``BOT_SCOPES``).

With ``--socket`` Socket Mode is enabled and no request URL is written (``--url`` is then
optional and unused); run ``rocket socket`` with an app-level token instead of exposing HOST.
``HOST`` may carry a path prefix (``https://example.org/rocket``) for a reverse proxy.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

PROFILE_SHORTCUT = "rocket_profile_shortcut"

APP_NAME = "Rocket"
COMMAND = "/rocket"
COMMANDS_PATH = "/slack/commands"
EVENTS_PATH = "/slack/events"
INTERACTIONS_PATH = "/slack/interactions"
BOT_EVENTS = ("team_join", "app_home_opened")
# commands: the slash command; chat:write (+ .public: post notices to a public channel the bot
# has not joined); im:write: open the welcome DM; channels:read: conversations.list/.members on
# public channels; users:read (+ .email): the team_join event and the newcomer's email.
# views.open / .publish / .update / .push and app_home_opened need no scope (Slack's reference).
# files:write: files.getUploadURLExternal / files.completeUploadExternal (export emails as a CSV).
BOT_SCOPES = (
    "commands",
    "chat:write",
    "chat:write.public",
    "im:write",
    "channels:read",
    "users:read",
    "users:read.email",
    "files:write",
)


class ManifestError(ValueError):
    """A bad ``--url``; the message is one line naming the option."""


def base_url(url: str | None) -> str:
    """``url`` checked to be an absolute https URL without query or fragment; no trailing slash."""
    if url is None or not url.strip():
        raise ManifestError(
            "--url is missing: give the https address Slack will reach, e.g. "
            "--url https://rocket.example.org (or --socket for Socket Mode, which needs none)"
        )
    parts = urlsplit(url.strip())
    if parts.scheme != "https" or not parts.hostname:
        raise ManifestError(f"--url must be an https URL such as https://rocket.example.org, got {url!r}")
    if parts.query or parts.fragment:
        raise ManifestError(f"--url must not have a query or fragment, got {url!r}")
    try:
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise ManifestError(f"--url has a malformed port: {url!r}") from None
    return f"https://{parts.netloc}{parts.path.rstrip('/')}"


def build_manifest(url: str | None, socket: bool = False, name: str = APP_NAME) -> dict[str, Any]:
    """The manifest as a dict. ``url`` is required unless ``socket`` (``ManifestError`` if bad)."""
    root = base_url(url) if (url or not socket) else ""
    command: dict[str, Any] = {
        "command": COMMAND,
        "description": "Team directory: users, teams, projects and karma, synced with GitHub",
        "usage_hint": "help | user view | team list | project list | karma view @user",
        "should_escape": True,
    }
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if not socket:
        command["url"] = root + COMMANDS_PATH
        events["request_url"] = root + EVENTS_PATH
        interactivity["request_url"] = root + INTERACTIONS_PATH
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": name,
            "description": "ChatOps team management: a directory mirrored from your GitHub organization",
            "background_color": "#1d3c6e",
        },
        "features": {
            "app_home": {"home_tab_enabled": True, "messages_tab_enabled": True,
                         "messages_tab_read_only_enabled": False},
            "bot_user": {"display_name": name.lower(), "always_online": True},
            "slash_commands": [command],
            "shortcuts": [{"name": "Edit my profile", "type": "global", "callback_id": PROFILE_SHORTCUT,
                           "description": "Open your Rocket profile editor"}],
        },
        "oauth_config": {"scopes": {"bot": list(BOT_SCOPES)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket,
            "token_rotation_enabled": False,
        },
    }


def render(manifest: dict[str, Any]) -> str:
    """JSON, as the Slack app configuration page accepts it (JSON is also valid YAML)."""
    return json.dumps(manifest, indent=2) + "\n"
