"""Issue 11, finding 1: rank and lead rights follow only verified GitHub links.

Each test plays the attack (or the legitimate flow) through the production wiring
(``core.wiring.build_bus``) over stateful fakes: the GitHub fake, the chat fake that keeps
DMs, and ``tests.fakes.identity.FakeGitHubIdentity`` playing the person on GitHub.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from core.commands import EditTeam, EditUser, RefreshTeams
from core.context import Ports, Settings
from core.errors import Conflict, PermissionDenied
from core.models import Team, User
from core.permissions import Permissions, leads
from core.usecases.users import UNVERIFIED_NOTE
from tests.fakes.identity import FakeGitHubIdentity
from tests.fakes.ports import FakeWorld, fake_world

SETTINGS = Settings(default_team="all", admin_team="admins", leads_team="leads")


async def _settle(condition, rounds: int = 200) -> None:
    """Let background tasks run until ``condition()`` holds (bounded)."""
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("background verification did not finish")


@pytest.fixture
async def world() -> FakeWorld:
    w = fake_world()
    w.github.add_user("defunkt", "2")
    w.github.add_user("lee", "11")
    w.github.add_user("oto", "12")
    w.github.add_user("mallory", "66")
    w.github.add_team("admins", members=["defunkt"])
    w.github.add_team("leads", members=["lee", "oto"])
    await w.store.store(User("UMAL", name="Mallory"))
    await w.store.store(User("UADMIN", permission_level=Permissions.admin))
    return w


def _bus(world: FakeWorld, identity: FakeGitHubIdentity | None = None):
    from core.wiring import build_bus

    ports = Ports(**{**world.ports.__dict__, "identity": identity})
    return build_bus(ports, SETTINGS)


# --- without GITHUB_CLIENT_ID --------------------------------------------------------------------
async def test_a_self_set_link_is_unverified_and_the_refresh_does_not_promote_it(world: FakeWorld) -> None:
    """Finding 1: a member links ``defunkt`` (an admins-team login nobody linked); the nightly
    refresh promoted them to admin. Now the link is stored unverified and grants nothing."""
    bus = _bus(world)
    result = await bus.handle(EditUser("UMAL", github="defunkt"))
    assert result.user.github_user_id == "2" and result.user.github_verified is False
    assert UNVERIFIED_NOTE in result.warnings and "no rank" in UNVERIFIED_NOTE
    await bus.handle(RefreshTeams("", scheduled=True))
    assert (await world.store.retrieve(User, "UMAL")).permission_level == Permissions.member


async def test_an_admin_set_link_is_verified_and_the_refresh_promotes_it(world: FakeWorld) -> None:
    bus = _bus(world)
    result = await bus.handle(EditUser("UADMIN", target="UMAL", github="defunkt"))
    assert result.user.github_verified is True and UNVERIFIED_NOTE not in result.warnings
    await bus.handle(RefreshTeams("", scheduled=True))
    assert (await world.store.retrieve(User, "UMAL")).permission_level == Permissions.admin


async def test_an_admin_confirming_a_claim_takes_it_from_an_unverified_holder(world: FakeWorld) -> None:
    bus = _bus(world)
    await bus.handle(EditUser("UMAL", github="defunkt"))  # unverified
    await world.store.store(User("UREAL", name="Chris"))
    result = await bus.handle(EditUser("UADMIN", target="UREAL", github="defunkt"))
    assert result.user.github_verified and any("UMAL" in w for w in result.warnings)
    mal = await world.store.retrieve(User, "UMAL")
    assert (mal.github, mal.github_user_id) == ("", "")


async def test_an_unverified_claim_never_takes_a_verified_link(world: FakeWorld) -> None:
    bus = _bus(world)
    await world.store.store(User("ULEE", github="lee", github_user_id="11", github_verified=True,
                                 permission_level=Permissions.team_lead))
    with pytest.raises(Conflict, match="already linked to ULEE"):
        await bus.handle(EditUser("UMAL", github="lee"))
    assert (await world.store.retrieve(User, "ULEE")).github_user_id == "11"


async def test_lead_rights_need_a_verified_link(world: FakeWorld) -> None:
    """Finding 1: a lead re-points another lead's login and claims it, then edits that lead's
    team. A claimed (unverified) login listed as the team's lead gives no lead rights."""
    team = await world.store.store(Team("900", "beta", "Beta", team_leads={"12"}, members={"12"}))
    await world.store.store(User("UOTO", github="oto-old", github_user_id="77", github_verified=True,
                                 permission_level=Permissions.team_lead))
    await world.store.store(User("ULEE", github="lee", github_user_id="11", github_verified=True,
                                 permission_level=Permissions.team_lead))
    bus = _bus(world)
    claimed = await bus.handle(EditUser("ULEE", github="oto"))  # the lead claims oto's login (12)
    assert claimed.user.github_user_id == "12" and not claimed.user.github_verified
    assert not leads(claimed.user, team)
    with pytest.raises(PermissionDenied):
        await bus.handle(EditTeam("ULEE", "beta", name="Taken"))
    assert (await world.store.retrieve(Team, "900")).display_name == "Beta"
    assert leads(dataclasses.replace(claimed.user, github_verified=True), team)  # the same, verified


async def test_joining_the_admin_team_by_webhook_promotes_only_verified_links(world: FakeWorld) -> None:
    from tests.fakes.ports import github_webhook

    admins = world.github._by_slug("admins")
    await world.store.store(Team(admins.id, "admins"))
    await world.store.store(User("UCLAIM", github="mallory", github_user_id="66", github_verified=False))
    apply = github_webhook(world.ports, SETTINGS)
    payload = {"action": "added", "scope": "team", "team": {"id": int(admins.id), "slug": "admins"},
               "member": {"id": 66, "login": "mallory"}}
    await apply("membership", payload)
    assert (await world.store.retrieve(User, "UCLAIM")).permission_level == Permissions.member


# --- with GITHUB_CLIENT_ID: the device flow ----------------------------------------------------------
async def test_device_flow_replies_with_the_code_then_links_verified_and_dms(world: FakeWorld) -> None:
    identity = FakeGitHubIdentity()
    bus = _bus(world, identity)
    await world.store.store(User("UCLAIM", github="defunkt", github_user_id="2", github_verified=False))
    result = await bus.handle(EditUser("UMAL", github="defunkt", name="Mal"))
    code = identity.codes[-1]
    assert code.verification_uri in result.message and code.user_code in result.message
    me = await world.store.retrieve(User, "UMAL")
    assert me.github == "" and me.name == "Mal"  # nothing linked before the approval
    await _settle(lambda: identity.waiting == 1)
    identity.approve(code.user_code, "DeFunkt", "2")  # GitHub spells it its own way
    await _settle(lambda: bool(world.chat.dms))
    me = await world.store.retrieve(User, "UMAL")
    assert (me.github, me.github_user_id, me.github_verified) == ("defunkt", "2", True)
    assert world.chat.dms[-1][0] == "UMAL" and "Verified" in world.chat.dms[-1][1]
    claimant = await world.store.retrieve(User, "UCLAIM")
    assert claimant.github_user_id == "" and "UCLAIM" in world.chat.dms[-1][1]
    assert "defunkt" in world.github.members_of("all")
    await bus.handle(RefreshTeams("", scheduled=True))
    assert (await world.store.retrieve(User, "UMAL")).permission_level == Permissions.admin


@pytest.mark.parametrize("play", ["other_login", "deny", "expire"])
async def test_device_flow_links_nothing_unless_the_claimed_login_approves(world: FakeWorld,
                                                                           play: str) -> None:
    identity = FakeGitHubIdentity()
    bus = _bus(world, identity)
    await bus.handle(EditUser("UMAL", github="defunkt"))
    code = identity.codes[-1]
    if play == "other_login":
        identity.approve(code.user_code, "mallory", "66")
    elif play == "deny":
        identity.deny(code.user_code)
    else:
        identity.expire(code.user_code)
    await _settle(lambda: bool(world.chat.dms))
    me = await world.store.retrieve(User, "UMAL")
    assert (me.github, me.github_user_id) == ("", "")
    assert "Nothing was linked" in world.chat.dms[-1][1]
    assert "defunkt" not in world.github.org_members


async def test_one_verification_per_user_and_close_cancels_every_wait(world: FakeWorld) -> None:
    identity = FakeGitHubIdentity()
    bus = _bus(world, identity)
    await bus.handle(EditUser("UMAL", github="defunkt"))
    await bus.handle(EditUser("UMAL", github="mallory"))  # replaces the first wait
    await world.store.store(User("UOTHER"))
    await bus.handle(EditUser("UOTHER", github="oto"))
    await _settle(lambda: identity.waiting == 2)
    await bus.aclose()
    assert identity.waiting == 0 and world.chat.dms == []
    identity.approve(identity.codes[1].user_code, "mallory", "66")
    await asyncio.sleep(0)
    assert (await world.store.retrieve(User, "UMAL")).github == ""


async def test_admin_setting_someone_elses_link_skips_the_device_flow(world: FakeWorld) -> None:
    identity = FakeGitHubIdentity()
    bus = _bus(world, identity)
    result = await bus.handle(EditUser("UADMIN", target="UMAL", github="defunkt"))
    assert identity.codes == [] and result.user.github_verified is True


async def test_an_unverified_link_does_not_open_the_teams_drive_folder(world: FakeWorld) -> None:
    """A member who claims a team member's login must not be shared that team's folder."""
    lee = world.github._by_slug("leads")
    await world.store.store(Team(lee.id, "leads", folder="F-LEADS", members={"11"}))
    await world.store.store(User("UEVE", email="eve@evil.example", github="lee", github_user_id="11",
                                 github_verified=False))
    await world.store.store(User("UOTO", email="oto@example.com", github="oto", github_user_id="12"))
    await _bus(world).handle(RefreshTeams("", scheduled=True))
    assert world.drive.syncs >= 1
    assert world.drive.shared.get("F-LEADS", set()) == {"oto@example.com"}
