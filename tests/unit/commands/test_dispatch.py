"""run_command: one command on the bus per line, errors as clear replies, and whole command
lines run end to end through the real handlers on the fake world (and on SQLite for karma)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest

from adapters.sqlite.store import SqliteStore
from adapters.unavailable import Unavailable
from core.bus import MessageBus
from core.commands import Command
from core.context import Ports, Settings
from core.errors import (
    Conflict,
    IntegrationUnavailable,
    InvalidInput,
    NotFound,
    PermissionDenied,
    RocketError,
    StorageUnavailable,
    UpstreamError,
)
from core.models import Project, Team, User
from core.permissions import Permissions
from core.results import TeamList
from core.wiring import build_bus
from entrypoints.commands.dispatch import MAX_TEXT, SOMETHING_WENT_WRONG, run_command
from entrypoints.commands.grammar import group_help, overview, sub_help
from entrypoints.commands.reply import Reply
from tests.fakes.github import refused
from tests.fakes.ports import FakeWorld, fake_world
from tests.unit.commands.test_grammar import CONTRACT_FORMS, concrete

COMMANDS = build_bus(fake_world().ports, Settings()).commands


def RecordingUseCases(error: BaseException | None = None) -> Any:  # noqa: N802 (reads as a class)
    """A real bus whose handler for every command records it and returns a real result (or
    raises); ``bus.calls`` lists ``(command class, actor, command)``."""
    bus = MessageBus()
    calls: list[tuple[type, str, Command[Any]]] = []

    async def record(cmd: Command[Any]) -> TeamList:
        calls.append((type(cmd), cmd.actor, cmd))
        if error is not None:
            raise error
        return TeamList([Team("7", "recorded")])

    for cls in COMMANDS:
        bus.register(cls, record)
    bus.calls = calls  # type: ignore[attr-defined]
    return bus


# --- dispatch with a recording bundle -----------------------------------------------------------


@pytest.mark.parametrize("form", list(CONTRACT_FORMS))
async def test_each_contract_line_makes_exactly_one_call(form: str) -> None:
    usecases = RecordingUseCases()
    reply = await run_command(usecases, "U_ACTOR", concrete(form))
    usecase, kwargs = CONTRACT_FORMS[form]
    assert usecases.calls == [(usecase, "U_ACTOR", usecase(actor="U_ACTOR", **kwargs))]
    assert reply.ok and isinstance(reply.result, TeamList)
    assert "recorded" in reply.text and reply.blocks


@pytest.mark.parametrize(("line", "name"), [("", "help"), ("help", "help"), ("team help", "team help"),
                                            ("team add -h", "team add help")])
async def test_help_calls_nothing(line: str, name: str) -> None:
    usecases = RecordingUseCases()
    reply = await run_command(usecases, "U1", line)
    assert usecases.calls == []
    assert reply.ok and reply.result is None and reply.command == name
    assert reply.text.startswith(("/rocket", "Teams", "usage: /rocket team add"))
    assert reply.blocks and all(b["text"]["text"].startswith("```") for b in reply.blocks)


@pytest.mark.parametrize("line", ["help", "team help", "team add -h", "launch rockets", "user edit --frob",
                                  "team list", "x" * 5000, "user view \x00"])
async def test_without_blocks_a_reply_is_the_same_but_for_its_slack_forms(line: str) -> None:
    """``blocks=False`` (the CLI): the same reply, without blocks, and for a result without
    its Slack text (neither is rendered)."""
    full = await run_command(RecordingUseCases(), "U1", line)
    text_only = await run_command(RecordingUseCases(), "U1", line, blocks=False)
    assert full.blocks
    assert (text_only.ok, text_only.result, text_only.text, text_only.command) == (
        full.ok, full.result, full.text, full.command)
    assert text_only.blocks == [] and text_only.slack_text == ""
    assert full.slack_text or full.result is None  # a result's reply had a Slack form to skip


@pytest.mark.parametrize(
    ("line", "help_text"),
    [
        ('user edit --bio "oops', group_help("user")),
        ("user edit --frob", sub_help("user", "edit")),
        ("launch rockets", overview()),
        ("team add ios", sub_help("team", "add")),
    ],
)
async def test_malformed_lines_reply_with_help_and_call_nothing(line: str, help_text: str) -> None:
    usecases = RecordingUseCases()
    reply = await run_command(usecases, "U1", line)
    assert usecases.calls == []
    assert not reply.ok and reply.result is None
    assert reply.text.startswith("Error: ") and reply.text.endswith(help_text)


async def test_too_long_lines_are_refused_unparsed() -> None:
    usecases = RecordingUseCases()
    prefix = "user edit --bio "
    at_limit = prefix + "x" * (MAX_TEXT - len(prefix))
    reply = await run_command(usecases, "U1", at_limit)
    assert reply.ok and usecases.calls[0][2].bio == "x" * (MAX_TEXT - len(prefix))
    reply = await run_command(usecases, "U1", at_limit + "x")
    assert not reply.ok and len(usecases.calls) == 1
    assert "too long" in reply.text and "4,000" in reply.text
    # too long is said first, whatever the line holds (a NUL in it is not even scanned for)
    reply = await run_command(usecases, "U1", "x\x00" * MAX_TEXT)
    assert not reply.ok and len(usecases.calls) == 1 and "too long" in reply.text


async def test_an_empty_actor_is_refused() -> None:
    usecases = RecordingUseCases()
    reply = await run_command(usecases, " ", "team list")
    assert not reply.ok and usecases.calls == [] and "user" in reply.text


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (PermissionDenied("Only admins can delete users"), "Permission denied: Only admins can delete users"),
        (NotFound("No team 'x' (see `/rocket team list`)"), "No team 'x' (see `/rocket team list`)"),
        (Conflict("already registered; use -f to overwrite"), "already registered; use -f to overwrite"),
        (InvalidInput("'nope' is not an email address"), "'nope' is not an email address"),
        (IntegrationUnavailable("GitHub"), "GitHub is not configured"),
        (IntegrationUnavailable("Google Drive"), "Google Drive is not configured"),
        (UpstreamError("GitHub", "Validation Failed"), "GitHub refused: Validation Failed"),
        (StorageUnavailable(), "The database is unavailable right now; try again shortly"),
        (RocketError("Some other refusal"), "Some other refusal"),
    ],
)
async def test_core_errors_become_clear_replies(error: RocketError, text: str) -> None:
    reply = await run_command(RecordingUseCases(error), "U1", "team list")
    assert reply == Reply(False, None, text, reply.blocks, "team list")
    assert reply.blocks[0]["text"]["text"]


async def test_unexpected_errors_are_logged_and_answered_briefly(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.ERROR, logger="rocket.commands")
    reply = await run_command(RecordingUseCases(KeyError("secret internals")), "U1", "team view ios")
    assert not reply.ok and reply.text == SOMETHING_WENT_WRONG
    assert "secret internals" not in reply.text
    [record] = [r for r in caplog.records if r.name == "rocket.commands"]
    assert record.exc_info is not None and "team view" in record.getMessage()


async def test_a_broken_bundle_still_gets_a_reply(caplog: pytest.LogCaptureFixture) -> None:
    reply = await run_command(object(), "U1", "team list")  # type: ignore[arg-type]
    assert not reply.ok and reply.text == SOMETHING_WENT_WRONG
    assert any(r.exc_info for r in caplog.records)


# --- end to end through the real use-cases on the fake world -----------------------------------


async def _world() -> tuple[FakeWorld, MessageBus]:
    world = fake_world()
    await world.store.store(User("U_ADMIN", name="Ada", permission_level=Permissions.admin))
    world.github.add_user("ada", "500")
    world.github.add_user("alice", "501")
    world.github.add_user("bob", "502")
    return world, build_bus(world.ports, Settings())


async def _user(world: FakeWorld, slack_id: str) -> User:
    return await world.store.retrieve(User, slack_id)


async def _team(world: FakeWorld, slug: str) -> Team | None:
    teams = await world.store.query(Team, [("github_team_name", slug)])
    return teams[0] if teams else None


async def test_user_lines_end_to_end() -> None:
    world, uc = await _world()
    ok = await run_command(uc, "U1", "user add")
    assert ok.ok and (await _user(world, "U1")).karma == 1
    again = await run_command(uc, "U1", "user add")
    assert not again.ok and "already registered" in again.text

    line = (
        "user edit \u2014name \u201cAlice Liddell\u201d --email <mailto:alice@x.org|alice@x.org> --pos Dev "
        "--major CS --bio 'down the hole' --github alice"
    )
    reply = await run_command(uc, "U1", line)
    assert reply.ok, reply.text
    alice = await _user(world, "U1")
    assert (alice.name, alice.email, alice.position, alice.major, alice.bio) == (
        "Alice Liddell", "alice@x.org", "Dev", "CS", "down the hole"
    )
    assert (alice.github, alice.github_user_id) == ("alice", "501")
    assert "alice" in world.github.org_members and "alice" in world.github.members_of("all")
    assert "Alice Liddell" in reply.text and "alice@x.org" in reply.text

    denied = await run_command(uc, "U1", "user edit --username <@U_ADMIN|ada> --name Mallory")
    assert not denied.ok and denied.text.startswith("Permission denied: ")
    assert (await _user(world, "U_ADMIN")).name == "Ada"
    denied = await run_command(uc, "U1", "user edit --permission admin")
    assert not denied.ok and (await _user(world, "U1")).permission_level == Permissions.member

    promoted = await run_command(uc, "U_ADMIN", "user edit --username <@U1|alice> --permission team_lead")
    assert promoted.ok and (await _user(world, "U1")).permission_level == Permissions.team_lead

    for line in ("user view --username U1", "user view --github alice", "user view --email alice@x.org"):
        view = await run_command(uc, "U_ADMIN", line)
        assert view.ok and view.result.user.slack_id == "U1" and "Alice Liddell" in view.text
    assert (await run_command(uc, "U_ADMIN", "team refresh")).ok  # stores GitHub's "all" team
    me = await run_command(uc, "U1", "user view --inspect")
    assert me.ok and me.result.teams is not None and "all" in [t.github_team_name for t in me.result.teams]

    bad = await run_command(uc, "U1", "user edit --email not-an-email")
    assert not bad.ok and (await _user(world, "U1")).email == "alice@x.org"

    denied = await run_command(uc, "U1", "user delete U_ADMIN")
    assert not denied.ok and denied.text.startswith("Permission denied: ")
    deleted = await run_command(uc, "U_ADMIN", "user delete <@U1|alice>")
    assert deleted.ok and "U1" in deleted.text
    assert await world.store.query(User, [("slack_id", "U1")]) == []
    missing = await run_command(uc, "U_ADMIN", "user view --username U1")
    assert not missing.ok and "U1" in missing.text


async def _team_setup(world: FakeWorld, uc: MessageBus) -> None:
    for actor, line in [
        ("U1", "user edit --name Alice --email alice@x.org --github alice"),
        ("U2", "user edit --name Bob --email bob@x.org --github bob"),
        ("U_ADMIN", "user edit --github ada --email ada@x.org"),
        ("U_ADMIN", "user edit --username U1 --permission team_lead"),
        # self-set links are unverified (issue 11): the admin confirms them
        ("U_ADMIN", "user edit --username U1 --github alice"),
        ("U_ADMIN", "user edit --username U2 --github bob"),
    ]:
        reply = await run_command(uc, actor, line)
        assert reply.ok, reply.text


async def test_team_lines_end_to_end() -> None:
    world, uc = await _world()
    await _team_setup(world, uc)

    denied = await run_command(uc, "U2", "team create nope")
    assert not denied.ok and denied.text.startswith("Permission denied")
    assert await _team(world, "nope") is None

    created = await run_command(
        uc, "U1", "team create ios --name 'iOS Team' --platform iOS --lead <@U1|alice> --folder F1"
    )
    assert created.ok, created.text
    ios = await _team(world, "ios")
    assert ios is not None and (ios.display_name, ios.platform, ios.folder) == ("iOS Team", "iOS", "F1")
    assert "501" in ios.team_leads and ios.github_team_id in world.github.teams

    edited = await run_command(uc, "U1", "team edit ios --platform Swift --name 'iOS'")
    assert edited.ok and (await _team(world, "ios")).platform == "Swift"

    added = await run_command(uc, "U1", "team add ios <@U2|bob>")
    assert added.ok and "502" in (await _team(world, "ios")).members
    assert "bob" in world.github.members_of("ios")

    view = await run_command(uc, "U2", "team view ios")
    assert view.ok and "Bob" in view.text and "Alice" in view.text and "Swift" in view.text

    lead = await run_command(uc, "U1", "team lead ios U2")
    assert lead.ok and "502" in (await _team(world, "ios")).team_leads
    unlead = await run_command(uc, "U1", "team lead ios U2 --remove")
    assert unlead.ok and "502" not in (await _team(world, "ios")).team_leads
    await run_command(uc, "U1", "team lead ios U2")
    removed = await run_command(uc, "U1", "team remove ios U2")
    after = await _team(world, "ios")
    assert removed.ok and "502" not in after.members and "502" not in after.team_leads

    listed = await run_command(uc, "U2", "team list")
    assert listed.ok and [t.github_team_name for t in listed.result.teams] == ["ios"]

    denied = await run_command(uc, "U2", "team delete ios")
    assert not denied.ok and await _team(world, "ios") is not None
    gone = await run_command(uc, "U_ADMIN", "team delete ios")
    assert gone.ok and await _team(world, "ios") is None and ios.github_team_id not in world.github.teams

    denied = await run_command(uc, "U1", "team refresh")
    assert not denied.ok and denied.text.startswith("Permission denied")
    world.github.add_team("android", members=["bob"])
    refreshed = await run_command(uc, "U_ADMIN", "team refresh")
    assert refreshed.ok and "android" in refreshed.result.created and "android" in refreshed.text
    android = await _team(world, "android")
    assert android is not None and android.members == {"502"}


async def test_project_lines_end_to_end() -> None:
    world, uc = await _world()
    await _team_setup(world, uc)
    assert (await run_command(uc, "U1", "team create ios --lead U1")).ok
    assert (await run_command(uc, "U_ADMIN", "team create android")).ok
    ios, android = await _team(world, "ios"), await _team(world, "android")

    line = "project create <https://github.com/o/r|github.com/o/r> ios --name Rocket"
    created = await run_command(uc, "U1", line)
    assert created.ok, created.text
    pid = created.result.project.project_id
    stored = await world.store.retrieve(Project, pid)
    assert stored.github_urls == {"https://github.com/o/r"} and stored.github_team_id == ios.github_team_id
    assert stored.display_name == "Rocket"

    assert (await run_command(uc, "U1", f"project edit {pid} --name 'Rocket 2'")).ok
    assert (await world.store.retrieve(Project, pid)).display_name == "Rocket 2"
    view = await run_command(uc, "U2", f"project view {pid}")
    assert view.ok and "Rocket 2" in view.text and "https://github.com/o/r" in view.text
    listed = await run_command(uc, "U2", "project list")
    assert listed.ok and [p.project_id for p in listed.result.projects] == [pid]

    conflict = await run_command(uc, "U_ADMIN", f"project assign {pid} android")
    assert not conflict.ok and "-f" in conflict.text
    assert (await world.store.retrieve(Project, pid)).github_team_id == ios.github_team_id
    forced = await run_command(uc, "U_ADMIN", f"project assign {pid} android -f")
    assert forced.ok and (await world.store.retrieve(Project, pid)).github_team_id == android.github_team_id

    assert (await run_command(uc, "U_ADMIN", f"project unassign {pid}")).ok
    assert (await world.store.retrieve(Project, pid)).github_team_id == ""

    second = await run_command(uc, "U1", "project create o/other ios")
    pid2 = second.result.project.project_id
    refused_delete = await run_command(uc, "U1", f"project delete {pid2}")
    assert not refused_delete.ok and "-f" in refused_delete.text
    assert (await run_command(uc, "U1", f"project delete {pid2} -f")).ok
    assert await world.store.query(Project, [("project_id", pid2)]) == []


async def test_karma_and_email_lines_end_to_end() -> None:
    world, uc = await _world()
    await _team_setup(world, uc)
    assert (await run_command(uc, "U1", "team create ios --lead U1")).ok
    assert (await run_command(uc, "U1", "team add ios U2")).ok

    given = await run_command(uc, "U_ADMIN", "<@U1|alice> ++")
    assert given.ok and (await _user(world, "U1")).karma == 2
    self_given = await run_command(uc, "U1", "<@U1|alice> ++")
    assert not self_given.ok and (await _user(world, "U1")).karma == 2
    unknown = await run_command(uc, "U1", "<@U404|ghost> ++")
    assert not unknown.ok and "U404" in unknown.text

    view = await run_command(uc, "U2", "karma view <@U1|alice>")
    assert view.ok and "2" in view.text and view.result.user.karma == 2
    denied = await run_command(uc, "U1", "karma set U2 50")
    assert not denied.ok and (await _user(world, "U2")).karma == 1
    assert (await run_command(uc, "U_ADMIN", "karma set U2 50")).ok
    assert (await _user(world, "U2")).karma == 50
    reset = await run_command(uc, "U_ADMIN", "karma reset --all")
    assert reset.ok and {u.karma for u in await world.store.query(User)} == {1}

    everyone = await run_command(uc, "U_ADMIN", "export emails")
    assert everyone.ok and set(everyone.result.emails) == {"alice@x.org", "bob@x.org", "ada@x.org"}
    assert "3 rows, sent to your DMs" in everyone.text  # the list itself is the CSV file (issue 15)
    assert b"bob@x.org" in world.chat.files[-1].content and world.chat.files[-1].user_id == "U_ADMIN"
    team = await run_command(uc, "U1", "export emails --team ios")
    assert team.ok and set(team.result.emails) == {"alice@x.org", "bob@x.org"}
    denied = await run_command(uc, "U2", "export emails")
    assert not denied.ok and denied.text.startswith("Permission denied")


async def test_absent_and_refusing_github_end_to_end() -> None:
    world, _ = await _world()
    ports = world.ports
    offline = build_bus(
        Ports(ports.store, Unavailable("GitHub"), ports.chat, ports.drive, ports.clock, ports.ids), Settings()
    )
    reply = await run_command(offline, "U1", "user edit --github alice")
    assert not reply.ok and reply.text == "GitHub is not configured"
    assert await world.store.query(User, [("github", "alice")]) == []

    online = build_bus(ports, Settings())
    assert (await run_command(online, "U_ADMIN", "user edit --github ada")).ok
    world.github.fail_on["create_team"] = refused("name already taken")
    reply = await run_command(online, "U_ADMIN", "team create web")
    assert not reply.ok and reply.text == "GitHub refused: name already taken"
    assert await _team(world, "web") is None


async def test_help_end_to_end() -> None:
    _, uc = await _world()
    reply = await run_command(uc, "U1", "help")
    assert reply.ok and reply.text == overview()


# --- concurrency on SQLite --------------------------------------------------------------------


async def test_100_concurrent_karma_gifts_on_sqlite_all_count(tmp_path: Any) -> None:
    store = await SqliteStore.open(str(tmp_path / "karma.db"))
    try:
        world = fake_world()
        ports = Ports(store, world.github, world.chat, world.drive, world.clock, world.ids)
        uc = build_bus(ports, Settings())
        await store.store(User("U1", name="Receiver"))
        replies = await asyncio.gather(
            *(run_command(uc, f"U_GIVER{i}", "<@U1|receiver> ++") for i in range(100))
        )
        assert all(r.ok for r in replies), [r.text for r in replies if not r.ok][:3]
        assert (await store.retrieve(User, "U1")).karma == 1 + 100
        # every reply reports a distinct running total: no two gifts saw the same count
        totals = sorted(r.result.user.karma for r in replies)
        assert totals == list(range(2, 102))
    finally:
        await store.close()
