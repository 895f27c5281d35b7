"""Team use-cases on the memory store and the stateful fakes (see team_world.py for the cast)."""

from __future__ import annotations

import asyncio

import pytest

from adapters.memory import MemoryStore
from core.commands import (
    AddTeamMember,
    CreateTeam,
    DeleteTeam,
    EditTeam,
    ListTeams,
    RemoveTeamMember,
    SetTeamLead,
    ViewTeam,
)
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied, UpstreamError
from core.models import Project, Team, User
from core.permissions import Permissions
from tests.fakes.github import refused
from tests.fakes.observe import snapshot
from tests.fakes.ports import fake_world, github_webhook, usecase
from tests.unit.usecases.team_world import Directory, make_directory


@pytest.fixture
async def d() -> Directory:
    return await make_directory()


def uc(d: Directory, cls):
    return usecase(cls, d.ports, d.settings)


async def stored_team(d: Directory, slug: str) -> Team:
    teams = await d.world.store.query(Team, [("github_team_name", slug)])
    assert len(teams) == 1
    return teams[0]


# --- list / view ---------------------------------------------------------------------------------


async def test_list_teams_sorted_for_anyone(d):
    result = await uc(d, ListTeams)("USOMEONE-UNREGISTERED")
    assert [t.github_team_name for t in result.teams] == ["alpha", "beta"]


async def test_view_team_has_members_leads_and_projects(d):
    await d.world.store.store(Project("p1", github_team_id=d.alpha.github_team_id))
    await d.world.store.store(Project("p2", github_team_id=d.beta.github_team_id))
    result = await uc(d, ViewTeam)("UMEM", "alpha")
    assert result.team.display_name == "Alpha"
    assert [u.slack_id for u in result.members] == ["ULEAD", "UMEM"]
    assert [u.slack_id for u in result.leads] == ["ULEAD"]
    assert [p.project_id for p in result.projects] == ["p1"]


async def test_view_missing_team(d):
    with pytest.raises(NotFound, match="nope"):
        await uc(d, ViewTeam)("UMEM", "nope")


# --- create --------------------------------------------------------------------------------------


async def test_create_team_creator_becomes_lead_and_member(d):
    result = await uc(d, CreateTeam)("ULEAD", "gamma", name="Gamma Team", platform="android")
    team = await stored_team(d, "gamma")
    assert team == result.team
    assert team.display_name == "Gamma Team" and team.platform == "android"
    assert team.members == {d.gid["ULEAD"]} and team.team_leads == {d.gid["ULEAD"]}
    assert d.world.github.members_of("gamma") == {"lead-gh"}
    assert team.github_team_id == d.world.github._by_slug("gamma").id
    assert [u.slack_id for u in result.leads] == ["ULEAD"]


async def test_create_team_with_other_lead_leaves_creator_out(d):
    await uc(d, CreateTeam)("UADMIN", "gamma", lead="UNEW")
    team = await stored_team(d, "gamma")
    assert team.members == {d.gid["UNEW"]} and team.team_leads == {d.gid["UNEW"]}
    assert d.world.github.members_of("gamma") == {"new-gh"}


async def test_create_team_from_channel_adds_registered_members_with_github(d):
    d.world.chat.add_channel("C1", "gamma-chat", ["UNEW", "UMEM", "UNOGH", "UNKNOWN"])
    result = await uc(d, CreateTeam)("ULEAD", "gamma", channel="C1", folder="F-gamma")
    team = await stored_team(d, "gamma")
    assert team.members == {d.gid["ULEAD"], d.gid["UNEW"], d.gid["UMEM"]}
    assert team.team_leads == {d.gid["ULEAD"]}
    assert d.world.github.members_of("gamma") == {"lead-gh", "new-gh", "mem-gh"}
    assert team.folder == "F-gamma"
    shared = d.world.drive.shared["F-gamma"]
    assert shared == {"lead-gh@example.org", "new-gh@example.org", "mem-gh@example.org"}
    assert any("UNOGH" in w and "UNKNOWN" in w for w in result.warnings)


async def test_create_team_survives_the_webhook_storing_the_team_first(d):
    """GitHub's ``team created`` webhook can store the new team (empty) before CreateTeam does."""
    github, store = d.world.github, d.world.store
    create_on_github = github.create_team

    async def create_and_deliver_webhook(slug: str, name: str = ""):
        created = await create_on_github(slug, name)
        await github_webhook(d.ports, d.settings)("team", {
            "action": "created", "team": {"id": int(created.id), "slug": created.slug, "name": created.name}})
        return created

    github.create_team = create_and_deliver_webhook
    result = await uc(d, CreateTeam)("ULEAD", "gamma", name="Gamma Team", platform="android", folder="F-g")
    team = await stored_team(d, "gamma")
    assert team == result.team
    assert team.members == {d.gid["ULEAD"]} and team.team_leads == {d.gid["ULEAD"]}
    assert (team.display_name, team.platform, team.folder) == ("Gamma Team", "android", "F-g")
    assert d.world.drive.shared["F-g"] == {"lead-gh@example.org"}
    assert len(await store.query(Team, [("github_team_name", "gamma")])) == 1


@pytest.mark.parametrize("actor", ["UMEM", "UNEW", "UNREGISTERED"])
async def test_create_team_refused_for_non_leads(d, actor):
    before = await snapshot(d.world)
    with pytest.raises(PermissionDenied, match="team leads and admins"):
        await uc(d, CreateTeam)(actor, "gamma")
    assert await snapshot(d.world) == before
    assert d.world.github.calls["create_team"] == 0


async def test_create_team_refuses_existing_slug_and_spaces(d):
    before = await snapshot(d.world)
    with pytest.raises(Conflict):
        await uc(d, CreateTeam)("UADMIN", "alpha")
    with pytest.raises(InvalidInput, match="spaces"):
        await uc(d, CreateTeam)("UADMIN", "two words")
    assert await snapshot(d.world) == before


async def test_create_team_lead_needs_github(d):
    before = await snapshot(d.world)
    with pytest.raises(InvalidInput, match="/rocket user edit --github"):
        await uc(d, CreateTeam)("UADMIN", "gamma", lead="UNOGH")
    with pytest.raises(NotFound):
        await uc(d, CreateTeam)("UADMIN", "gamma", lead="UNKNOWN")
    assert await snapshot(d.world) == before


@pytest.mark.parametrize("operation", ["create_team", "add_team_member"])
async def test_create_team_github_refusal_changes_nothing(d, operation):
    before = await snapshot(d.world)
    d.world.github.fail_on[operation] = refused("boom")
    with pytest.raises(UpstreamError, match="GitHub refused"):
        await uc(d, CreateTeam)("ULEAD", "gamma", folder="F-gamma")
    assert await snapshot(d.world) == before  # a half-made GitHub team is deleted again


# --- the permission matrix for managing an existing team ---------------------------------------

MANAGE = {
    "edit": lambda d: uc(d, EditTeam)(d.actor, "alpha", name="Renamed"),
    "add": lambda d: uc(d, AddTeamMember)(d.actor, "alpha", "UNEW"),
    "remove": lambda d: uc(d, RemoveTeamMember)(d.actor, "alpha", "UMEM"),
    "lead": lambda d: uc(d, SetTeamLead)(d.actor, "alpha", "UMEM"),
    "unlead": lambda d: uc(d, SetTeamLead)(d.actor, "alpha", "ULEAD", remove=True),
    "delete": lambda d: uc(d, DeleteTeam)(d.actor, "alpha"),
}


@pytest.mark.parametrize("command", sorted(MANAGE))
@pytest.mark.parametrize("actor", ["UMEM", "UOTHER", "UNREGISTERED"])
async def test_managing_refused_for_members_and_other_leads(d, command, actor):
    before = await snapshot(d.world)
    d.actor = actor
    with pytest.raises(PermissionDenied, match="admins and leads of alpha"):
        await MANAGE[command](d)
    assert await snapshot(d.world) == before
    assert sum(d.world.github.calls.values()) == 0


@pytest.mark.parametrize("command", sorted(MANAGE))
@pytest.mark.parametrize("actor", ["ULEAD", "UADMIN"])
async def test_managing_allowed_for_this_teams_lead_and_admins(d, command, actor):
    before = await snapshot(d.world)
    d.actor = actor
    await MANAGE[command](d)
    assert await snapshot(d.world) != before


@pytest.mark.parametrize("command", sorted(MANAGE))
async def test_managing_a_missing_team(d, command):
    d.actor = "UADMIN"
    await d.world.store.delete(Team, d.alpha.github_team_id)
    before = await snapshot(d.world)
    with pytest.raises(NotFound, match="alpha"):
        await MANAGE[command](d)
    assert await snapshot(d.world) == before


# --- edit ----------------------------------------------------------------------------------------


async def test_edit_team_fields_and_folder(d):
    result = await uc(d, EditTeam)("ULEAD", "alpha", name="Alpha Two", platform="cli", folder="F-new")
    team = await stored_team(d, "alpha")
    assert (team.display_name, team.platform, team.folder) == ("Alpha Two", "cli", "F-new")
    assert team.version == d.alpha.version + 1 and result.team == team
    assert d.world.drive.shared["F-new"] == {"lead-gh@example.org", "mem-gh@example.org"}
    assert sum(d.world.github.calls.values()) == 0  # nothing for GitHub to know


async def test_edit_team_with_nothing_new_writes_nothing(d):
    result = await uc(d, EditTeam)("ULEAD", "alpha", name="Alpha")
    assert (await stored_team(d, "alpha")).version == d.alpha.version
    assert result.message == "Nothing changed: alpha already has those values"
    result = await uc(d, EditTeam)("ULEAD", "alpha")
    assert result.message.startswith("Nothing to change: give --name")
    assert (await stored_team(d, "alpha")).version == d.alpha.version


# --- add -----------------------------------------------------------------------------------------


async def test_add_member_goes_to_github_storage_and_drive(d):
    result = await uc(d, AddTeamMember)("ULEAD", "alpha", "UNEW")
    assert "new-gh" in d.world.github.members_of("alpha")
    assert d.gid["UNEW"] in (await stored_team(d, "alpha")).members
    assert "new-gh@example.org" in d.world.drive.shared["F-alpha"]
    assert "UNEW" in [u.slack_id for u in result.members] and result.warnings == []


async def test_add_member_needs_github_and_registration(d):
    before = await snapshot(d.world)
    with pytest.raises(InvalidInput, match="/rocket user edit --github"):
        await uc(d, AddTeamMember)("ULEAD", "alpha", "UNOGH")
    with pytest.raises(NotFound, match="not registered"):
        await uc(d, AddTeamMember)("ULEAD", "alpha", "UNKNOWN")
    assert await snapshot(d.world) == before


@pytest.mark.parametrize(
    ("operation", "command"),
    [
        ("add_team_member", lambda d: uc(d, AddTeamMember)("ULEAD", "alpha", "UNEW")),
        ("add_team_member", lambda d: uc(d, SetTeamLead)("ULEAD", "alpha", "UNEW")),
        ("remove_team_member", lambda d: uc(d, RemoveTeamMember)("ULEAD", "alpha", "UMEM")),
        ("delete_team", lambda d: uc(d, DeleteTeam)("ULEAD", "alpha")),
    ],
)
async def test_github_refusal_leaves_directory_unchanged(d, operation, command):
    await d.world.store.store(Project("p1", github_team_id=d.alpha.github_team_id))
    before = await snapshot(d.world)
    d.world.github.fail_on[operation] = refused("502 Bad Gateway")
    with pytest.raises(UpstreamError, match="GitHub refused: 502 Bad Gateway"):
        await command(d)
    assert d.world.github.calls[operation] == 1
    assert await snapshot(d.world) == before
    assert d.world.drive.syncs == 0


async def test_drive_failure_after_github_and_storage_is_a_warning(d):
    d.world.drive.fail_on["sync_folder"] = UpstreamError("Google Drive", "quota exceeded")
    result = await uc(d, AddTeamMember)("ULEAD", "alpha", "UNEW")
    assert d.gid["UNEW"] in (await stored_team(d, "alpha")).members
    assert "new-gh" in d.world.github.members_of("alpha")
    assert len(result.warnings) == 1 and "quota exceeded" in result.warnings[0]


async def test_adding_to_admin_and_leads_teams_promotes(d):
    d.world.github.add_team("admins", members=["admin-gh"])
    d.world.github.add_team("leads", members=["admin-gh"])
    admins = d.world.github._by_slug("admins")
    leads = d.world.github._by_slug("leads")
    me = {d.gid["UADMIN"]}
    await d.world.store.store(Team(admins.id, "admins", members=me, team_leads=me))
    await d.world.store.store(Team(leads.id, "leads", members=me, team_leads=me))
    await uc(d, AddTeamMember)("UADMIN", "leads", "UMEM")
    assert (await d.world.store.retrieve(User, "UMEM")).permission_level == Permissions.team_lead
    await uc(d, AddTeamMember)("UADMIN", "admins", "UNEW")
    assert (await d.world.store.retrieve(User, "UNEW")).permission_level == Permissions.admin
    await uc(d, AddTeamMember)("UADMIN", "leads", "UNEW")  # never demotes an admin
    assert (await d.world.store.retrieve(User, "UNEW")).permission_level == Permissions.admin


class YieldingStore(MemoryStore):
    """Yields to the event loop inside read-modify-write, so concurrent use-cases interleave."""

    async def retrieve(self, model, key):
        record = await super().retrieve(model, key)
        await asyncio.sleep(0)
        return record


async def test_concurrent_adds_are_both_kept():
    world = fake_world()
    world.store = YieldingStore()
    d = await make_directory(world)
    add = uc(d, AddTeamMember)
    x_id = d.world.github.add_user("x-gh", "900")
    await d.world.store.store(User("UX", github="x-gh", github_user_id=x_id))
    await asyncio.gather(add("ULEAD", "alpha", "UNEW"), add("UADMIN", "alpha", "UX"))
    team = await stored_team(d, "alpha")
    assert {d.gid["UNEW"], "900"} <= team.members
    assert team.version == d.alpha.version + 2


# --- remove --------------------------------------------------------------------------------------


async def test_remove_member_also_drops_lead_role_and_unshares(d):
    result = await uc(d, RemoveTeamMember)("UADMIN", "alpha", "ULEAD")
    team = await stored_team(d, "alpha")
    assert d.gid["ULEAD"] not in team.members and d.gid["ULEAD"] not in team.team_leads
    assert d.world.github.members_of("alpha") == {"mem-gh"}
    assert d.world.drive.shared["F-alpha"] == {"mem-gh@example.org"}
    assert result.leads == []


async def test_remove_non_member_changes_nothing(d):
    """Issue 12: idempotent, and it says what was already so."""
    before = await snapshot(d.world)
    result = await uc(d, RemoveTeamMember)("ULEAD", "alpha", "UNEW")
    assert "UNEW was not a member of alpha" in result.message
    result = await uc(d, RemoveTeamMember)("ULEAD", "alpha", "UNOGH")
    assert "UNOGH was not a member of alpha" in result.message
    after = await snapshot(d.world)

    def unversioned(snap):  # a membership write bumps the version even when nothing changed
        return {m: {k: {f: v for f, v in r.items() if f != "version"} for k, r in rs.items()}
                for m, rs in snap["store"].items()}

    assert unversioned(after) == unversioned(before) and after["drive"] == before["drive"]
    assert d.world.github.members_of("alpha") == {"lead-gh", "mem-gh"}


# --- lead ----------------------------------------------------------------------------------------


async def test_lead_of_existing_member_needs_no_github_call(d):
    result = await uc(d, SetTeamLead)("ULEAD", "alpha", "UMEM")
    assert d.gid["UMEM"] in (await stored_team(d, "alpha")).team_leads
    assert sum(d.world.github.calls.values()) == 0
    assert sorted(u.slack_id for u in result.leads) == ["ULEAD", "UMEM"]


async def test_lead_adds_non_member_on_github_first(d):
    await uc(d, SetTeamLead)("UADMIN", "alpha", "UNEW")
    team = await stored_team(d, "alpha")
    assert d.gid["UNEW"] in team.members and d.gid["UNEW"] in team.team_leads
    assert "new-gh" in d.world.github.members_of("alpha")
    assert "new-gh@example.org" in d.world.drive.shared["F-alpha"]


async def test_lead_remove_keeps_membership(d):
    await uc(d, SetTeamLead)("UADMIN", "alpha", "ULEAD", remove=True)
    team = await stored_team(d, "alpha")
    assert d.gid["ULEAD"] in team.members and not team.team_leads
    assert d.world.github.members_of("alpha") == {"lead-gh", "mem-gh"}


async def test_lead_refusals_change_nothing(d):
    before = await snapshot(d.world)
    with pytest.raises(NotFound, match="not a lead"):
        await uc(d, SetTeamLead)("ULEAD", "alpha", "UMEM", remove=True)
    with pytest.raises(InvalidInput, match="--github"):
        await uc(d, SetTeamLead)("ULEAD", "alpha", "UNOGH")
    with pytest.raises(NotFound):
        await uc(d, SetTeamLead)("ULEAD", "alpha", "UNKNOWN")
    assert await snapshot(d.world) == before


# --- delete --------------------------------------------------------------------------------------


async def test_delete_team_on_github_then_storage_and_unassigns_projects(d):
    await d.world.store.store(Project("p1", github_team_id=d.alpha.github_team_id))
    await d.world.store.store(Project("p2", github_team_id=d.beta.github_team_id))
    result = await uc(d, DeleteTeam)("ULEAD", "alpha")
    assert (result.kind, result.key) == ("team", "alpha")
    assert "alpha" not in {t.slug for t in d.world.github.teams.values()}
    assert [t.github_team_name for t in await d.world.store.query(Team)] == ["beta"]
    assert (await d.world.store.retrieve(Project, "p1")).github_team_id == ""
    assert (await d.world.store.retrieve(Project, "p2")).github_team_id == d.beta.github_team_id
