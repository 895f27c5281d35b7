"""Issue 11, finding 2: a webhook signed with the App's secret but about another organization
(or another installation of the App) is answered 200 and changes nothing.

The real app (SQLite, the GitHub stand-in as our organization ``rocket-org`` with installation
4242, the Slack stand-in); deliveries built from the shared fixtures.
"""

from __future__ import annotations

import copy

import pytest

from core.models import Team, User
from core.permissions import Permissions
from tests.support.fixtures import OUR_INSTALLATION, github_payload, org_membership_payload, ours


def _membership_added(org: str = "rocket-org", installation: int | None = OUR_INSTALLATION) -> dict:
    added = copy.deepcopy(github_payload("membership.removed.with-deleted-team"))
    added.update(action="added", team={"id": 3253328, "slug": "admins", "name": "admins"})
    added = ours(added, org=org)
    if installation is not None:
        added["installation"] = {"id": installation, "node_id": "x"}
    return added


async def _setup(w) -> None:
    await w.store.store(Team("3253328", "admins"))
    await w.store.store(User("U7", github="Codertocat", github_user_id="21031067"))


@pytest.mark.parametrize(("org", "installation"), [
    ("evil-org", OUR_INSTALLATION),  # another organization, same App secret
    ("evil-org", 777),
    ("rocket-org", 777),  # our organization's name, another installation's delivery
])
async def test_a_membership_webhook_for_another_org_or_installation_changes_nothing(
    http_world, org, installation
) -> None:
    w = http_world
    await _setup(w)
    before = await w.directory()
    response = await w.webhook("membership", _membership_added(org, installation))
    assert response.status_code == 200
    body = await response.get_json()
    assert body["applied"] is False and "ignored" in body["summary"]
    assert await w.directory() == before
    assert (await w.store.retrieve(User, "U7")).permission_level == Permissions.member


async def test_team_created_and_member_removed_for_another_org_change_nothing(http_world) -> None:
    w = http_world
    await _setup(w)
    await w.store.store(User("U8", github="hacktocat", github_user_id="39652351"))
    before = await w.directory()
    created = ours(github_payload("team.created"), org="evil-org")
    assert (await (await w.webhook("team", created)).get_json())["applied"] is False
    removed = ours(org_membership_payload("member_removed"), org="evil-org")
    assert (await (await w.webhook("organization", removed)).get_json())["applied"] is False
    nameless = github_payload("team.created")
    del nameless["organization"]
    assert (await (await w.webhook("team", nameless)).get_json())["applied"] is False
    assert await w.directory() == before


async def test_our_org_in_another_case_with_our_installation_is_applied(http_world) -> None:
    w = http_world
    await _setup(w)
    response = await w.webhook("membership", _membership_added("ROCKET-Org", OUR_INSTALLATION))
    assert (await response.get_json())["applied"] is True
    assert (await w.store.retrieve(Team, "3253328")).members == {"21031067"}
    # An org-level webhook (no installation object) of our organization is applied too.
    org_level = github_payload("team.created")
    del org_level["installation"]
    org_level["team"].update(id=5550001, slug="newcomers")
    assert (await (await w.webhook("team", org_level)).get_json())["applied"] is True
    assert (await w.store.retrieve(Team, "5550001")).github_team_name == "newcomers"
