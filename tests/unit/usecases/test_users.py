"""AddUser, EditUser, ViewUser, DeleteUser on the memory store and the stateful fakes."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

from adapters.unavailable import Unavailable
from core.commands import AddUser, DeleteUser, EditUser, ViewUser
from core.context import Ports, Settings
from core.errors import (
    Conflict,
    IntegrationUnavailable,
    InvalidInput,
    NotFound,
    PermissionDenied,
    UpstreamError,
)
from core.models import Team, User
from core.permissions import Permissions
from core.usecases.common import update_with_retry
from core.usecases.users import UNVERIFIED_NOTE
from tests.fakes.github import refused
from tests.fakes.observe import YieldingStore, snapshot
from tests.fakes.ports import FakeWorld, fake_world, usecase

SETTINGS = Settings(default_team="all")


# --- helpers ---------------------------------------------------------------------------
async def directory(world: FakeWorld) -> None:
    """An admin, two team leads (of alpha and of beta), a member of alpha and a loner."""
    store = world.store
    await store.store(User("UADMIN", name="Ada", permission_level=Permissions.admin, github_user_id="10"))
    await store.store(
        User("ULEAD", name="Lee", github="lee", github_user_id="11", permission_level=Permissions.team_lead)
    )
    await store.store(
        User("UOTHER", name="Oto", github="oto", github_user_id="12", permission_level=Permissions.team_lead)
    )
    await store.store(
        User("UMEM", name="Mem", email="mem@example.com", github="mem", github_user_id="13", karma=7)
    )
    await store.store(User("ULONE", name="Lone"))
    await store.store(Team("101", "alpha", "Alpha", team_leads={"11"}, members={"11", "13"}))
    await store.store(Team("102", "beta", "Beta", team_leads={"12", "13"}, members={"12", "13"}))
    for login, gid in (("lee", "11"), ("oto", "12"), ("mem", "13"), ("octocat", "583231"), ("hubot", "999")):
        world.github.add_user(login, gid)


@pytest.fixture
async def world() -> FakeWorld:
    w = fake_world()
    await directory(w)
    return w


def uc(cls: type, world: FakeWorld, settings: Settings = SETTINGS, **ports: Any) -> Any:
    base = world.ports
    return usecase(cls, Ports(**{**base.__dict__, **ports}), settings)


# --- AddUser ---------------------------------------------------------------------------
async def test_add_user_registers_a_fresh_member_with_one_karma(world: FakeWorld) -> None:
    result = await uc(AddUser, world)("UNEW")
    stored = await world.store.retrieve(User, "UNEW")
    assert stored == result.user
    assert (stored.karma, stored.permission_level, stored.name) == (1, Permissions.member, "")
    assert "Added" in result.message


async def test_add_user_twice_is_a_conflict_that_changes_nothing(world: FakeWorld) -> None:
    before = await snapshot(world)
    with pytest.raises(Conflict, match="already registered; use -f"):
        await uc(AddUser, world)("UMEM")
    assert await snapshot(world) == before


async def test_add_user_force_resets_text_fields_only(world: FakeWorld) -> None:
    old = await world.store.retrieve(User, "UMEM")
    result = await uc(AddUser, world)("UMEM", force=True)
    stored = await world.store.retrieve(User, "UMEM")
    assert stored == result.user
    assert (stored.name, stored.email) == ("", "")
    assert (stored.karma, stored.github, stored.github_user_id) == (7, "mem", "13")
    assert stored.version == old.version + 1


async def test_finding10_user_add_force_keeps_an_admins_rank_karma_and_github(world: FakeWorld) -> None:
    """Issue 11 finding 10: ``user add -f`` never resets permission, karma or the GitHub link."""
    await update_with_retry(world.store, User, "UADMIN", lambda u: dataclasses.replace(
        u, karma=42, github="ada", github_user_id="10", bio="hi", position="chair"))
    await uc(AddUser, world)("UADMIN", force=True)
    stored = await world.store.retrieve(User, "UADMIN")
    assert (stored.permission_level, stored.karma, stored.github, stored.github_user_id) == (
        Permissions.admin, 42, "ada", "10")
    assert (stored.name, stored.bio, stored.position) == ("", "", "")


async def test_finding10_the_last_admin_cannot_demote_themselves(world: FakeWorld) -> None:
    """Issue 11 finding 10: the last admin keeps their rank; with a second admin they may step down."""
    before = await snapshot(world)
    with pytest.raises(PermissionDenied, match="last admin"):
        await uc(EditUser, world)("UADMIN", permission="member")
    assert await snapshot(world) == before
    await update_with_retry(world.store, User, "ULEAD",
                            lambda u: dataclasses.replace(u, permission_level=Permissions.admin))
    await uc(EditUser, world)("UADMIN", permission="team_lead")
    assert (await world.store.retrieve(User, "UADMIN")).permission_level == Permissions.team_lead


async def test_add_user_force_when_missing_creates(world: FakeWorld) -> None:
    result = await uc(AddUser, world)("UNEW", force=True)
    assert (await world.store.retrieve(User, "UNEW")) == result.user


async def test_concurrent_adds_of_one_user_register_it_once(world: FakeWorld) -> None:
    add = uc(AddUser, world, store=YieldingStore(world.store))
    outcomes = await asyncio.gather(add("UNEW"), add("UNEW"), return_exceptions=True)
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    assert len(await world.store.query(User, [("slack_id", "UNEW")])) == 1


# --- EditUser: own profile -------------------------------------------------------------
async def test_edit_self_changes_only_the_given_fields_stripped(world: FakeWorld) -> None:
    result = await uc(EditUser, world)("UMEM", name="  Steven Universe ", major=" CS ", bio="Hi there")
    stored = await world.store.retrieve(User, "UMEM")
    assert stored == result.user
    assert (stored.name, stored.major, stored.bio) == ("Steven Universe", "CS", "Hi there")
    assert (stored.email, stored.github, stored.karma) == ("mem@example.com", "mem", 7)
    assert "name" in result.message and "bio" in result.message


async def test_edit_self_when_unregistered_registers_first(world: FakeWorld) -> None:
    result = await uc(EditUser, world)("UNEW", name="New Person", email="new@example.com")
    stored = await world.store.retrieve(User, "UNEW")
    assert stored == result.user
    assert (stored.name, stored.email, stored.karma) == ("New Person", "new@example.com", 1)


async def test_edit_with_empty_string_clears_a_text_field(world: FakeWorld) -> None:
    await uc(EditUser, world)("UMEM", email="")
    assert (await world.store.retrieve(User, "UMEM")).email == ""


async def test_edit_with_nothing_to_change_writes_nothing(world: FakeWorld) -> None:
    before = await snapshot(world)
    result = await uc(EditUser, world)("UMEM")
    assert "Nothing to change" in result.message
    assert await snapshot(world) == before


@pytest.mark.parametrize(
    "fields",
    [
        {"name": "a\x00b"},
        {"name": "line\nbreak"},
        {"position": "x" * 101},
        {"major": "tab\there"},
        {"bio": "b" * 501},
        {"email": "not-an-email"},
        {"email": "a@b"},
        {"email": "two@@example.com"},
        {"permission": "superuser"},
        {"github": "bad login!"},
        {"github": "-leading-hyphen"},
        {"github": ""},
        {"name": "ok", "email": "broken"},  # one bad value refuses the whole command
    ],
)
async def test_edit_rejects_invalid_input_and_changes_nothing(world: FakeWorld, fields: dict) -> None:
    before = await snapshot(world)
    with pytest.raises(InvalidInput):
        await uc(EditUser, world)("UADMIN", target="UMEM", **fields)
    assert await snapshot(world) == before
    assert sum(world.github.calls.values()) == 0


async def test_edit_accepts_values_at_the_length_limits(world: FakeWorld) -> None:
    await uc(EditUser, world)("UMEM", bio="b" * 500, name="n" * 100)
    stored = await world.store.retrieve(User, "UMEM")
    assert (len(stored.bio), len(stored.name)) == (500, 100)


# --- EditUser: someone else's profile and permissions ----------------------------------
async def test_member_cannot_edit_another_user(world: FakeWorld) -> None:
    before = await snapshot(world)
    with pytest.raises(PermissionDenied, match="Only admins and team leads can edit another user"):
        await uc(EditUser, world)("UMEM", target="ULONE", name="Hacked")
    assert await snapshot(world) == before


@pytest.mark.parametrize("actor", ["UADMIN", "ULEAD", "UOTHER"])
async def test_admins_and_any_team_lead_may_edit_another_user(world: FakeWorld, actor: str) -> None:
    # ULEAD leads UMEM's team alpha; UOTHER leads beta: the contract lets every team lead edit.
    result = await uc(EditUser, world)(actor, target="UMEM", name="Renamed", position="Dev")
    stored = await world.store.retrieve(User, "UMEM")
    assert stored == result.user
    assert (stored.name, stored.position, stored.karma) == ("Renamed", "Dev", 7)


async def test_unregistered_actor_editing_another_user_is_told_to_register(world: FakeWorld) -> None:
    before = await snapshot(world)
    with pytest.raises(NotFound, match="user add"):
        await uc(EditUser, world)("UNEW", target="UMEM", name="x")
    assert await snapshot(world) == before


async def test_editing_a_missing_user_is_not_found_and_creates_nothing(world: FakeWorld) -> None:
    before = await snapshot(world)
    with pytest.raises(NotFound, match="UGHOST"):
        await uc(EditUser, world)("UADMIN", target="UGHOST", name="x")
    assert await snapshot(world) == before


@pytest.mark.parametrize(
    ("actor", "target"), [("UMEM", None), ("ULEAD", "UMEM"), ("ULEAD", None), ("UNEW", None)]
)
async def test_only_admins_change_permission_levels(world: FakeWorld, actor: str, target: str | None) -> None:
    before = await snapshot(world)
    with pytest.raises(PermissionDenied) as err:
        await uc(EditUser, world)(actor, target=target, permission="admin", name="also refused")
    assert str(err.value) == "Only admins can change permission levels"
    assert await snapshot(world) == before


@pytest.mark.parametrize("level", ["admin", "team_lead", "member", " TEAM_LEAD "])
async def test_admin_sets_permission_levels(world: FakeWorld, level: str) -> None:
    result = await uc(EditUser, world)("UADMIN", target="UMEM", permission=level)
    stored = await world.store.retrieve(User, "UMEM")
    assert stored.permission_level == Permissions(level.strip().lower()) == result.user.permission_level


async def test_admin_demotes_a_team_lead(world: FakeWorld) -> None:
    await uc(EditUser, world)("UADMIN", target="ULEAD", permission="member")
    assert (await world.store.retrieve(User, "ULEAD")).permission_level == Permissions.member


# --- EditUser: GitHub first --------------------------------------------------------------
@pytest.mark.parametrize(
    "given", ["octocat", "@octocat", "https://github.com/octocat", " github.com/octocat/ "]
)
async def test_setting_github_invites_adds_to_default_team_then_stores(world: FakeWorld, given: str) -> None:
    result = await uc(EditUser, world)("ULONE", github=given)
    stored = await world.store.retrieve(User, "ULONE")
    assert stored == result.user
    assert (stored.github, stored.github_user_id) == ("octocat", "583231")
    assert "octocat" in world.github.org_members
    assert world.github.members_of("all") == {"octocat"}
    assert world.github.calls["create_team"] == 1  # "all" did not exist yet


async def test_setting_github_uses_the_existing_default_team(world: FakeWorld) -> None:
    team = world.github.add_team("everyone", members=["lee"])
    await uc(EditUser, world, Settings(default_team="everyone"))("ULONE", github="octocat")
    assert world.github.team_members[team.id] == {"lee", "octocat"}
    assert world.github.calls["create_team"] == 0
    assert len(world.github.teams) == 1


async def test_admin_sets_github_for_another_user(world: FakeWorld) -> None:
    await uc(EditUser, world)("UADMIN", target="ULONE", github="hubot", name="Hu Bot")
    stored = await world.store.retrieve(User, "ULONE")
    assert (stored.github, stored.github_user_id, stored.name) == ("hubot", "999", "Hu Bot")


async def test_github_refusing_the_invite_stores_nothing(world: FakeWorld) -> None:
    world.github.fail_on["invite_to_org"] = refused()
    before = await snapshot(world)
    with pytest.raises(UpstreamError) as err:
        await uc(EditUser, world)("ULONE", github="octocat", name="Also not stored")
    assert "GitHub refused" in str(err.value)
    assert await snapshot(world) == before
    assert world.github.calls["invite_to_org"] == 1
    assert world.github.calls["add_team_member"] == 0


async def test_github_refusing_the_default_team_stores_nothing(world: FakeWorld) -> None:
    world.github.add_team("all")
    world.github.fail_on["add_team_member"] = refused("team is locked")
    stored_before = await snapshot(world)
    with pytest.raises(UpstreamError, match="team is locked"):
        await uc(EditUser, world)("ULONE", github="octocat")
    assert (await snapshot(world))["store"] == stored_before["store"]
    assert world.github.members_of("all") == set()


async def test_unknown_github_login_is_not_found_and_stores_nothing(world: FakeWorld) -> None:
    before = await snapshot(world)
    with pytest.raises(NotFound, match="nosuchlogin"):
        await uc(EditUser, world)("ULONE", github="nosuchlogin")
    assert await snapshot(world) == before


async def test_github_not_configured_refuses_github_but_not_other_edits(world: FakeWorld) -> None:
    edit = uc(EditUser, world, github=Unavailable("GitHub"))
    before = await snapshot(world)
    with pytest.raises(IntegrationUnavailable, match="GitHub is not configured"):
        await edit("ULONE", github="octocat", name="x")
    assert await snapshot(world) == before
    await edit("ULONE", name="Still editable")
    assert (await world.store.retrieve(User, "ULONE")).name == "Still editable"


async def test_a_github_account_linked_to_someone_else_is_a_conflict(world: FakeWorld) -> None:
    before = await snapshot(world)
    with pytest.raises(Conflict, match="already linked to UMEM"):
        await uc(EditUser, world)("ULONE", github="mem")
    assert await snapshot(world) == before
    assert sum(world.github.calls.values()) == 0


async def test_relinking_your_own_github_account_is_allowed(world: FakeWorld) -> None:
    result = await uc(EditUser, world)("UMEM", github="mem")
    assert (result.user.github, result.user.github_user_id) == ("mem", "13")
    assert result.warnings == [UNVERIFIED_NOTE]  # self-set, no device flow: unverified (issue 11)
    assert result.user.github_verified is False


async def test_changing_github_account_warns_about_teams_of_the_old_one(world: FakeWorld) -> None:
    result = await uc(EditUser, world)("UMEM", github="octocat")
    assert result.user.github_user_id == "583231"
    assert len(result.warnings) == 2 and "alpha" in result.warnings[0] and "beta" in result.warnings[0]
    assert result.warnings[1] == UNVERIFIED_NOTE


# --- EditUser: concurrency ---------------------------------------------------------------
async def test_concurrent_edits_of_different_fields_keep_every_change(world: FakeWorld) -> None:
    store = YieldingStore(world.store)
    edit = uc(EditUser, world, store=store)
    await asyncio.gather(
        edit("UMEM", name="N"),
        edit("UMEM", email="e@example.com"),
        edit("UMEM", position="P"),
        edit("UADMIN", target="UMEM", major="M"),
        edit("ULEAD", target="UMEM", bio="B"),
    )
    stored = await world.store.retrieve(User, "UMEM")
    assert (stored.name, stored.email, stored.position, stored.major, stored.bio) == (
        "N",
        "e@example.com",
        "P",
        "M",
        "B",
    )
    assert stored.karma == 7
    assert store.conflicts > 0  # the races really happened and were retried


async def test_edit_racing_karma_gifts_loses_no_karma(world: FakeWorld) -> None:
    store = YieldingStore(world.store)
    edit = uc(EditUser, world, store=store)

    async def give() -> None:
        await store.increment(User, "UMEM", "karma", 1)

    await asyncio.gather(edit("UMEM", name="A"), give(), edit("UMEM", bio="B"), give(), give())
    stored = await world.store.retrieve(User, "UMEM")
    assert (stored.name, stored.bio, stored.karma) == ("A", "B", 10)


async def test_concurrent_self_registration_by_edit_creates_one_record_with_both_fields(
    world: FakeWorld,
) -> None:
    edit = uc(EditUser, world, store=YieldingStore(world.store))
    await asyncio.gather(edit("UNEW", name="N"), edit("UNEW", major="M"))
    stored = await world.store.retrieve(User, "UNEW")
    assert (stored.name, stored.major) == ("N", "M")


# --- ViewUser ------------------------------------------------------------------------------
async def test_view_defaults_to_the_actor(world: FakeWorld) -> None:
    result = await uc(ViewUser, world)("UMEM")
    assert result.user == await world.store.retrieve(User, "UMEM")
    assert result.teams is None and result.leading is None


@pytest.mark.parametrize(
    "selector", [{"slack_id": "UMEM"}, {"github": "mem"}, {"github": "@mem"}, {"email": " mem@example.com "}]
)
async def test_anyone_views_a_user_by_any_selector(world: FakeWorld, selector: dict) -> None:
    result = await uc(ViewUser, world)("UNREGISTERED", **selector)
    assert result.user.slack_id == "UMEM"


async def test_view_inspect_lists_teams_and_teams_led(world: FakeWorld) -> None:
    result = await uc(ViewUser, world)("ULONE", slack_id="UMEM", inspect=True)
    assert [t.github_team_name for t in result.teams] == ["alpha", "beta"]
    assert [t.github_team_name for t in result.leading] == ["beta"]
    lone = await uc(ViewUser, world)("ULONE", inspect=True)
    assert (lone.teams, lone.leading) == ([], [])


@pytest.mark.parametrize(
    ("actor", "selector", "needle"),
    [
        ("UNEW", {}, "user add"),
        ("UMEM", {"slack_id": "UGHOST"}, "UGHOST"),
        ("UMEM", {"github": "nobody"}, "nobody"),
        ("UMEM", {"email": "nobody@example.com"}, "nobody@example.com"),
    ],
)
async def test_view_of_a_missing_user_is_not_found(
    world: FakeWorld, actor: str, selector: dict, needle: str
) -> None:
    with pytest.raises(NotFound, match=needle):
        await uc(ViewUser, world)(actor, **selector)


async def test_view_with_two_selectors_is_invalid(world: FakeWorld) -> None:
    with pytest.raises(InvalidInput):
        await uc(ViewUser, world)("UMEM", slack_id="UMEM", github="mem")


# --- DeleteUser ----------------------------------------------------------------------------
async def test_admin_deletes_a_user_and_their_team_places(world: FakeWorld) -> None:
    github_before = (await snapshot(world))["github"]
    result = await uc(DeleteUser, world)("UADMIN", "UMEM")
    assert (result.kind, result.key) == ("user", "UMEM")
    with pytest.raises(NotFound):
        await world.store.retrieve(User, "UMEM")
    alpha = await world.store.retrieve(Team, "101")
    beta = await world.store.retrieve(Team, "102")
    assert (alpha.members, alpha.team_leads) == ({"11"}, {"11"})
    assert (beta.members, beta.team_leads) == ({"12"}, {"12"})
    # issue 12: offboarding asks GitHub to drop them from both teams (and the default team)
    assert world.github.calls["remove_team_member"] == 2
    assert "GitHub team alpha" in result.message and "GitHub team beta" in result.message
    assert (await snapshot(world))["github"][1] == github_before[1]  # org members untouched


async def test_deleting_a_user_without_github_leaves_teams_alone(world: FakeWorld) -> None:
    teams_before = (await snapshot(world))["store"]["Team"]
    await uc(DeleteUser, world)("UADMIN", "ULONE")
    assert (await snapshot(world))["store"]["Team"] == teams_before
    assert await world.store.query(User, [("slack_id", "ULONE")]) == []


@pytest.mark.parametrize("actor", ["UMEM", "ULEAD", "UOTHER", "UNEW"])
async def test_only_admins_delete_users(world: FakeWorld, actor: str) -> None:
    # ULEAD leads UMEM's team alpha, UOTHER leads beta, UNEW is not registered.
    before = await snapshot(world)
    with pytest.raises(PermissionDenied, match="Only admins can delete users"):
        await uc(DeleteUser, world)(actor, "UMEM")
    assert await snapshot(world) == before


async def test_deleting_a_missing_user_is_not_found(world: FakeWorld) -> None:
    before = await snapshot(world)
    with pytest.raises(NotFound, match="UGHOST"):
        await uc(DeleteUser, world)("UADMIN", "UGHOST")
    assert await snapshot(world) == before


async def test_delete_racing_a_team_edit_keeps_the_edit_and_drops_the_user(world: FakeWorld) -> None:
    store = YieldingStore(world.store)

    async def rename_alpha() -> None:
        await update_with_retry(
            store, Team, "101", lambda t: dataclasses.replace(t, display_name="Alpha Renamed")
        )

    await asyncio.gather(uc(DeleteUser, world, store=store)("UADMIN", "UMEM"), rename_alpha())
    alpha = await world.store.retrieve(Team, "101")
    assert alpha.display_name == "Alpha Renamed"
    assert "13" not in alpha.members


async def test_a_github_account_linked_under_another_case_is_a_conflict(world: FakeWorld) -> None:
    world.github.add_user("MEM", "13")  # GitHub logins are case-insensitive: the same account
    before = await snapshot(world)
    with pytest.raises(Conflict, match="already linked to UMEM"):
        await uc(EditUser, world)("ULONE", github="MEM")
    after = await snapshot(world)
    assert after["store"] == before["store"]
    assert world.github.calls["add_team_member"] == 0
