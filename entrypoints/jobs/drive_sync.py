"""Drive permission sync: share every stored team's folder with exactly its members' emails.

For each stored team with a folder, ``core.usecases.teams.sync_drive`` does the work (the
same rule the team commands apply): registered members' emails are shared, former members
unshared, permissions Rocket did not create are left alone. Users are read once for all
teams. A Drive failure for one team is a warning; the other teams are still synced.
"""

from __future__ import annotations

import logging

from apscheduler.triggers.cron import CronTrigger

from core.context import Ports, Settings
from core.models import Team, User
from core.usecases.teams import sync_drive

log = logging.getLogger("rocket.jobs")


class DriveSync:
    name = "drive-sync"
    trigger = CronTrigger(hour=4, minute=30, timezone="UTC")
    lease_seconds = 3600.0

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self.ports = ports

    async def run(self) -> str:
        teams = sorted((t for t in await self.ports.store.query(Team) if t.folder),
                       key=lambda t: t.github_team_name)
        if not teams:
            return "no team has a Drive folder; nothing synced"
        users = [u for u in await self.ports.store.query(User) if u.github_user_id]
        warnings: list[str] = []
        for team in teams:
            warnings += await sync_drive(self.ports, team, users)
        for warning in warnings:
            log.warning("job %s: %s", self.name, warning)
        synced = len(teams) - len(warnings)
        line = f"synced {synced} of {len(teams)} team Drive folder(s)"
        return line + (f"; {len(warnings)} failed: " + " | ".join(warnings) if warnings else "")
