"""GitHub webhook payloads to typed events: ``parse_webhook(event_name, payload)``.

The one place that reads GitHub's webhook JSON. It returns one of the GitHub event commands
of ``core.commands`` (``GitHubTeamCreated``, ``GitHubMembershipAdded``, …), a
``GitHubIgnored`` with the reason when the event is one Rocket handles but the payload
names nothing it can act on, or None for an event Rocket does not handle at all (or a
payload that is not a JSON object). It never raises, whatever the payload holds.

Handled: ``ping``; ``organization`` (``member_removed``, ``member_added``,
``member_invited``); ``team`` (``created``, ``deleted``, ``edited``, and any other action as
"noted"); ``membership`` (``added`` / ``removed`` with scope ``team``).

Scope (CONTRACT.md "GitHub identity"): one App secret signs the deliveries of every
installation of the App, so a valid signature does not make a delivery ours. Given a
``WebhookScope``, a handled event (other than ``ping``) whose ``organization.login`` is not
``scope.org`` (compared case-insensitively), that names no organization, or that carries an
``installation.id`` other than ``scope.installation_id`` (or any installation when ours could
not be learned) becomes a ``GitHubIgnored`` saying why: answered 200, nothing changed.
"""

from __future__ import annotations

from dataclasses import dataclass
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


@dataclass(frozen=True)
class WebhookScope:
    """Whose deliveries may change the directory: ``org`` (``GITHUB_ORG_NAME``) and the App's
    installation on it (``installation_id``; ``""`` when it could not be learned)."""

    org: str
    installation_id: str = ""

    def refusal(self, payload: dict[str, Any]) -> str | None:
        """Why ``payload`` is not ours (one line, for the answer and the log), or None."""
        org = _obj(payload.get("organization")).get("login")
        if not isinstance(org, str) or not org:
            return "ignored: the delivery names no organization"
        if org.casefold() != self.org.strip().casefold():
            return f"ignored: the delivery is about organization {_quoted(org)}, not {_quoted(self.org)}"
        if "installation" in payload:
            theirs = _id(payload.get("installation"))
            if not self.installation_id:
                return "ignored: the App's installation on the organization could not be confirmed"
            if theirs != self.installation_id:
                return f"ignored: the delivery is for installation {_quoted(theirs or '?')}, not ours"
        return None


def _quoted(text: str, limit: int = 40) -> str:
    """``text`` bounded and printable, for a summary that echoes payload input."""
    kept = "".join(ch if ch.isprintable() else "?" for ch in text[:limit])
    return repr(kept.encode("utf-8", "replace").decode("utf-8"))


def parse_webhook(event_name: str, payload: Any, scope: WebhookScope | None = None) -> GitHubEvent | None:
    """The typed event for one webhook delivery (see the module docstring); with ``scope``,
    a delivery about another organization or installation is a ``GitHubIgnored``."""
    if event_name not in HANDLED or not isinstance(payload, dict):
        return None
    action = _str(payload, "action")
    sender = _str(_obj(payload.get("sender")), "login")
    if event_name == "ping":
        return GitHubPing(actor=sender)
    if scope is not None:
        why = scope.refusal(payload)
        if why is not None:
            return GitHubIgnored(why, actor=sender)
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
