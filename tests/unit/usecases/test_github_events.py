"""GitHub webhook events applied to the directory, using the shared octokit fixtures."""

from __future__ import annotations

import copy

import pytest

from core.context import Settings
from core.models import Project, Team, User
from core.permissions import Permissions
from tests.fakes.ports import fake_world, github_webhook
from tests.support.fixtures import github_payload, org_membership_payload

TEAM_ID = "3253328"  # the team in the fixtures, slug "github"
CODERTOCAT = "21031067"
HACKTOCAT = "39652351"


@pytest.fixture
def world():
    w = fake_world()
    w.chat.add_channel("CNOTICE", "rocket-notices")
    return w


DEFAULT_SETTINGS = Settings(notification_channel="rocket-notices")


def notices(world) -> list[str]:
    """What the Notices subscriber posted to the notification channel."""
    return [text for channel, text in world.chat.posts if channel == "CNOTICE"]


def apply(world, settings=DEFAULT_SETTINGS):
    return github_webhook(world.ports, settings)


async def snapshot(world):
    return ([await world.store.query(m) for m in (User, Team, Project)], dict(world.drive.shared))


async def test_ping_changes_nothing(world):
    for name in ("ping", "ping.with-app_id", "ping.with-organization"):
        before = await snapshot(world)
        outcome = await apply(world)("ping", github_payload(name))
        assert outcome.summary == "pong" and not outcome.applied
        assert await snapshot(world) == before


async def test_team_created_is_stored_once(world):
    outcome = await apply(world)("team", github_payload("team.created"))
    assert outcome.applied and notices(world) == ["GitHub: team github was created"]
    team = await world.store.retrieve(Team, TEAM_ID)
    assert team.github_team_name == "github" and team.members == set()
    again = await apply(world)("team", github_payload("team.created"))
    assert not again.applied
    assert (await world.store.retrieve(Team, TEAM_ID)).version == 1


async def test_team_deleted_removes_team_and_unassigns_projects(world):
    await world.store.store(Team(TEAM_ID, "github", members={"1"}))
    await world.store.store(Project("p1", TEAM_ID))
    outcome = await apply(world)("team", github_payload("team.deleted"))
    assert outcome.applied
    assert await world.store.query(Team) == []
    assert (await world.store.retrieve(Project, "p1")).github_team_id == ""


async def test_team_edited_renames_known_team_and_ignores_unknown(world):
    payload = github_payload("team.edited")
    assert not (await apply(world)("team", payload)).applied  # unknown team: ignored
    assert await world.store.query(Team) == []
    await world.store.store(Team(TEAM_ID, "old-slug", display_name="Keep"))
    assert (await apply(world)("team", payload)).applied
    team = await world.store.retrieve(Team, TEAM_ID)
    assert team.github_team_name == "github" and team.display_name == "Keep"


async def test_repository_events_change_nothing(world):
    await world.store.store(Team(TEAM_ID, "github"))
    before = await snapshot(world)
    for name in ("team.added_to_repository", "team.removed_from_repository"):
        assert not (await apply(world)("team", github_payload(name))).applied
    assert not (await apply(world)("team_add", github_payload("team_add"))).applied
    assert await snapshot(world) == before


async def test_membership_added_and_removed(world):
    await world.store.store(Team(TEAM_ID, "github", folder="F1"))
    await world.store.store(User("U1", email="c@example.com", github="Codertocat", github_user_id=CODERTOCAT))
    added = copy.deepcopy(github_payload("membership.removed.with-deleted-team"))
    added["action"] = "added"
    added["team"] = {"id": int(TEAM_ID), "slug": "github", "name": "github"}
    outcome = await apply(world)("membership", added)
    assert outcome.applied and notices(world) == ["GitHub: Codertocat added to team github"]
    assert (await world.store.retrieve(Team, TEAM_ID)).members == {CODERTOCAT}
    assert world.drive.shared["F1"] == {"c@example.com"}
    assert not (await apply(world)("membership", added)).applied  # already a member
    assert len(notices(world)) == 1  # nothing changed: no second notice

    removed = github_payload("membership.removed.with-deleted-team")
    await world.store.store(dataclass_replace_leads(await world.store.retrieve(Team, TEAM_ID), {CODERTOCAT}))
    assert (await apply(world)("membership", removed)).applied
    team = await world.store.retrieve(Team, TEAM_ID)
    assert team.members == set() and team.team_leads == set()
    assert world.drive.shared["F1"] == set()


def dataclass_replace_leads(team, leads):
    import dataclasses

    return dataclasses.replace(team, team_leads=leads)


async def test_membership_of_unknown_team_is_ignored(world):
    before = await snapshot(world)
    outcome = await apply(world)("membership", github_payload("membership.removed.with-deleted-team"))
    assert not outcome.applied and "not in the directory" in outcome.summary
    assert await snapshot(world) == before


async def test_joining_admin_team_promotes(world):
    await world.store.store(Team(TEAM_ID, "github"))
    await world.store.store(User("U1", github="Codertocat", github_user_id=CODERTOCAT))
    payload = copy.deepcopy(github_payload("membership.removed.with-deleted-team"))
    payload["action"] = "added"
    payload["team"] = {"id": int(TEAM_ID), "slug": "github", "name": "github"}
    settings = Settings(admin_team="github", notification_channel="rocket-notices")
    outcome = await apply(world, settings)("membership", payload)
    assert outcome.applied and notices(world) == ["GitHub: Codertocat added to team github (promoted U1)"]
    assert (await world.store.retrieve(User, "U1")).permission_level == Permissions.admin


async def test_org_member_removed_leaves_teams_and_unlinks(world):
    await world.store.store(User("U9", github="hacktocat", github_user_id=HACKTOCAT, name="Hack"))
    await world.store.store(Team("1", "a", members={HACKTOCAT, "5"}, team_leads={HACKTOCAT}))
    await world.store.store(Team("2", "b", members={"5"}))
    outcome = await apply(world)("organization", org_membership_payload("member_removed"))
    assert outcome.applied
    assert notices(world) == ["GitHub: hacktocat left the organization and was removed from 1 team(s)"]
    assert (await world.store.retrieve(Team, "1")).members == {"5"}
    assert (await world.store.retrieve(Team, "1")).team_leads == set()
    user = await world.store.retrieve(User, "U9")
    assert user.github == "" and user.github_user_id == "" and user.name == "Hack"


async def test_org_events_about_unknown_users_change_nothing(world):
    before = await snapshot(world)
    for payload in (
        org_membership_payload("member_removed"),
        org_membership_payload("member_added"),
        github_payload("organization.member_invited"),
        github_payload("organization.renamed"),
    ):
        assert not (await apply(world)("organization", payload)).applied
    assert await snapshot(world) == before


@pytest.mark.parametrize("payload", [None, [], "x", {"action": 5}, {"team": "nope"}, {"team": {"id": None}}])
async def test_malformed_payloads_are_ignored(world, payload):
    for event in ("team", "membership", "organization", "ping", "push"):
        outcome = await apply(world)(event, payload)
        assert not outcome.applied
    assert await world.store.query(Team) == []
