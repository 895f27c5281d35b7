"""What the audit trail costs (issue 14, must show 6): ``user edit`` and ``++`` at c=32 through
the production bus on SQLite, with the audit subscriber and without it, in the same run.

Each round runs ``COUNT`` commands with at most 32 in flight on a fresh file, alternating
the two variants ``ROUNDS`` times so machine noise hits both alike; the figure is the best
round's throughput. ``python -m bench.audit_bench`` prints both ratios (audited / bare).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from adapters.sqlite import SqliteStore
from adapters.sqlite.audit import SqliteAuditLog
from adapters.unavailable import Unavailable
from core.commands import EditUser, GiveKarma
from core.context import Ports, Settings
from core.models import User
from core.wiring import build_bus

CONCURRENCY = 32
COUNT = 1000
USERS = 200
ROUNDS = 3


def _command(kind: str, i: int) -> Any:
    actor = f"U{i % USERS:05d}"
    if kind == "user edit":
        return EditUser(actor, name=f"Name {i}")
    return GiveKarma(actor, slack_id=f"U{(i + 1) % USERS:05d}")


async def _round(path: Path, kind: str, audited: bool) -> float:
    """Commands per second of one round on a fresh database at ``path``."""
    store = await SqliteStore.open(str(path))
    audit = await SqliteAuditLog.for_store(store) if audited else None
    try:
        for n in range(USERS):
            await store.store(User(f"U{n:05d}", name=f"User {n}"))
        unavailable = Unavailable("GitHub")
        bus = build_bus(Ports(store, unavailable, Unavailable("Slack"), Unavailable("Google Drive"),
                              audit=audit), Settings())
        gate = asyncio.Semaphore(CONCURRENCY)

        async def one(i: int) -> None:
            async with gate:
                await bus.handle(_command(kind, i))

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(COUNT)))
        seconds = time.perf_counter() - started
        if audited:
            assert audit is not None
            assert len(await audit.query(limit=1000)) == min(COUNT, 1000), "an entry per command"
        return COUNT / seconds
    finally:
        if audit is not None:
            await audit.close()
        await store.close()


async def run_audit(workdir: Path) -> dict[str, tuple[float, float]]:
    """``{command: (bare rps, audited rps)}``, best of ``ROUNDS`` each, interleaved."""
    out: dict[str, tuple[float, float]] = {}
    for kind in ("user edit", "++"):
        bare: list[float] = []
        audited: list[float] = []
        for r in range(ROUNDS):
            bare.append(await _round(workdir / f"bare-{kind[:2]}-{r}.db", kind, False))
            audited.append(await _round(workdir / f"audit-{kind[:2]}-{r}.db", kind, True))
        out[kind] = (max(bare), max(audited))
    return out


def audit_lines(results: dict[str, tuple[float, float]]) -> list[str]:
    lines = [f"audit trail cost at c={CONCURRENCY} ({COUNT} commands, SQLite, bus in process, best of "
             f"{ROUNDS}): bare vs audited, commands/s"]
    for kind, (bare, audited) in results.items():
        overhead = bare / audited - 1
        verdict = "ok" if overhead <= 0.10 else "OVER the 10% target"
        added_us = (1 / audited - 1 / bare) * 1e6
        lines.append(f"  {kind:<9} bare {bare:8.0f}/s  audited {audited:8.0f}/s  "
                     f"ratio audited/bare {audited / bare:.3f}  (+{overhead:.1%} time, "
                     f"+{added_us:.0f} µs a command; {verdict} in process)")
    lines.append("  (in process the bare command is ~0.1-0.2 ms; through HTTP a command costs several "
                 "times more, so the same µs are a smaller share there)")
    return lines


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="rocket-audit-bench-") as tmp:
        print("\n".join(audit_lines(asyncio.run(run_audit(Path(tmp))))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
