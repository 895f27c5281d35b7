"""What use-cases return: plain data for entrypoints to render (never Slack text).

Every result has ``warnings``: things that went wrong after the change was made (a Drive
sync, a notice); the bus appends its subscribers' warnings there."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.models import Project, Team, User
from ports.chat import Channel


@dataclass
class UserResult:
    """A user after a change or a lookup; ``message`` says what happened (e.g. "Added")."""

    user: User
    message: str = ""
    teams: list[Team] | None = None  # with --inspect: teams the user is in
    leading: list[Team] | None = None  # with --inspect: teams the user leads
    warnings: list[str] = field(default_factory=list)


@dataclass
class TeamResult:
    team: Team
    members: list[User] = field(default_factory=list)  # registered members, by github id
    leads: list[User] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    message: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class TeamList:
    teams: list[Team]
    page: int = 1
    warnings: list[str] = field(default_factory=list)


@dataclass
class ProjectResult:
    project: Project
    team: Team | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class ProjectList:
    projects: list[Project]
    page: int = 1
    warnings: list[str] = field(default_factory=list)


@dataclass
class Deleted:
    """A record removed: ``kind`` is "user", "team" or "project"."""

    kind: str
    key: str
    message: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class KarmaResult:
    user: User
    message: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class KarmaReset:
    count: int
    warnings: list[str] = field(default_factory=list)


@dataclass
class EmailList:
    emails: list[str]
    team: Team | None = None
    missing: list[str] = field(default_factory=list)  # slack ids of users without an email
    warnings: list[str] = field(default_factory=list)


@dataclass
class RefreshResult:
    created: list[str] = field(default_factory=list)  # team slugs
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    promoted: list[str] = field(default_factory=list)  # slack ids whose permission rose
    drive_synced: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class EventOutcome:
    """What a GitHub event did: ``applied`` when the directory changed; ``summary`` one line
    for logs and the webhook's answer. Notices for the notification channel are posted by a
    subscriber of the domain events (``core.subscribers``)."""

    applied: bool
    summary: str
    warnings: list[str] = field(default_factory=list)


@dataclass
class DriveSyncResult:
    """Teams with a Drive folder (``teams``) and the slugs of those synced."""

    teams: int = 0
    synced: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class ChannelFeature:
    """The channel featured (None when nothing was posted) and a one-line summary."""

    channel: Channel | None
    message: str = ""
    warnings: list[str] = field(default_factory=list)


@dataclass
class ImportResult:
    """Counts of ``rocket db import``: records created, updated, and already as in the file."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@dataclass
class HomeView:
    """What the Home tab shows ``user`` (None: not in the directory yet): the teams they are in,
    those teams' projects, and (leads and admins) the teams they manage, each list sorted and cut
    at the handler's ``limit`` with the full count kept in ``*_total``."""

    slack_id: str
    user: User | None
    teams: list[Team] = field(default_factory=list)
    teams_total: int = 0
    projects: list[Project] = field(default_factory=list)
    projects_total: int = 0
    managed: list[Team] = field(default_factory=list)
    managed_total: int = 0
    warnings: list[str] = field(default_factory=list)
