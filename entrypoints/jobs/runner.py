"""Run a job at most once per scheduled fire time across workers and replicas.

Every worker's scheduler fires the same trigger at the same instant; each asks its
``LeasedRunner`` to run the job for that fire time. The runner first takes the storage lease
``job:{name}:{fire time, UTC ISO 8601}`` for ``job.lease_seconds``; only the worker that gets
it runs the job, the others log one "skipped" line.

The lease is not released after the run: its key names one fire time, so keeping it until it
expires is what stops a late worker (still within the misfire grace time) from running the
same trigger again. A holder that dies mid-run leaves its lease to expire after
``lease_seconds``; after that the same fire time can be taken over. Only a run cancelled
at shutdown releases its lease at once. A job's exception is logged with the job name and
never propagates, so the scheduler keeps going.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from core.audit import audit_scope
from entrypoints.jobs.base import Job
from ports.clock import Clock
from ports.storage import Store

log = logging.getLogger("rocket.jobs")

Status = Literal["ran", "skipped", "failed"]


@dataclass(frozen=True)
class RunOutcome:
    """What happened to one job at one fire time; ``detail`` is the summary or the reason."""

    job: str
    lease: str
    status: Status
    detail: str


def fire_slot(fire_time: datetime) -> str:
    """The fire time as the same string in every process (UTC, ISO 8601)."""
    if fire_time.tzinfo is None:
        raise ValueError("fire times must be timezone-aware")
    return fire_time.astimezone(UTC).isoformat()


def lease_name(job_name: str, fire_time: datetime) -> str:
    return f"job:{job_name}:{fire_slot(fire_time)}"


def default_owner() -> str:
    """A lease owner id unique to this process: host, pid and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeasedRunner:
    """Runs jobs under a per-fire-time lease in ``store``; ``clock`` gives the lease's ``now``.

    Each run holds its lease as ``{owner_id}/{random suffix}``, so a fire time runs once even
    when the same runner is asked twice.
    """

    def __init__(self, store: Store, clock: Clock, owner_id: str | None = None,
                 notify: Callable[[str], Awaitable[None]] | None = None) -> None:
        self.store = store
        self.clock = clock
        self.owner_id = owner_id or default_owner()
        self.notify = notify  # gets "JOB: SUMMARY" after every run (the notification channel)

    async def run(self, job: Job, fire_time: datetime) -> RunOutcome:
        """Run ``job`` for ``fire_time`` unless another owner holds (or held) that lease."""
        lease = lease_name(job.name, fire_time)
        # A fresh holder per run: ``acquire_lease`` renews for the same holder, and even this
        # runner must not run one fire time twice.
        holder = f"{self.owner_id}/{uuid.uuid4().hex[:8]}"
        try:
            got = await self.store.acquire_lease(lease, holder, job.lease_seconds, self.clock.now())
        except Exception as exc:  # noqa: BLE001 - no lease, no run; the next trigger tries again
            log.error("job %s: not run at %s, could not take lease %s: %s",
                      job.name, fire_slot(fire_time), lease, exc)
            return RunOutcome(job.name, lease, "failed", f"could not take lease: {exc}")
        if not got:
            log.info("job %s: skipped at %s, lease %s is held by another worker",
                     job.name, fire_slot(fire_time), lease)
            return RunOutcome(job.name, lease, "skipped", "lease held by another worker")
        try:
            with audit_scope(actor=f"job:{job.name}", key=lease):  # a retried fire time: no double entries
                summary = await job.run()
        except asyncio.CancelledError:
            await self._release_quietly(lease, holder)
            raise
        except Exception as exc:  # noqa: BLE001 - logged with the job name; the scheduler goes on
            log.exception("job %s: failed at %s", job.name, fire_slot(fire_time))
            return RunOutcome(job.name, lease, "failed", f"{type(exc).__name__}: {exc}")
        log.info("job %s: ran at %s: %s", job.name, fire_slot(fire_time), summary)
        if self.notify is not None:
            try:
                await self.notify(f"Scheduled job {job.name}: {summary}")
            except Exception as exc:  # noqa: BLE001 - the job's work stands; only the summary is lost
                log.warning("job %s: summary not posted: %s", job.name, exc)
        return RunOutcome(job.name, lease, "ran", summary)

    async def _release_quietly(self, lease: str, holder: str) -> None:
        try:
            await asyncio.shield(self.store.release_lease(lease, holder))
        except BaseException:  # noqa: BLE001 - shutting down; the lease will expire anyway
            log.warning("could not release lease %s on shutdown", lease)
