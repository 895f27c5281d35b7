"""Issue 12, must-show 2 and 3 over HTTP: offboarding with the GitHub and Drive stand-ins.

The real app on SQLite, signed Slack commands, the strict GitHub stand-in (real REST routes
only) and the Drive v3 stand-in (service-account token, permissions, Rocket's ledger).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.models import Team, User
from entrypoints.bootstrap import make_admin
from entrypoints.config import load_config
from entrypoints.container import make_container
from entrypoints.http import create_app
from tests.adapters.test_drive_adapter import OWNER, DriveStandIn, private_key, standin  # noqa: F401
from tests.adapters.test_drive_adapter import env as drive_env  # noqa: F401
from tests.e2e.conftest import HttpWorld, rocket_env
from tests.fakes.ports import store_bus
from tests.support.github_standin import GitHubStandIn

PEOPLE = (("UADMIN", "octo-admin", 501), ("U2", "octo2", 502))


class World(HttpWorld):
    drive: DriveStandIn

    async def text(self, user: str, command: str) -> str:
        status, reply = await self.command(user, command)
        assert status == 200 and isinstance(reply.get("text"), str), (status, reply)
        return reply["text"]


@pytest.fixture
async def world(tmp_path, github_env, github_standin, slack_standin,  # noqa: F811
                standin, drive_env) -> AsyncIterator[World]:  # noqa: F811
    env = {**rocket_env(tmp_path, github_env, slack_standin), **drive_env}
    slack_standin.add_channel("rocket-notices")
    container = make_container(load_config(env))
    app = create_app(container, inline_seconds=30)
    async with app.test_app() as test_app:
        store = await container.store()
        w = World(app, test_app.test_client(), store, github_standin, slack_standin, env)
        w.drive = standin
        yield w


async def seed(w: World, teams: tuple[str, ...]) -> None:
    """UADMIN (admin) and U2 on GitHub; each team created with a Drive folder ``F-<team>``,
    U2 added to it; the Drive folders then list U2's email."""
    for _, login, uid in PEOPLE:
        w.github.add_user(login, uid, org_member=True)
    for slack_id, _, _ in PEOPLE:
        await w.store.store(User(slack_id, name=slack_id.lower(), email=f"{slack_id.lower()}@example.com"))
    await make_admin(store_bus(w.store), "UADMIN")
    for slack_id, login, _ in PEOPLE:  # set by an admin: verified links (Drive shares need one)
        assert "refused" not in await w.text("UADMIN", f"user edit --username {slack_id} --github {login}")
    for slug in teams:
        w.drive.add_folder(f"F-{slug}", [OWNER])
        text = await w.text("UADMIN", f"team create {slug} --folder F-{slug}")
        assert "Created team" in text, text
        text = await w.text("UADMIN", f"team add {slug} U2")
        assert "Added U2" in text, text
        assert "u2@example.com" in w.drive.emails(f"F-{slug}")


def github_teams_of(github: GitHubStandIn, login: str) -> set[str]:
    with github.lock:
        return {github.teams[tid]["slug"] for tid, members in github.memberships.items() if login in members}


async def directory_matches_github(w: World) -> None:
    with w.github.lock:
        on_github = {str(tid): {str(w.github.users[m]) for m in w.github.active_members(tid)}
                     for tid in w.github.teams}
    stored = {t.github_team_id: set(t.members) for t in await w.store.query(Team)}
    for tid, members in stored.items():
        assert members == on_github.get(tid), (tid, members, on_github.get(tid))


async def test_user_delete_org_offboards_from_github_drive_and_the_org(world: World) -> None:
    w = world
    await seed(w, ("alpha", "beta"))
    assert github_teams_of(w.github, "octo2") >= {"alpha", "beta"}

    text = await w.text("UADMIN", "user delete U2 --org")

    assert "Deleted U2" in text, text
    for slug in ("alpha", "beta"):
        assert f"removed from GitHub team {slug} and its Drive folder" in text
    assert "removed from the GitHub organization" in text
    assert github_teams_of(w.github, "octo2") == set()
    assert "octo2" not in w.github.org_members and "octo2" not in w.github.invitations
    for slug in ("alpha", "beta"):
        emails = w.drive.emails(f"F-{slug}")
        assert "u2@example.com" not in emails and "uadmin@example.com" in emails
    assert "DELETE /orgs/rocket-org/memberships/octo2" in w.github.requests

    refresh = await w.text("UADMIN", "team refresh")
    assert "not registered" not in refresh, refresh
    for team in await w.store.query(Team):
        assert "502" not in team.members
    assert github_teams_of(w.github, "octo2") == set()
    await directory_matches_github(w)


async def test_user_delete_org_cancels_a_pending_invitation_by_its_id(world: World) -> None:
    w = world
    await seed(w, ())
    w.github.add_user("octo3", 503)  # not in the organization: linking invites them
    await w.store.store(User("U3", email="u3@example.com"))
    assert "refused" not in await w.text("U3", "user edit --github octo3")
    invitation = w.github.invitations["octo3"]

    text = await w.text("UADMIN", "user delete U3 --org")

    assert "invitation cancelled" in text, text
    assert "octo3" not in w.github.invitations
    assert f"DELETE /orgs/rocket-org/invitations/{invitation}" in w.github.requests
    assert github_teams_of(w.github, "octo3") == set()


async def test_github_failing_on_the_second_of_three_removals_then_rerun_finishes(world: World) -> None:
    w = world
    await seed(w, ("alpha", "beta", "gamma"))
    with w.github.lock:
        beta = next(t for t in w.github.teams.values() if t["slug"] == "beta")
    w.github.fail_next("DELETE /orgs/rocket-org/teams/beta/memberships/octo2", 403,
                       message="refused for the test")

    text = await w.text("UADMIN", "user delete U2")

    assert "Not finished deleting U2" in text, text
    done, not_done = text.split("Not done:")
    assert "removed from GitHub team alpha" in done
    assert "GitHub team beta" in not_done and "GitHub team gamma" in not_done
    assert "Run `/rocket user delete U2` again" in text
    left = github_teams_of(w.github, "octo2")
    assert "alpha" not in left and {"beta", "gamma"} <= left
    assert "octo2" in w.github.memberships[beta["id"]]
    assert await w.store.retrieve(User, "U2")
    await directory_matches_github(w)

    again = await w.text("UADMIN", "user delete U2")

    assert "Deleted U2" in again and "Not finished" not in again, again
    assert github_teams_of(w.github, "octo2") == set()
    await directory_matches_github(w)
    for slug in ("alpha", "beta", "gamma"):
        assert "u2@example.com" not in w.drive.emails(f"F-{slug}")


# --- must-show 4: finding 9, concurrent add and remove of one person ----------------------
ROUNDS = 50


async def test_concurrent_add_and_remove_never_leave_the_directory_disagreeing(world: World) -> None:
    """Two admins, the same person, the same team, at the same moment, 50 rounds: after every
    round the directory's members of the team are exactly GitHub's. (Without the re-read
    of ``core.usecases.membership`` this fails within a few rounds.)"""
    import asyncio

    w = world
    await seed(w, ("alpha",))
    w.github.add_user("octo-admin2", 504, org_member=True)
    await w.store.store(User("UADMIN2", email="uadmin2@example.com"))
    assert "refused" not in await w.text("UADMIN2", "user edit --github octo-admin2")
    await make_admin(store_bus(w.store), "UADMIN2")
    for round_ in range(ROUNDS):
        first, second = ("UADMIN", "UADMIN2") if round_ % 2 else ("UADMIN2", "UADMIN")
        added, removed = await asyncio.gather(w.text(first, "team add alpha U2"),
                                              w.text(second, "team remove alpha U2"))
        assert "refused" not in added + removed, (added, removed)
        await directory_matches_github(w)


# --- finding 5: invitations tracked ----------------------------------------------------------
async def test_pending_invitation_shows_in_user_view_with_its_age_and_expiry_in_the_refresh(
    world: World,
) -> None:
    import time

    w = world
    await seed(w, ())
    w.github.add_user("octo3", 503)  # not in the organization: linking invites them
    await w.store.store(User("U3", email="u3@example.com"))
    assert "refused" not in await w.text("U3", "user edit --github octo3")
    assert "octo3" in w.github.invitations
    w.github.invited_at["octo3"] = time.time() - 3 * 86400 - 60

    view = await w.text("UADMIN", "user view --username U3")
    assert "GitHub invitation" in view and "pending since" in view and "(3 days)" in view, view
    member_view = await w.text("UADMIN", "user view --username U2")
    assert "pending" not in member_view, member_view

    w.github.expire_invitation("octo3")
    refresh = await w.text("UADMIN", "team refresh")
    assert "Expired GitHub invitations" in refresh and "U3 (octo3)" in refresh, refresh
    assert "pending" not in await w.text("UADMIN", "user view --username U3")
    assert "U2 (octo2)" not in refresh  # a member: nothing expired
