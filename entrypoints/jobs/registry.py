"""The one list of scheduled jobs. To add a job: a module in this package, and one line here."""

from __future__ import annotations

from entrypoints.jobs.audit_purge import AuditPurge
from entrypoints.jobs.base import JobFactory
from entrypoints.jobs.drive_sync import DriveSync
from entrypoints.jobs.lease_cleanup import LeaseCleanup
from entrypoints.jobs.promoter import RandomChannelPromoter
from entrypoints.jobs.refresh import NightlyTeamRefresh

JOBS: list[JobFactory] = [
    RandomChannelPromoter,
    NightlyTeamRefresh,
    DriveSync,
    LeaseCleanup,
    AuditPurge,
]
