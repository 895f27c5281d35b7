"""Issue 13, the dialogs: team create modal, team view buttons and the member modal, "Link GitHub"
(the device flow, then ``views.update`` in place), the "Edit my profile" shortcut and view_closed.

Each flow runs over HTTP (signed requests to the Quart app) and over Socket Mode (envelopes through
the Bolt app ``rocket socket`` builds), against the GitHub stand-in (with its device-flow
endpoints) and the Slack stand-in, which records ``views.open`` / ``views.update`` /
``views.publish``. Every view and reply is checked by ``tests.support.blockkit``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.slack.views import PROFILE_SHORTCUT
from core.models import Team, User
from core.permissions import Permissions
from entrypoints.config import load_config
from entrypoints.container import make_container
from entrypoints.http import create_app
from entrypoints.manifest import build_manifest
from tests.e2e.conftest import FORM, rocket_env, slack_headers
from tests.e2e.test_device_flow_e2e import CLIENT_ID, eventually
from tests.e2e.test_slack_surfaces import (
    BLOCK_ACTIONS,
    HOME_OPENED,
    SECRET,
    VIEW_SUBMISSION,
    Driver,
    exported,
)
from tests.e2e.test_socket_mode import (
    RecordingSocketClient,
    envelope,
    handle_socket_request,
    socket_handlers,
)
from tests.support.blockkit import assert_within_limits
from tests.support.github_fixtures import github_app_key, github_env, github_standin  # noqa: F401
from tests.support.github_oauth_standin import GitHubOAuthStandIn
from tests.support.slack_standin import SlackStandIn, slack_standin_fixture  # noqa: F401

LEAD, ALICE, BOB, NOGH, STRANGER = "ULEAD", "UALICE", "UBOB", "UNOGH", "USTRANGER"


class Dialogs(Driver):
    """``Driver`` plus slash commands (with a trigger id) over the same transport."""

    async def command(self, user: str, text: str, trigger: str = "") -> dict[str, Any]:
        fields = {"token": "x", "team_id": "T1", "channel_id": "C1", "user_id": user, "user_name": user,
                  "command": "/rocket", "text": text, "trigger_id": trigger, "response_url": ""}
        if self.transport == "http":
            form = urlencode(fields)
            r = await self.http.post("/slack/commands", data=form,
                                     headers={**slack_headers(form, secret=SECRET), "Content-Type": FORM})
            assert r.status_code == 200
            return await r.get_json()
        req = envelope("slash_commands", fields, accepts_response_payload=True)
        await handle_socket_request(self.handlers, self.client, req)
        [ack] = self.client.acks(req.envelope_id)
        return ack.payload


@pytest.fixture
def oauth(github_standin) -> GitHubOAuthStandIn:  # noqa: F811
    return GitHubOAuthStandIn(CLIENT_ID, interval=1, expires_in=120).attach(github_standin)


@pytest.fixture(params=["http", "socket"])
async def world(request, tmp_path, github_env, github_standin, slack_standin,  # noqa: F811
                oauth) -> AsyncIterator[tuple[Dialogs, Any, Any]]:
    env = rocket_env(tmp_path, github_env, slack_standin)
    env.update(SLACK_SIGNING_SECRET=SECRET, GITHUB_CLIENT_ID=CLIENT_ID,
               GITHUB_OAUTH_URL=f"http://127.0.0.1:{github_standin.port}")
    slack_standin.add_channel("rocket-notices")
    container = make_container(load_config(env))
    store = await container.store()
    for slack_id, login, level in ((LEAD, "lead-gh", Permissions.team_lead), (ALICE, "alice-gh", None),
                                   (BOB, "bob-gh", None), (STRANGER, "stranger-gh", None)):
        gid = github_standin.add_user(login, org_member=True)
        await store.store(User(slack_id, name=slack_id.title(), github=login, github_user_id=str(gid),
                               github_verified=True, permission_level=level or Permissions.member))
    await store.store(User(NOGH, name="No GitHub"))
    if request.param == "http":
        app = create_app(container)
        async with app.test_app() as test_app:
            handlers = await app.extensions["rocket_handlers"]()
            yield Dialogs("http", http=test_app.test_client(), handlers=handlers), store, github_standin
    else:
        class Side:
            pass
        side = Side()
        side.container, side.store = container, store  # type: ignore[attr-defined]
        handlers = await socket_handlers(side)
        yield Dialogs("socket", handlers=handlers, client=RecordingSocketClient()), store, github_standin
        await handlers.close()
    await container.shutdown_resources()


def submission(view: dict[str, Any], view_id: str, user: str, values: dict[str, dict[str, Any]],
               view_hash: str = "h1") -> dict[str, Any]:
    """A view_submission of ``view`` by ``user`` with ``values`` ({block id: the action's state})."""
    payload = copy.deepcopy(VIEW_SUBMISSION)
    payload["user"] = {**payload["user"], "id": user}
    payload["view"] = {**payload["view"], "id": view_id, "hash": view_hash, "blocks": view["blocks"],
                       "callback_id": view["callback_id"],
                       "private_metadata": view.get("private_metadata", ""),
                       "state": {"values": {k: {"value": v} for k, v in values.items()}}}
    return payload


def text(value: str) -> dict[str, Any]:
    return {"type": "plain_text_input", "value": value}


def team_values(slug: str, members: list[str], lead: str = "") -> dict[str, dict[str, Any]]:
    """The team dialog's state: ``slug``, members picked, and the lead (none: the creator)."""
    return {"slug": text(slug), "name": text("Rocket Team"), "platform": text("iOS"),
            "lead": {"type": "users_select", "selected_user": lead or None},
            "members": {"type": "multi_users_select", "selected_users": members}, "folder": text("")}


def pressed(user: str, action_id: str, value: str, trigger: str,
            on_view: dict[str, Any] | None = None) -> dict[str, Any]:
    """A button press; ``on_view``: the modal it was pressed on (else a message or the Home)."""
    payload = copy.deepcopy(BLOCK_ACTIONS)
    if on_view is not None:
        payload["container"] = {"type": "view", "view_id": on_view["id"]}
        payload["view"] = on_view
    payload["user"] = {**payload["user"], "id": user}
    payload["trigger_id"] = trigger
    payload["actions"] = [{"action_id": action_id, "block_id": "team_actions", "type": "button",
                           "value": value, "text": {"type": "plain_text", "text": "x"}, "action_ts": "1.1"}]
    return payload


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {el["text"]["text"]: el for b in message.get("blocks", []) if b["type"] == "actions"
            for el in b["elements"]}


async def team(store: Any, slug: str) -> Team | None:
    found = [t for t in await store.query(Team) if t.github_team_name == slug]
    return found[0] if found else None


async def gid(store: Any, slack_id: str) -> str:
    return (await store.retrieve(User, slack_id)).github_user_id


async def test_team_create_modal_checks_fields_creates_once_and_refuses_non_leads(world, slack_standin):  # noqa: F811
    driver, store, github = world
    reply = await driver.command(LEAD, "team create", trigger="1111.2222.create")
    assert "team dialog" in reply["text"]
    [opened] = slack_standin.opened()
    assert opened.target == "1111.2222.create"  # views.open with the command's trigger id
    modal = assert_within_limits(opened.view)
    kinds = {b["block_id"]: b["element"]["type"] for b in modal["blocks"]}
    assert kinds == {"slug": "plain_text_input", "name": "plain_text_input", "platform": "plain_text_input",
                     "lead": "users_select", "members": "multi_users_select", "folder": "plain_text_input"}
    teams_on_github = len(github.teams)
    snapshot = await exported(store)

    values = team_values
    # a slug with a space (the slash command's own check): the error on its field, nothing created
    status, body = await driver.interaction(submission(modal, opened.view_id, LEAD, values("two words", [])))
    assert status == 200 and body["response_action"] == "errors" and list(body["errors"]) == ["slug"]
    # a member without GitHub (what `team add` requires): on the members field, nothing created
    status, body = await driver.interaction(
        submission(modal, opened.view_id, LEAD, values("rockets", [ALICE, NOGH]), "h2"))
    assert body["response_action"] == "errors" and list(body["errors"]) == ["members"]
    assert "GitHub" in body["errors"]["members"]
    # a NUL in a field: refused at the HTTP edge (400); over Socket Mode on its field
    status, body = await driver.interaction(
        submission(modal, opened.view_id, LEAD, values("nul\u0000team", []), "h2b"))
    if driver.transport == "http":
        assert status == 400
    else:
        assert body["response_action"] == "errors" and list(body["errors"]) == ["slug"]
        assert "cannot store" in body["errors"]["slug"]
    assert await exported(store) == snapshot and len(github.teams) == teams_on_github

    # a good submission: CreateTeam (the creator leads), then the members picked are added
    good = submission(modal, opened.view_id, LEAD, values("rockets", [ALICE, BOB]), "h3")
    status, body = await driver.interaction(good)
    assert status == 200 and body["response_action"] == "update", body
    shown = json.dumps(assert_within_limits(body["view"]))
    assert "Rocket Team" in shown and "rockets" in shown
    created = await team(store, "rockets")
    assert created is not None and (created.display_name, created.platform) == ("Rocket Team", "iOS")
    assert created.team_leads == {await gid(store, LEAD)}
    assert created.members == {await gid(store, u) for u in (LEAD, ALICE, BOB)}
    assert len(github.teams) == teams_on_github + 1

    # Slack retries the same submission: applied once
    assert await driver.interaction(copy.deepcopy(good)) == (200, None)
    assert len(github.teams) == teams_on_github + 1
    assert [t.github_team_name for t in await store.query(Team)].count("rockets") == 1

    # a member (not a lead) gets a refusal, no modal
    reply = await driver.command(ALICE, "team create", trigger="1111.2222.nolead")
    assert "Permission denied" in reply["text"] and len(slack_standin.opened()) == 1


async def test_a_slow_github_answers_creating_then_updates_the_modal_with_the_team(world, slack_standin):  # noqa: F811
    driver, store, github = world
    driver.handlers.surfaces.inline_seconds = 0.05  # GitHub slower than the answer may wait
    reply = await driver.command(LEAD, "team create", trigger="1111.2222.slow")
    assert "team dialog" in reply["text"]
    [opened] = slack_standin.opened()
    github.latency = 0.3
    teams_on_github = len(github.teams)
    slow = submission(opened.view, opened.view_id, LEAD, team_values("slowpokes", [ALICE]))
    status, body = await driver.interaction(slow)
    assert status == 200 and body["response_action"] == "update"
    assert "Creating" in json.dumps(assert_within_limits(body["view"]))
    assert await driver.interaction(copy.deepcopy(slow)) == (200, None)  # Slack retries meanwhile: once
    await driver.handlers.drain()
    github.latency = 0.0
    [update] = [v for v in slack_standin.views if v.method == "views.update"]
    assert update.target == opened.view_id  # the same modal, now showing the team
    assert "slowpokes" in json.dumps(assert_within_limits(update.view))
    created = await team(store, "slowpokes")
    assert created is not None and created.members == {await gid(store, u) for u in (LEAD, ALICE)}
    assert len(github.teams) == teams_on_github + 1
    assert await driver.interaction(copy.deepcopy(slow)) == (200, None)  # and after it: still once
    assert len(github.teams) == teams_on_github + 1


async def test_team_view_buttons_member_modal_and_forged_presses(world, slack_standin):  # noqa: F811
    driver, store, github = world
    lead_gid, alice_gid, bob_gid = [await gid(store, u) for u in (LEAD, ALICE, BOB)]
    tid = github.add_team("ios", "iOS", members=["lead-gh", "alice-gh"])
    await store.store(Team(str(tid), "ios", "iOS", team_leads={lead_gid}, members={lead_gid, alice_gid}))

    # the lead's `team view` has the buttons; a member's has none
    mine = await driver.command(LEAD, "team view ios")
    assert_within_limits(mine)
    assert set(buttons(mine)) == {"Add member", "Remove member", "Open team page"}
    assert "<@ULEAD>" in mine["text"]  # people as mentions in the reply text
    theirs = await driver.command(ALICE, "team view ios")
    assert "iOS" in theirs["text"] and buttons(theirs) == {}

    # a member forges the lead's press: refused by the same check, a modal says why, nothing changes
    snapshot = await exported(store)
    add = buttons(mine)["Add member"]
    forged_press = pressed(ALICE, add["action_id"], add["value"], "9.9.forged")
    assert await driver.interaction(forged_press) == (200, None)
    [refusal] = slack_standin.opened()
    assert refusal.target == "9.9.forged"
    refused = json.dumps(assert_within_limits(refusal.view))
    assert "Permission denied" in refused and "users_select" not in refused

    # the lead adds Bob through the users picker
    assert await driver.interaction(pressed(LEAD, add["action_id"], add["value"], "9.9.add")) == (200, None)
    picker = slack_standin.opened()[-1]
    assert picker.target == "9.9.add" and picker.view["callback_id"] == "rocket_team_member"
    assert_within_limits(picker.view)
    pick_bob = submission(picker.view, picker.view_id, LEAD, {"member": {"type": "users_select",
                                                                         "selected_user": BOB}})
    # ...but first the member forges that very submission: the handler refuses it, on the field
    forged = copy.deepcopy(pick_bob)
    forged["user"]["id"] = ALICE
    forged["view"]["hash"] = "forged"
    status, body = await driver.interaction(forged)
    assert body["response_action"] == "errors" and "member" in body["errors"]
    assert await exported(store) == snapshot
    assert await driver.interaction(pick_bob) == (200, None)
    assert (await team(store, "ios")).members == {lead_gid, alice_gid, bob_gid}
    assert await driver.interaction(copy.deepcopy(pick_bob)) == (200, None)  # a retry: once

    # the lead removes Alice
    remove = buttons(mine)["Remove member"]
    press_remove = pressed(LEAD, remove["action_id"], remove["value"], "9.9.rm")
    assert await driver.interaction(press_remove) == (200, None)
    picker = slack_standin.opened()[-1]
    assert picker.view["private_metadata"] == "remove:ios"
    status, body = await driver.interaction(submission(picker.view, picker.view_id, LEAD, {
        "member": {"type": "users_select", "selected_user": ALICE}}))
    assert (status, body) == (200, None)
    assert (await team(store, "ios")).members == {lead_gid, bob_gid}

    # "Open team page": the team as a modal
    page = buttons(mine)["Open team page"]
    press_open = pressed(LEAD, page["action_id"], page["value"], "9.9.open")
    assert await driver.interaction(press_open) == (200, None)
    opened = slack_standin.opened()[-1]
    assert opened.target == "9.9.open" and "iOS" in json.dumps(assert_within_limits(opened.view))

    # on that page, "Add member" pushes the picker over it; after the change the page is updated
    assert set(buttons(opened.view)) == {"Add member", "Remove member"}
    on_page = {**opened.view, "id": opened.view_id, "hash": "p1"}
    press = pressed(LEAD, add["action_id"], add["value"], "9.9.push", on_view=on_page)
    assert await driver.interaction(press) == (200, None)
    [push] = [v for v in slack_standin.views if v.method == "views.push"]
    assert push.target == "9.9.push" and push.view["callback_id"] == "rocket_team_member"
    assert_within_limits(push.view)
    pick_alice = submission(push.view, push.view_id, LEAD, {"member": {"type": "users_select",
                                                                      "selected_user": ALICE}})
    assert await driver.interaction(pick_alice) == (200, None)  # closes the picker only
    assert (await team(store, "ios")).members == {lead_gid, bob_gid, alice_gid}
    [update] = [v for v in slack_standin.views if v.method == "views.update"]
    assert update.target == opened.view_id  # the team page, changed in place
    assert "<@UALICE>" in json.dumps(assert_within_limits(update.view))
    # a member opening the page sees no buttons
    press_theirs = pressed(ALICE, page["action_id"], page["value"], "9.9.theirs")
    assert await driver.interaction(press_theirs) == (200, None)
    assert buttons(slack_standin.opened()[-1].view) == {}


async def test_link_github_shows_the_device_code_and_updates_the_modal_when_linked(  # noqa: F811
        world, slack_standin, oauth):
    driver, store, github = world
    github.add_user("nogh-gh")
    home_opened = copy.deepcopy(HOME_OPENED)
    home_opened["event"]["user"] = NOGH
    assert (await driver.event(home_opened))[0] == 200
    [home] = slack_standin.homes(NOGH)
    link = buttons(home)["Link GitHub"]
    press_link = pressed(NOGH, link["action_id"], link["value"], "4.4.link")
    assert await driver.interaction(press_link) == (200, None)
    [asked] = slack_standin.opened()
    assert asked.target == "4.4.link" and asked.view["callback_id"] == "rocket_link_github"
    assert_within_limits(asked.view)

    status, body = await driver.interaction(submission(asked.view, asked.view_id, NOGH,
                                                       {"github": text("not a login!")}))
    assert body["response_action"] == "errors" and list(body["errors"]) == ["github"]
    assert not oauth.grants

    good = submission(asked.view, asked.view_id, NOGH, {"github": text("nogh-gh")}, "h2")
    status, body = await driver.interaction(good)
    assert status == 200 and body["response_action"] == "update", body
    device_view = assert_within_limits(body["view"])
    grant = oauth.grant()
    shown = json.dumps(device_view)
    assert grant.user_code in shown and oauth.verification_uri in shown
    assert await driver.interaction(copy.deepcopy(good)) == (200, None)  # a retry starts no second code
    assert len(oauth.grants) == 1
    assert (await store.retrieve(User, NOGH)).github == ""  # nothing linked before approval

    oauth.approve(grant.user_code, "nogh-gh")
    [update] = await eventually(lambda: slack_standin.calls_to("views.update") and
                                [v for v in slack_standin.views if v.method == "views.update"],
                                what="views.update of the device-flow modal")
    assert update.view_id == asked.view_id  # the same modal, replaced in place
    assert "Verified" in json.dumps(assert_within_limits(update.view))
    me = await store.retrieve(User, NOGH)
    assert (me.github, me.github_verified) == ("nogh-gh", True)
    # the Home is republished, the login linked to its profile on the configured GitHub
    linked = f"<http://127.0.0.1:{github.port}/nogh-gh|nogh-gh>"
    await eventually(lambda: linked in json.dumps(slack_standin.homes(NOGH)[-1]), what="the Home republished")


async def test_shortcut_opens_the_editor_and_view_closed_changes_nothing(world, slack_standin):  # noqa: F811
    driver, store, _ = world
    shortcut = {"type": "shortcut", "token": "x", "action_ts": "1.2", "team": {"id": "T1", "domain": "w"},
                "user": {"id": ALICE, "username": "alice", "team_id": "T1"},
                "callback_id": PROFILE_SHORTCUT, "trigger_id": "6.6.shortcut"}
    assert await driver.interaction(shortcut) == (200, None)
    [opened] = slack_standin.opened()
    assert opened.target == "6.6.shortcut" and opened.view["callback_id"] == "rocket_profile"
    modal = assert_within_limits(opened.view)
    assert {b["block_id"]: b["element"].get("initial_value") for b in modal["blocks"]}["github"] == "alice-gh"
    other = {**shortcut, "callback_id": "someone_elses", "trigger_id": "6.6.other"}
    assert await driver.interaction(other) == (200, None)
    assert len(slack_standin.opened()) == 1  # an unknown shortcut opens nothing

    snapshot, views = await exported(store), len(slack_standin.views)
    closed = {"type": "view_closed", "team": {"id": "T1", "domain": "w"},
              "user": {"id": ALICE, "username": "alice", "team_id": "T1"}, "api_app_id": "A1",
              "is_cleared": False,
              "view": {**modal, "id": opened.view_id, "hash": "h", "state": {"values": {}}}}
    assert await driver.interaction(closed) == (200, None)
    assert await exported(store) == snapshot and len(slack_standin.views) == views


def test_the_manifest_lists_the_shortcut_rocket_answers() -> None:
    [shortcut] = build_manifest("https://rocket.example.org")["features"]["shortcuts"]
    assert (shortcut["type"], shortcut["callback_id"]) == ("global", PROFILE_SHORTCUT)
    assert shortcut["name"] == "Edit my profile"


async def test_link_github_without_the_device_flow_stores_it_unverified_and_says_so(http_world):
    """GitHub configured, ``GITHUB_CLIENT_ID`` not: the link modal's submission runs the same
    ``EditUser`` as ``/rocket user edit --github``, which stores the link unverified."""
    w = http_world
    w.github.add_user("plain-gh")

    async def interact(payload: dict[str, Any]) -> tuple[int, Any]:
        raw = urlencode({"payload": json.dumps(payload)})
        r = await w.client.post("/slack/interactions", data=raw,
                                headers={**slack_headers(raw), "Content-Type": FORM})
        data = await r.get_data()
        return r.status_code, json.loads(data) if data else None

    assert await interact(pressed(NOGH, "rocket_link_github", NOGH, "4.4.plain")) == (200, None)
    [asked] = w.slack.opened()
    status, body = await interact(submission(asked.view, asked.view_id, NOGH, {"github": text("plain-gh")}))
    assert status == 200 and body["response_action"] == "update"
    shown = json.dumps(assert_within_limits(body["view"]))
    assert "unverified" in shown and "plain-gh" in shown
    me = await w.store.retrieve(User, NOGH)
    assert (me.github, me.github_verified) == ("plain-gh", False)
    assert not [v for v in w.slack.views if v.method == "views.update"]  # no device flow to wait for


def test_the_readme_shows_the_views_these_builders_make() -> None:
    """README "Slack surfaces" (issue 13, must show 4): the JSON of each new surface is what its
    builder returns (the team dialog with three of its inputs, the reply with its buttons)."""
    import re
    from pathlib import Path

    from adapters.slack.views import device_modal, team_actions, team_create_modal

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")

    def example(after: str) -> Any:
        at = readme.index(after)
        block = re.compile(r"```json\n(.*?)```", re.S).search(readme, at)
        assert block is not None, after
        return json.loads(block.group(1))

    shown = example("`views.team_create_modal`:")
    built = team_create_modal()
    kept = [b["block_id"] for b in shown["blocks"]]
    assert kept == ["slug", "lead", "members"]
    assert shown == {**built, "blocks": [b for b in built["blocks"] if b["block_id"] in kept]}
    reply = example("`render.render_blocks` and `views.team_actions`:")
    assert reply["blocks"][-1] == team_actions("ios") and "<@U0ALICE>" in reply["text"]
    assert example("`views.device_modal`:") == device_modal("octocat", "https://github.com/login/device",
                                                            "WDJB-MJHT", 15)


async def test_a_closed_device_flow_modal_is_not_updated_when_the_link_completes(  # noqa: F811
        world, slack_standin, oauth):
    driver, store, github = world
    github.add_user("closer-gh")
    press_link = pressed(NOGH, "rocket_link_github", NOGH, "4.4.closer")
    assert await driver.interaction(press_link) == (200, None)
    [asked] = slack_standin.opened()
    status, body = await driver.interaction(submission(asked.view, asked.view_id, NOGH,
                                                       {"github": text("closer-gh")}))
    assert body["response_action"] == "update"
    closed = {"type": "view_closed", "team": {"id": "T1", "domain": "w"},
              "user": {"id": NOGH, "username": "nogh", "team_id": "T1"}, "api_app_id": "A1",
              "is_cleared": False, "view": {**body["view"], "id": asked.view_id, "hash": "h9",
                                            "state": {"values": {}}}}
    assert await driver.interaction(closed) == (200, None)
    oauth.approve(oauth.grant().user_code, "closer-gh")
    await eventually(lambda: any("Verified" in t for t in slack_standin.dm_texts(NOGH)), what="the DM")
    assert (await store.retrieve(User, NOGH)).github_verified  # linked all the same
    assert not [v for v in slack_standin.views if v.method == "views.update"]  # the closed modal left alone
