"""The permission matrix (issue 11, must show 3): every command × actor against the contract's
"Who may do what", generated from one table.

Actors (tests/unit/usecases/team_world.py plus three more records):
- ``M`` UMEM, a member of ``alpha``;
- ``L`` ULEAD, lead of ``alpha`` (the team the commands are about);
- ``O`` UOTHER, lead of ``beta`` (another team) and listed as a lead of the ``admins`` team;
- ``A`` UADMIN, an admin;
- ``C`` UCLAIM, an unverified claimant: permission ``member``, and the GitHub id on their
  link is listed as a lead of ``alpha``, but the link is not verified. The contract gives an
  unverified link no rank and no lead rights, so ``C`` may do exactly what ``M`` may.

Every row names who may run the command; everyone else must get ``PermissionDenied`` and
leave storage, the GitHub fake and the Drive fake as they were. An allowed actor's command
must succeed outright (any other error is a broken row, not a pass).

The claimant's link is stored with ``github_verified=False`` (``leads()`` and promotion ignore
such links), the other actors' links verified.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from core import commands as c
from core.context import Settings
from core.errors import PermissionDenied
from core.models import Project, Team, User
from core.permissions import Permissions
from tests.fakes.observe import snapshot
from tests.unit.usecases.team_world import Directory, make_directory

SETTINGS = Settings(default_team="all", admin_team="admins", leads_team="leads")
ACTORS = {"M": "UMEM", "L": "ULEAD", "O": "UOTHER", "A": "UADMIN", "C": "UCLAIM"}
EVERYONE = "MLOAC"

Build = Callable[[str], c.Command[Any]]
# (row name, command built from the actor's Slack id, who may run it). "C" may do what "M"
# may: the table lists "M" and the claimant column is derived, so the two cannot drift apart.
TABLE: list[tuple[str, Build, str]] = [
    ("user view", lambda a: c.ViewUser(a, slack_id="UPAL"), "MLOA"),
    ("user add -f (self)", lambda a: c.AddUser(a, force=True), "MLOA"),
    ("user edit self --name", lambda a: c.EditUser(a, name="Me"), "MLOA"),
    ("user edit member-of-team --name", lambda a: c.EditUser(a, target="UPAL", name="Pal"), "LA"),
    ("user edit member-of-team --bio", lambda a: c.EditUser(a, target="UPAL", bio="hi"), "LA"),
    ("user edit member-of-team --email", lambda a: c.EditUser(a, target="UPAL", email="x@evil.test"), "A"),
    ("user edit member-of-team --github", lambda a: c.EditUser(a, target="UPAL", github="fresh-gh"), "A"),
    ("user edit member-of-team --permission",
     lambda a: c.EditUser(a, target="UPAL", permission="team_lead"), "A"),
    ("user edit teamless user --name", lambda a: c.EditUser(a, target="UNEW", name="New"), "A"),
    ("user edit admin --name", lambda a: c.EditUser(a, target="UADMIN2", name="Root"), "A"),
    ("user delete", lambda a: c.DeleteUser(a, "UNEW"), "A"),
    ("karma view", lambda a: c.ViewKarma(a, "UNEW"), "MLOA"),
    ("karma ++", lambda a: c.GiveKarma(a, "UNEW"), "MLOA"),
    ("karma set", lambda a: c.SetKarma(a, "UNEW", 5), "A"),
    ("karma reset --all", lambda a: c.ResetKarma(a), "A"),
    ("team list", lambda a: c.ListTeams(a), "MLOA"),
    ("team view", lambda a: c.ViewTeam(a, "alpha"), "MLOA"),
    ("team create", lambda a: c.CreateTeam(a, "gamma"), "LOA"),
    ("team create --lead", lambda a: c.CreateTeam(a, "gamma", lead="UNEW"), "LOA"),
    ("team create (leads team)", lambda a: c.CreateTeam(a, "leads"), "A"),
    ("team create (leads team) --lead", lambda a: c.CreateTeam(a, "Leads", lead="UNEW"), "A"),
    ("team edit", lambda a: c.EditTeam(a, "alpha", name="A!"), "LA"),
    ("team edit (admin team)", lambda a: c.EditTeam(a, "admins", name="Root"), "A"),
    ("team add", lambda a: c.AddTeamMember(a, "alpha", "UNEW"), "LA"),
    ("team add (admin team)", lambda a: c.AddTeamMember(a, "admins", "UNEW"), "A"),
    ("team remove", lambda a: c.RemoveTeamMember(a, "alpha", "UPAL"), "LA"),
    ("team remove (admin team)", lambda a: c.RemoveTeamMember(a, "admins", "UADMIN2"), "A"),
    ("team lead", lambda a: c.SetTeamLead(a, "alpha", "UPAL"), "LA"),
    ("team lead (admin team)", lambda a: c.SetTeamLead(a, "admins", "UNEW"), "A"),
    ("team lead --remove (admin team)",
     lambda a: c.SetTeamLead(a, "admins", "UOTHER", remove=True), "A"),
    ("team delete", lambda a: c.DeleteTeam(a, "alpha"), "LA"),
    ("team delete (admin team)", lambda a: c.DeleteTeam(a, "admins"), "A"),
    ("project list", lambda a: c.ListProjects(a), "MLOA"),
    ("project view", lambda a: c.ViewProject(a, "P-ALPHA"), "MLOA"),
    ("project create", lambda a: c.CreateProject(a, "octo/new", "alpha"), "LA"),
    ("project edit", lambda a: c.EditProject(a, "P-ALPHA", name="Renamed"), "LA"),
    ("project assign (unassigned)", lambda a: c.AssignProject(a, "P-FREE", "alpha"), "LA"),
    ("project assign -f (another team's)", lambda a: c.AssignProject(a, "P-BETA", "alpha", force=True), "A"),
    ("project unassign", lambda a: c.UnassignProject(a, "P-ALPHA"), "LA"),
    ("project delete -f", lambda a: c.DeleteProject(a, "P-ALPHA", force=True), "LA"),
    ("team refresh", lambda a: c.RefreshTeams(a), "A"),
    ("export emails --team (own)", lambda a: c.ExportEmails(a, team="alpha"), "LA"),
    ("export emails --team (another)", lambda a: c.ExportEmails(a, team="beta"), "OA"),
    ("export emails (all)", lambda a: c.ExportEmails(a), "A"),
]


def _claimant_may(allowed: str) -> str:
    return allowed + "C" if "M" in allowed else allowed


def _cases() -> list[Any]:
    cases = []
    for row, build, allowed in TABLE:
        allowed = _claimant_may(allowed)
        for key in EVERYONE:
            cases.append(pytest.param(build, key, key in allowed, id=f"{row} | {key}"))
    return cases


def _verified(user: User, value: bool = True) -> User:
    return dataclasses.replace(user, github_verified=value)


async def matrix_directory() -> Directory:
    """team_world's directory plus UPAL (member of alpha), UADMIN2 (an admin in the admins
    team), UCLAIM (the unverified claimant), the ``admins`` team and three projects."""
    d = await make_directory()
    d.settings = SETTINGS
    store, gh = d.world.store, d.world.github
    for slack_id, login, level in (("UPAL", "pal-gh", Permissions.member),
                                   ("UADMIN2", "admin2-gh", Permissions.admin),
                                   ("UCLAIM", "claim-gh", Permissions.member)):
        d.gid[slack_id] = gh.add_user(login, str(700 + len(d.gid)))
        await store.store(User(slack_id, name=slack_id.title(), email=f"{login}@example.org", github=login,
                               github_user_id=d.gid[slack_id], permission_level=level))
    gh.add_user("fresh-gh", "799")
    for user in await store.query(User):  # every link verified but the claimant's
        await store.store(_verified(user, user.slack_id != "UCLAIM"))
    alpha = await store.retrieve(Team, d.alpha.github_team_id)
    await store.store(dataclasses.replace(
        alpha, members=alpha.members | {d.gid["UPAL"], d.gid["UCLAIM"]},
        team_leads=alpha.team_leads | {d.gid["UCLAIM"]}))
    gh_alpha = await gh.team_by_slug("alpha")
    for login in ("pal-gh", "claim-gh"):
        await gh.add_team_member(gh_alpha.id, login)
    gh_admins = gh.add_team("admins", "Admins", members=["admin-gh", "admin2-gh", "other-gh"])
    await store.store(Team(gh_admins.id, "admins", "Admins",
                           team_leads={d.gid["UOTHER"]},
                           members={d.gid["UADMIN"], d.gid["UADMIN2"], d.gid["UOTHER"]}))
    await store.store(Project("P-ALPHA", github_team_id=d.alpha.github_team_id, display_name="Alpha"))
    await store.store(Project("P-BETA", github_team_id=d.beta.github_team_id, display_name="Beta"))
    await store.store(Project("P-FREE", display_name="Free"))
    gh.calls.clear()
    d.world.drive.syncs = 0
    return d


@pytest.mark.parametrize(("build", "key", "allowed"), _cases())
async def test_permission_matrix(build: Build, key: str, allowed: bool) -> None:
    d = await matrix_directory()
    bus = d.world.bus(d.settings)
    command = build(ACTORS[key])
    if allowed:
        await bus.handle(command)  # must succeed: a refusal or any other error fails the row
        return
    before = await snapshot(d.world)
    with pytest.raises(PermissionDenied):
        await bus.handle(command)
    assert await snapshot(d.world) == before


def test_the_table_covers_every_command_a_user_can_run() -> None:
    """A new user-facing command must get a row (the matrix is only as good as its table)."""
    covered = {type(build("U")).__name__ for _, build, _ in TABLE}
    user_facing = {
        "AddUser", "EditUser", "ViewUser", "DeleteUser", "ViewKarma", "SetKarma", "ResetKarma",
        "GiveKarma", "ListTeams", "ViewTeam", "CreateTeam", "EditTeam", "AddTeamMember",
        "RemoveTeamMember", "SetTeamLead", "DeleteTeam", "ListProjects", "ViewProject",
        "CreateProject", "EditProject", "AssignProject", "UnassignProject", "DeleteProject",
    }
    assert user_facing <= covered, sorted(user_facing - covered)
