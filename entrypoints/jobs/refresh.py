"""Nightly team refresh: ``RefreshTeams(actor="", scheduled=True)`` through the bus.

Reconciles the stored teams with the GitHub organization, promotes members of the admin and
leads teams, and syncs Drive folders (see that handler's contract). ``scheduled``: no
permission check, the scheduler acts for the operator.
"""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger

from core.bus import MessageBus
from core.commands import RefreshTeams
from core.context import Ports, Settings
from core.results import RefreshResult
from core.wiring import build_bus


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

    def __init__(self, ports: Ports, settings: Settings, bus: MessageBus | None = None) -> None:
        self.bus = bus if bus is not None else build_bus(ports, settings)

    async def run(self) -> str:
        return refresh_summary(await self.bus.handle(RefreshTeams(actor="", scheduled=True)))
