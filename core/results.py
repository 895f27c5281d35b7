"""What use-cases return: plain data for entrypoints to render (never Slack text).

Every result has ``warnings``: things that went wrong after the change was made (a Drive
sync, a notice); the bus appends its subscribers' warnings there."""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING, Any

from core.records import record

if TYPE_CHECKING:  # annotations only: importing this module loads no port (start-up, issue 17)
    from core.models import Project, Team, User
    from ports.chat import Channel
    from ports.identity import DeviceCode


@record(frozen=False)
class UserResult:
    """A user after a change or a lookup; ``message`` says what happened (e.g. "Added")."""

    user: User
    message: str = ""
    teams: list[Team] | None = None  # with --inspect: teams the user is in
    leading: list[Team] | None = None  # with --inspect: teams the user leads
    warnings: list[str] = field(default_factory=list)
    invitation: str = ""  # user view: their GitHub organization invitation, when pending
    device: DeviceCode | None = None  # user edit --github: the device flow begun (code to show)


@record(frozen=False)
class TeamResult:
    team: Team
    members: list[User] = field(default_factory=list)  # registered members, by github id
    leads: list[User] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)
    message: str = ""
    warnings: list[str] = field(default_factory=list)


@record(frozen=False)
class TeamList:
    teams: list[Team]
    page: int = 1
    warnings: list[str] = field(default_factory=list)


@record(frozen=False)
class ProjectResult:
    project: Project
    team: Team | None = None
    message: str = ""
    warnings: list[str] = field(default_factory=list)


@record(frozen=False)
class ProjectList:
    projects: list[Project]
    page: int = 1
    warnings: list[str] = field(default_factory=list)


@record(frozen=False)
class Deleted:
    """A record removed: ``kind`` is "user", "team" or "project"."""

    kind: str
    key: str
    message: str = ""
    warnings: list[str] = field(default_factory=list)


@record(frozen=False)
class KarmaResult:
    user: User
    message: str = ""
    warnings: list[str] = field(default_factory=list)


@record(frozen=False)
class KarmaReset:
    count: int
    warnings: list[str] = field(default_factory=list)


@record(frozen=False)
class EmailFile:
    """``export emails`` as a CSV file (``core.usecases.emails``): its name, how many rows
    (users) it holds, and whether it was sent to the actor's Slack DMs. ``csv`` is the file's
    text when it was not sent (Slack not configured: ``rocket exec`` prints it), else ""."""

    filename: str
    rows: int
    sent: bool
    csv: str = ""


@record(frozen=False)
class EmailList:
    emails: list[str]
    team: Team | None = None
    missing: list[str] = field(default_factory=list)  # slack ids of users without an email
    warnings: list[str] = field(default_factory=list)
    file: EmailFile | None = None  # the CSV (set by ``export emails``); None: the list is the reply


@record(frozen=False)
class RefreshPlan:
    """What a refresh changes (computed before any write, by the code that then applies it).

    Members are GitHub logins where known (else GitHub ids); ``promoted`` holds
    ``(slack_id, old level, new level)``.
    """

    created: list[str] = field(default_factory=list)
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (old slug, new slug)
    deleted: list[str] = field(default_factory=list)
    added: list[tuple[str, str]] = field(default_factory=list)  # (team slug, member)
    removed: list[tuple[str, str]] = field(default_factory=list)
    promoted: list[tuple[str, str, str]] = field(default_factory=list)
    invitations_expired: list[str] = field(default_factory=list)  # logins (none tracked yet)

    @property
    def removals(self) -> int:
        """Memberships removed, counting every member of a deleted team."""
        return len(self.removed)

    @property
    def empty(self) -> bool:
        return not (self.created or self.renamed or self.deleted or self.added or self.removed
                    or self.promoted or self.invitations_expired)


@record(frozen=False)
class RefreshResult:
    created: list[str] = field(default_factory=list)  # team slugs
    updated: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    promoted: list[str] = field(default_factory=list)  # slack ids whose permission rose
    drive_synced: list[str] = field(default_factory=list)
    # "SLACK_ID (login)" of registered users whose GitHub organization invitation expired
    expired_invitations: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    plan: RefreshPlan | None = None  # what was (or, when not applied, would be) changed
    applied: bool = True  # False: a dry run, or a plan held back by the guard rail
    held: str = ""  # why the guard rail held the plan back ("" when it did not)


@record(frozen=False)
class EventOutcome:
    """What a GitHub event did: ``applied`` when the directory changed; ``summary`` one line
    for logs and the webhook's answer. Notices for the notification channel are posted by a
    subscriber of the domain events (``core.subscribers``)."""

    applied: bool
    summary: str
    warnings: list[str] = field(default_factory=list)


@record(frozen=False)
class DriveSyncResult:
    """Teams with a Drive folder (``teams``) and the slugs of those synced."""

    teams: int = 0
    synced: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@record(frozen=False)
class ChannelFeature:
    """The channel featured (None when nothing was posted) and a one-line summary."""

    channel: Channel | None
    message: str = ""
    warnings: list[str] = field(default_factory=list)


@record(frozen=False)
class ImportResult:
    """Counts of ``rocket db import``: records created, updated, and already as in the file."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


@record(frozen=False)
class AuditPage:
    """One page of audit entries (newest first); ``more`` is the cursor of the next page
    ("" when this is the last), ``scope`` says whose entries these are."""

    entries: list[Any] = field(default_factory=list)  # core.audit.AuditEntry
    more: str = ""
    scope: str = ""
    warnings: list[str] = field(default_factory=list)


@record(frozen=False)
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
