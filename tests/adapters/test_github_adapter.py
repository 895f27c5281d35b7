"""GitHubApp (adapters.github) through real PyGithub over HTTP against the local GitHub stand-in.

The stand-in checks the App JWT (RS256, the key generated for the session), issues installation
tokens, rejects expired ones with 401 and keeps the organization's state, so every assertion
below is about what reached "GitHub" and what came back.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from adapters.github import GitHubApp
from adapters.github.auth import DEFAULT_API_URL, decode_key
from core.errors import Conflict, NotFound, RateLimited, UpstreamError
from entrypoints.settings import load_settings
from ports.github import GitHubTeam, GitHubUser, OrgMembership
from tests.support import github_fixtures
from tests.support.github_fixtures import APP_ID, ORG, AppKey, escape_key, github_from_env, make_app_key
from tests.support.github_standin import GitHubStandIn, slugify

github_app_key = github_fixtures.github_app_key
github_standin = github_fixtures.github_standin
github_env = github_fixtures.github_env

FAST = dict(retries=2, backoff=0.0, seconds_between_requests=None, seconds_between_writes=None)


def make_app(env: dict[str, str], **options: object) -> GitHubApp:
    app = github_from_env(env, **{**FAST, **options})
    assert app is not None
    return app


@pytest.fixture
def app(github_env: dict[str, str]) -> GitHubApp:
    return make_app(github_env)


# ---------------------------------------------------------------------------- authentication


async def test_first_call_finds_installation_with_app_jwt_then_uses_one_token(
    app: GitHubApp, github_standin: GitHubStandIn
) -> None:
    github_standin.add_team("core")
    assert github_standin.requests == []  # from_env does no I/O
    assert [t.slug for t in await app.list_teams()] == ["core"]
    assert [t.slug for t in await app.list_teams()] == ["core"]
    assert github_standin.requests[:2] == [
        f"GET /orgs/{ORG}/installation",
        f"POST /app/installations/{github_standin.installation_id}/access_tokens",
    ]
    assert github_standin.count(f"GET /orgs/{ORG}/installation") == 1
    assert len(github_standin.tokens_issued) == 1
    assert github_standin.rejected == []


async def test_expiring_installation_token_is_refreshed_by_pygithub(
    app: GitHubApp, github_standin: GitHubStandIn
) -> None:
    github_standin.add_team("core")
    github_standin.token_ttl = 10  # inside PyGithub's refresh margin: due for renewal at once
    await app.list_teams()
    github_standin.expire_tokens()  # the first token no longer works on the server
    assert [t.slug for t in await app.list_teams()] == ["core"]
    assert len(github_standin.tokens_issued) == 2
    assert github_standin.tokens_issued[0] != github_standin.tokens_issued[1]
    assert github_standin.rejected == []  # the stale token was never sent


async def test_standin_rejects_an_expired_token_and_the_adapter_reports_it(
    app: GitHubApp, github_standin: GitHubStandIn
) -> None:
    # Control for the test above: a token PyGithub still believes valid but the server expired.
    await app.list_teams()
    github_standin.expire_tokens()
    with pytest.raises(UpstreamError) as info:
        await app.list_teams()
    assert "401" in str(info.value) and not isinstance(info.value, RateLimited)
    assert github_standin.rejected == [(f"GET /orgs/{ORG}/teams", 401)]


async def test_jwt_signed_with_another_key_is_refused(github_env: dict[str, str], github_standin) -> None:
    other = make_app_key()
    app = make_app({**github_env, "GITHUB_KEY": escape_key(other.private_pem)})
    with pytest.raises(UpstreamError) as info:
        await app.list_teams()
    assert "401" in str(info.value)
    assert github_standin.rejected == [(f"GET /orgs/{ORG}/installation", 401)]
    assert github_standin.tokens_issued == []


async def test_app_not_installed_on_the_org(github_env: dict[str, str], github_standin) -> None:
    app = make_app({**github_env, "GITHUB_ORG_NAME": "another-org"})
    with pytest.raises(UpstreamError) as info:
        await app.list_teams()
    assert "not installed" in str(info.value) and "another-org" in str(info.value)
    assert not isinstance(info.value, NotFound)


# ---------------------------------------------------------------------------- invite_to_org


async def test_invite_non_member_puts_a_pending_membership_and_returns_id(app, github_standin) -> None:
    uid = github_standin.add_user("octocat", 583231)
    membership = await app.invite_to_org("octocat")
    assert membership == "583231" == str(uid)
    assert isinstance(membership, OrgMembership) and membership.state == "pending"
    assert "octocat" in github_standin.invitations
    assert github_standin.count(f"PUT /orgs/{ORG}/memberships/octocat") == 1
    assert github_standin.roles == {"octocat": "member"}
    assert github_standin.count(f"POST /orgs/{ORG}/invitations") == 0
    github_standin.accept_invitation("octocat")
    assert (await app.invite_to_org("octocat")).state == "active"
    assert github_standin.count(f"PUT /orgs/{ORG}/memberships/octocat") == 1  # not invited again


async def test_invite_member_or_already_invited_makes_no_invitation(app, github_standin) -> None:
    github_standin.add_user("member", 11, org_member=True)
    github_standin.add_user("invitee", 12)
    assert (await app.invite_to_org("member")).state == "active"
    assert await app.invite_to_org("invitee") == "12"
    again = await app.invite_to_org("invitee")  # pending: not invited twice
    assert again == "12" and again.state == "pending"
    assert github_standin.count(f"PUT /orgs/{ORG}/memberships/") == 1
    assert set(github_standin.invitations) == {"invitee"}
    assert "member" not in github_standin.roles  # an existing member's role is never touched


async def test_invite_unknown_login_is_not_found(app, github_standin) -> None:
    with pytest.raises(NotFound) as info:
        await app.invite_to_org("no-such-login")
    assert "no-such-login" in str(info.value)
    assert github_standin.invitations == {}


# ---------------------------------------------------------------------------- teams


async def test_team_by_slug(app, github_standin) -> None:
    tid = github_standin.add_team("web", "Web Team")
    assert await app.team_by_slug("web") == GitHubTeam(str(tid), "web", "Web Team")
    assert github_standin.count(f"GET /orgs/{ORG}/teams/web") == 1
    with pytest.raises(NotFound):
        await app.team_by_slug("missing")


async def test_list_teams_follows_every_page(github_env, github_standin) -> None:
    app = make_app(github_env, per_page=2)
    ids = [github_standin.add_team(f"team-{i}") for i in range(5)]
    teams = await app.list_teams()
    assert [t.id for t in teams] == [str(i) for i in ids]
    assert [t.slug for t in teams] == [f"team-{i}" for i in range(5)]
    assert github_standin.count(f"GET /orgs/{ORG}/teams") == 3  # pages of 2, 2, 1


async def test_list_team_members_follows_every_page_and_skips_pending(github_env, github_standin) -> None:
    app = make_app(github_env, per_page=2)
    logins = [f"dev{i}" for i in range(5)]
    tid = github_standin.add_team("devs", members=logins)
    github_standin.add_user("newbie")
    github_standin.memberships[tid]["newbie"] = "pending"
    members = await app.list_team_members(str(tid))
    assert members == [GitHubUser(str(github_standin.users[login]), login) for login in logins]
    assert github_standin.count(f"GET /orgs/{ORG}/teams/devs/members") == 3


async def test_list_members_of_unknown_team_is_not_found(app, github_standin) -> None:
    with pytest.raises(NotFound):
        await app.list_team_members("999999")
    with pytest.raises(NotFound):
        await app.list_team_members("not-a-number")


async def test_create_team_uses_slug_as_github_name(app, github_standin) -> None:
    team = await app.create_team("rocket-devs", "Rocket Developers")
    stored = github_standin.teams[int(team.id)]
    assert team == GitHubTeam(str(stored["id"]), "rocket-devs", "rocket-devs")
    assert stored["slug"] == slugify(stored["name"]) == "rocket-devs"
    assert stored["privacy"] == "closed"


async def test_create_existing_team_is_conflict(app, github_standin) -> None:
    github_standin.add_team("taken")
    with pytest.raises(Conflict) as info:
        await app.create_team("taken")
    assert "taken" in str(info.value)
    assert [t["slug"] for t in github_standin.teams.values()] == ["taken"]


async def test_delete_team_and_deleting_again_is_fine(app, github_standin) -> None:
    tid = github_standin.add_team("old", members=["a"])
    keep = github_standin.add_team("keep")
    await app.list_teams()
    await app.delete_team(str(tid))
    assert list(github_standin.teams) == [keep]
    assert github_standin.count(f"DELETE /orgs/{ORG}/teams/old") == 1
    await app.delete_team(str(tid))  # GitHub no longer lists it: not an error, nothing deleted
    assert github_standin.count(f"DELETE /orgs/{ORG}/teams/") == 1
    assert list(github_standin.teams) == [keep]


async def test_delete_team_github_already_deleted_is_fine(app, github_standin) -> None:
    tid = github_standin.add_team("old")
    await app.list_teams()  # the adapter knows the slug
    github_standin.teams.pop(tid)  # deleted on GitHub meanwhile: the DELETE answers 404
    await app.delete_team(str(tid))
    assert github_standin.count(f"DELETE /orgs/{ORG}/teams/old") == 1


async def test_renamed_team_is_found_again_by_id(app, github_standin) -> None:
    tid = github_standin.add_team("old-name", members=["alice"])
    await app.list_teams()
    github_standin.teams[tid]["slug"] = "new-name"  # renamed on GitHub: the old slug 404s
    assert [m.login for m in await app.list_team_members(str(tid))] == ["alice"]
    assert github_standin.count(f"GET /orgs/{ORG}/teams/new-name/members") == 1


async def test_add_team_member_is_one_put_and_idempotent(app, github_standin) -> None:
    github_standin.add_user("alice", org_member=True)
    tid = github_standin.add_team("devs")
    await app.list_teams()  # authenticate first, so only the operation's calls are counted below
    before = len(github_standin.requests)
    await app.add_team_member(str(tid), "alice")
    assert github_standin.requests[before:] == [f"PUT /orgs/{ORG}/teams/devs/memberships/alice"]
    await app.add_team_member(str(tid), "alice")
    assert github_standin.memberships[tid] == {"alice": "active"}


async def test_add_non_org_member_leaves_pending_membership(app, github_standin) -> None:
    github_standin.add_user("outsider")
    tid = github_standin.add_team("devs")
    await app.add_team_member(str(tid), "outsider")
    assert github_standin.memberships[tid] == {"outsider": "pending"}
    assert await app.list_team_members(str(tid)) == []
    github_standin.accept_invitation("outsider")
    assert [m.login for m in await app.list_team_members(str(tid))] == ["outsider"]


async def test_add_member_unknown_team_or_login_is_not_found(app, github_standin) -> None:
    github_standin.add_user("alice", org_member=True)
    tid = github_standin.add_team("devs")
    with pytest.raises(NotFound):
        await app.add_team_member("424242", "alice")
    with pytest.raises(NotFound):
        await app.add_team_member(str(tid), "ghost")
    assert github_standin.memberships[tid] == {}


async def test_remove_team_member_and_removing_again_is_fine(app, github_standin) -> None:
    tid = github_standin.add_team("devs", members=["alice", "bob"])
    await app.remove_team_member(str(tid), "alice")
    assert github_standin.active_members(tid) == {"bob"}
    await app.remove_team_member(str(tid), "alice")
    assert github_standin.count(f"DELETE /orgs/{ORG}/teams/devs/memberships/alice") == 2
    assert github_standin.active_members(tid) == {"bob"}


# ---------------------------------------------------------------------------- failures


async def test_502_then_200_is_retried_and_succeeds(app, github_standin) -> None:
    github_standin.add_team("core")
    github_standin.fail_next(f"GET /orgs/{ORG}/teams", 502, times=1)
    assert [t.slug for t in await app.list_teams()] == ["core"]
    assert github_standin.count(f"GET /orgs/{ORG}/teams") == 2
    assert github_standin.rejected == [(f"GET /orgs/{ORG}/teams", 502)]


async def test_persistent_5xx_gives_up_after_bounded_retries(app, github_standin) -> None:
    tid = github_standin.add_team("core")
    github_standin.fail_next(f"/orgs/{ORG}/teams/core/members", 503, times=10)
    with pytest.raises(UpstreamError) as info:
        await app.list_team_members(str(tid))
    assert "could not be reached" in str(info.value) and "GitHub" in str(info.value)
    assert github_standin.count(f"GET /orgs/{ORG}/teams/core/members") == 3  # 1 try + retries=2


async def test_post_is_not_replayed_after_a_502(app, github_standin) -> None:
    github_standin.fail_next(f"POST /orgs/{ORG}/teams", 502, times=1)
    with pytest.raises(UpstreamError) as info:
        await app.create_team("new-team")
    assert "could not be reached" in str(info.value)
    assert github_standin.count(f"POST /orgs/{ORG}/teams") == 1


async def test_unreachable_github_is_unavailable(github_env) -> None:
    closed = GitHubStandIn("unused").start()
    url = closed.url
    closed.stop()
    app = make_app({**github_env, "GITHUB_API_URL": url}, timeout=2)
    started = time.monotonic()
    with pytest.raises(UpstreamError) as info:
        await app.list_teams()
    assert "could not be reached" in str(info.value)
    assert time.monotonic() - started < 5


async def test_403_is_upstream_error_not_retried(app, github_standin) -> None:
    github_standin.add_user("alice", org_member=True)
    tid = github_standin.add_team("devs")
    github_standin.fail_next(f"PUT /orgs/{ORG}/teams/devs/memberships", 403, times=1)
    with pytest.raises(UpstreamError) as info:
        await app.add_team_member(str(tid), "alice")
    assert not isinstance(info.value, RateLimited)
    assert "403" in str(info.value) and "Resource not accessible by integration" in str(info.value)
    assert github_standin.count(f"PUT /orgs/{ORG}/teams/devs/memberships/alice") == 1
    assert github_standin.memberships[tid] == {}


async def test_rate_limited_403_carries_reset_time(app, github_standin) -> None:
    reset = int(time.time()) + 1234
    github_standin.fail_next(f"GET /orgs/{ORG}/teams", 403, rate_limited=True, reset_at=reset)
    with pytest.raises(RateLimited) as info:
        await app.list_teams()
    assert info.value.reset_at == reset
    assert info.value.integration == "GitHub"
    assert github_standin.count(f"GET /orgs/{ORG}/teams") == 1


async def test_403_with_no_remaining_quota_is_rate_limited_whatever_the_message(app, github_standin) -> None:
    reset = int(time.time()) + 42
    github_standin.fail_next(
        f"GET /orgs/{ORG}/teams", 403, rate_limited=True, reset_at=reset, message="Forbidden"
    )
    with pytest.raises(RateLimited) as info:
        await app.list_teams()
    assert info.value.reset_at == reset


async def test_429_is_rate_limited(app, github_standin) -> None:
    github_standin.add_user("alice")
    reset = int(time.time()) + 99
    github_standin.fail_next("GET /users/alice", 429, reset_at=reset)
    with pytest.raises(RateLimited) as info:
        await app.invite_to_org("alice")
    assert info.value.reset_at == reset
    assert github_standin.invitations == {}


async def test_calls_do_not_block_the_event_loop(app, github_standin) -> None:
    github_standin.add_team("core")
    await app.list_teams()
    github_standin.latency = 0.15
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    try:
        await app.list_teams()
    finally:
        task.cancel()
    assert ticks >= 5


# ---------------------------------------------------------------------------- configuration


async def test_base_url_from_github_api_url_is_honoured(github_app_key: AppKey) -> None:
    with GitHubStandIn(github_app_key.public_pem, app_id=APP_ID, org=ORG, prefix="/api/v3") as enterprise:
        enterprise.add_team("ghes-team")
        env = {
            "GITHUB_APP_ID": APP_ID,
            "GITHUB_KEY": escape_key(github_app_key.private_pem),
            "GITHUB_ORG_NAME": ORG,
            "GITHUB_API_URL": enterprise.url + "/",
        }
        app = make_app(env)
        assert app.settings.api_url == enterprise.url
        assert [t.slug for t in await app.list_teams()] == ["ghes-team"]
        assert enterprise.count(f"GET /orgs/{ORG}/teams") == 1


def test_api_url_defaults_to_github_com(github_app_key: AppKey) -> None:
    env = {"GITHUB_APP_ID": APP_ID, "GITHUB_KEY": github_app_key.private_pem, "GITHUB_ORG_NAME": ORG}
    settings = load_settings(env).github
    assert settings is not None and settings.api_url == DEFAULT_API_URL == "https://api.github.com"


async def test_key_escapes_newline_and_dash(github_env, github_app_key: AppKey, github_standin) -> None:
    escaped = escape_key(github_app_key.private_pem).replace("-", "\\-")
    assert "\n" not in escaped and escaped.startswith("\\-\\-\\-\\-\\-BEGIN")
    assert decode_key(escaped) == github_app_key.private_pem.strip() + "\n"
    app = make_app({**github_env, "GITHUB_KEY": escaped})
    github_standin.add_team("core")
    assert [t.slug for t in await app.list_teams()] == ["core"]
    assert len(github_standin.tokens_issued) == 1


@pytest.mark.parametrize(
    "bad_key",
    [
        "not a key",
        "-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEAtruncated\\n-----END RSA PRIVATE KEY-----",
        "public",
    ],
)
def test_malformed_key_is_one_line_error_naming_github_key(
    bad_key: str, github_env: dict[str, str], github_app_key: AppKey
) -> None:
    if bad_key == "public":
        bad_key = escape_key(github_app_key.public_pem)
    with pytest.raises(ValueError) as info:
        github_from_env({**github_env, "GITHUB_KEY": bad_key})
    message = str(info.value)
    assert "GITHUB_KEY" in message
    assert "\n" not in message
    assert "MIIE" not in message  # no key material echoed


@pytest.mark.parametrize("missing", ["GITHUB_APP_ID", "GITHUB_KEY", "GITHUB_ORG_NAME"])
def test_absent_setting_means_not_configured(missing: str, github_env: dict[str, str]) -> None:
    assert github_from_env({k: v for k, v in github_env.items() if k != missing}) is None
    assert github_from_env({**github_env, missing: ""}) is None


@pytest.mark.parametrize("url", ["ftp://example.com", "not a url", "https://"])
def test_malformed_api_url_names_the_variable(url: str, github_env: dict[str, str]) -> None:
    with pytest.raises(ValueError) as info:
        github_from_env({**github_env, "GITHUB_API_URL": url})
    assert "GITHUB_API_URL" in str(info.value) and "\n" not in str(info.value)
