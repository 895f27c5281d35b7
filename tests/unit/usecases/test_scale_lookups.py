"""Issue 12 finding 6 / issue 15: slugs and logins are looked up case-insensitively, and the
interactive lookups (team view, user view --github/--inspect, export emails --team) read
through indexes: the memory store's scan counter does not move."""

from __future__ import annotations

from core.commands import CreateTeam, ExportEmails, ViewTeam, ViewUser
from core.models import User
from tests.fakes.ports import usecase
from tests.unit.usecases.team_world import make_directory


async def test_team_view_after_create_finds_the_team_whatever_the_case():
    d = await make_directory()
    await usecase(CreateTeam, d.ports, d.settings)("ULEAD", "Big_Team")
    for slug in ("Big_Team", "big_team", "BIG_TEAM"):
        result = await usecase(ViewTeam, d.ports, d.settings)("UMEM", slug)
        assert result.team.github_team_name == "Big_Team"
        assert [u.slack_id for u in result.leads] == ["ULEAD"]


async def test_user_view_by_github_login_ignores_case():
    d = await make_directory()
    login = (await d.world.store.retrieve(User, "UMEM")).github
    for asked in (login, login.upper(), login.title()):
        result = await usecase(ViewUser, d.ports, d.settings)("UOTHER", github=asked)
        assert result.user.slack_id == "UMEM", asked


async def test_interactive_lookups_do_not_scan():
    d = await make_directory()
    store = d.world.store
    login = (await store.retrieve(User, "UMEM")).github
    before = store.scans
    await usecase(ViewTeam, d.ports, d.settings)("UMEM", "ALPHA")
    await usecase(ViewUser, d.ports, d.settings)("UMEM", github=login.upper())
    inspected = await usecase(ViewUser, d.ports, d.settings)("UMEM", slack_id="ULEAD", inspect=True)
    emails = await usecase(ExportEmails, d.ports, d.settings)("UADMIN", team="Alpha")
    assert [t.github_team_name for t in inspected.teams] == ["alpha"]
    assert len(emails.emails) == 2
    assert store.scans == before
    await usecase(ExportEmails, d.ports, d.settings)("UADMIN")  # the whole directory: a scan
    assert store.scans == before + 1
