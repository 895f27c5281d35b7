"""The audit-purge job: entries older than ROCKET_AUDIT_DAYS go, newer ones stay, in rounds."""

from __future__ import annotations

from datetime import UTC, datetime

from adapters.memory.audit import MemoryAuditLog
from core.audit import AuditEntry
from core.context import Settings
from entrypoints.jobs.audit_purge import AuditPurge
from tests.fakes.ports import fake_world


def _entry(i: int, time: str) -> AuditEntry:
    return AuditEntry(id=f"e{i}", time=time, actor="U1", action="user edit", target="user:U1")


async def test_purges_only_entries_older_than_the_retention_in_rounds():
    world = fake_world()
    world.clock.t = datetime(2026, 12, 1, tzinfo=UTC).timestamp()
    audit = MemoryAuditLog()
    old = [_entry(i, f"2025-10-{1 + i:02d}T00:00:00Z") for i in range(5)]  # > 400 days before
    kept = [_entry(10, "2025-10-28T00:00:00Z"), _entry(11, "2026-11-30T00:00:00Z")]
    await audit.append(old + kept)
    ports = world.ports
    ports.audit = audit
    summary = await AuditPurge(ports, Settings(audit_days=400), batch=2).run()
    assert "purged 5" in summary and "3 round(s)" in summary, summary
    assert sorted(e.id for e in await audit.query(limit=100)) == ["e10", "e11"]


async def test_without_an_audit_log_nothing_happens():
    assert "nothing purged" in await AuditPurge(fake_world().ports, Settings()).run()
