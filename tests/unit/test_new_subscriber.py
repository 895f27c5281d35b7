"""A consequence added without touching any handler: a new subscriber registered on the
production bus receives the domain events of ``team add`` (the slash-command path), of a
``membership`` webhook (the webhook path, from a real GitHub fixture) and of ``team refresh``."""

from __future__ import annotations

import copy

from core.bus import MessageBus
from core.context import Settings
from core.events import Event, MemberJoinedTeam, MemberLeftTeam, TeamsRefreshed, UserPromoted
from core.models import Team, User
from core.permissions import Permissions
from core.wiring import build_bus
from entrypoints.handlers import RocketHandlers
from entrypoints.metrics import Metrics
from tests.fakes.ports import FakeWorld, fake_world
from tests.support.fixtures import github_payload

SETTINGS = Settings(admin_team="admins")


class Recorder:
    """The new consequence: it only remembers what it was told."""

    def __init__(self) -> None:
        self.seen: list[Event] = []

    async def __call__(self, event: Event) -> None:
        self.seen.append(event)


async def setup() -> tuple[FakeWorld, MessageBus, Recorder, RocketHandlers]:
    world = fake_world()
    gh = world.github
    await world.store.store(User("UADMIN", github="admin-gh", github_user_id=gh.add_user("admin-gh", "500"),
                                 permission_level=Permissions.admin))
    await world.store.store(User("UNEW", email="new@example.org", github="new-gh",
                                 github_user_id=gh.add_user("new-gh", "501")))
    web = gh.add_team("web", "Web", members=["admin-gh"])
    await world.store.store(Team(web.id, "web", members={"500"}, team_leads={"500"}, folder="F-web"))
    bus = build_bus(world.ports, SETTINGS)
    recorder = Recorder()
    bus.subscribe(Event, recorder)  # the only new line: no handler changes
    handlers = RocketHandlers(bus, world.ports, SETTINGS, Metrics())
    return world, bus, recorder, handlers


async def test_team_add_through_the_slash_command_reaches_a_new_subscriber():
    world, _, recorder, handlers = await setup()
    reply = await handlers.slash_command({"user_id": "UADMIN", "text": "team add web <@UNEW|new>",
                                          "response_url": ""})
    assert reply["text"].startswith("Added UNEW to web"), reply
    joined = [e for e in recorder.seen if isinstance(e, MemberJoinedTeam)]
    assert [(e.slug, e.github_id, e.slack_id, e.actor) for e in joined] == [("web", "501", "UNEW", "UADMIN")]
    assert world.drive.shared["F-web"] == {"new@example.org"}  # the Drive subscriber still ran


async def test_membership_webhook_from_a_real_fixture_reaches_a_new_subscriber():
    world, _, recorder, handlers = await setup()
    payload = github_payload("membership.removed.with-deleted-team")
    team_id, member_id = str(payload["team"]["id"]), str(payload["member"]["id"])
    await world.store.store(Team(team_id, "admins", members={member_id, "500"}))
    await world.store.store(User("UCODER", github=payload["member"]["login"], github_user_id=member_id))

    outcome = await handlers.github_webhook("membership", "delivery-1", payload)
    assert outcome.status == 200 and outcome.body["applied"] is True
    [left] = [e for e in recorder.seen if isinstance(e, MemberLeftTeam)]
    assert (left.team_id, left.github_id, left.slack_id, left.via) == (team_id, member_id, "UCODER", "github")

    added = copy.deepcopy(payload)
    added["action"] = "added"
    outcome = await handlers.github_webhook("membership", "delivery-2", added)
    assert outcome.body["applied"] is True
    [joined] = [e for e in recorder.seen if isinstance(e, MemberJoinedTeam)]
    [promoted] = [e for e in recorder.seen if isinstance(e, UserPromoted)]
    assert joined.github_id == member_id and promoted.slack_id == "UCODER"
    assert recorder.seen.index(joined) < recorder.seen.index(promoted)  # consequences follow causes


async def test_team_refresh_reaches_a_new_subscriber():
    world, _, recorder, handlers = await setup()
    world.github.add_team("ios", "iOS", members=["new-gh"])
    reply = await handlers.slash_command({"user_id": "UADMIN", "text": "team refresh", "response_url": ""})
    assert "ios" in reply["text"], reply
    [done] = [e for e in recorder.seen if isinstance(e, TeamsRefreshed)]
    assert done.created == ("ios",) and done.actor == "UADMIN"
    joined = [(e.slug, e.slack_id, e.via) for e in recorder.seen if isinstance(e, MemberJoinedTeam)]
    assert ("ios", "UNEW", "refresh") in joined
    assert recorder.seen[-1] is done  # the summary comes last
