"""Drive permission sync: ``SyncDrive(actor="", scheduled=True)`` through the bus.

Every stored team's folder is shared with exactly its registered members' emails (the same
rule the team commands apply): registered members' emails are shared, former members
unshared, permissions Rocket did not create are left alone. Users are read once for all
teams. A Drive failure for one team is a warning; the other teams are still synced.
"""

from __future__ import annotations

import logging

from apscheduler.triggers.cron import CronTrigger

from core.bus import MessageBus
from core.commands import SyncDrive
from core.context import Ports, Settings
from core.wiring import build_bus

log = logging.getLogger("rocket.jobs")


class DriveSync:
    name = "drive-sync"
    trigger = CronTrigger(hour=4, minute=30, timezone="UTC")
    lease_seconds = 3600.0

    def __init__(self, ports: Ports, settings: Settings, bus: MessageBus | None = None) -> None:
        self.bus = bus if bus is not None else build_bus(ports, settings)

    async def run(self) -> str:
        result = await self.bus.handle(SyncDrive(actor="", scheduled=True))
        if not result.teams:
            return "no team has a Drive folder; nothing synced"
        for warning in result.warnings:
            log.warning("job %s: %s", self.name, warning)
        line = f"synced {len(result.synced)} of {result.teams} team Drive folder(s)"
        failed = result.teams - len(result.synced)
        return line + (f"; {failed} failed: " + " | ".join(result.warnings) if result.warnings else "")
