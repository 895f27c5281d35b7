"""Issue 12: people join and leave cleanly (offboarding, shares, idempotent membership).

One regression test per finding owned by LIFECYCLE, on the memory store and the stateful
FakeGitHub / FakeDrive, through the production bus.
"""

from __future__ import annotations

from datetime import UTC

from core import commands as c
from core.models import Team, User
from core.permissions import Permissions
from tests.fakes.github import refused
from tests.unit.usecases.team_world import Directory, make_directory


async def run(d: Directory, command: c.Command) -> object:
    return await d.world.bus(d.settings).handle(command)


async def team(d: Directory, slug: str) -> Team:
    return (await d.world.store.query(Team, [("github_team_name", slug)]))[0]


# --- finding 1: user delete removes GitHub teams and Drive shares ---------------------------
async def test_user_delete_removes_them_from_every_github_team_and_drive_folder() -> None:
    d = await make_directory()
    gh = d.world.github
    await run(d, c.AddTeamMember("UADMIN", "beta", "UMEM"))
    assert "mem-gh" in gh.members_of("beta")
    d.world.drive.shared["F-alpha"].add("mem-gh@example.org")

    result = await run(d, c.DeleteUser("UADMIN", "UMEM"))

    assert "mem-gh" not in gh.members_of("alpha") and "mem-gh" not in gh.members_of("beta")
    assert "mem-gh@example.org" not in d.world.drive.shared["F-alpha"]
    assert "lead-gh@example.org" in d.world.drive.shared["F-alpha"]  # the others keep access
    for slug in ("alpha", "beta"):
        assert d.gid["UMEM"] not in (await team(d, slug)).members
        assert f"GitHub team {slug}" in result.message
    assert await d.world.store.query(User, [("slack_id", "UMEM")]) == []
    # a refresh now finds nothing to bring back
    refreshed = await run(d, c.RefreshTeams("UADMIN"))
    assert d.gid["UMEM"] not in (await team(d, "alpha")).members, refreshed


async def test_user_delete_org_removes_the_membership_and_cancels_an_invitation() -> None:
    d = await make_directory()
    gh = d.world.github
    gh.org_members.add("mem-gh")
    result = await run(d, c.DeleteUser("UADMIN", "UMEM", org=True))
    assert "mem-gh" not in gh.org_members
    assert "removed from the GitHub organization" in result.message

    gh.invited.add("new-gh")
    result = await run(d, c.DeleteUser("UADMIN", "UNEW", org=True))
    assert "new-gh" not in gh.invited
    assert "invitation cancelled" in result.message


async def test_user_delete_without_org_leaves_the_organization_alone() -> None:
    d = await make_directory()
    d.world.github.org_members.add("mem-gh")
    await run(d, c.DeleteUser("UADMIN", "UMEM"))
    assert "mem-gh" in d.world.github.org_members
    assert d.world.github.calls["remove_from_org"] == 0


# --- must-show 3 (unit form): failure on the second of three removals -----------------------
async def test_failure_part_way_says_what_was_done_and_rerunning_finishes() -> None:
    d = await make_directory()
    gh = d.world.github
    gamma = gh.add_team("gamma", members=["mem-gh"])
    await d.world.store.store(Team(gamma.id, "gamma", members={d.gid["UMEM"]}))
    await run(d, c.AddTeamMember("UADMIN", "beta", "UMEM"))
    gh.calls.clear()
    gh.fail_nth["remove_team_member"] = (2, refused("boom"))

    first = await run(d, c.DeleteUser("UADMIN", "UMEM", org=True))

    assert "Not finished" in first.message and "boom" in first.message
    done, not_done = first.message.split("Not done:")
    assert "removed from GitHub team alpha" in done
    assert "GitHub team beta" in not_done and "GitHub team gamma" in not_done
    assert "the GitHub organization" in not_done
    assert "mem-gh" not in gh.members_of("alpha") and "mem-gh" in gh.members_of("beta")
    assert (await d.world.store.retrieve(User, "UMEM")).github == "mem-gh"  # the record is kept

    second = await run(d, c.DeleteUser("UADMIN", "UMEM", org=True))

    assert "Deleted UMEM" in second.message and "Not finished" not in second.message
    for slug in ("alpha", "beta", "gamma"):
        assert "mem-gh" not in gh.members_of(slug)
        assert d.gid["UMEM"] not in (await team(d, slug)).members
    assert "mem-gh" not in gh.org_members


# --- finding 2: team delete unshares the folder ---------------------------------------------
async def test_team_delete_unshares_its_drive_folder() -> None:
    d = await make_directory()
    assert d.world.drive.shared["F-alpha"]
    result = await run(d, c.DeleteTeam("UADMIN", "alpha"))
    assert d.world.drive.shared["F-alpha"] == set()
    assert "F-alpha" in result.message


# --- finding 3: an email change moves the shares --------------------------------------------
async def test_email_change_moves_drive_shares_to_the_new_address() -> None:
    d = await make_directory()
    await run(d, c.EditUser("UMEM", email="new-address@example.org"))
    shared = d.world.drive.shared["F-alpha"]
    assert "new-address@example.org" in shared
    assert "mem-gh@example.org" not in shared


# --- finding 4: user edit --github updates the default team's record at once ---------------
async def test_linking_github_updates_the_stored_default_team() -> None:
    d = await make_directory()
    gh = d.world.github
    gh_all = gh.add_team("all")
    await d.world.store.store(Team(gh_all.id, "all"))
    gh.add_user("fresh-gh", "777")
    await d.world.store.store(User("UFRESH", name="Fresh"))

    await run(d, c.EditUser("UFRESH", github="fresh-gh"))

    assert "fresh-gh" in gh.members_of("all")
    assert "777" in (await team(d, "all")).members


# --- finding 7: creators without GitHub ----------------------------------------------------
async def test_creator_without_github_creates_the_team_without_themselves_and_is_told() -> None:
    d = await make_directory()
    await d.world.store.store(User("UNOGHADMIN", permission_level=Permissions.admin))
    result = await run(d, c.CreateTeam("UNOGHADMIN", "gamma"))
    stored = await team(d, "gamma")
    assert stored.team_leads == set() and stored.members == set()
    assert any("without you as lead" in w for w in result.warnings)
    assert d.world.github.members_of("gamma") == set()


# --- finding 8: a member who leads a team may export its emails ----------------------------
async def test_member_who_leads_a_team_may_export_its_emails() -> None:
    d = await make_directory()
    await run(d, c.SetTeamLead("UADMIN", "alpha", "UMEM"))
    assert (await d.world.store.retrieve(User, "UMEM")).permission_level == Permissions.member
    result = await run(d, c.ExportEmails("UMEM", team="alpha"))
    assert "mem-gh@example.org" in result.emails and "lead-gh@example.org" in result.emails


# --- finding 11: last lead, idempotent add and remove --------------------------------------
async def test_lead_removing_themselves_as_last_lead_is_told() -> None:
    d = await make_directory()
    result = await run(d, c.RemoveTeamMember("ULEAD", "alpha", "ULEAD"))
    assert any("last lead" in w for w in result.warnings)
    assert (await team(d, "alpha")).team_leads == set()


async def test_lead_dropping_their_own_last_lead_role_is_told() -> None:
    d = await make_directory()
    result = await run(d, c.SetTeamLead("ULEAD", "alpha", "ULEAD", remove=True))
    assert any("last lead" in w for w in result.warnings)


async def test_adding_an_existing_member_says_so_and_changes_nothing() -> None:
    d = await make_directory()
    before = await team(d, "alpha")
    result = await run(d, c.AddTeamMember("UADMIN", "alpha", "UMEM"))
    assert "already a member" in result.message
    after = await team(d, "alpha")
    assert (after.members, after.team_leads) == (before.members, before.team_leads)


async def test_removing_a_non_member_says_so_and_is_no_error() -> None:
    d = await make_directory()
    before = await team(d, "alpha")
    result = await run(d, c.RemoveTeamMember("UADMIN", "alpha", "UNEW"))
    assert "was not a member" in result.message
    after = await team(d, "alpha")
    assert (after.members, after.team_leads) == (before.members, before.team_leads)


async def test_the_directory_stores_what_github_answers_after_the_write() -> None:
    """Finding 9's rule: the stored membership is GitHub's, read after the write."""
    d = await make_directory()
    gh = d.world.github

    async def add_that_github_drops(team_id: str, login: str) -> None:
        gh.calls["add_team_member"] += 1  # GitHub answers, but another change removed them again

    gh.add_team_member = add_that_github_drops  # type: ignore[method-assign]
    await run(d, c.AddTeamMember("UADMIN", "alpha", "UNEW"))
    assert d.gid["UNEW"] not in (await team(d, "alpha")).members
    assert gh.calls["is_team_member"] >= 1


# --- finding 5: invitations ------------------------------------------------------------------
async def test_user_view_shows_a_pending_invitation_and_its_age() -> None:
    from datetime import datetime

    d = await make_directory()
    gh = d.world.github
    gh.invited.add("new-gh")
    now = d.world.clock.now()
    gh.invited_at["new-gh"] = datetime.fromtimestamp(now - 2 * 86400 - 5, UTC).isoformat()
    result = await run(d, c.ViewUser("UADMIN", slack_id="UNEW"))
    assert "pending since" in result.invitation and "(2 days)" in result.invitation
    assert (await run(d, c.ViewUser("UADMIN", slack_id="UMEM"))).invitation == ""


async def test_refresh_lists_expired_invitations_of_registered_users() -> None:
    from ports.github import Invitation

    d = await make_directory()
    d.world.github.expired = [Invitation("1", "new-gh", "2026-01-01T00:00:00Z", "Invitation expired"),
                              Invitation("2", "stranger", "2026-01-01T00:00:00Z", "Invitation expired")]
    result = await run(d, c.RefreshTeams("UADMIN"))
    assert result.expired_invitations == ["UNEW (new-gh)"]
