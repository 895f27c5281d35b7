"""RefreshTeams: reconcile the directory with GitHub, in a bounded number of calls."""

from __future__ import annotations

import pytest

from core.commands import CreateTeam, RefreshTeams
from core.context import Settings
from core.errors import NotFound, PermissionDenied, UpstreamError
from core.models import Project, Team, User
from core.permissions import Permissions
from ports.github import GitHubTeam
from tests.fakes.counting_store import CountingStore
from tests.fakes.github import FakeGitHub, refused
from tests.fakes.observe import snapshot
from tests.fakes.ports import fake_world, usecase
from tests.unit.usecases.team_world import Directory, make_directory

# --- a small directory: every kind of change at once ---------------------------------------------


@pytest.fixture
async def d() -> Directory:
    world = fake_world()
    world.store = CountingStore()
    directory = await make_directory(world)
    gh = world.github
    alpha = directory.alpha.github_team_id
    gh.team_members[alpha] = {"mem-gh", "new-gh"}  # ULEAD left alpha on GitHub, UNEW joined
    del gh.teams[directory.beta.github_team_id]  # beta deleted on GitHub
    gh.add_team("gamma", "Gamma", members=["other-gh", "stranger-gh"])  # new, one unregistered member
    gh.add_team("admins", members=["mem-gh"])
    gh.add_team("leads", members=["new-gh", "admin-gh"])
    await world.store.store(Project("P-BETA", github_team_id=directory.beta.github_team_id))
    gh.calls.clear()
    world.store.reset()
    return directory


def refresh(d: Directory) -> RefreshTeams:
    return usecase(RefreshTeams, d.ports, d.settings)


async def team(d: Directory, slug: str) -> Team:
    [found] = await d.world.store.query(Team, [("github_team_name", slug)])
    return found


async def level(d: Directory, slack_id: str) -> Permissions:
    return (await d.world.store.retrieve(User, slack_id)).permission_level


async def test_refresh_reconciles_everything(d):
    result = await refresh(d)("UADMIN")
    gh = d.world.github
    assert result.created == ["admins", "gamma", "leads"]
    assert result.updated == ["alpha"]
    assert result.deleted == ["beta"]
    assert result.promoted == ["UMEM", "UNEW"]
    assert result.drive_synced == ["alpha"]
    assert result.warnings == []

    alpha = await team(d, "alpha")
    assert alpha.members == {d.gid["UMEM"], d.gid["UNEW"]}
    assert alpha.team_leads == set()  # ULEAD is no longer a member
    assert (alpha.display_name, alpha.platform, alpha.folder) == ("Alpha", "web", "F-alpha")
    gamma = await team(d, "gamma")
    assert gamma.members == {d.gid["UOTHER"], gh.users["stranger-gh"]} and gamma.display_name == "Gamma"
    assert sorted(t.github_team_name for t in await d.world.store.query(Team)) == [
        "admins", "alpha", "gamma", "leads"]
    assert (await d.world.store.retrieve(Project, "P-BETA")).github_team_id == ""

    assert await level(d, "UMEM") == Permissions.admin
    assert await level(d, "UNEW") == Permissions.team_lead
    assert await level(d, "UADMIN") == Permissions.admin  # in the leads team, never demoted
    assert await level(d, "ULEAD") == Permissions.team_lead  # nothing demotes
    assert d.world.drive.shared["F-alpha"] == {"mem-gh@example.org", "new-gh@example.org"}

    assert gh.calls["list_teams"] == 1 and gh.calls["list_team_members"] == 4
    # refresh only reads GitHub (the teams, their members, and the expired invitations)
    assert sum(gh.calls.values()) == 6 and gh.calls["expired_invitations"] == 1


async def test_second_refresh_writes_nothing(d):
    await refresh(d)("", scheduled=True)
    d.world.store.reset()
    versions = await snapshot(d.world)
    result = await refresh(d)("", scheduled=True)
    assert (result.created, result.updated, result.deleted, result.promoted) == ([], [], [], [])
    assert d.world.store.writes == 0
    assert await snapshot(d.world) == versions


@pytest.mark.parametrize("actor", ["ULEAD", "UMEM", "UNREGISTERED"])
async def test_refresh_is_for_admins(d, actor):
    before = await snapshot(d.world)
    with pytest.raises(PermissionDenied, match="Only admins"):
        await refresh(d)(actor)
    assert await snapshot(d.world) == before
    assert sum(d.world.github.calls.values()) == 0


@pytest.mark.parametrize("operation", ["list_teams", "list_team_members"])
async def test_github_failure_writes_nothing(d, operation):
    before = await snapshot(d.world)
    d.world.github.fail_on[operation] = refused("502")
    with pytest.raises(UpstreamError, match="GitHub refused: 502"):
        await refresh(d)("", scheduled=True)
    assert await snapshot(d.world) == before
    assert d.world.store.writes == 0 and d.world.drive.syncs == 0


async def test_drive_failure_is_a_warning(d):
    d.world.drive.fail_on["sync_folder"] = UpstreamError("Google Drive", "quota")
    result = await refresh(d)("", scheduled=True)
    assert result.drive_synced == [] and len(result.warnings) == 1 and "quota" in result.warnings[0]
    assert (await team(d, "alpha")).members == {d.gid["UMEM"], d.gid["UNEW"]}


class VanishingGitHub(FakeGitHub):
    """Lists a team that is gone by the time its members are listed."""

    async def list_teams(self) -> list[GitHubTeam]:
        return [*await super().list_teams(), GitHubTeam("4242", "ghost", "Ghost")]


async def test_team_vanishing_mid_refresh_is_skipped_not_deleted():
    world = fake_world()
    world.github = VanishingGitHub()
    d = await make_directory(world)
    await world.store.store(Team("4242", "ghost", "Ghost", members={"1"}))
    result = await refresh(d)("", scheduled=True)
    assert any("ghost" in w for w in result.warnings)
    assert (await world.store.retrieve(Team, "4242")).members == {"1"}
    with pytest.raises(NotFound):
        await world.github.list_team_members("4242")


async def test_team_created_by_command_during_the_refresh_is_kept():
    """``team create`` finishing (on GitHub, then stored) after the refresh listed GitHub's teams:
    the refresh must not take the new team for one GitHub deleted."""
    world = fake_world()
    d = await make_directory(world)
    list_on_github = world.github.list_teams

    async def list_then_create(d=d):
        listing = await list_on_github()
        await usecase(CreateTeam, d.ports, d.settings)("ULEAD", "gamma", platform="android")
        return listing

    world.github.list_teams = list_then_create
    result = await refresh(d)("", scheduled=True)
    assert result.deleted == []
    gamma = await team(d, "gamma")
    assert gamma.platform == "android" and gamma.team_leads == {d.gid["ULEAD"]}
    assert "gamma" in {t.slug for t in world.github.teams.values()}


# --- at scale: 200 teams x 25 members ------------------------------------------------------------

SCALE_SETTINGS = Settings(admin_team="admins", leads_team="leads")


async def scale_world(teams: int, per_team: int):
    """GitHub with ``teams`` teams of ``per_team`` members, every member registered with GitHub.

    Half the teams are already stored with stale members and a lead who left; every tenth has a
    Drive folder; ten stored teams no longer exist on GitHub (one has a project). ``admins`` =
    the first 3 members of team 0; ``leads`` = all of team 1 plus the first member of team 0.
    """
    world = fake_world()
    store = CountingStore()
    world.store = store
    gh = world.github
    members: dict[int, list[str]] = {}
    for i in range(teams):
        logins = [f"u{i}-{j}" for j in range(per_team)]
        for j, login in enumerate(logins):
            gid = gh.add_user(login, str(100_000 + i * 1000 + j))
            await store.inner.store(User(f"U{i}_{j}", email=f"{login}@example.org", github=login,
                                         github_user_id=gid))
        members[i] = logins
        gh_team = gh.add_team(f"t{i:03}", f"T {i}", members=logins, team_id=str(10_000 + i))
        if i % 2 == 0:
            ids = {gh.users[x] for x in logins[:-1]} | {"left-1"}
            await store.inner.store(Team(gh_team.id, f"old-slug-{i}", f"Display {i}", "web",
                                         team_leads={gh.users[logins[0]], "left-1"}, members=ids,
                                         folder=f"F{i}" if i % 10 == 0 else ""))
    gh.add_team("admins", members=members[0][:3])
    gh.add_team("leads", members=[*members[1], members[0][0]])
    for k in range(10):
        await store.inner.store(Team(f"gone-{k}", f"gone-{k}", members={"x"}))
    await store.inner.store(Project("P1", github_team_id="gone-0"))
    gh.calls.clear()
    return world, members


async def check_directory_matches_github(world, members: dict[int, list[str]], per_team: int) -> None:
    gh, store = world.github, world.store.inner
    stored = {t.github_team_id: t for t in await store.query(Team)}
    assert set(stored) == set(gh.teams)  # gone-* deleted, every GitHub team stored
    for tid, gh_team in gh.teams.items():
        t = stored[tid]
        assert t.github_team_name == gh_team.slug
        assert t.members == {gh.users[login] for login in gh.team_members[tid]}
    for i, logins in members.items():
        t = stored[str(10_000 + i)]
        if i % 2 == 0:  # kept fields, lead who left dropped
            assert (t.display_name, t.platform) == (f"Display {i}", "web")
            assert t.team_leads == {gh.users[logins[0]]}
            if i % 10 == 0:
                assert world.drive.shared[f"F{i}"] == {f"{x}@example.org" for x in logins}
        else:
            assert (t.display_name, t.team_leads, t.folder) == (f"T {i}", set(), "")
    users = {u.slack_id: u.permission_level for u in await store.query(User)}
    admins = {f"U0_{j}" for j in range(3)}
    leads = {f"U1_{j}" for j in range(per_team)}
    for slack_id, perm in users.items():
        want = Permissions.admin if slack_id in admins else (
            Permissions.team_lead if slack_id in leads else Permissions.member)
        assert perm == want, slack_id
    assert (await store.retrieve(Project, "P1")).github_team_id == ""


@pytest.mark.parametrize("per_team", [5, 25])
async def test_refresh_at_scale(per_team):
    teams = 200
    world, members = await scale_world(teams, per_team)
    result = await usecase(RefreshTeams, world.ports, SCALE_SETTINGS)("", scheduled=True)

    gh_teams = teams + 2  # plus admins and leads
    assert world.github.calls["list_teams"] == 1
    assert world.github.calls["list_team_members"] == gh_teams
    assert sum(world.github.calls.values()) <= gh_teams + 2

    calls = world.store.calls
    assert (calls["query"], calls["retrieve"], calls["bulk_retrieve"], calls["query_or"]) == (3, 0, 0, 0)
    promoted = 3 + per_team  # team 0's first member is in both: admin
    assert calls["store"] == gh_teams + promoted + 1  # 100 new, 100 stale, admins, leads; project P1
    assert calls["delete"] == 10 and len(result.deleted) == 10
    assert len(result.created) == 100 + 2 and len(result.updated) == 100
    assert len(result.promoted) == promoted and len(result.drive_synced) == teams // 10
    await check_directory_matches_github(world, members, per_team)

    world.store.reset()
    world.github.calls.clear()
    again = await usecase(RefreshTeams, world.ports, SCALE_SETTINGS)("", scheduled=True)
    assert world.store.writes == 0 and again.updated == again.created == again.promoted == []
    assert world.store.reads == 2  # no deletions this time, so no project query


async def test_refresh_reads_do_not_depend_on_team_size():
    counts = {}
    for per_team in (5, 25):
        world, _ = await scale_world(200, per_team)
        await usecase(RefreshTeams, world.ports, SCALE_SETTINGS)("", scheduled=True)
        counts[per_team] = (world.store.reads, sum(world.github.calls.values()))
    assert counts[5] == counts[25]
