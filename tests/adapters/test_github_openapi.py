"""Every GitHub request Rocket makes is a documented, non-deprecated operation of GitHub's own
OpenAPI descriptions, for api.github.com and for GitHub Enterprise Server 3.19.

The path lists are vendored from the ``@octokit/openapi`` npm package (tests/support/
github_rest_paths.json; tests/support/github_openapi.py says how). Every stand-in records each
request it answers in ``github_standin.RECORDED``; the walk below runs the adapter through every
port operation on both stand-in modes, then checks everything recorded in this pytest process so
far (the whole suite's GitHub traffic when run with it) against both lists.
"""

from __future__ import annotations

import time

import pytest
import requests

from core.errors import NotFound
from tests.support import github_fixtures, github_openapi
from tests.support.github_fixtures import APP_ID, ORG, AppKey, escape_key, github_from_env
from tests.support.github_standin import RECORDED, REFUSED, GitHubStandIn

github_app_key = github_fixtures.github_app_key

FAST = dict(retries=1, backoff=0.0)


def env_for(standin: GitHubStandIn, key: AppKey) -> dict[str, str]:
    return {
        "GITHUB_APP_ID": APP_ID,
        "GITHUB_KEY": escape_key(key.private_pem),
        "GITHUB_ORG_NAME": ORG,
        "GITHUB_API_URL": standin.url,
    }


async def exercise(standin: GitHubStandIn, key: AppKey) -> None:
    """Every port operation, the patient adapter through a rate limit, and the failure paths."""
    app = github_from_env(env_for(standin, key), **FAST)
    assert app is not None
    standin.add_user("outsider")
    standin.add_user("member", org_member=True)
    tid = standin.add_team("all", members=["member"])
    assert (await app.invite_to_org("outsider")).state == "pending"
    assert (await app.invite_to_org("member")).state == "active"
    with pytest.raises(NotFound):
        await app.invite_to_org("nobody-here")
    assert (await app.team_by_slug("all")).id == str(tid)
    created = await app.create_team("new-team")
    await app.add_team_member(created.id, "member")
    assert [m.login for m in await app.list_team_members(created.id)] == ["member"]
    await app.remove_team_member(created.id, "member")
    await app.remove_team_member(created.id, "member")
    await app.delete_team(created.id)
    await app.delete_team(created.id)
    standin.rate_limit(after=0, lifts_in=0.5, kind="secondary", status=429)
    patient = app.patient()
    assert [t.slug for t in await patient.list_teams()] == ["all"]
    assert patient.rate_limit_waits


@pytest.mark.parametrize("ghes", [False, True], ids=["api.github.com", "ghes"])
async def test_every_port_operation_is_a_documented_current_operation(github_app_key, ghes) -> None:
    with GitHubStandIn(github_app_key.public_pem, app_id=APP_ID, org=ORG, ghes=ghes) as standin:
        await exercise(standin, github_app_key)
        assert standin.refused == []
        description = "ghes-3.19" if ghes else "api.github.com"
        mine = [key for d, key in RECORDED if d == description]
        for op in ("PUT /orgs/", "GET /orgs/rocket-org/teams/", "DELETE /orgs/rocket-org/teams/"):
            assert any(key.startswith(op) for key in mine), op


def test_walk_every_recorded_github_request_against_both_descriptions() -> None:
    """The walk: each recorded method and path is known and not deprecated on both GitHub.com
    and GHES (the test above ran first in this module, so the list is never empty)."""
    assert len(RECORDED) >= 20
    problems = set()
    for _, key in RECORDED:
        method, path = key.split(" ", 1)
        for description in github_openapi.DESCRIPTIONS:
            verdict = github_openapi.check(description, method, path)
            if verdict:
                problems.add(f"{key}: {verdict} in {description}")
    assert sorted(problems) == []
    assert REFUSED == []  # no recording stand-in refused anything as off-spec either


# ---------------------------------------------------------------------------- the checks can fail


@pytest.mark.parametrize(
    ("method", "path", "expected"),
    [
        ("PUT", "/teams/42/memberships/octocat", "deprecated: /teams/{team_id}/memberships/{username}"),
        ("DELETE", "/teams/42/memberships/octocat", "deprecated: /teams/{team_id}/memberships/{username}"),
        ("DELETE", "/teams/42", "deprecated: /teams/{team_id}"),
        ("GET", "/teams/42/members", "deprecated: /teams/{team_id}/members"),
        ("GET", "/orgs/acme/no-such-thing", "unknown"),
        ("PUT", "/orgs/acme/memberships/octocat", ""),
        ("GET", "/orgs/acme/teams/devs/members", ""),
    ],
)
def test_checker_flags_the_legacy_team_routes(method: str, path: str, expected: str) -> None:
    for description in github_openapi.DESCRIPTIONS:
        assert github_openapi.check(description, method, path) == expected


def test_invitations_route_exists_on_github_com_only() -> None:
    assert github_openapi.check("api.github.com", "POST", "/orgs/acme/invitations") == ""
    assert github_openapi.check("ghes-3.19", "POST", "/orgs/acme/invitations") == "unknown"


def _raw(standin: GitHubStandIn, method: str, path: str, **headers: str) -> requests.Response:
    token = "ghs_test"
    standin.tokens[token] = time.time() + 60
    base = {"Authorization": f"token {token}", "X-GitHub-Api-Version": "2022-11-28",
            "Accept": "application/vnd.github+json"}
    return requests.request(method, standin.url + path, headers={**base, **headers}, timeout=5)


def test_standin_refuses_what_github_would_not_take(github_app_key) -> None:
    with GitHubStandIn(github_app_key.public_pem, org=ORG, ghes=True, record=False) as standin:
        tid = standin.add_team("devs")
        standin.add_user("octocat")
        assert standin.url.endswith("/api/v3")
        assert _raw(standin, "GET", f"/orgs/{ORG}/teams").status_code == 200  # the control
        assert _raw(standin, "GET", f"/orgs/{ORG}/teams", **{"X-GitHub-Api-Version": ""}).status_code == 400
        preview = "application/vnd.github.machine-man-preview+json"
        assert _raw(standin, "GET", f"/orgs/{ORG}/teams", Accept=preview).status_code == 415
        assert _raw(standin, "GET", f"/teams/{tid}/members").status_code == 404
        assert _raw(standin, "PUT", f"/teams/{tid}/memberships/octocat").status_code == 404
        assert _raw(standin, "POST", f"/orgs/{ORG}/invitations").status_code == 404
        assert standin.memberships[tid] == {} and standin.invitations == {}
        whys = [why for _, why in standin.refused]
        assert len(whys) == 5
        assert "X-GitHub-Api-Version" in whys[0] and "preview" in whys[1]
        assert whys[2].startswith("deprecated") and whys[4].startswith("unknown")
