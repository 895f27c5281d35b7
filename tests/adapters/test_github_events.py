"""adapters.github.events.parse_webhook: every real payload in ../shared/fixtures/github
becomes a typed event (or None for an event Rocket does not handle), and core reads no
payload field."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from adapters.github.events import ignored_summary, parse_webhook
from core import commands as c
from tests.support.fixtures import SHARED, github_payload, org_membership_payload

FIXTURES = sorted(p.name.removesuffix(".payload.json") for p in (SHARED / "github").glob("*.payload.json"))

# fixture -> the typed event it must become (None: not an event Rocket handles)
EXPECTED: dict[str, type | None] = {
    "membership.removed.with-deleted-team": c.GitHubMembershipRemoved,
    "organization.member_invited": c.GitHubMemberJoinedOrg,
    "organization.renamed": c.GitHubIgnored,
    "ping": c.GitHubPing,
    "ping.with-app_id": c.GitHubPing,
    "ping.with-organization": c.GitHubPing,
    "team.added_to_repository": c.GitHubTeamNoted,
    "team.created": c.GitHubTeamCreated,
    "team.deleted": c.GitHubTeamDeleted,
    "team.edited": c.GitHubTeamRenamed,
    "team.removed_from_repository": c.GitHubTeamNoted,
    "team_add": None,
    "team_add.with-installation": None,
}


def test_the_table_names_every_shared_fixture():
    assert FIXTURES and set(FIXTURES) == set(EXPECTED)


@pytest.mark.parametrize("name", FIXTURES)
def test_every_real_payload_becomes_its_typed_event(name: str):
    payload = github_payload(name)
    kind = name.split(".")[0]
    event = parse_webhook(kind, payload)
    expected = EXPECTED[name]
    if expected is None:
        assert event is None
        assert ignored_summary(kind, payload) == f"ignored: {kind} events are not handled"
        return
    assert type(event) is expected
    sender = payload.get("sender", {}).get("login", "")
    assert event.actor == sender
    team = payload.get("team")
    if isinstance(event, c.GitHubTeamCreated | c.GitHubTeamDeleted | c.GitHubTeamRenamed | c.GitHubTeamNoted):
        assert event.team_id == str(team["id"]) and event.slug == team["slug"]
    if isinstance(event, c.GitHubTeamCreated):
        assert event.name == team["name"]
    if isinstance(event, c.GitHubTeamNoted):
        assert event.action == payload["action"]
    if isinstance(event, c.GitHubMembershipRemoved):
        assert (event.team_id, event.github_id, event.login) == (
            str(team["id"]), str(payload["member"]["id"]), payload["member"]["login"])
    if isinstance(event, c.GitHubMemberJoinedOrg):
        assert event.login == payload["user"]["login"] and event.invited


def test_org_membership_changes_become_typed_events():
    removed = parse_webhook("organization", org_membership_payload("member_removed"))
    user = org_membership_payload("member_removed")["membership"]["user"]
    assert removed == c.GitHubMemberLeftOrg(str(user["id"]), user["login"], actor=removed.actor)
    added = parse_webhook("organization", org_membership_payload("member_added"))
    assert isinstance(added, c.GitHubMemberJoinedOrg) and not added.invited


MALFORMED = [None, [], "x", 5, {"action": 5}, {"team": "nope"}, {"team": {"id": None}},
             {"member": [], "team": {"id": True}}, {"sender": "x"}]


@pytest.mark.parametrize("payload", MALFORMED)
@pytest.mark.parametrize("event", ["team", "membership", "organization", "ping", "push", ""])
def test_malformed_payloads_never_raise(event: str, payload: Any):
    parsed = parse_webhook(event, payload)
    assert parsed is None or isinstance(parsed, c.Command)
    if parsed is None:
        assert ignored_summary(event, payload).startswith("ignored: ")


def test_membership_of_another_scope_is_ignored_with_the_reason():
    payload = github_payload("membership.removed.with-deleted-team") | {"scope": "organization"}
    assert parse_webhook("membership", payload) == c.GitHubIgnored(
        "ignored: membership scope 'organization'", actor=payload["sender"]["login"])


def test_core_reads_no_payload():
    """No module under core/ subscripts or .get()s anything: the adapter is the only reader."""
    root = Path(__file__).resolve().parents[2] / "core"
    for path in root.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
        args = {a.arg for n in ast.walk(tree) if isinstance(n, ast.arguments) for a in n.args}
        assert "payload" not in names | args, f"{path} handles a webhook payload"


# --- issue 11: webhook scope ---------------------------------------------------------------------
def test_scope_turns_other_orgs_and_installations_into_ignored_events() -> None:
    from adapters.github.events import WebhookScope
    from core.commands import GitHubIgnored, GitHubTeamCreated
    from tests.support.fixtures import ours

    scope = WebhookScope("rocket-org", "4242")
    payload = ours(github_payload("team.created"))  # installation 4242, org rocket-org
    assert isinstance(parse_webhook("team", payload, scope), GitHubTeamCreated)
    assert isinstance(parse_webhook("team", ours(payload, org="Rocket-ORG"), scope), GitHubTeamCreated)
    for bad in (ours(payload, org="evil-org"), ours(payload, installation_id=1)):
        event = parse_webhook("team", bad, scope)
        assert isinstance(event, GitHubIgnored) and event.summary.startswith("ignored:")
    unknown = parse_webhook("team", payload, WebhookScope("rocket-org", ""))
    assert isinstance(unknown, GitHubIgnored) and "could not be confirmed" in unknown.summary
    odd = parse_webhook("team", ours(payload, org="e\x00vil\ud800" * 20), scope)
    assert isinstance(odd, GitHubIgnored) and "\x00" not in odd.summary and len(odd.summary) < 200
    assert isinstance(parse_webhook("team", payload), GitHubTeamCreated)  # no scope: as before
