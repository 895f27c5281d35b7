"""Start and stop the APScheduler ``AsyncIOScheduler`` that runs the registered jobs.

- ``start_scheduler(ports, settings, jobs)``: builds each job from its factory and schedules
  it with ``coalesce=True`` (missed fires collapse into one), ``max_instances=1`` and a
  misfire grace time; every fire goes through ``runner.LeasedRunner`` with the scheduled fire
  time, so with several workers or replicas sharing a database each trigger runs once.
  Times are UTC. Must be called with the event loop running.
- ``stop_scheduler``: stops new fires, lets running jobs finish (bounded), cancels the rest.
- ``attach_scheduler(app, container)``: starts it in the Quart app's ``before_serving`` and
  stops it in ``after_serving``, unless ``ROCKET_SCHEDULER=off`` (``on`` is the default;
  also accepted: true/false, yes/no, 1/0; anything else stops start-up naming the variable).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from apscheduler.executors.asyncio import AsyncIOExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from core.context import Ports, Settings
from entrypoints.config import SCHEDULER_FLAG as ENV_FLAG
from entrypoints.config import scheduler_enabled
from entrypoints.jobs.base import Job, JobFactory
from entrypoints.jobs.runner import LeasedRunner, RunOutcome

log = logging.getLogger("rocket.jobs")

__all__ = ["ENV_FLAG", "scheduler_enabled", "start_scheduler", "stop_scheduler", "attach_scheduler"]
DEFAULT_MISFIRE_GRACE_SECONDS = 300
STOP_TIMEOUT_SECONDS = 10.0

_FIRE_TIME: ContextVar[datetime | None] = ContextVar("rocket_job_fire_time", default=None)


class _FireTimeExecutor(AsyncIOExecutor):
    """APScheduler's asyncio executor, handing the scheduled fire time to the job's task.

    ``AsyncIOExecutor`` creates the job's task inside ``_do_submit_job``; a task copies the
    context it is created in, so the task sees the fire time set here.
    """

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        token = _FIRE_TIME.set(run_times[-1])
        try:
            super()._do_submit_job(job, run_times)
        finally:
            _FIRE_TIME.reset(token)


class JobScheduler(AsyncIOScheduler):
    """An ``AsyncIOScheduler`` that runs Rocket jobs through a ``LeasedRunner``.

    ``outcomes`` keeps the most recent ``RunOutcome``s (ran, skipped or failed).
    """

    def __init__(self, runner: LeasedRunner, **options: Any) -> None:
        super().__init__(**options)
        self.runner = runner
        self.outcomes: deque[RunOutcome] = deque(maxlen=200)
        self.running_tasks: set[asyncio.Task[Any]] = set()

    async def fire(self, job: Job) -> None:
        """What APScheduler calls: run ``job`` for the fire time the executor handed over."""
        fire_time = _FIRE_TIME.get()
        if fire_time is None:  # only reachable if something other than our executor calls this
            log.error("job %s: no scheduled fire time; not run", job.name)
            return
        task = asyncio.current_task()
        if task is not None:
            self.running_tasks.add(task)
        try:
            self.outcomes.append(await self.runner.run(job, fire_time))
        finally:
            if task is not None:
                self.running_tasks.discard(task)


def runner_for(ports: Ports, settings: Settings, owner_id: str | None = None) -> LeasedRunner:
    """The leased runner of the scheduler: every run's summary goes to
    ``settings.notification_channel`` (when set)."""
    channel = settings.notification_channel

    async def notify(text: str) -> None:
        await ports.chat.post_to_channel(channel, text)

    return LeasedRunner(ports.store, ports.clock, owner_id, notify if channel else None)


def start_scheduler(ports: Ports, settings: Settings, jobs: Sequence[JobFactory] | None = None, *,
                    owner_id: str | None = None,
                    misfire_grace_time: int = DEFAULT_MISFIRE_GRACE_SECONDS) -> JobScheduler:
    """Build the jobs (default: ``registry.JOBS``) and start scheduling them.

    Raises ``ValueError`` for two jobs with the same name, or a job whose ``lease_seconds``
    is shorter than ``misfire_grace_time`` (a late worker could then run a trigger again).
    """
    if jobs is None:
        from entrypoints.jobs import registry

        jobs = registry.JOBS
    built = [factory(ports, settings) for factory in jobs]
    names = [job.name for job in built]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"job names must be unique: {', '.join(duplicates)}")
    for job in built:
        if job.lease_seconds < misfire_grace_time:
            raise ValueError(f"job {job.name}: lease_seconds ({job.lease_seconds}) must be at least "
                             f"the misfire grace time ({misfire_grace_time})")

    runner = runner_for(ports, settings, owner_id)
    scheduler = JobScheduler(runner, timezone="UTC", executors={"default": _FireTimeExecutor()},
                             job_defaults={"coalesce": True, "max_instances": 1,
                                           "misfire_grace_time": misfire_grace_time})
    for job in built:
        scheduler.add_job(scheduler.fire, trigger=job.trigger, args=[job], id=job.name, name=job.name,
                          coalesce=True, max_instances=1, misfire_grace_time=misfire_grace_time)
    scheduler.start()
    log.info("scheduler started as %s with jobs: %s", runner.owner_id, ", ".join(names) or "none")
    return scheduler


async def stop_scheduler(scheduler: JobScheduler, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
    """Stop firing, wait up to ``timeout`` for running jobs, cancel the rest, shut down."""
    if not scheduler.running:
        return
    scheduler.pause()
    pending = set(scheduler.running_tasks)
    if pending:
        _, pending = await asyncio.wait(pending, timeout=timeout)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # AsyncIOScheduler.shutdown runs on the loop's next turn
    log.info("scheduler stopped")


def attach_scheduler(app: Any, container: Any) -> None:
    """Run the registered jobs while the Quart ``app`` serves, unless ``ROCKET_SCHEDULER=off``.

    Call it before registering hooks that close the store, so jobs stop first. The running
    scheduler is ``app.extensions["rocket_scheduler"]``.
    """
    config = container.config()
    if not scheduler_enabled(config.env):
        log.info("scheduled jobs are off (%s=off)", ENV_FLAG)
        return

    @app.before_serving
    async def start_jobs() -> None:
        app.extensions["rocket_scheduler"] = start_scheduler(await container.ports(), config.settings)

    @app.after_serving
    async def stop_jobs() -> None:
        scheduler = app.extensions.pop("rocket_scheduler", None)
        if scheduler is not None:
            await stop_scheduler(scheduler)
