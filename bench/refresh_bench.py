"""Team refresh against the GitHub stand-in, on the real ``GitHubApp`` adapter and SQLite.

The stand-in's state is set directly: ``teams`` teams of ``members`` distinct members each;
every member is registered in storage with their GitHub id. ``RefreshTeams`` (through the bus) runs
twice: the first refresh creates every team, the second finds nothing to change. GitHub
requests are the stand-in's ``count()`` (App installation lookup and token included); storage
calls go through ``tests.fakes.counting_store.CountingStore`` wrapped around the SQLite store.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

from adapters.github.client import GitHubApp
from adapters.sqlite.store import SqliteStore
from adapters.unavailable import Unavailable
from core.commands import RefreshTeams
from core.context import Ports, Settings
from core.models import Team, User
from core.wiring import build_bus
from entrypoints.settings import load_settings
from tests.fakes.counting_store import CountingStore
from tests.support.github_fixtures import APP_ID, ORG, AppKey, escape_key
from tests.support.github_standin import GitHubStandIn


@dataclass
class RefreshRun:
    teams: int
    members: int
    seconds: float
    github_calls: int
    storage_reads: int
    storage_writes: int
    created: int
    updated: int
    stored_teams: int


def github_env(standin: GitHubStandIn, key: AppKey) -> dict[str, str]:
    """Rocket's GitHub settings for ``standin`` (as tests/support/github_fixtures.py builds them)."""
    return {"GITHUB_APP_ID": APP_ID, "GITHUB_KEY": escape_key(key.private_pem), "GITHUB_ORG_NAME": ORG,
            "GITHUB_API_URL": standin.url}


async def _register(store: SqliteStore, standin: GitHubStandIn, logins: list[str]) -> None:
    for n, login in enumerate(logins):
        await store.store(User(slack_id=f"UR{n:06d}", github=login, github_user_id=str(standin.users[login])))


async def _refresh(ports: Ports, counting: CountingStore, standin: GitHubStandIn,
                   teams: int, members: int) -> RefreshRun:
    counting.reset()
    before = standin.count()
    started = time.perf_counter()
    result = await build_bus(ports, Settings()).handle(RefreshTeams(actor="", scheduled=True))
    seconds = time.perf_counter() - started
    stored = len(await counting.inner.query(Team))
    return RefreshRun(teams, members, seconds, standin.count() - before, counting.reads, counting.writes,
                      len(result.created), len(result.updated), stored)


async def refresh_case(workdir: Path, key: AppKey, teams: int, members: int) -> list[RefreshRun]:
    """A fresh stand-in and database with ``teams`` × ``members``; the first and a second refresh."""
    with GitHubStandIn(key.public_pem, app_id=APP_ID, org=ORG) as standin:
        logins: list[str] = []
        for t in range(teams):
            team_logins = [f"gh-{t}-{m}" for m in range(members)]
            standin.add_team(f"team-{t:03d}", f"Team {t}", members=team_logins)
            logins += team_logins
        store = await SqliteStore.open(str(workdir / f"refresh-{teams}x{members}.db"))
        try:
            await _register(store, standin, logins)
            counting = CountingStore(store)
            github = GitHubApp.from_settings(load_settings(github_env(standin, key)).github)
            assert github is not None
            ports = Ports(store=counting, github=github, chat=Unavailable("Slack"),
                          drive=Unavailable("Google Drive"))
            return [await _refresh(ports, counting, standin, teams, members) for _ in range(2)]
        finally:
            await store.close()


def run_refresh(workdir: Path, key: AppKey, cases: tuple[tuple[int, int], ...]) -> list[RefreshRun]:
    runs: list[RefreshRun] = []
    for teams, members in cases:
        runs += asyncio.run(refresh_case(workdir, key, teams, members))
    return runs
