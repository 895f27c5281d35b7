"""Nightly team refresh: ``RefreshTeams(actor="", scheduled=True)`` through the bus.

Reconciles the stored teams with the GitHub organization, promotes members of the admin and
leads teams, and syncs Drive folders (see that handler's contract). ``scheduled``: no
permission check, the scheduler acts for the operator.

Nobody waits for this job, so it talks to GitHub through the adapter's ``patient()`` variant
(when GitHub is configured): a rate limit is waited out (PyGithub's ``GithubRetry``) instead of
failing the run, and the summary says how many requests waited and for how long at most.
"""

from __future__ import annotations

import dataclasses

from apscheduler.triggers.cron import CronTrigger

from adapters.unavailable import Unavailable
from core.bus import MessageBus
from core.commands import RefreshTeams
from core.context import Ports, Settings
from core.results import RefreshResult
from core.wiring import build_bus
from ports.github import GitHub


def refresh_summary(result: RefreshResult) -> str:
    """One line: counts of what changed (or why nothing was), and the warnings."""
    if result.held:
        plan = result.plan
        line = (f"teams NOT refreshed: {result.held}; the plan was posted to the notification channel "
                "and waits for an admin's `/rocket team refresh`")
        if plan is not None:
            line += f" ({len(plan.deleted)} team(s) deleted, {plan.removals} membership(s) removed)"
        return line
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

    def __init__(self, ports: Ports, settings: Settings, bus: MessageBus | None = None) -> None:
        self.chat = ports.chat
        self.channel = settings.notification_channel
        self.github = _patient(ports.github)
        if bus is None or self.github is not ports.github:
            bus = build_bus(dataclasses.replace(ports, github=self.github), settings)
        self.bus = bus

    async def run(self) -> str:
        waits = _rate_limit_waits(self.github)
        seen = len(waits)
        result = await self.bus.handle(RefreshTeams(actor="", scheduled=True, guarded=True))
        if result.held:
            await self._post_plan(result)
        summary = refresh_summary(result)
        if len(waits) > seen:
            new = waits[seen:]
            summary += (f"; waited for GitHub's rate limit to lift ({len(new)} request(s) held back, "
                        f"longest {max(new):.1f} s)")
        return summary


    async def _post_plan(self, result: RefreshResult) -> None:
        """The held-back plan, as the reply of a dry run reads, to SLACK_NOTIFICATION_CHANNEL."""
        if not self.channel:
            return
        from adapters.slack.render import render_text

        await self.chat.post_to_channel(self.channel, render_text(result)[:39_000])


def _patient(github: GitHub) -> GitHub:
    """The GitHub App adapter's waiting variant; any other port (a fake, Unavailable) as it is."""
    if isinstance(github, Unavailable):
        return github
    from adapters.github.client import GitHubApp  # already imported when GitHub is configured

    return github.patient() if isinstance(github, GitHubApp) else github


def _rate_limit_waits(github: GitHub) -> list[float]:
    """The adapter's record of rate-limit waits (a live list), or an empty one."""
    if isinstance(github, Unavailable):
        return []
    from adapters.github.client import GitHubApp

    return github.rate_limit_waits if isinstance(github, GitHubApp) else []
