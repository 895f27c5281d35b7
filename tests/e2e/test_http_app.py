"""End-to-end: the real Quart app on SQLite, the GitHub and Slack stand-ins over real HTTP,
Slack-signed commands and GitHub-signed webhooks built from ../shared/fixtures."""

from __future__ import annotations

import asyncio
import copy
import json
import time

from core.models import Project, Team, User
from entrypoints.bootstrap import make_admin
from tests.e2e.conftest import FORM, command_form, github_headers, slack_headers
from tests.fakes.ports import store_bus
from tests.support.fixtures import github_payload, org_membership_payload, slack_file


async def setup_people(w) -> None:
    """An admin with a GitHub login, and a member U2 registered with GitHub login octo2."""
    w.github.add_user("octo-admin", 501)
    w.github.add_user("octo2", 502)
    await make_admin(store_bus(w.store), "UADMIN")
    status, reply = await w.command("UADMIN", "user edit --github octo-admin --name \u201cAda Admin\u201d")
    assert status == 200 and "GitHub refused" not in reply["text"], reply
    status, reply = await w.command("U2", "user add")
    assert status == 200
    status, reply = await w.command("U2", "user edit --github octo2 --email two@example.com --name Two")
    assert status == 200, reply


async def test_user_team_project_and_karma_commands_change_github_then_directory(http_world):
    w = http_world
    await setup_people(w)
    admin = await w.store.retrieve(User, "UADMIN")
    assert (admin.name, admin.github, admin.github_user_id) == ("Ada Admin", "octo-admin", "501")
    assert "octo2" in w.github.invitations or "octo2" in w.github.org_members  # invited to the org

    status, reply = await w.command("UADMIN", 'team create brussel --name "Brussel Sprouts" --platform web')
    assert status == 200 and "brussel" in reply["text"], reply
    team_id = str(w.github.team_id("brussel"))
    team = await w.store.retrieve(Team, team_id)
    assert team.display_name == "Brussel Sprouts" and team.team_leads == {"501"}

    status, reply = await w.command("UADMIN", "team add brussel <@U2|two>")
    assert status == 200, reply
    assert "octo2" in w.github.memberships[int(team_id)]
    assert (await w.store.retrieve(Team, team_id)).members == {"501", "502"}

    status, reply = await w.command("U2", "team remove brussel UADMIN")
    assert "Permission denied" in reply["text"]
    assert (await w.store.retrieve(Team, team_id)).members == {"501", "502"}

    status, reply = await w.command(
        "UADMIN", "project create <https://github.com/octo/rocket|octo/rocket> brussel"
    )
    assert status == 200, reply
    [project] = await w.store.query(Project)
    assert project.github_urls == {"https://github.com/octo/rocket"} and project.github_team_id == team_id
    status, reply = await w.command("UADMIN", f"project delete {project.project_id}")
    assert await w.store.query(Project) != []  # assigned: needs -f
    status, reply = await w.command("UADMIN", f"project delete {project.project_id} -f")
    assert await w.store.query(Project) == []

    status, reply = await w.command("UADMIN", "<@U2|two> ++")
    assert status == 200 and (await w.store.retrieve(User, "U2")).karma == 2
    status, reply = await w.command("U2", "<@U2|two> ++")
    assert (await w.store.retrieve(User, "U2")).karma == 2  # not to yourself

    status, reply = await w.command("UADMIN", "team remove brussel U2")
    assert "octo2" not in w.github.memberships[int(team_id)]
    assert (await w.store.retrieve(Team, team_id)).members == {"501"}

    status, reply = await w.command("UADMIN", "team delete brussel")
    assert int(team_id) not in w.github.teams
    assert [t for t in await w.store.query(Team) if t.github_team_name == "brussel"] == []


async def test_github_refusal_leaves_directory_unchanged(http_world):
    w = http_world
    await setup_people(w)
    before = await w.directory()
    w.github.fail_next("POST /orgs/rocket-org/teams", 403, times=1)
    status, reply = await w.command("UADMIN", "team create refused-team")
    assert status == 200 and "GitHub" in reply["text"]
    assert await w.directory() == before


async def test_webhooks_of_each_kind_update_the_directory_and_notify(http_world):
    w = http_world
    assert (await w.webhook("ping", github_payload("ping"))).status_code == 200
    response = await w.webhook("team", github_payload("team.created"))
    assert response.status_code == 200 and (await response.get_json())["applied"] is True
    assert (await w.store.retrieve(Team, "3253328")).github_team_name == "github"

    await w.store.store(User("U7", github="Codertocat", github_user_id="21031067", email="c@example.com"))
    added = copy.deepcopy(github_payload("membership.removed.with-deleted-team"))
    added.update(action="added", team={"id": 3253328, "slug": "github", "name": "github"})
    assert (await (await w.webhook("membership", added)).get_json())["applied"] is True
    assert (await w.store.retrieve(Team, "3253328")).members == {"21031067"}

    await w.webhook("team", github_payload("team.edited"))
    assert (
        await (
            await w.webhook("membership", github_payload("membership.removed.with-deleted-team"))
        ).get_json()
    )["applied"] is True
    assert (await w.store.retrieve(Team, "3253328")).members == set()

    await w.store.store(User("U8", github="hacktocat", github_user_id="39652351"))
    assert (await w.webhook("organization", github_payload("organization.member_invited"))).status_code == 200
    assert (await (await w.webhook("organization", org_membership_payload("member_removed"))).get_json())[
        "applied"
    ]
    assert (await w.store.retrieve(User, "U8")).github == ""

    for name in ("team.added_to_repository", "team.removed_from_repository"):
        assert (await w.webhook("team", github_payload(name))).status_code == 200
    assert (await w.webhook("team_add", github_payload("team_add"))).status_code == 200
    assert (await w.webhook("push", {"ref": "x"})).status_code == 200
    assert (await (await w.webhook("team", github_payload("team.deleted"))).get_json())["applied"] is True
    assert await w.store.query(Team) == []

    notices = w.slack.channel_texts("rocket-notices")
    assert any("team github was created" in n for n in notices)
    assert any("Codertocat added to team github" in n for n in notices)
    assert any("hacktocat left the organization" in n for n in notices)


async def test_slack_url_verification_and_team_join(http_world):
    w = http_world
    response = await w.event(slack_file("url_verification.json"))
    assert (await response.get_json()) == {
        "challenge": json.loads(slack_file("url_verification.json"))["challenge"]
    }
    response = await w.event(slack_file("team_join.event.json"))
    assert response.status_code == 200
    user = await w.store.retrieve(User, "U0FAKENEW")
    assert (user.name, user.email, user.karma) == ("Fake Newcomer", "fake.newcomer@example.com", 1)
    assert len(w.slack.dm_texts("U0FAKENEW")) == 1


async def test_team_join_without_a_string_event_id_is_refused_and_stores_nothing(http_world):
    w = http_world
    envelope = json.loads(slack_file("team_join.event.json"))
    for bad_id in (None, 42, "", ["Ev1"]):
        response = await w.event({**envelope, "event_id": bad_id})
        assert response.status_code == 400, (bad_id, await response.get_data())
        assert "U0FAKENEW" not in {u.slack_id for u in await w.store.query(User)}, bad_id
    assert w.slack.dm_texts("U0FAKENEW") == []


async def test_repeated_delivery_and_event_are_applied_once(http_world):
    w = http_world
    body = json.dumps(github_payload("team.created")).encode()
    first = await w.webhook("team", body, delivery="delivery-1")
    await w.store.delete(Team, "3253328")  # if the repeat were applied, the team would come back
    second = await w.webhook("team", body, delivery="delivery-1")
    assert (await first.get_json())["applied"] is True and (await second.get_json())["duplicate"] is True
    assert await w.store.query(Team) == []

    event = slack_file("team_join.event.json")
    await w.event(event)
    retry = await w.event(event, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"})
    assert retry.status_code == 200 and (await retry.get_json())["duplicate"] is True
    assert len(w.slack.dm_texts("U0FAKENEW")) == 1


async def test_bad_requests_are_refused_and_change_nothing(http_world):
    w = http_world
    await make_admin(store_bus(w.store), "UADMIN")
    before = await w.directory()
    body = command_form("UADMIN", "karma reset --all")
    cases = [
        ({**slack_headers(body, secret="wrong"), "Content-Type": FORM}, body, 401),
        ({**slack_headers(body, timestamp=int(time.time()) - 600), "Content-Type": FORM}, body, 401),
        ({"Content-Type": FORM}, body, 401),
        ({**slack_headers(body), "Content-Type": "text/plain"}, body, 415),
        ({**slack_headers(body + "x"), "Content-Type": FORM}, body, 401),
    ]
    for headers, data, expected in cases:
        response = await w.client.post("/slack/commands", data=data, headers=headers)
        assert response.status_code == expected, (headers, await response.get_data())
    huge = "text=" + "a" * (1024 * 1024)
    response = await w.client.post(
        "/slack/commands", data=huge, headers={**slack_headers(huge), "Content-Type": FORM}
    )
    assert response.status_code in (401, 413)

    payload = json.dumps(github_payload("team.created")).encode()
    forged = github_headers("team", payload, secret="not-the-secret")
    assert (await w.client.post("/webhook", data=payload, headers=forged)).status_code == 401
    missing = {k: v for k, v in github_headers("team", payload).items() if k != "X-Hub-Signature-256"}
    assert (await w.client.post("/webhook", data=payload, headers=missing)).status_code == 401
    tampered = github_headers("team", payload)
    assert (await w.client.post("/webhook", data=payload + b" ", headers=tampered)).status_code == 401
    not_json = b"{nope"
    assert (
        await w.client.post("/webhook", data=not_json, headers=github_headers("team", not_json))
    ).status_code == 400
    event = slack_file("team_join.event.json")
    assert (
        await w.client.post("/slack/events", data=event, headers={"Content-Type": "application/json"})
    ).status_code == 401

    assert await w.directory() == before
    assert (await w.client.get("/healthz")).status_code == 200


async def test_slow_command_is_acknowledged_then_answered_at_response_url(http_world):
    w = http_world
    await setup_people(w)
    w.github.latency = 5.0
    started = time.perf_counter()
    status, reply = await w.command(
        "UADMIN", "team create slowpokes", response_url=w.slack.response_url("slow")
    )
    acknowledged = time.perf_counter() - started
    assert status == 200 and acknowledged < 3.0 and "Working on it" in reply["text"]
    for _ in range(300):
        if any(r.name == "slow" for r in w.slack.responses):
            break
        await asyncio.sleep(0.1)
    [delayed] = [r.body for r in w.slack.responses if r.name == "slow"]
    assert "slowpokes" in delayed["text"] and delayed["response_type"] == "ephemeral"
    assert [t for t in await w.store.query(Team) if t.github_team_name == "slowpokes"]


async def test_metric_labels_never_carry_what_the_user_typed(http_world):
    """Each distinct label is a time series kept for the process's life: only command names."""
    w = http_world
    for i in range(5):
        await w.command("U1", f'junk{i}"unterminated')
        await w.command("U1", f"junk{i} now")
    await w.command("U1", 'user edit --bio "unterminated')
    text = (await (await w.client.get("/metrics")).get_data()).decode()
    assert "junk" not in text
    assert 'rocket_commands_total{command="unparsed",outcome="refused"} 10.0' in text
    assert 'rocket_commands_total{command="user",outcome="refused"} 1.0' in text


async def test_metrics_and_health(http_world, tmp_path):
    w = http_world
    await w.command("U1", "help")
    await w.command("U1", "user add")
    await w.webhook("ping", github_payload("ping"))
    text = (await (await w.client.get("/metrics")).get_data()).decode()
    assert 'rocket_commands_total{command="help",outcome="ok"} 1.0' in text
    assert 'rocket_commands_total{command="user add",outcome="ok"} 1.0' in text
    assert 'rocket_command_seconds_count{command="user add"} 1.0' in text
    assert 'rocket_webhooks_total{event="ping",outcome="ignored",source="github"} 1.0' in text

    db = tmp_path / "rocket.db"
    assert (await w.client.get("/healthz")).status_code == 200
    db.rename(tmp_path / "moved.db")
    assert (await w.client.get("/healthz")).status_code == 503
    (tmp_path / "moved.db").rename(db)
    assert (await w.client.get("/healthz")).status_code == 200


async def test_status_page_names_integrations(http_world):
    page = (await (await http_world.client.get("/")).get_data()).decode()
    assert (
        "GitHub: on, " in page
        and "Slack: on, " in page
        and "Google Drive: off; set GCP_SERVICE_ACCOUNT_CREDENTIALS to turn it on" in page
    )


async def test_simultaneous_first_requests_share_one_handler_set(http_world):
    build = http_world.app.extensions["rocket_handlers"]
    built = await asyncio.gather(*(build() for _ in range(10)))
    assert all(h is built[0] for h in built)
