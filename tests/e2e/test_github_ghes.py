"""End to end over HTTP against GitHub Enterprise Server: the real app on SQLite, Slack-signed
``/rocket`` commands, and the strict GitHub stand-in in GHES mode (``/api/v3`` base URL, GHES
3.19's OpenAPI description: no ``POST /orgs/{org}/invitations``, no legacy ``/teams/{id}``
routes, ``X-GitHub-Api-Version`` required)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from core.models import Team, User
from entrypoints.bootstrap import make_admin
from entrypoints.config import load_config
from entrypoints.container import make_container
from entrypoints.http import create_app
from tests.e2e.conftest import HttpWorld, rocket_env
from tests.fakes.ports import store_bus
from tests.support.github_fixtures import APP_ID, ORG, escape_key
from tests.support.github_standin import GitHubStandIn


@pytest.fixture
async def ghes_world(tmp_path, github_app_key, slack_standin) -> AsyncIterator[HttpWorld]:
    with GitHubStandIn(github_app_key.public_pem, app_id=APP_ID, org=ORG, ghes=True) as ghes:
        github_env = {
            "GITHUB_APP_ID": APP_ID,
            "GITHUB_KEY": escape_key(github_app_key.private_pem),
            "GITHUB_ORG_NAME": ORG,
            "GITHUB_API_URL": ghes.url,
        }
        env = rocket_env(tmp_path, github_env, slack_standin)
        slack_standin.add_channel("rocket-notices")
        container = make_container(load_config(env))
        app = create_app(container)
        async with app.test_app() as test_app:
            store = await container.store()
            yield HttpWorld(app, test_app.test_client(), store, ghes, slack_standin, env)


async def text(w: HttpWorld, user: str, command: str) -> str:
    status, reply = await w.command(user, command)
    assert status == 200, reply
    return reply["text"]


async def test_ghes_invite_team_add_remove_delete_and_refresh(ghes_world) -> None:
    w = ghes_world
    assert w.github.url.endswith("/api/v3") and w.github.ghes
    store = w.store
    w.github.add_user("octo-admin", 501, org_member=True)
    w.github.add_user("octocat", 583231)  # exists on the server, not in the organization
    await make_admin(store_bus(store), "UADMIN")
    assert "refused" not in await text(w, "UADMIN", "user edit --github octo-admin")
    await text(w, "U2", "user add")
    assert (await store.retrieve(User, "U2")).slack_id == "U2"

    # user edit --github for someone outside the org: invited (PUT membership), linked.
    reply = await text(w, "UADMIN", "user edit --username U2 --github octocat")
    assert "GitHub has no user" not in reply and "refused" not in reply, reply
    assert "octocat" in w.github.invitations and "octocat" not in w.github.org_members
    assert w.github.count(f"PUT /orgs/{ORG}/memberships/octocat") == 1
    assert w.github.count(f"POST /orgs/{ORG}/invitations") == 0
    u2 = await store.retrieve(User, "U2")
    assert (u2.github, u2.github_user_id) == ("octocat", "583231")
    all_team = w.github.team_id("all")  # the default team, with the invitee pending in it
    assert w.github.memberships[all_team].get("octocat") == "pending"

    w.github.accept_invitation("octocat")
    assert "web" in await text(w, "UADMIN", "team create web")
    web = w.github.team_id("web")

    # team add / team remove: the org-scoped slug routes.
    reply = await text(w, "UADMIN", "team add web U2")
    assert "Added U2" in reply, reply
    assert w.github.memberships[web].get("octocat") == "active"
    assert (await store.retrieve(Team, str(web))).members == {"501", "583231"}
    reply = await text(w, "UADMIN", "team remove web U2")
    assert "octocat" not in w.github.memberships[web]
    assert (await store.retrieve(Team, str(web))).members == {"501"}

    # team refresh: a team made on GitHub appears, with its members.
    mobile = w.github.add_team("mobile", members=["octocat"])
    reply = await text(w, "UADMIN", "team refresh")
    assert "refused" not in reply, reply
    assert (await store.retrieve(Team, str(mobile))).members == {"583231"}

    # team delete: gone on GitHub and in the directory.
    await text(w, "UADMIN", "team delete web")
    assert web not in w.github.teams
    assert str(web) not in {t.github_team_id for t in await store.query(Team)}

    # A person waiting gets the time the limit lifts, and nothing changes.
    before = await w.directory()
    w.github.rate_limit(after=0, lifts_in=120, kind="primary", status=403)
    reply = await text(w, "UADMIN", "team add mobile UADMIN")
    assert "GitHub's rate limit lifts at" in reply and "UTC" in reply, reply
    assert await w.directory() == before
    w.github.rate_limit(after=0, lifts_in=120, kind="secondary", status=429)
    assert "GitHub's rate limit lifts at" in await text(w, "UADMIN", "team refresh")
    assert await w.directory() == before

    assert w.github.refused == []  # nothing GHES lacks or deprecates was ever asked for
    assert w.github.count(f"PUT /orgs/{ORG}/teams/web/memberships/octocat") == 1
    assert w.github.count(f"DELETE /orgs/{ORG}/teams/web/memberships/octocat") == 1
    assert w.github.requests.count(f"DELETE /orgs/{ORG}/teams/web") == 1
    assert w.github.count(f"GET /orgs/{ORG}/teams/mobile/members") >= 1
