"""GitHub webhook payloads to typed events: ``parse_webhook(event_name, payload)``.

The one place that reads GitHub's webhook JSON. It returns one of the GitHub event commands
of ``core.commands`` (``GitHubTeamCreated``, ``GitHubMembershipAdded``, …), a
``GitHubIgnored`` with the reason when the event is one Rocket handles but the payload
names nothing it can act on, or None for an event Rocket does not handle at all (or a
payload that is not a JSON object). It never raises, whatever the payload holds.

Handled: ``ping``; ``organization`` (``member_removed``, ``member_added``,
``member_invited``); ``team`` (``created``, ``deleted``, ``edited``, and any other action as
"noted"); ``membership`` (``added`` / ``removed`` with scope ``team``).
"""

from __future__ import annotations

from typing import Any

from core.commands import (
    GitHubEvent,
    GitHubIgnored,
    GitHubMemberJoinedOrg,
    GitHubMemberLeftOrg,
    GitHubMembershipAdded,
    GitHubMembershipRemoved,
    GitHubPing,
    GitHubTeamCreated,
    GitHubTeamDeleted,
    GitHubTeamNoted,
    GitHubTeamRenamed,
)

HANDLED = frozenset({"ping", "organization", "team", "membership"})


def _obj(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    return value if isinstance(value, str) else ""


def _id(obj: Any) -> str:
    value = obj.get("id") if isinstance(obj, dict) else None
    return str(value) if isinstance(value, int | str) and str(value) else ""


def parse_webhook(event_name: str, payload: Any) -> GitHubEvent | None:
    """The typed event for one webhook delivery (see the module docstring)."""
    if event_name not in HANDLED or not isinstance(payload, dict):
        return None
    action = _str(payload, "action")
    sender = _str(_obj(payload.get("sender")), "login")
    if event_name == "ping":
        return GitHubPing(actor=sender)
    if event_name == "organization":
        return _organization(action, payload, sender)
    if event_name == "team":
        return _team(action, payload, sender)
    return _membership(action, payload, sender)


def _organization(action: str, payload: dict[str, Any], sender: str) -> GitHubEvent:
    membership = _obj(payload.get("membership"))
    user = membership.get("user") or payload.get("user") or {}
    github_id, login = _id(user), _str(_obj(user), "login")
    if action == "member_removed" and github_id:
        return GitHubMemberLeftOrg(github_id, login, actor=sender)
    if action in ("member_added", "member_invited") and login:
        return GitHubMemberJoinedOrg(login, invited=action == "member_invited", actor=sender)
    return GitHubIgnored(f"ignored: organization {action or 'event'}", actor=sender)


def _team(action: str, payload: dict[str, Any], sender: str) -> GitHubEvent:
    team = _obj(payload.get("team"))
    team_id, slug, name = _id(team), _str(team, "slug"), _str(team, "name")
    if not team_id:
        return GitHubIgnored("ignored: team event without a team id", actor=sender)
    if action == "created" and slug:
        return GitHubTeamCreated(team_id, slug, name, actor=sender)
    if action == "deleted":
        return GitHubTeamDeleted(team_id, slug, actor=sender)
    if action == "edited" and slug:
        return GitHubTeamRenamed(team_id, slug, actor=sender)
    return GitHubTeamNoted(team_id, slug, action, actor=sender)


def _membership(action: str, payload: dict[str, Any], sender: str) -> GitHubEvent:
    scope = payload.get("scope")
    if scope not in (None, "team"):
        return GitHubIgnored(f"ignored: membership scope {scope!r}", actor=sender)
    team_id = _id(payload.get("team"))
    member = payload.get("member") or {}
    github_id, login = _id(member), _str(_obj(member), "login")
    if not team_id or not github_id or action not in ("added", "removed"):
        return GitHubIgnored(f"ignored: membership {action or 'event'}", actor=sender)
    if action == "added":
        return GitHubMembershipAdded(team_id, github_id, login, actor=sender)
    return GitHubMembershipRemoved(team_id, github_id, login, actor=sender)


def ignored_summary(event_name: str, payload: Any) -> str:
    """The summary for a delivery ``parse_webhook`` returns None for."""
    if not isinstance(payload, dict):
        return "ignored: payload is not an object"
    return f"ignored: {event_name or 'unnamed'} events are not handled"
