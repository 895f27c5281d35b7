"""Scheduled jobs (entrypoints/jobs): the jobs' work, once-per-trigger leases on SQLite and
DynamoDB, takeover of a dead holder's lease, the APScheduler wiring and the registry.

Runs are driven with explicit fire times (taken from the jobs' real triggers) and a
``FixedClock``; the APScheduler tests use sub-second interval triggers, bounded by timeouts.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import logging
import pkgutil
import random
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

import entrypoints.jobs as jobs_pkg
from adapters.memory import MemoryStore
from core.context import Ports, Settings
from core.errors import UpstreamError
from core.models import Team, User
from core.permissions import Permissions
from entrypoints.config import ConfigError, load_config
from entrypoints.container import make_container
from entrypoints.http import create_app
from entrypoints.jobs import registry
from entrypoints.jobs.drive_sync import DriveSync
from entrypoints.jobs.promoter import RandomChannelPromoter
from entrypoints.jobs.refresh import NightlyTeamRefresh
from entrypoints.jobs.runner import LeasedRunner, lease_name
from entrypoints.jobs.scheduler import (
    DEFAULT_MISFIRE_GRACE_SECONDS,
    JobScheduler,
    scheduler_enabled,
    start_scheduler,
    stop_scheduler,
)
from tests.fakes.ports import FakeWorld, FixedClock, fake_world
from tests.support.moto_server import moto_endpoint  # noqa: F401  (session fixture)

MONDAY = datetime(2026, 3, 2, 0, 0, tzinfo=UTC)


def fire_times(trigger: BaseTrigger, count: int, start: datetime = MONDAY) -> list[datetime]:
    """The next ``count`` fire times of a real trigger, from ``start``."""
    times: list[datetime] = []
    previous = None
    now = start
    for _ in range(count):
        t = trigger.get_next_fire_time(previous, now)
        times.append(t)
        previous, now = t, t + timedelta(seconds=1)
    return times


class CountingJob:
    """A job that counts its runs; optionally fails or blocks."""

    def __init__(self, name: str = "counting", lease_seconds: float = 600.0, fail_first: int = 0,
                 trigger: BaseTrigger | None = None) -> None:
        self.name = name
        self.lease_seconds = lease_seconds
        self.trigger = trigger or IntervalTrigger(hours=1, start_date=MONDAY)
        self.runs = 0
        self.fail_first = fail_first
        self.ran = asyncio.Event()

    async def run(self) -> str:
        self.runs += 1
        self.ran.set()
        if self.runs <= self.fail_first:
            raise RuntimeError(f"boom #{self.runs}")
        return f"run #{self.runs}"


# --- the random channel promoter -----------------------------------------------------------------


def promoter_world(announcement: str = "#announcements") -> tuple[FakeWorld, Settings]:
    world = fake_world()
    for cid, name in [("C1", "announcements"), ("C4", "dev"), ("C2", "general"), ("C3", "random")]:
        world.chat.add_channel(cid, name)
    return world, Settings(announcement_channel=announcement)


@pytest.mark.parametrize("announcement", ["#announcements", "announcements", "C1"])
async def test_promoter_picks_a_random_other_channel_deterministically(announcement):
    world, settings = promoter_world(announcement)
    eligible = sorted((c for c in world.chat.channels.values() if c.id != "C1"), key=lambda c: c.id)
    picked = set()
    for seed in range(30):
        summary = await RandomChannelPromoter(world.ports, settings, rng=random.Random(seed)).run()
        expected = random.Random(seed).choice(eligible)
        channel, text = world.chat.posts[-1]
        assert channel == "C1"  # posted to the announcement channel, given by id or name
        assert text.startswith("Check out ") and f"<#{expected.id}|{expected.name}>" in text
        assert f"#{expected.name}" in summary
        picked.add(expected.id)
    assert len(world.chat.posts) == 30  # one post per run
    assert "C1" not in picked and len(picked) >= 2  # never itself; really random


async def test_promoter_same_seed_same_pick_whatever_the_listing_order():
    world, settings = promoter_world()
    await RandomChannelPromoter(world.ports, settings, rng=random.Random(7)).run()
    world.chat.channels = dict(reversed(list(world.chat.channels.items())))
    await RandomChannelPromoter(world.ports, settings, rng=random.Random(7)).run()
    assert world.chat.posts[0] == world.chat.posts[1]


async def test_promoter_without_announcement_channel_posts_nothing_and_says_so():
    world, _ = promoter_world()
    summary = await RandomChannelPromoter(world.ports, Settings(), rng=random.Random(1)).run()
    assert world.chat.posts == [] and "no announcement channel" in summary


async def test_promoter_with_nothing_else_to_promote_posts_nothing():
    world = fake_world()
    world.chat.add_channel("C1", "announcements")
    summary = await RandomChannelPromoter(world.ports, Settings(announcement_channel="C1")).run()
    assert world.chat.posts == [] and "nothing posted" in summary


async def test_promoter_posts_once_per_trigger_with_two_workers():
    world, settings = promoter_world()
    a = LeasedRunner(world.store, world.clock, "worker-a")
    b = LeasedRunner(world.store, world.clock, "worker-b")
    promoter = RandomChannelPromoter(world.ports, settings, rng=random.Random(3))
    weeks = fire_times(promoter.trigger, 3)
    assert [t.weekday() for t in weeks] == [0, 0, 0] and weeks[1] - weeks[0] == timedelta(days=7)
    for week in weeks:
        outcomes = await asyncio.gather(a.run(promoter, week), b.run(promoter, week))
        assert sorted(o.status for o in outcomes) == ["ran", "skipped"]
    for week in weeks:  # a late worker, same triggers again: nothing more
        assert (await b.run(promoter, week)).status == "skipped"
    assert len(world.chat.posts) == 3 and {c for c, _ in world.chat.posts} == {"C1"}


# --- leases on real backends: exactly once per trigger, dead holders taken over ------------------


@pytest.fixture(params=["memory", "sqlite", "dynamodb"])
async def two_stores(request, tmp_path) -> AsyncIterator[tuple[object, object]]:
    """Two connections to one database, as two workers or replicas would have."""
    backend = request.param
    if backend == "memory":
        from adapters.memory import MemoryStore

        one = MemoryStore()
        yield one, one
        return
    if backend == "sqlite":
        from adapters.sqlite import SqliteStore

        path = str(tmp_path / "jobs.db")
        first = await SqliteStore.open(path)
        second = await SqliteStore.open(path)
    else:
        from adapters.dynamo import DynamoStore

        endpoint = request.getfixturevalue("moto_endpoint")
        prefix = uuid.uuid4().hex[:8]
        tables = {t: f"{prefix}_{t}" for t in ("users", "teams", "projects", "leases")}

        async def open_one() -> DynamoStore:
            return await DynamoStore.open(endpoint_url=endpoint, region="us-east-1", access_key="testing",
                                          secret_key="testing", tables=tables)

        first = await open_one()
        second = await open_one()
    try:
        yield first, second
    finally:
        await first.close()
        await second.close()


async def test_two_runners_run_each_trigger_exactly_once(two_stores):
    store_a, store_b = two_stores
    clock = FixedClock()
    a, b = LeasedRunner(store_a, clock, "owner-a"), LeasedRunner(store_b, clock, "owner-b")
    job = CountingJob()
    triggers = fire_times(job.trigger, 6)
    per_slot: dict[str, Counter[str]] = {}
    for t in triggers:
        outcomes = await asyncio.gather(a.run(job, t), b.run(job, t))
        assert {o.lease for o in outcomes} == {lease_name(job.name, t)}
        per_slot[lease_name(job.name, t)] = Counter(o.status for o in outcomes)
        clock.advance(3600)
    assert all(c == Counter(ran=1, skipped=1) for c in per_slot.values()), per_slot
    assert job.runs == len(triggers) == len(per_slot)
    # Workers that come late to triggers already run (leases still valid), the runner that ran
    # them included, do not run them again.
    clock.t -= 3600 * len(triggers)
    for t in triggers:
        late = await asyncio.gather(a.run(job, t), b.run(job, t))
        assert [o.status for o in late] == ["skipped", "skipped"]
    assert job.runs == len(triggers)


async def test_a_dead_holders_lease_is_taken_over_after_expiry(two_stores):
    store_a, store_b = two_stores
    clock = FixedClock()
    job = CountingJob(lease_seconds=120)
    [t] = fire_times(job.trigger, 1)
    # The holder took the lease and died: it never ran the job and never released it.
    assert await store_a.acquire_lease(lease_name(job.name, t), "dead-worker", job.lease_seconds, clock.now())
    survivor = LeasedRunner(store_b, clock, "survivor")
    assert (await survivor.run(job, t)).status == "skipped"
    clock.advance(job.lease_seconds - 1)
    assert (await survivor.run(job, t)).status == "skipped" and job.runs == 0
    clock.advance(2)  # the dead holder's lease has expired
    outcome = await survivor.run(job, t)
    assert outcome.status == "ran" and outcome.detail == "run #1" and job.runs == 1
    third = LeasedRunner(store_a, clock, "third")
    assert (await third.run(job, t)).status == "skipped" and job.runs == 1  # the survivor holds it now


async def test_a_failing_job_is_logged_by_name_and_the_next_trigger_still_runs(caplog):
    world = fake_world()
    runner = LeasedRunner(world.store, world.clock, "w")
    job = CountingJob(name="flaky", fail_first=1)
    first, second = fire_times(job.trigger, 2)
    with caplog.at_level(logging.INFO, logger="rocket.jobs"):
        failed = await runner.run(job, first)
        ok = await runner.run(job, second)
        skipped = await LeasedRunner(world.store, world.clock, "other").run(job, second)
    assert (failed.status, ok.status, skipped.status) == ("failed", "ran", "skipped")
    assert "boom #1" in failed.detail
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and "flaky" in errors[0].getMessage() and errors[0].exc_info is not None
    skips = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert len(skips) == 1 and "flaky" in skips[0]  # one line per skipped run


# --- the refresh and Drive sync jobs on the fake world --------------------------------------------


async def registered(world: FakeWorld, slack_id: str, login: str, email: str = "") -> User:
    gid = world.github.users.get(login) or world.github.add_user(login)
    return await world.store.store(User(slack_id, email=email or f"{login}@example.org", github=login,
                                        github_user_id=gid))


async def test_refresh_job_reconciles_teams_with_github():
    world = fake_world()
    settings = Settings(admin_team="admins")
    await registered(world, "UANN", "ann")
    await registered(world, "UBOB", "bob")
    world.github.add_team("web", "Web", members=["ann", "bob"])
    world.github.add_team("admins", members=["bob"])
    stale = world.github.add_team("gone")
    await world.store.store(Team(stale.id, "gone"))
    del world.github.teams[stale.id]

    job = NightlyTeamRefresh(world.ports, settings)
    [t] = fire_times(job.trigger, 1)
    assert (t.hour, t.minute) == (3, 0)
    held = await LeasedRunner(world.store, world.clock, "w").run(job, t)
    assert held.status == "ran" and "NOT refreshed: it deletes 1 team(s)" in held.detail  # the guard rail
    assert sorted(t.github_team_name for t in await world.store.query(Team)) == ["gone"]

    from core.commands import RefreshTeams  # what an admin's `/rocket team refresh` runs: unguarded
    from entrypoints.jobs.refresh import refresh_summary

    detail = refresh_summary(await job.bus.handle(RefreshTeams("", scheduled=True)))
    assert "2 created" in detail and "1 deleted" in detail and "1 promoted" in detail
    teams = {t.github_team_name: t for t in await world.store.query(Team)}
    assert sorted(teams) == ["admins", "web"]
    assert teams["web"].members == {world.github.users["ann"], world.github.users["bob"]}
    assert (await world.store.retrieve(User, "UBOB")).permission_level == Permissions.admin
    assert (await world.store.retrieve(User, "UANN")).permission_level == Permissions.member


async def test_drive_sync_job_shares_each_folder_with_exactly_its_members():
    world = fake_world()
    ann = await registered(world, "UANN", "ann")
    bob = await registered(world, "UBOB", "bob")
    cat = await registered(world, "UCAT", "cat")
    await world.store.store(User("UNOGH", email="nogh@example.org"))  # no GitHub: in no team
    web = {ann.github_user_id, bob.github_user_id}
    await world.store.store(Team("1", "web", members=web, folder="F-web"))
    await world.store.store(Team("2", "ios", members={cat.github_user_id, "999"}, folder="F-ios"))
    await world.store.store(Team("3", "ops", members={ann.github_user_id}))  # no folder
    world.drive.shared["F-web"] = {"ann@example.org", "former@example.org"}

    summary = await DriveSync(world.ports, Settings()).run()

    assert world.drive.shared == {"F-web": {"ann@example.org", "bob@example.org"},
                                  "F-ios": {"cat@example.org"}}
    assert world.drive.syncs == 2 and summary.startswith("synced 2 of 2")


async def test_drive_sync_job_turns_a_drive_failure_into_a_warning(caplog):
    world = fake_world()
    ann = await registered(world, "UANN", "ann")
    await world.store.store(Team("1", "web", members={ann.github_user_id}, folder="F-web"))
    world.drive.fail_on["sync_folder"] = UpstreamError("Google Drive", "quota exceeded")
    with caplog.at_level(logging.WARNING, logger="rocket.jobs"):
        summary = await DriveSync(world.ports, Settings()).run()
    assert summary.startswith("synced 0 of 1") and "F-web" in summary and "quota exceeded" in summary
    assert any("drive-sync" in r.getMessage() and "F-web" in r.getMessage() for r in caplog.records)


async def test_drive_sync_job_with_no_folders_does_nothing():
    world = fake_world()
    await world.store.store(Team("3", "ops"))
    assert "nothing synced" in await DriveSync(world.ports, Settings()).run()
    assert world.drive.syncs == 0


# --- the APScheduler wiring ------------------------------------------------------------------------

TICK = 0.1  # seconds between fires of the test jobs


def ticking(job: CountingJob, start: datetime) -> CountingJob:
    """``job`` on an interval trigger anchored at ``start``: the same fire times in every worker."""
    job.trigger = IntervalTrigger(seconds=TICK, start_date=start)
    return job


def real_clock_ports(world: FakeWorld) -> Ports:
    from ports.clock import SystemClock

    return Ports(world.store, world.github, world.chat, world.drive, SystemClock(), world.ids)


async def wait_until(condition, timeout: float = 5.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(TICK / 4)

    await asyncio.wait_for(poll(), timeout)


async def test_two_schedulers_fire_each_trigger_once():
    world = fake_world()
    ports = real_clock_ports(world)
    start = datetime.now(UTC).replace(microsecond=0)
    job = ticking(CountingJob(name="tick", lease_seconds=5), start)
    schedulers = [start_scheduler(ports, Settings(), [lambda p, s: job], owner_id=f"replica-{i}",
                                  misfire_grace_time=1) for i in range(2)]
    try:
        await wait_until(lambda: job.runs >= 4)
    finally:
        for scheduler in schedulers:
            await stop_scheduler(scheduler)
    outcomes = [o for s in schedulers for o in s.outcomes]
    ran = Counter(o.lease for o in outcomes if o.status == "ran")
    assert job.runs == sum(ran.values()) >= 4
    assert set(ran.values()) == {1}, ran  # no fire time ran twice
    assert any(o.status == "skipped" for o in outcomes)  # the other replica did fire, and stood down
    for lease in ran:  # the lease names the scheduled fire time: start + k * TICK
        fired = datetime.fromisoformat(lease.removeprefix("job:tick:"))
        k = (fired - start) / timedelta(seconds=TICK)
        assert abs(k - round(k)) < 1e-6 and k >= 0
    assert not any(s.running for s in schedulers)


async def test_a_job_exception_does_not_stop_the_scheduler():
    world = fake_world()
    start = datetime.now(UTC).replace(microsecond=0)
    job = ticking(CountingJob(name="flaky", lease_seconds=5, fail_first=2), start)
    scheduler = start_scheduler(real_clock_ports(world), Settings(), [lambda p, s: job], misfire_grace_time=1)
    try:
        await wait_until(lambda: job.runs >= 3)
        assert scheduler.running
    finally:
        await stop_scheduler(scheduler)
    statuses = [o.status for o in scheduler.outcomes]
    assert statuses[:3] == ["failed", "failed", "ran"]


class BlockingJob(CountingJob):
    async def run(self) -> str:
        self.runs += 1
        self.ran.set()
        await asyncio.Event().wait()  # never finishes by itself
        return "unreachable"


class LeaseLog(MemoryStore):
    """A memory store that also remembers which leases were asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    async def acquire_lease(self, name: str, owner: str, ttl_seconds: float, now: float) -> bool:
        self.asked.append(name)
        return await super().acquire_lease(name, owner, ttl_seconds, now)


async def test_stop_cancels_a_stuck_job_and_frees_its_lease():
    world = fake_world()
    world.store = LeaseLog()
    start = datetime.now(UTC).replace(microsecond=0)
    job = ticking(BlockingJob(name="stuck", lease_seconds=60), start)
    scheduler = start_scheduler(real_clock_ports(world), Settings(), [lambda p, s: job], misfire_grace_time=1)
    await asyncio.wait_for(job.ran.wait(), 5)
    [task] = scheduler.running_tasks
    await asyncio.wait_for(stop_scheduler(scheduler, timeout=0.2), 5)
    assert task.done() and not scheduler.running and job.runs == 1  # cancelled, not left hanging
    [lease] = world.store.asked  # max_instances=1: no other fire got as far as the lease
    # The interrupted run released its 60-second lease, so another worker may take it at once.
    assert await world.store.acquire_lease(lease, "next-worker", 60, time.time())


def test_start_scheduler_refuses_duplicate_names_and_short_leases():
    ports = fake_world().ports
    with pytest.raises(ValueError, match="unique: same"):
        start_scheduler(ports, Settings(), [lambda p, s: CountingJob("same")] * 2)
    with pytest.raises(ValueError, match="short"):
        start_scheduler(ports, Settings(), [lambda p, s: CountingJob("short", lease_seconds=10)],
                        misfire_grace_time=60)


def test_rocket_scheduler_flag():
    assert scheduler_enabled({}) and scheduler_enabled({"ROCKET_SCHEDULER": "on"})
    assert not scheduler_enabled({"ROCKET_SCHEDULER": "off"})
    assert not scheduler_enabled({"ROCKET_SCHEDULER": " OFF "})
    with pytest.raises(ConfigError, match="^ROCKET_SCHEDULER: "):
        scheduler_enabled({"ROCKET_SCHEDULER": "sometimes"})


async def _served_scheduler(env: dict[str, str]) -> tuple[JobScheduler | None, set[str]]:
    """Serve the app (memory database) once; the scheduler and its job ids while serving."""
    app = create_app(make_container(load_config({"DATABASE_URL": "memory://", **env})))
    async with app.test_app():
        assert (await app.test_client().get("/healthz")).status_code == 200
        scheduler = app.extensions.get("rocket_scheduler")
        assert scheduler is None or scheduler.running
        job_ids = {j.id for j in scheduler.get_jobs()} if scheduler is not None else set()
    return scheduler, job_ids


async def test_the_app_runs_the_registered_jobs_while_serving():
    scheduler, job_ids = await _served_scheduler({})
    assert isinstance(scheduler, JobScheduler)
    assert job_ids == {f(fake_world().ports, Settings()).name for f in registry.JOBS}
    assert job_ids == {"random-channel-promoter", "team-refresh", "drive-sync", "lease-cleanup",
                       "audit-purge"}
    assert not scheduler.running  # stopped after serving


async def test_rocket_scheduler_off_starts_no_scheduler():
    scheduler, job_ids = await _served_scheduler({"ROCKET_SCHEDULER": "off"})
    assert scheduler is None and job_ids == set()


# --- "How to add a job": a module in entrypoints/jobs/, and one line in registry.JOBS ---------------

INFRASTRUCTURE = {"base", "registry", "runner", "scheduler"}


def test_every_job_module_is_registered_once_and_every_registered_job_fits_the_protocol():
    modules = {m.name for m in pkgutil.iter_modules(jobs_pkg.__path__)} - INFRASTRUCTURE
    registered_from = Counter(f.__module__.rsplit(".", 1)[-1] for f in registry.JOBS)
    assert set(registered_from) == modules and set(registered_from.values()) == {1}
    world = fake_world()
    names = []
    for factory in registry.JOBS:
        job = factory(world.ports, Settings())
        assert isinstance(job.name, str) and job.name
        assert isinstance(job.trigger, BaseTrigger)
        assert job.lease_seconds >= DEFAULT_MISFIRE_GRACE_SECONDS
        assert inspect.iscoroutinefunction(job.run)
        names.append(job.name)
    assert len(set(names)) == len(names)
    for name in modules:  # each job module defines the class the registry lists
        module = importlib.import_module(f"entrypoints.jobs.{name}")
        assert any(f.__module__ == module.__name__ for f in registry.JOBS)


async def test_adding_a_job_to_the_registry_list_is_all_it_takes(monkeypatch):
    class Hello:
        name = "hello"
        trigger = IntervalTrigger(days=1, start_date=MONDAY)
        lease_seconds = 600.0

        def __init__(self, ports: Ports, settings: Settings) -> None:
            self.ports = ports

        async def run(self) -> str:
            return "hello"

    monkeypatch.setattr(registry, "JOBS", [*registry.JOBS, Hello])
    _, job_ids = await _served_scheduler({})
    assert "hello" in job_ids and len(job_ids) == len(registry.JOBS)
