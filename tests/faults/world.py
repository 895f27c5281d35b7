"""The HTTP app on SQLite with the GitHub and Slack stand-ins, wired so faults can be injected:
the store is a ``FaultyStore`` around the real SQLite store, the clock is a ``FixedClock``
that moves only when told, and the GitHub adapter can be
built with small timeouts and retry counts. Plus the checks the fault tests share."""

from __future__ import annotations

import copy
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from dependency_injector import providers

from adapters.github.client import GitHubApp
from core.models import Project, Team, User
from entrypoints.bootstrap import make_admin
from entrypoints.config import load_config
from entrypoints.container import make_container
from entrypoints.http import create_app
from tests.e2e.conftest import HttpWorld, rocket_env
from tests.fakes.ports import FixedClock, store_bus
from tests.faults.faulty_store import FaultyStore
from tests.support.github_standin import GitHubStandIn
from tests.support.slack_standin import SlackStandIn

UNAVAILABLE = "database is unavailable"


@dataclass
class FaultWorld(HttpWorld):
    """``store`` is the real SQLite store (for looking at the directory while the app's store
    is down); ``faulty`` is the switchable store the app uses."""

    faulty: FaultyStore = None  # type: ignore[assignment]
    clock: FixedClock = None  # type: ignore[assignment]

    async def healthz(self) -> int:
        return (await self.client.get("/healthz")).status_code

    async def text(self, user: str, command: str) -> str:
        status, reply = await self.command(user, command)
        assert status == 200 and isinstance(reply.get("text"), str) and reply["text"].strip(), (status, reply)
        return reply["text"]


@asynccontextmanager
async def fault_world(tmp_path: Any, github_env: dict[str, str], github: GitHubStandIn, slack: SlackStandIn,
                      github_options: dict[str, Any] | None = None) -> AsyncIterator[FaultWorld]:
    """The world; ``github_options`` go to ``GitHubApp`` (``timeout``, ``retries``, ``backoff``)."""
    env = rocket_env(tmp_path, github_env, slack)
    slack.add_channel("rocket-notices")
    config = load_config(env)
    container = make_container(config)
    real = await container.store()
    faulty = FaultyStore(real)

    async def provide_faulty() -> FaultyStore:
        return faulty

    container.store.override(providers.Coroutine(provide_faulty))
    clock = FixedClock(time.time())
    container.clock.override(providers.Object(clock))
    if github_options is not None:
        adapter = GitHubApp.from_settings(config.rocket.github, **github_options)
        container.github.override(providers.Object(adapter))
    app = create_app(container, inline_seconds=30)  # slow failures still answer inline
    try:
        async with app.test_app() as test_app:
            yield FaultWorld(app, test_app.test_client(), real, github, slack, env, faulty, clock)
    finally:
        await real.close()


async def seed_people(w: FaultWorld) -> None:
    """Admin UADMIN (GitHub octo-admin, 501) and members U2 (octo2, 502), U3 (octo3, 503), all
    organization members on GitHub, so team memberships are active at once; the directory's
teams are then refreshed from GitHub (the default team ``all`` exists there)."""
    for login, uid in (("octo-admin", 501), ("octo2", 502), ("octo3", 503)):
        w.github.add_user(login, uid, org_member=True)
    for user, login in (("UADMIN", "octo-admin"), ("U2", "octo2"), ("U3", "octo3")):
        await w.store.store(User(user, name=user.lower(), email=f"{user.lower()}@example.com"))
        text = await w.text(user, f"user edit --github {login}")
        assert "refused" not in text, text
    await make_admin(store_bus(w.store), "UADMIN")
    assert "refused" not in await w.text("UADMIN", "team refresh")  # the directory starts equal to GitHub


def github_state(github: GitHubStandIn) -> dict[str, Any]:
    with github.lock:
        return copy.deepcopy({"teams": github.teams, "memberships": github.memberships,
                              "invitations": github.invitations, "org_members": github.org_members})


def restore_github(github: GitHubStandIn, state: dict[str, Any]) -> None:
    """Put the stand-in back as it was (undo what GitHub did during a failed attempt)."""
    with github.lock:
        github.teams = copy.deepcopy(state["teams"])
        github.memberships = copy.deepcopy(state["memberships"])
        github.invitations = copy.deepcopy(state["invitations"])
        github.org_members = copy.deepcopy(state["org_members"])


def github_teams_as_stored(github: GitHubStandIn) -> dict[str, tuple[str, set[str]]]:
    """GitHub's teams as the directory should record them: id -> (slug, active member ids)."""
    with github.lock:
        return {str(tid): (t["slug"], {str(github.users[login]) for login in github.active_members(tid)})
                for tid, t in github.teams.items()}


def stored_teams(teams: list[Team]) -> dict[str, tuple[str, set[str]]]:
    return {t.github_team_id: (t.github_team_name, set(t.members)) for t in teams}


def check_invariants(directory: tuple[list[User], list[Team], list[Project]]) -> None:
    """No half-written state: projects point at stored teams, leads are members, keys unique."""
    users, teams, projects = directory
    team_ids = {t.github_team_id for t in teams}
    for project in projects:
        assert project.github_team_id in team_ids | {""}, f"{project.project_id} points at a missing team"
    for team in teams:
        assert team.team_leads <= team.members, f"{team.github_team_name} has a lead who is not a member"
    for records in directory:
        keys = [getattr(r, type(r).KEY) for r in records]
        assert len(keys) == len(set(keys))
