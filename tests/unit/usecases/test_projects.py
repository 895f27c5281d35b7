"""Project use-cases on the memory store (see team_world.py for the cast)."""

from __future__ import annotations

import pytest

from core.commands import (
    AssignProject,
    CreateProject,
    DeleteProject,
    EditProject,
    ListProjects,
    UnassignProject,
    ViewProject,
)
from core.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from core.models import Project
from core.validation import normalize_repo
from tests.fakes.observe import snapshot
from tests.fakes.ports import usecase
from tests.unit.usecases.team_world import Directory, make_directory


@pytest.fixture
async def d() -> Directory:
    directory = await make_directory()
    store = directory.world.store
    await store.store(Project("P-ALPHA", github_team_id=directory.alpha.github_team_id,
                              github_urls={"https://github.com/ubclaunchpad/rocket"}, display_name="Rocket"))
    await store.store(Project("P-BETA", github_team_id=directory.beta.github_team_id, display_name="Beta"))
    await store.store(Project("P-FREE", display_name="Unassigned"))
    return directory


def uc(d: Directory, cls):
    return usecase(cls, d.ports, d.settings)


async def project(d: Directory, project_id: str) -> Project:
    return await d.world.store.retrieve(Project, project_id)


# --- repo parsing --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "repo",
    [
        "ubclaunchpad/rocket2",
        "https://github.com/ubclaunchpad/rocket2",
        "http://github.com/ubclaunchpad/rocket2/",
        "github.com/ubclaunchpad/rocket2",
        "https://www.github.com/ubclaunchpad/rocket2.git",
        "  ubclaunchpad/rocket2.git/ ",
    ],
)
def test_repo_forms_are_normalized(repo):
    assert normalize_repo(repo) == "https://github.com/ubclaunchpad/rocket2"


@pytest.mark.parametrize(
    "repo",
    ["", "rocket2", "a/b/c", "https://gitlab.com/ubclaunchpad/rocket2", "ftp://github.com/x/y",
     "-bad/owner", "owner/..", "owner/re po", "https://github.com/ubclaunchpad"],
)
def test_bad_repos_are_refused(repo):
    with pytest.raises(InvalidInput, match="not a GitHub repository"):
        normalize_repo(repo)


# --- list / view ---------------------------------------------------------------------------------


async def test_list_and_view_for_anyone(d):
    listed = await uc(d, ListProjects)("UNREGISTERED")
    assert [p.project_id for p in listed.projects] == ["P-ALPHA", "P-BETA", "P-FREE"]
    viewed = await uc(d, ViewProject)("UMEM", "P-ALPHA")
    assert viewed.project.display_name == "Rocket" and viewed.team.github_team_name == "alpha"
    assert (await uc(d, ViewProject)("UMEM", "P-FREE")).team is None


async def test_view_missing_project(d):
    with pytest.raises(NotFound, match="NOPE"):
        await uc(d, ViewProject)("UMEM", "NOPE")


# --- create --------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["ULEAD", "UADMIN"])
async def test_create_project_by_lead_of_team_or_admin(d, actor):
    result = await uc(d, CreateProject)(actor, "github.com/ubclaunchpad/rocket2.git", "alpha")
    assert result.project.project_id == "id1"  # from ports.ids
    stored = await project(d, "id1")
    assert stored == result.project
    assert stored.github_urls == {"https://github.com/ubclaunchpad/rocket2"}
    assert stored.github_team_id == d.alpha.github_team_id and stored.display_name == "rocket2"
    assert result.team.github_team_name == "alpha"


async def test_create_project_with_name(d):
    result = await uc(d, CreateProject)("ULEAD", "a/b", "alpha", name=" Bee ")
    assert (await project(d, result.project.project_id)).display_name == "Bee"


@pytest.mark.parametrize("actor", ["UMEM", "UOTHER", "UNREGISTERED"])
async def test_create_project_refused(d, actor):
    before = await snapshot(d.world)
    with pytest.raises(PermissionDenied, match="admins and leads of alpha"):
        await uc(d, CreateProject)(actor, "a/b", "alpha")
    assert await snapshot(d.world) == before


async def test_create_project_bad_input_changes_nothing(d):
    before = await snapshot(d.world)
    with pytest.raises(NotFound, match="nope"):
        await uc(d, CreateProject)("UADMIN", "a/b", "nope")
    with pytest.raises(InvalidInput):
        await uc(d, CreateProject)("UADMIN", "not a repo", "alpha")
    assert await snapshot(d.world) == before


# --- edit / unassign / delete: lead of the assigned team or admin -------------------------------

OWNER_COMMANDS = {
    "edit": lambda d, pid: uc(d, EditProject)(d.actor, pid, name="New name"),
    "unassign": lambda d, pid: uc(d, UnassignProject)(d.actor, pid),
    "delete": lambda d, pid: uc(d, DeleteProject)(d.actor, pid, force=True),
}


@pytest.mark.parametrize("command", sorted(OWNER_COMMANDS))
@pytest.mark.parametrize("actor", ["UMEM", "UOTHER", "UNREGISTERED"])
async def test_owner_commands_refused(d, command, actor):
    before = await snapshot(d.world)
    d.actor = actor
    with pytest.raises(PermissionDenied, match="admins and leads of alpha"):
        await OWNER_COMMANDS[command](d, "P-ALPHA")
    assert await snapshot(d.world) == before


@pytest.mark.parametrize("command", sorted(OWNER_COMMANDS))
@pytest.mark.parametrize("actor", ["ULEAD", "UADMIN"])
async def test_owner_commands_allowed(d, command, actor):
    before = await snapshot(d.world)
    d.actor = actor
    await OWNER_COMMANDS[command](d, "P-ALPHA")
    assert await snapshot(d.world) != before


@pytest.mark.parametrize("command", sorted(OWNER_COMMANDS))
async def test_owner_commands_on_missing_project(d, command):
    before = await snapshot(d.world)
    d.actor = "UADMIN"
    with pytest.raises(NotFound, match="NOPE"):
        await OWNER_COMMANDS[command](d, "NOPE")
    assert await snapshot(d.world) == before


async def test_edit_project_name(d):
    result = await uc(d, EditProject)("ULEAD", "P-ALPHA", name="Rocket 3")
    stored = await project(d, "P-ALPHA")
    assert stored.display_name == "Rocket 3" and stored == result.project
    assert result.message == "Updated project P-ALPHA"


async def test_edit_project_without_a_change_says_so(d):
    await uc(d, EditProject)("ULEAD", "P-ALPHA", name="Rocket 3")
    before = await snapshot(d.world)
    again = await uc(d, EditProject)("ULEAD", "P-ALPHA", name="Rocket 3")
    assert again.message == "Nothing changed: project P-ALPHA is already named 'Rocket 3'"
    assert (await uc(d, EditProject)("ULEAD", "P-ALPHA")).message == "Nothing to change: give --name"
    assert await snapshot(d.world) == before


async def test_unassigned_project_is_managed_by_admins_only(d):
    before = await snapshot(d.world)
    with pytest.raises(PermissionDenied, match="Only admins"):
        await uc(d, EditProject)("ULEAD", "P-FREE", name="Mine")
    with pytest.raises(PermissionDenied, match="Only admins"):
        await uc(d, DeleteProject)("ULEAD", "P-FREE")
    assert await snapshot(d.world) == before
    await uc(d, EditProject)("UADMIN", "P-FREE", name="Admin's")
    assert (await project(d, "P-FREE")).display_name == "Admin's"


async def test_unassign_project(d):
    result = await uc(d, UnassignProject)("ULEAD", "P-ALPHA")
    assert (await project(d, "P-ALPHA")).github_team_id == "" and result.team is None


async def test_unassign_unassigned_project(d):
    before = await snapshot(d.world)
    with pytest.raises(InvalidInput, match="not assigned"):
        await uc(d, UnassignProject)("UADMIN", "P-FREE")
    assert await snapshot(d.world) == before


async def test_delete_assigned_project_needs_force(d):
    before = await snapshot(d.world)
    with pytest.raises(Conflict, match="-f"):
        await uc(d, DeleteProject)("ULEAD", "P-ALPHA")
    assert await snapshot(d.world) == before
    result = await uc(d, DeleteProject)("ULEAD", "P-ALPHA", force=True)
    assert (result.kind, result.key) == ("project", "P-ALPHA")
    assert [p.project_id for p in await d.world.store.query(Project)] == ["P-BETA", "P-FREE"]


async def test_delete_unassigned_project_by_admin(d):
    await uc(d, DeleteProject)("UADMIN", "P-FREE")
    with pytest.raises(NotFound):
        await project(d, "P-FREE")


# --- assign --------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ["ULEAD", "UADMIN"])
async def test_assign_free_project(d, actor):
    result = await uc(d, AssignProject)(actor, "P-FREE", "alpha")
    assert (await project(d, "P-FREE")).github_team_id == d.alpha.github_team_id
    assert result.team.github_team_name == "alpha"


@pytest.mark.parametrize("actor", ["UMEM", "UOTHER", "UNREGISTERED"])
async def test_assign_refused_without_manage_rights(d, actor):
    before = await snapshot(d.world)
    with pytest.raises(PermissionDenied, match="admins and leads of alpha"):
        await uc(d, AssignProject)(actor, "P-FREE", "alpha")
    assert await snapshot(d.world) == before


async def test_reassign_needs_force(d):
    before = await snapshot(d.world)
    with pytest.raises(Conflict, match="-f"):
        await uc(d, AssignProject)("ULEAD", "P-BETA", "alpha")
    assert await snapshot(d.world) == before
    await uc(d, AssignProject)("UADMIN", "P-BETA", "alpha", force=True)
    assert (await project(d, "P-BETA")).github_team_id == d.alpha.github_team_id


async def test_finding5_a_lead_cannot_take_another_teams_project_with_force(d):
    """Issue 11 finding 5: ``project assign -f`` needs the right to manage the current team."""
    before = await snapshot(d.world)
    with pytest.raises(PermissionDenied, match="leads of beta can take project P-BETA"):
        await uc(d, AssignProject)("ULEAD", "P-BETA", "alpha", force=True)
    assert await snapshot(d.world) == before
    with pytest.raises(PermissionDenied):  # so they cannot delete it either
        await uc(d, DeleteProject)("ULEAD", "P-BETA", force=True)
    assert await snapshot(d.world) == before


async def test_assign_to_same_team_writes_nothing(d):
    before = await snapshot(d.world)
    await uc(d, AssignProject)("ULEAD", "P-ALPHA", "alpha")
    assert await snapshot(d.world) == before


async def test_assign_missing_records(d):
    before = await snapshot(d.world)
    with pytest.raises(NotFound, match="NOPE"):
        await uc(d, AssignProject)("UADMIN", "NOPE", "alpha")
    with pytest.raises(NotFound, match="nope"):
        await uc(d, AssignProject)("UADMIN", "P-FREE", "nope")
    assert await snapshot(d.world) == before
