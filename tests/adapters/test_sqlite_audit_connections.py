"""SQLite audit log: several connections on one file append concurrently and lose nothing."""

from __future__ import annotations

import asyncio

from adapters.sqlite.audit import SqliteAuditLog
from core.audit import AuditEntry


async def test_four_connections_append_200_entries_and_racing_ids_once(tmp_path):
    path = str(tmp_path / "rocket.db")
    logs = [await SqliteAuditLog.open(path) for _ in range(4)]
    try:
        entries = [AuditEntry(id=f"e{i:03d}", time=f"2026-12-01T10:{i // 60:02d}:{i % 60:02d}Z",
                              actor=f"U{i % 7}", action="team add", target="team:t",
                              users=[f"U{i % 5}"], teams=[f"t{i % 3}"]) for i in range(200)]
        racing = [AuditEntry(id=f"r{i}", time="2026-12-01T12:00:00Z", actor="cli", action="a",
                             target="t", users=["U1"]) for i in range(10)]
        calls = [logs[i % 4].append([e]) for i, e in enumerate(entries)]
        calls += [log.append(racing) for log in logs]  # the same ten ids from every connection
        counts = await asyncio.gather(*calls)
        assert sum(counts) == 210
        fresh = await SqliteAuditLog.open(path)
        try:
            everything = await fresh.query(limit=1000)
            assert sorted(e.id for e in everything) == sorted(e.id for e in entries + racing)
            for n in range(5):
                want = sorted((e for e in entries + racing if f"U{n}" in e.users),
                              key=lambda e: (e.time, e.id), reverse=True)
                assert [e.id for e in await fresh.query(user=f"U{n}", limit=1000)] == [e.id for e in want]
        finally:
            await fresh.close()
    finally:
        for log in logs:
            await log.close()
