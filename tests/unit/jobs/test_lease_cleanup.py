"""The lease-cleanup job (entrypoints/jobs/lease_cleanup.py) on the memory and SQLite stores.

Leases are taken the way the app takes them: Slack events through ``RocketHandlers`` (claimed,
then marked handled for 7 days), scheduled runs through ``LeasedRunner``. Time is a
``FixedClock`` moved by whole days.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from core.context import Settings
from core.wiring import build_bus
from entrypoints.handlers import DEDUP_SECONDS, RocketHandlers
from entrypoints.jobs.lease_cleanup import LeaseCleanup
from entrypoints.jobs.runner import LeasedRunner
from entrypoints.jobs.scheduler import DEFAULT_MISFIRE_GRACE_SECONDS
from entrypoints.metrics import Metrics
from tests.fakes.ports import FakeWorld, fake_world
from tests.faults.faulty_store import FaultyStore
from tests.unit.jobs.test_jobs import CountingJob, fire_times

DAY = 24 * 3600.0


@pytest.fixture(params=["memory", "sqlite"])
async def world(request, tmp_path) -> AsyncIterator[FakeWorld]:
    w = fake_world()
    if request.param == "sqlite":
        from adapters.sqlite import SqliteStore

        w.store = await SqliteStore.open(str(tmp_path / "leases.db"))
    try:
        yield w
    finally:
        await w.store.close()


def handlers(world: FakeWorld) -> RocketHandlers:
    ports = world.ports
    return RocketHandlers(build_bus(ports, Settings()), ports, Settings(), Metrics())


def team_join(event_id: str, slack_id: str) -> dict[str, object]:
    return {"type": "event_callback", "event_id": event_id,
            "event": {"type": "team_join", "user": {"id": slack_id, "profile": {"real_name": slack_id}}}}


async def test_the_job_purges_expired_leases_and_keeps_live_ones(world):
    app = handlers(world)
    job = CountingJob(name="hourly", lease_seconds=3600)
    old_fire, recent_fire = fire_times(job.trigger, 2)
    runner = LeasedRunner(world.store, world.clock, "worker")
    # Day 0: a Slack event handled (marked for 7 days) and a scheduled run (a 1-hour lease).
    assert (await app.slack_event(team_join("Ev-old", "UOLD"))).status == 200
    assert (await runner.run(job, old_fire)).status == "ran"
    # Day 5: another Slack event handled; its mark lives until day 12.
    world.clock.advance(5 * DAY)
    assert (await app.slack_event(team_join("Ev-recent", "URECENT"))).status == 200
    assert [u for u, _ in world.chat.dms] == ["UOLD", "URECENT"]
    # Day 8: Ev-old's mark and the day-0 run's lease have expired. Live: Ev-recent's mark
    # (3 days old), a handler's 60-second claim in progress, and a run's lease taken now.
    world.clock.advance(3 * DAY)
    assert await world.store.acquire_lease("slack-event:Ev-busy", "handler", 60, world.clock.now())
    assert (await runner.run(job, recent_fire)).status == "ran"

    cleanup = LeaseCleanup(world.ports, Settings())
    [cleanup_fire] = fire_times(cleanup.trigger, 1)
    outcome = await runner.run(cleanup, cleanup_fire)  # takes its own live lease too

    assert outcome.status == "ran" and outcome.detail == "purged 2 expired lease(s) in 1 round(s)"
    assert await cleanup.run() == "purged 0 expired lease(s) in 1 round(s)"  # nothing left to purge
    # Ev-recent is still a duplicate: no second welcome; the claim and the run leases still hold.
    assert (await app.slack_event(team_join("Ev-recent", "URECENT"))).body.get("duplicate") is True
    assert [u for u, _ in world.chat.dms] == ["UOLD", "URECENT"]
    assert not await world.store.acquire_lease("slack-event:Ev-busy", "other", 60, world.clock.now())
    assert (await LeasedRunner(world.store, world.clock, "late").run(job, recent_fire)).status == "skipped"
    assert job.runs == 2
    # Once everything has expired, exactly the four kept leases are left to purge.
    world.clock.advance(DEDUP_SECONDS)
    assert await cleanup.run() == "purged 4 expired lease(s) in 1 round(s)"


async def test_the_job_purges_in_rounds_and_stops_at_the_round_limit(world):
    now = world.clock.now()
    for i in range(25):
        assert await world.store.acquire_lease(f"github-delivery:d{i}", "h", 60, now - 3600)
    assert await world.store.acquire_lease("github-delivery:live", "h", DEDUP_SECONDS, now)

    limited = LeaseCleanup(world.ports, Settings(), batch=10, max_rounds=2)
    first = await limited.run()
    assert first.startswith("purged 20 expired lease(s) in 2 round(s)") and "more may remain" in first
    assert await limited.run() == "purged 5 expired lease(s) in 1 round(s)"

    for i in range(20):
        assert await world.store.acquire_lease(f"github-delivery:e{i}", "h", 60, now - 3600)
    # 10, 10, then a round that finds none: a full round never ends the loop by itself.
    summary = await LeaseCleanup(world.ports, Settings(), batch=10).run()
    assert summary == "purged 20 expired lease(s) in 3 round(s)"
    assert not await world.store.acquire_lease("github-delivery:live", "other", 60, now)


async def test_storage_going_down_mid_run_fails_the_run_and_the_next_run_finishes(world):
    now = world.clock.now()
    for i in range(15):
        assert await world.store.acquire_lease(f"slack-event:E{i}", "h", 60, now - 3600)
    faulty = FaultyStore(world.store)
    world.store = faulty
    cleanup = LeaseCleanup(world.ports, Settings(), batch=10)
    first, second = fire_times(cleanup.trigger, 2)
    faulty.go_down_at(3)  # the run's lease, the first round, then the second round fails
    outcome = await LeasedRunner(faulty, world.clock, "w").run(cleanup, first)
    assert outcome.status == "failed" and "StorageUnavailable" in outcome.detail
    assert faulty.calls == ["acquire_lease", "purge_expired_leases", "purge_expired_leases"]
    faulty.repair()
    world.clock.advance(DAY)
    outcome = await LeasedRunner(faulty, world.clock, "w").run(cleanup, second)
    # The first round's 10 stayed purged; the rest (5, and the failed run's expired lease) now.
    assert outcome.status == "ran" and outcome.detail == "purged 6 expired lease(s) in 1 round(s)"


def test_the_job_runs_daily_at_05_15_utc_with_a_lease_beyond_the_misfire_grace():
    job = LeaseCleanup(fake_world().ports, Settings())
    times = fire_times(job.trigger, 3)
    assert [(t.hour, t.minute, t.utcoffset()) for t in times] == [(5, 15, timedelta(0))] * 3
    assert times[1] - times[0] == times[2] - times[1] == timedelta(days=1)
    assert job.name == "lease-cleanup" and job.lease_seconds >= DEFAULT_MISFIRE_GRACE_SECONDS


def test_the_job_refuses_rounds_that_could_not_purge_anything():
    with pytest.raises(ValueError):
        LeaseCleanup(fake_world().ports, Settings(), batch=0)
    with pytest.raises(ValueError):
        LeaseCleanup(fake_world().ports, Settings(), max_rounds=0)
