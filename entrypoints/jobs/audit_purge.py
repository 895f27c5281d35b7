"""Audit purge: delete audit entries older than ``ROCKET_AUDIT_DAYS`` (default 400), daily.

Runs under the same per-fire-time lease as every job (``runner.LeasedRunner``). Calls
``audit.purge(cutoff, batch)`` in rounds until a round deletes fewer than ``batch``, at most
``max_rounds`` per run (a large backlog is worked off over several nights). The cutoff is
computed once from ``ports.clock`` at the start. Without an audit log it does nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime

from apscheduler.triggers.cron import CronTrigger

from core.audit import retention_cutoff
from core.context import Ports, Settings

BATCH = 10_000
MAX_ROUNDS = 100


class AuditPurge:
    name = "audit-purge"
    trigger = CronTrigger(hour=5, minute=45, timezone="UTC")
    lease_seconds = 3600.0

    def __init__(self, ports: Ports, settings: Settings, *, batch: int = BATCH,
                 max_rounds: int = MAX_ROUNDS) -> None:
        if batch <= 0 or max_rounds <= 0:
            raise ValueError("batch and max_rounds must be positive")
        self.ports = ports
        self.days = settings.audit_days
        self.batch = batch
        self.max_rounds = max_rounds

    async def run(self) -> str:
        """Purge entries older than the retention; a one-line summary."""
        audit = self.ports.audit
        if audit is None:
            return "no audit log configured; nothing purged"
        cutoff = retention_cutoff(self.days, datetime.fromtimestamp(self.ports.clock.now(), UTC))
        purged = 0
        for rounds in range(1, self.max_rounds + 1):
            deleted = await audit.purge(cutoff, self.batch)
            purged += deleted
            if deleted < self.batch:
                return f"purged {purged} audit entry(ies) older than {cutoff} in {rounds} round(s)"
        return (f"purged {purged} audit entries older than {cutoff} in {self.max_rounds} round(s); "
                "stopped at the round limit, more may remain for the next run")
