"""``rocket slack-manifest``: the printed manifest points at HOST and grants every scope Rocket uses.

The scope check does not trust the manifest module: it finds the Slack Web API methods the chat
adapter calls by reading adapters/slack/client.py's AST, names them as Slack does by reading
slack-sdk's own client (``chat_postMessage`` → ``api_call("chat.postMessage")``), and compares
with the table below of the bot scopes Slack's method pages document.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from pathlib import Path

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from entrypoints.manifest import ManifestError, build_manifest
from tests.support.cli import rocket

CLIENT_SOURCE = Path(__file__).resolve().parents[2] / "adapters" / "slack" / "client.py"

# Bot-token scopes from https://api.slack.com/methods/<method> ("Required scopes"). For the
# conversations.* methods Slack lists one scope per conversation type; any one of them lets the
# call succeed for that type, so a manifest must hold at least one of each set.
DOCUMENTED_SCOPES: dict[str, set[str]] = {
    "chat.postMessage": {"chat:write"},
    "conversations.open": {"channels:manage", "groups:write", "im:write", "mpim:write"},
    "conversations.list": {"channels:read", "groups:read", "im:read", "mpim:read"},
    "conversations.members": {"channels:read", "groups:read", "im:read", "mpim:read"},
    "conversations.info": {"channels:read", "groups:read", "im:read", "mpim:read"},
    "conversations.join": {"channels:join"},
    "users.info": {"users:read"},
    "users.list": {"users:read"},
    "users.lookupByEmail": {"users:read.email"},
    "chat.postEphemeral": {"chat:write"},
    "chat.update": {"chat:write"},
    "reactions.add": {"reactions:write"},
    # https://api.slack.com/methods/views.open (and .publish, .update): "No scope required"
    "views.open": set(),
    "views.push": set(),  # https://api.slack.com/methods/views.push: "No scope required"
    "views.publish": set(),
    "views.update": set(),
    # https://api.slack.com/methods/files.getUploadURLExternal (and files.completeUploadExternal)
    "files.getUploadURLExternal": {"files:write"},
    "files.completeUploadExternal": {"files:write"},
}
# https://api.slack.com/events/<event>: the scope a bot needs to receive the event.
EVENT_SCOPES: dict[str, set[str]] = {"team_join": {"users:read"}, "app_home_opened": set()}  # none needed


def api_method(name: str) -> str | None:
    """The Slack method an ``AsyncWebClient`` method calls (``None`` if it is not an API method)."""
    attr = getattr(AsyncWebClient, name, None)
    if name.startswith("_") or not callable(attr):
        return None
    match = re.search(r"api_call\(\s*\"([\w.]+)\"", inspect.getsource(attr))
    return match.group(1) if match else None


def methods_the_adapter_calls() -> set[str]:
    """Every ``<something>.<web client method>(…)`` call in adapters/slack/client.py, as Slack names it."""
    tree = ast.parse(CLIENT_SOURCE.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            method = api_method(node.func.attr)
            if method:
                found.add(method)
    return found


def manifest_from_cli(*args: str) -> dict:
    result = rocket("slack-manifest", *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_manifest_points_slash_command_and_events_at_the_host():
    manifest = manifest_from_cli("--url", "https://example.org")
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/rocket"
    assert command["url"] == "https://example.org/slack/commands"
    assert command["should_escape"] is True  # "escape channels, users and links" on
    events = manifest["settings"]["event_subscriptions"]
    assert events["request_url"] == "https://example.org/slack/events"
    assert "team_join" in events["bot_events"] and "app_home_opened" in events["bot_events"]
    assert manifest["settings"]["interactivity"] == {"is_enabled": True,
                                                     "request_url": "https://example.org/slack/interactions"}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["display_information"]["name"] and manifest["features"]["bot_user"]["display_name"]


def test_socket_manifest_enables_socket_mode_and_has_no_request_urls():
    manifest = manifest_from_cli("--socket")
    assert manifest["settings"]["socket_mode_enabled"] is True
    [command] = manifest["features"]["slash_commands"]
    assert "url" not in command and command["command"] == "/rocket"
    assert "request_url" not in manifest["settings"]["event_subscriptions"]
    assert manifest["settings"]["event_subscriptions"]["bot_events"] == ["team_join", "app_home_opened"]
    assert manifest["settings"]["interactivity"] == {"is_enabled": True}
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    assert manifest_from_cli("--url", "https://example.org", "--socket") == manifest


def test_a_path_prefix_is_kept_and_a_trailing_slash_dropped():
    manifest = build_manifest("https://example.org:8443/rocket/")
    assert manifest["features"]["slash_commands"][0]["url"] == "https://example.org:8443/rocket/slack/commands"


@pytest.mark.parametrize("args", [
    ["--url", "http://example.org"],
    ["--url", "example.org"],
    ["--url", "https://"],
    ["--url", "https://example.org/?x=1"],
    ["--url", "https://example.org:99999"],
    [],  # an HTTP app needs a URL
])
def test_bad_or_missing_url_exits_2_with_one_line(args):
    result = rocket("slack-manifest", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--url" in lines[0], result.stderr


def test_build_manifest_refuses_a_bad_url_without_printing():
    with pytest.raises(ManifestError, match="--url"):
        build_manifest("ftp://example.org")


def test_scopes_cover_every_web_api_method_the_chat_adapter_calls():
    methods = methods_the_adapter_calls()
    assert {"chat.postMessage", "conversations.open", "conversations.list"} <= methods  # the finder works
    unknown = methods - DOCUMENTED_SCOPES.keys()
    assert not unknown, f"add the documented scopes of {sorted(unknown)} to DOCUMENTED_SCOPES"
    scopes = set(manifest_from_cli("--url", "https://example.org")["oauth_config"]["scopes"]["bot"])
    missing = {m: sorted(DOCUMENTED_SCOPES[m]) for m in methods
               if DOCUMENTED_SCOPES[m] and not scopes & DOCUMENTED_SCOPES[m]}
    assert not missing, f"the manifest lacks a scope for {missing}"
    # slash commands, and the events Rocket subscribes to
    assert "commands" in scopes
    manifest = build_manifest("https://example.org")
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        assert not EVENT_SCOPES[event] or scopes & EVENT_SCOPES[event], event
    # team_join hands Rocket the newcomer's email only with users:read.email
    assert "users:read.email" in scopes
    assert len(scopes) == len(manifest["oauth_config"]["scopes"]["bot"])  # no duplicates


def test_method_names_come_from_slack_sdk():
    assert api_method("chat_postMessage") == "chat.postMessage"
    assert api_method("conversations_members") == "conversations.members"
    assert api_method("users_lookupByEmail") == "users.lookupByEmail"
    assert api_method("api_call") is None and api_method("no_such_method") is None
