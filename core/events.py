"""Domain events: facts about a change that was made (past tense), recorded by handlers.

A handler calls ``record(event)`` after the change it describes is stored; the bus
(``core.bus``) then hands each recorded event to its subscribers (Drive sync, promotion,
the notification channel, and the audit log of a later issue). Events are frozen
dataclasses (``core.records.record``: dataclasses built without ``exec``, for start-up time)
carrying ids, not stored records, plus what a reader of an audit log needs: ``actor``
(Slack user id; for GitHub webhooks the sender's login, or ""), and ``via`` — where the
change came from: ``"rocket"`` (a command, job or the CLI), ``"github"`` (a webhook) or
``"refresh"`` (a refresh, which promotes and syncs Drive for every team itself, in bulk).

``record`` outside ``MessageBus.handle`` is a no-op, so a handler also works when called
directly (tests, embedding); nothing is dispatched then.
"""

from __future__ import annotations

import contextvars
from dataclasses import field

from core import records
from core.permissions import Permissions

ROCKET = "rocket"
GITHUB = "github"
REFRESH = "refresh"  # a refresh reconciling with GitHub (it promotes and syncs Drive itself)


@records.record
class Event:
    """Base of every domain event: each one says who made the change (an ``actor`` field) and
    through what (a ``via`` field: ``rocket``, ``github`` or ``refresh``)."""


# --- teams -------------------------------------------------------------------------------------


@records.record
class TeamCreated(Event):
    team_id: str
    slug: str
    actor: str = ""
    via: str = ROCKET


@records.record
class TeamDeleted(Event):
    """The team is gone; ``folder`` is the Drive folder it had ("" for none), to unshare."""

    team_id: str
    slug: str
    unassigned_projects: tuple[str, ...] = ()
    actor: str = ""
    via: str = ROCKET
    folder: str = ""


@records.record
class TeamRenamed(Event):
    team_id: str
    old_slug: str
    new_slug: str
    actor: str = ""
    via: str = ROCKET


@records.record
class FieldChange:
    """One changed field: its name and the values before and after."""

    field: str
    old: object
    new: object


@records.record
class TeamChanged(Event):
    """Rocket's own team fields changed (display name, platform, Drive folder)."""

    team_id: str
    slug: str
    changes: tuple[FieldChange, ...]
    actor: str = ""
    via: str = ROCKET

    def changed(self, name: str) -> bool:
        return any(c.field == name for c in self.changes)


@records.record
class MemberJoinedTeam(Event):
    """GitHub user ``github_id`` became a member of the team (``slack_id`` if registered)."""

    team_id: str
    slug: str
    github_id: str
    slack_id: str = ""
    login: str = ""
    actor: str = ""
    via: str = ROCKET


@records.record
class MemberLeftTeam(Event):
    """``github_id`` is no longer a member (nor a lead) of the team."""

    team_id: str
    slug: str
    github_id: str
    slack_id: str = ""
    login: str = ""
    actor: str = ""
    via: str = ROCKET


@records.record
class LeadChanged(Event):
    """``github_id`` became (``is_lead``) or stopped being a lead of the team."""

    team_id: str
    slug: str
    github_id: str
    is_lead: bool
    slack_id: str = ""
    actor: str = ""
    via: str = ROCKET


@records.record
class TeamsRefreshed(Event):
    """A refresh reconciled the directory with GitHub (slugs of what changed)."""

    created: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    deleted: tuple[str, ...] = ()
    actor: str = ""
    via: str = ROCKET


# --- users -------------------------------------------------------------------------------------


@records.record
class UserRegistered(Event):
    slack_id: str
    actor: str = ""
    via: str = ROCKET


@records.record
class ProfileChanged(Event):
    """Fields of user ``slack_id`` changed; ``changes`` has the old and new values."""

    slack_id: str
    changes: tuple[FieldChange, ...]
    actor: str = ""
    via: str = ROCKET


@records.record
class UserPromoted(Event):
    """``slack_id`` rose from ``old`` to ``new`` by joining team ``slug``."""

    slack_id: str
    github_id: str
    old: Permissions
    new: Permissions
    slug: str = ""
    actor: str = ""
    via: str = ROCKET


@records.record
class UserDeleted(Event):
    slack_id: str
    github_id: str = ""
    actor: str = ""
    via: str = ROCKET


@records.record
class GitHubUnlinked(Event):
    """User ``slack_id`` lost the GitHub link ``github_id`` (they left the organization)."""

    slack_id: str
    github_id: str
    actor: str = ""
    via: str = GITHUB


@records.record
class MemberLeftOrganization(Event):
    github_id: str
    login: str = ""
    teams: tuple[str, ...] = ()  # slugs of the stored teams they were removed from
    actor: str = ""
    via: str = GITHUB


@records.record
class MemberJoinedOrganization(Event):
    login: str
    invited: bool = False
    actor: str = ""
    via: str = GITHUB


# --- karma and projects ------------------------------------------------------------------------


@records.record
class KarmaChanged(Event):
    slack_id: str
    old: int
    new: int
    actor: str = ""
    via: str = ROCKET


@records.record
class KarmaWasReset(Event):
    """Everyone's karma was set back to ``to``; ``slack_ids`` are the users written."""

    to: int
    slack_ids: tuple[str, ...] = ()
    actor: str = ""
    via: str = ROCKET


@records.record
class ProjectCreated(Event):
    project_id: str
    team_id: str
    actor: str = ""
    via: str = ROCKET


@records.record
class ProjectChanged(Event):
    project_id: str
    changes: tuple[FieldChange, ...]
    actor: str = ""
    via: str = ROCKET


@records.record
class ProjectAssigned(Event):
    """``team_id`` is the new team ("" when unassigned), ``previous`` the old one."""

    project_id: str
    team_id: str
    previous: str = ""
    actor: str = ""
    via: str = ROCKET


@records.record
class ProjectDeleted(Event):
    project_id: str
    team_id: str = ""
    actor: str = ""
    via: str = ROCKET


@records.record
class ChannelFeatured(Event):
    """Channel ``channel_id`` was advertised in ``posted_in``."""

    channel_id: str
    name: str
    posted_in: str
    actor: str = ""
    via: str = ROCKET


@records.record
class DirectoryImported(Event):
    """``rocket db import`` wrote ``created`` new and ``updated`` changed records."""

    created: int
    updated: int
    unchanged: int
    actor: str = ""
    via: str = ROCKET


# --- recording ---------------------------------------------------------------------------------


@records.record(frozen=False)
class EventLog:
    """The events recorded during one ``MessageBus.handle`` (handler and subscribers)."""

    events: list[Event] = field(default_factory=list)
    command: object = None  # the command being handled (set by the bus)
    notes: dict[str, object] = field(default_factory=dict)  # per-handle state of subscribers


_current: contextvars.ContextVar[EventLog | None] = contextvars.ContextVar("rocket_events", default=None)


def record(event: Event) -> None:
    """Record ``event`` for the bus to dispatch once the current handler returns."""
    log = _current.get()
    if log is not None:
        log.events.append(event)


def recorded() -> tuple[Event, ...]:
    """Every event recorded so far in the current ``handle`` (in order); () outside one."""
    log = _current.get()
    return tuple(log.events) if log is not None else ()


def current() -> EventLog | None:
    """The log of the current ``handle`` (its command, events and subscribers' notes); None
    outside one."""
    return _current.get()


def begin(command: object = None) -> tuple[EventLog, contextvars.Token[EventLog | None]]:
    """Start a fresh log for one ``handle`` (the bus's own use); ``end(token)`` restores."""
    log = EventLog(command=command)
    return log, _current.set(log)


def end(token: contextvars.Token[EventLog | None]) -> None:
    _current.reset(token)
