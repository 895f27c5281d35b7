"""GitHub's rate limits as GitHub documents them, against the strict stand-in.

- Where nobody waits (the nightly refresh job), the adapter's ``patient()`` variant waits a
  primary limit (``x-ratelimit-remaining: 0`` until ``x-ratelimit-reset``) or a secondary one
  (403/429 with ``retry-after``) out with PyGithub's ``GithubRetry`` and the job's summary says so.
- Where a person waits (a command), the limit is reported at once as ``RateLimited`` with the
  time it lifts: "GitHub's rate limit lifts at HH:MM UTC".

Limits here lift a second or two ahead, so the tests stay short.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from adapters.github import GitHubApp
from adapters.memory.store import MemoryStore
from core.context import Ports, Settings
from core.errors import RateLimited
from core.models import Team
from entrypoints.jobs.refresh import NightlyTeamRefresh
from tests.fakes.chat import FakeChat
from tests.fakes.drive import FakeDrive
from tests.support import github_fixtures
from tests.support.github_fixtures import ORG, github_from_env
from tests.support.github_standin import GitHubStandIn

github_app_key = github_fixtures.github_app_key
github_standin = github_fixtures.github_standin
github_env = github_fixtures.github_env

FAST = dict(retries=2, backoff=0.0)
HOURLY_BUDGET = 5000  # an installation's smallest primary rate limit, requests per hour


def make_app(env: dict[str, str]) -> GitHubApp:
    app = github_from_env(env, **FAST)
    assert app is not None
    return app


def ports_for(github: GitHubApp) -> Ports:
    return Ports(store=MemoryStore(), github=github, chat=FakeChat(), drive=FakeDrive())


async def test_refresh_of_1000_teams_waits_out_a_primary_limit_halfway(github_env, github_standin) -> None:
    for i in range(1000):
        github_standin.add_team(f"team-{i:04d}", members=[f"dev-{i:04d}"])
    ports = ports_for(make_app(github_env))
    job = NightlyTeamRefresh(ports, Settings(default_team=""))
    github_standin.rate_limit(after=500, lifts_in=1.5, kind="primary", status=403)

    started = time.monotonic()
    summary = await job.run()
    elapsed = time.monotonic() - started

    assert github_standin.rate_limited >= 1  # the limit was hit ...
    assert github_standin._limit is None  # ... and lifted before the run ended
    assert "1000 created" in summary
    assert "waited for GitHub's rate limit to lift" in summary
    assert elapsed >= 1.0
    teams = await ports.store.query(Team)
    assert len(teams) == 1000
    assert all(len(t.members) == 1 for t in teams)
    answered = len(github_standin.requests) - github_standin.rate_limited
    # token, installation, 10 pages of teams, 1 listing each, 1 page of failed invitations (issue 12)
    assert answered <= 2 + 10 + 1000 + 1 < HOURLY_BUDGET
    assert github_standin.refused == []


@pytest.mark.parametrize("status", [403, 429])
async def test_refresh_job_waits_out_a_secondary_limit(github_env, github_standin, status: int) -> None:
    for i in range(20):
        github_standin.add_team(f"team-{i}", members=[f"dev-{i}"])
    ports = ports_for(make_app(github_env))
    github_standin.rate_limit(after=8, lifts_in=1.0, kind="secondary", status=status)
    summary = await NightlyTeamRefresh(ports, Settings(default_team="")).run()
    assert "20 created" in summary and "waited for GitHub's rate limit" in summary
    assert github_standin.rate_limited >= 1


async def test_refresh_job_says_nothing_about_waiting_when_it_did_not(github_env, github_standin) -> None:
    github_standin.add_team("web", members=["ann"])
    summary = await NightlyTeamRefresh(ports_for(make_app(github_env)), Settings(default_team="")).run()
    assert "1 created" in summary and "waited" not in summary


@pytest.mark.parametrize(("kind", "status"), [("primary", 403), ("primary", 429), ("secondary", 403),
                                              ("secondary", 429)])
async def test_where_a_person_waits_the_limit_is_reported_with_the_time_it_lifts(
    github_env, github_standin, kind: str, status: int
) -> None:
    github_standin.add_team("web")
    app = make_app(github_env)
    await app.list_teams()  # authenticated
    github_standin.rate_limit(after=0, lifts_in=90, kind=kind, status=status)
    started = time.monotonic()
    with pytest.raises(RateLimited) as info:
        await app.list_teams()
    assert time.monotonic() - started < 2  # not waited out
    assert github_standin.count(f"GET /orgs/{ORG}/teams") == 2  # and not retried
    reset = info.value.reset_at
    assert reset is not None and 85 <= reset - time.time() <= 95
    lifts = datetime.fromtimestamp(reset + 59, UTC).strftime("%H:%M")
    assert str(info.value) == f"GitHub's rate limit lifts at {lifts} UTC; try again then"


async def test_patient_adapter_gives_up_on_a_limit_longer_than_it_waits(github_env, github_standin) -> None:
    github_standin.add_team("web")
    app = github_from_env(github_env, **FAST, max_rate_limit_wait=1.0)
    assert app is not None
    github_standin.rate_limit(after=2, lifts_in=600, kind="primary", status=403)
    started = time.monotonic()
    with pytest.raises(RateLimited) as info:
        await app.patient().list_teams()
    assert time.monotonic() - started < 3
    assert "GitHub's rate limit lifts at" in str(info.value)


def test_standin_rate_limit_lifts(github_standin: GitHubStandIn) -> None:
    github_standin.rate_limit(after=0, lifts_in=0.2)
    assert github_standin._rate_limit_answer() is not None
    time.sleep(1.3)  # the reset is the next whole second after lifts_in
    assert github_standin._rate_limit_answer() is None
