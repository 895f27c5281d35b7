"""Nightly team refresh: ``core.usecases.refresh.RefreshTeams(...).run()``.

Reconciles the stored teams with the GitHub organization, promotes members of the admin and
leads teams, and syncs Drive folders (see that use-case's contract). No permission check:
the scheduler acts for the operator.

Nobody waits for this job, so it talks to GitHub through the adapter's ``patient()`` variant
(when it has one): a rate limit is waited out (PyGithub's ``GithubRetry``) instead of failing the
run, and the summary says how many requests waited and for how long at most.
"""

from __future__ import annotations

import dataclasses

from apscheduler.triggers.cron import CronTrigger

from core.context import Ports, Settings
from core.results import RefreshResult
from core.usecases.refresh import RefreshTeams


def refresh_summary(result: RefreshResult) -> str:
    """One line: counts of what changed, and the warnings."""
    parts = [f"{len(result.created)} created", f"{len(result.updated)} updated",
             f"{len(result.deleted)} deleted", f"{len(result.promoted)} promoted",
             f"{len(result.drive_synced)} Drive folder(s) synced"]
    line = "teams refreshed: " + ", ".join(parts)
    if result.warnings:
        line += f"; {len(result.warnings)} warning(s): " + " | ".join(result.warnings)
    return line


class NightlyTeamRefresh:
    name = "team-refresh"
    trigger = CronTrigger(hour=3, minute=0, timezone="UTC")
    lease_seconds = 3600.0

    def __init__(self, ports: Ports, settings: Settings) -> None:
        # Looked up on the class: the stand-in for an absent integration answers any attribute.
        patient = getattr(type(ports.github), "patient", None)
        self.github = ports.github.patient() if callable(patient) else ports.github
        self.refresh = RefreshTeams(dataclasses.replace(ports, github=self.github), settings)

    async def run(self) -> str:
        waits: list[float] | None = getattr(self.github, "rate_limit_waits", None)
        seen = len(waits) if waits is not None else 0
        summary = refresh_summary(await self.refresh.run())
        if waits is not None and len(waits) > seen:
            new = waits[seen:]
            summary += (f"; waited for GitHub's rate limit to lift ({len(new)} request(s) held back, "
                        f"longest {max(new):.1f} s)")
        return summary
