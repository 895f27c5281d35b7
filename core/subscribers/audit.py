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
  twice cannot double an entry; without a key, a fresh id of the same form, the time then
  random digits (``random_id``: nothing needs to derive it again).

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
from collections.abc import Callable
from typing import Any

from core import commands as c
from core import events as ev
from core.audit import MAX_TAGS, AuditEntry, AuditScope, current_scope, derived_id, now_time, random_id
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


_SIMPLE = frozenset({str, int, bool, float, type(None)})  # exact types ``_plain`` keeps as they are


def _plain(value: Any) -> Any:
    """A JSON-safe form of an event value (sets sorted, enums by value)."""
    if type(value) in _SIMPLE or isinstance(value, bool | int | float | str):
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


def _u(sid: str) -> list[str]:
    return [sid] if sid else []


def _team_deleted(e: ev.TeamDeleted) -> Described:
    return (f"team:{e.slug}", [("slug", e.slug, None)]
            + ([("projects", list(e.unassigned_projects), [])] if e.unassigned_projects else []),
            [], [e.slug])


def _lead_changed(e: ev.LeadChanged) -> Described:
    return (f"team:{e.slug}", [("lead", e.github_id if not e.is_lead else None,
                                e.github_id if e.is_lead else None)],
            _u(e.slack_id), [e.slug])


def _karma_reset(e: ev.KarmaWasReset) -> Described | None:
    if not e.slack_ids:
        return None
    return ("karma", [("karma", None, e.to), ("users", None, len(e.slack_ids))],
            list(e.slack_ids)[:MAX_TAGS], [])


def _imported(e: ev.DirectoryImported) -> Described | None:
    if not (e.created or e.updated):
        return None
    return ("directory", [("created", None, e.created), ("updated", None, e.updated)], [], [])


# One function per event class: ``describe`` finds it by the event's class (or a base class).
_DESCRIBERS: dict[type[Any], Callable[[Any], Described | None]] = {
    ev.TeamCreated: lambda e: (f"team:{e.slug}", [("slug", None, e.slug)], [], [e.slug]),
    ev.TeamDeleted: _team_deleted,
    ev.TeamRenamed: lambda e: (f"team:{e.new_slug}", [("slug", e.old_slug, e.new_slug)], [],
                               [e.old_slug, e.new_slug]),
    ev.TeamChanged: lambda e: (f"team:{e.slug}", _fields(e.changes), [], [e.slug]),
    ev.MemberJoinedTeam: lambda e: (f"team:{e.slug}", [("member", None, _member(e))], _u(e.slack_id),
                                    [e.slug]),
    ev.MemberLeftTeam: lambda e: (f"team:{e.slug}", [("member", _member(e), None)], _u(e.slack_id),
                                  [e.slug]),
    ev.LeadChanged: _lead_changed,
    ev.UserRegistered: lambda e: (f"user:{e.slack_id}", [("registered", False, True)], [e.slack_id], []),
    ev.ProfileChanged: lambda e: (f"user:{e.slack_id}", _fields(e.changes), [e.slack_id], []),
    ev.UserPromoted: lambda e: (f"user:{e.slack_id}", [("permission", _plain(e.old), _plain(e.new))],
                                [e.slack_id], [e.slug] if e.slug else []),
    ev.UserDeleted: lambda e: (f"user:{e.slack_id}", [("registered", True, False)], [e.slack_id], []),
    ev.GitHubUnlinked: lambda e: (f"user:{e.slack_id}", [("github", e.github_id, None)], [e.slack_id], []),
    ev.MemberLeftOrganization: lambda e: (f"github:{e.login or e.github_id}",
                                          [("organization", "member", None)], [], list(e.teams)[: MAX_TAGS]),
    ev.MemberJoinedOrganization: lambda e: (f"github:{e.login}",
                                            [("organization", None, "invited" if e.invited else "member")],
                                            [], []),
    ev.KarmaChanged: lambda e: (f"user:{e.slack_id}", [("karma", e.old, e.new)], [e.slack_id], []),
    ev.KarmaWasReset: _karma_reset,
    ev.ProjectCreated: lambda e: (f"project:{e.project_id}", [("team", None, e.team_id)], [], []),
    ev.ProjectChanged: lambda e: (f"project:{e.project_id}", _fields(e.changes), [], []),
    ev.ProjectAssigned: lambda e: (f"project:{e.project_id}",
                                   [("team", e.previous or None, e.team_id or None)], [], []),
    ev.ProjectDeleted: lambda e: (f"project:{e.project_id}", [("project", e.project_id, None)], [], []),
    ev.ChannelFeatured: lambda e: (f"channel:{e.channel_id}", [("featured_in", None, e.posted_in)], [], []),
    ev.DirectoryImported: _imported,
}


def describe(event: ev.Event) -> Described | None:
    """What an entry says about ``event`` (None: the event is no change worth an entry).

    TeamsRefreshed and other summaries give None: their changes have events of their own.
    """
    describer = _DESCRIBERS.get(type(event))
    if describer is None:  # a subclass of a described event, or an event without entry
        describer = next((_DESCRIBERS[k] for k in type(event).__mro__ if k in _DESCRIBERS), None)
        if describer is None:
            return None
    return describer(event)


def action_of(command: object) -> str:
    """The recorded action of ``command`` (its ``/rocket`` name where it has one)."""
    name = ACTIONS.get(type(command))
    if name:
        return name
    return type(command).__name__ if command is not None else "change"


def actor_of(command: object, event: ev.Event) -> str:
    """Who made the change (see the module docstring)."""
    return _actor(current_scope(), command, event)


def _actor(scope: AuditScope | None, command: object, event: ev.Event) -> str:
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
        scope = current_scope()
        key = notes.get("audit.key")
        if not isinstance(key, str) and scope is not None and scope.key:
            scope.handles += 1
            key = notes["audit.key"] = f"{scope.key}|{scope.handles}"
        command = current.command
        action = action_of(command)
        time = self.clock()
        entries = []
        for index in range(start, len(events)):
            e = events[index]
            described = describe(e)
            if described is None:
                continue
            target, changes, users, teams = described
            entries.append(AuditEntry(
                derived_id(key, index) if isinstance(key, str) else random_id(), time,
                _actor(scope, command, e), action, target, tuple(changes), tuple(users), tuple(teams),
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
