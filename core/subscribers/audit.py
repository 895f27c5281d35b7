"""The audit trail: every domain event becomes an ``AuditEntry`` in ``ports.audit``.

Registered last on ``Event`` (``core.wiring``), so it sees the events other subscribers
recorded too. Use-cases know nothing of it: whatever ran the command (a slash command, an
interaction, a webhook, a job, the CLI) is recorded the same way.

- actor: the ``audit_scope``'s actor when an entry point set one (``cli``, ``job:NAME``);
  else ``github`` for what a webhook reported (``via == "github"``); else the Slack id of
  the command's actor.
- action: the command's name (``team add``, ``user edit``, ``github membership added``…).
- target, changes (field, old, new) and the users / teams tags: from the event.
- id: derived from the scope's idempotency key (a GitHub delivery id, a job's lease name),
  the command's number in the scope and the event's position, so applying the same delivery
  twice cannot double an entry; without a key, from a fresh random key per command.

When written: after the handler returned (the change is stored), all entries of a command
in one ``append`` (one round trip), flushed when the last recorded event is seen. A change
that failed or was refused records no event, so it leaves no entry. If the database fails
at that moment, the append is retried (``RETRY_DELAYS``); if it still fails the entries are
logged as one ``audit_lost`` JSON line each on the ``rocket.audit`` logger (they can be
re-appended from it: appending is idempotent by id) and the result gets a warning.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from typing import Any

from core import commands as c
from core import events as ev
from core.audit import MAX_TAGS, AuditEntry, current_scope, derived_id, now_time
from core.errors import RocketError
from ports.audit import AuditLog

log = logging.getLogger("rocket.audit")

RETRY_DELAYS = (0.05, 0.2, 0.5)  # seconds between attempts when the database fails

ACTIONS: dict[type[Any], str] = {
    c.AddUser: "user add", c.EditUser: "user edit", c.DeleteUser: "user delete",
    c.OnboardUser: "user onboard", c.MakeAdmin: "admin", c.ImportDirectory: "db import",
    c.SetKarma: "karma set", c.ResetKarma: "karma reset", c.GiveKarma: "karma give",
    c.CreateTeam: "team create", c.EditTeam: "team edit", c.AddTeamMember: "team add",
    c.RemoveTeamMember: "team remove", c.SetTeamLead: "team lead", c.DeleteTeam: "team delete",
    c.RefreshTeams: "team refresh", c.SyncDrive: "drive sync", c.FeatureRandomChannel: "channel feature",
    c.CreateProject: "project create", c.EditProject: "project edit", c.AssignProject: "project assign",
    c.UnassignProject: "project unassign", c.DeleteProject: "project delete",
    c.GitHubTeamCreated: "github team created", c.GitHubTeamDeleted: "github team deleted",
    c.GitHubTeamRenamed: "github team renamed", c.GitHubTeamNoted: "github team",
    c.GitHubMembershipAdded: "github membership added",
    c.GitHubMembershipRemoved: "github membership removed",
    c.GitHubMemberLeftOrg: "github member removed", c.GitHubMemberJoinedOrg: "github member added",
}

Described = tuple[str, list[tuple[str, Any, Any]], list[str], list[str]]  # target, changes, users, teams


def _fields(changes: tuple[ev.FieldChange, ...]) -> list[tuple[str, Any, Any]]:
    return [(ch.field, _plain(ch.old), _plain(ch.new)) for ch in changes]


def _plain(value: Any) -> Any:
    """A JSON-safe form of an event value (sets sorted, enums by value)."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, set | frozenset):
        return sorted(str(v) for v in value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if hasattr(value, "value"):
        return _plain(value.value)
    return str(value)


def _member(e: ev.MemberJoinedTeam | ev.MemberLeftTeam) -> str:
    return e.login or e.github_id


def describe(event: ev.Event) -> Described | None:
    """What an entry says about ``event`` (None: the event is no change worth an entry)."""
    u: Callable[[str], list[str]] = lambda sid: [sid] if sid else []  # noqa: E731
    if isinstance(event, ev.TeamCreated):
        return f"team:{event.slug}", [("slug", None, event.slug)], [], [event.slug]
    if isinstance(event, ev.TeamDeleted):
        return (f"team:{event.slug}", [("slug", event.slug, None)]
                + ([("projects", list(event.unassigned_projects), [])] if event.unassigned_projects else []),
                [], [event.slug])
    if isinstance(event, ev.TeamRenamed):
        return (f"team:{event.new_slug}", [("slug", event.old_slug, event.new_slug)], [],
                [event.old_slug, event.new_slug])
    if isinstance(event, ev.TeamChanged):
        return f"team:{event.slug}", _fields(event.changes), [], [event.slug]
    if isinstance(event, ev.MemberJoinedTeam):
        return f"team:{event.slug}", [("member", None, _member(event))], u(event.slack_id), [event.slug]
    if isinstance(event, ev.MemberLeftTeam):
        return f"team:{event.slug}", [("member", _member(event), None)], u(event.slack_id), [event.slug]
    if isinstance(event, ev.LeadChanged):
        return (f"team:{event.slug}", [("lead", event.github_id if not event.is_lead else None,
                                        event.github_id if event.is_lead else None)],
                u(event.slack_id), [event.slug])
    if isinstance(event, ev.UserRegistered):
        return f"user:{event.slack_id}", [("registered", False, True)], [event.slack_id], []
    if isinstance(event, ev.ProfileChanged):
        return f"user:{event.slack_id}", _fields(event.changes), [event.slack_id], []
    if isinstance(event, ev.UserPromoted):
        return (f"user:{event.slack_id}", [("permission", _plain(event.old), _plain(event.new))],
                [event.slack_id], [event.slug] if event.slug else [])
    if isinstance(event, ev.UserDeleted):
        return f"user:{event.slack_id}", [("registered", True, False)], [event.slack_id], []
    if isinstance(event, ev.GitHubUnlinked):
        return f"user:{event.slack_id}", [("github", event.github_id, None)], [event.slack_id], []
    if isinstance(event, ev.MemberLeftOrganization):
        return (f"github:{event.login or event.github_id}", [("organization", "member", None)], [],
                list(event.teams)[: MAX_TAGS])
    if isinstance(event, ev.MemberJoinedOrganization):
        return (f"github:{event.login}", [("organization", None, "invited" if event.invited else "member")],
                [], [])
    if isinstance(event, ev.KarmaChanged):
        return f"user:{event.slack_id}", [("karma", event.old, event.new)], [event.slack_id], []
    if isinstance(event, ev.KarmaWasReset):
        if not event.slack_ids:
            return None
        return ("karma", [("karma", None, event.to), ("users", None, len(event.slack_ids))],
                list(event.slack_ids)[:MAX_TAGS], [])
    if isinstance(event, ev.ProjectCreated):
        return f"project:{event.project_id}", [("team", None, event.team_id)], [], []
    if isinstance(event, ev.ProjectChanged):
        return f"project:{event.project_id}", _fields(event.changes), [], []
    if isinstance(event, ev.ProjectAssigned):
        return (f"project:{event.project_id}", [("team", event.previous or None, event.team_id or None)],
                [], [])
    if isinstance(event, ev.ProjectDeleted):
        return f"project:{event.project_id}", [("project", event.project_id, None)], [], []
    if isinstance(event, ev.ChannelFeatured):
        return f"channel:{event.channel_id}", [("featured_in", None, event.posted_in)], [], []
    if isinstance(event, ev.DirectoryImported):
        if not (event.created or event.updated):
            return None
        return ("directory", [("created", None, event.created), ("updated", None, event.updated)], [], [])
    return None  # TeamsRefreshed and other summaries: their changes have events of their own


def action_of(command: object) -> str:
    """The recorded action of ``command`` (its ``/rocket`` name where it has one)."""
    name = ACTIONS.get(type(command))
    if name:
        return name
    return type(command).__name__ if command is not None else "change"


def actor_of(command: object, event: ev.Event) -> str:
    """Who made the change (see the module docstring)."""
    scope = current_scope()
    if scope is not None and scope.actor:
        return scope.actor
    fields = vars(event)  # every event is a dataclass with ``actor`` and ``via``
    if fields.get("via") == ev.GITHUB or type(command).__name__.startswith("GitHub"):
        return "github"
    actor = (command.actor if isinstance(command, c.Command) else "") or fields.get("actor", "")
    return actor if isinstance(actor, str) and actor.strip() else "unknown"


class AuditTrail:
    """Subscriber of every event: appends the command's entries to ``audit`` (see above)."""

    def __init__(self, audit: AuditLog, clock: Callable[[], str] = now_time) -> None:
        self.audit = audit
        self.clock = clock

    async def on_event(self, event: ev.Event) -> list[str] | None:
        current = ev.current()
        if current is None:
            return None
        events = current.events
        if not events or events[-1] is not event:
            return None  # flushed with the last event recorded so far
        notes = current.notes
        start = notes.get("audit.flushed", 0)
        assert isinstance(start, int)
        notes["audit.flushed"] = len(events)
        key = notes.get("audit.key")
        if not isinstance(key, str):
            scope = current_scope()
            if scope is not None and scope.key:
                scope.handles += 1
                key = f"{scope.key}|{scope.handles}"
            else:
                key = os.urandom(16).hex()  # a fresh random key, as uuid4 but cheaper
            notes["audit.key"] = key
        command = current.command
        time = self.clock()
        entries = []
        for index in range(start, len(events)):
            e = events[index]
            described = describe(e)
            if described is None:
                continue
            target, changes, users, teams = described
            entries.append(AuditEntry(
                id=derived_id(key, index), time=time, actor=actor_of(command, e),
                action=action_of(command), target=target, changes=tuple(changes),
                users=tuple(users), teams=tuple(teams),
            ))
        if not entries:
            return None
        return await self._append(entries)

    async def _append(self, entries: list[AuditEntry]) -> list[str] | None:
        error: Exception | None = None
        for delay in (0.0, *RETRY_DELAYS):
            if delay:
                await asyncio.sleep(delay)
            try:
                await self.audit.append(entries)
                return None
            except RocketError as exc:
                error = exc
        for entry in entries:
            log.error(json.dumps({"kind": "audit_lost", "error": str(error)[:200], "entry": entry.to_dict()},
                                 ensure_ascii=False))
        return [f"the change was made but its audit entry could not be written ({error})"]
