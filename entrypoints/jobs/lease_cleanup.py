"""Lease cleanup: delete expired leases, so the leases table does not grow forever.

Every Slack event, GitHub delivery and scheduled-job run takes a lease in storage (see
``ports.storage.Store.acquire_lease``); expired ones are never removed by anything else. Once
a day this job calls ``store.purge_expired_leases(now)`` in rounds of ``batch`` until a round
deletes fewer than ``batch`` (nothing left), at most ``max_rounds`` rounds per run, so a huge
backlog is worked off over several days instead of in one endless run. ``now`` is read once
at the start; leases that expire during the run are left for the next one.

Removing an expired lease changes nothing observable: ``acquire_lease`` treats an expired
lease as free, and the store never deletes an unexpired one (a Slack event's or GitHub
delivery's 7-day "handled" mark, or this job's own lease, stays while it is live).
"""

from __future__ import annotations

from apscheduler.triggers.cron import CronTrigger

from core.context import Ports, Settings

BATCH = 10_000
MAX_ROUNDS = 100


class LeaseCleanup:
    name = "lease-cleanup"
    trigger = CronTrigger(hour=5, minute=15, timezone="UTC")
    lease_seconds = 3600.0

    def __init__(self, ports: Ports, settings: Settings, *, batch: int = BATCH,
                 max_rounds: int = MAX_ROUNDS) -> None:
        if batch <= 0 or max_rounds <= 0:
            raise ValueError("batch and max_rounds must be positive")
        self.ports = ports
        self.batch = batch
        self.max_rounds = max_rounds

    async def run(self) -> str:
        """Purge leases expired now; a one-line summary (says so when rounds ran out)."""
        now = self.ports.clock.now()
        purged = 0
        for rounds in range(1, self.max_rounds + 1):
            deleted = await self.ports.store.purge_expired_leases(now, self.batch)
            purged += deleted
            if deleted < self.batch:
                return f"purged {purged} expired lease(s) in {rounds} round(s)"
        return (f"purged {purged} expired lease(s) in {self.max_rounds} round(s); "
                "stopped at the round limit, more may remain for the next run")
