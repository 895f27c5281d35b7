"""What every use-case may be given: the ports, and settings from configuration."""

from __future__ import annotations

from dataclasses import field
from typing import TYPE_CHECKING

from core.records import record
from ports.clock import Clock, IdGenerator, SystemClock, UuidGenerator

if TYPE_CHECKING:  # annotations only: ``Settings`` is read without loading every port (issue 17)
    from ports.audit import AuditLog
    from ports.chat import Chat
    from ports.drive import Drive
    from ports.github import GitHub
    from ports.identity import GitHubIdentity
    from ports.storage import Store


@record
class Settings:
    """Configuration the core needs (names of special GitHub teams and Slack channels)."""

    default_team: str = "all"
    admin_team: str = ""
    leads_team: str = ""
    notification_channel: str = ""
    announcement_channel: str = ""
    audit_days: int = 400  # ROCKET_AUDIT_DAYS: entries older are purged by the audit-purge job
    refresh_max_removals: int = 10  # ROCKET_REFRESH_MAX_REMOVALS: the nightly refresh's guard rail


@record(frozen=False)
class Ports:
    """The adapters a use-case talks to. Absent integrations raise IntegrationUnavailable."""

    store: Store
    github: GitHub
    chat: Chat
    drive: Drive
    clock: Clock = field(default_factory=SystemClock)
    ids: IdGenerator = field(default_factory=UuidGenerator)
    #: GitHub's device flow for verified links; None when ``GITHUB_CLIENT_ID`` is not set
    #: (then a self-set link is stored unverified).
    identity: GitHubIdentity | None = None
    audit: AuditLog | None = None  # None: nothing is recorded (the audit subscriber is not wired)
