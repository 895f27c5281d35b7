"""No reply over Slack's limits at 50,000 users and 1,000 teams (issue 15, must show 3).

A directory of ``USERS`` users and ``TEAMS`` teams of 5–50 members, 1,000 projects, plus the
worst cases such a directory holds: the default team ``all`` with every user in it, one user in
every team, names as long as ``core.limits`` allows. Every list, view and export command runs
through the production path (``run_command``: grammar, bus, renders) and its Slack payload
(``reply_payload``: the text escaped and clipped, the blocks) goes through the one Block Kit
checker, ``tests.support.blockkit`` (50 blocks, 3,000 characters a section, 40,000 characters
of message text, …). The suite runs it at 50,000 users on the memory store (fast: these are
renders, the storage cost is the scale bench's).
"""

from __future__ import annotations

import pytest

from core.models import Project, Team, User
from core.permissions import Permissions
from entrypoints.commands.dispatch import run_command
from entrypoints.handlers import MAX_MESSAGE_TEXT, reply_payload
from tests.fakes.ports import FakeWorld, fake_world
from tests.support.blockkit import assert_within_limits

USERS = 50_000
TEAMS = 1_000
ADMIN = "UADMIN"
EVERYWHERE = "UV000007"  # a member of every team


async def _fill(w: FakeWorld) -> None:
    s = w.store
    await s.store(User(ADMIN, name="Admin", email="admin@example.org", permission_level=Permissions.admin))
    for i in range(USERS):
        await s.store(User(f"UV{i:06d}", name=f"Person {i} " + "n" * 60, email=f"user{i}@example.org",
                           github=f"gh-{i}", github_user_id=str(i), bio="b" * 200))
    everyone = {str(i) for i in range(USERS)}
    await s.store(Team("1", "all", "Everyone", members=everyone, team_leads={"0"}))
    for t in range(TEAMS):
        size = 5 + t % 46  # 5 to 50 members
        members = {str((t * 50 + k) % USERS) for k in range(size)} | {"7"}
        await s.store(Team(str(1000 + t), f"team-{t:04d}-" + "x" * 40, f"Team {t} " + "d" * 60,
                           members=members, team_leads={str(t * 50 % USERS), "7"}))
        await s.store(Project(f"proj-{t:04d}", github_team_id=str(1000 + t), display_name=f"Project {t}",
                              github_urls={f"https://github.com/org/repo-{t}-{k}" for k in range(3)},
                              long_description="L" * 2000))


@pytest.fixture(scope="module")
def world() -> FakeWorld:
    import asyncio

    w = fake_world()
    asyncio.run(_fill(w))
    return w


COMMANDS = [
    (ADMIN, "team list"), (ADMIN, "team list --page 20"), (ADMIN, "team list --page 41"),
    (ADMIN, "project list"), (ADMIN, "project list --page 40"),
    (ADMIN, "team view all"), (ADMIN, "team view team-0500-" + "x" * 40),
    (ADMIN, "project view proj-0007"),
    (ADMIN, "user view"), (ADMIN, "user view --github gh-49999"),
    (ADMIN, "user view --email user5@example.org"),
    (ADMIN, f"user view --username {EVERYWHERE} --inspect"),
    (ADMIN, "export emails"), (ADMIN, "export emails --team all"),
    (ADMIN, "export emails --team team-0045-" + "x" * 40),
    (ADMIN, "karma view"), (ADMIN, "help"),
]


@pytest.mark.parametrize(("actor", "line"), COMMANDS, ids=[line[:40] for _, line in COMMANDS])
async def test_every_reply_at_50k_users_and_1000_teams_is_within_slack_limits(world: FakeWorld, actor: str,
                                                                             line: str) -> None:
    reply = await run_command(world.bus(), actor, line)
    assert reply.ok, reply.text[:500]
    payload = reply_payload(reply.text, reply.blocks)
    assert_within_limits(payload)
    assert len(payload["text"]) <= MAX_MESSAGE_TEXT and payload["text"].strip()


async def test_the_largest_views_are_cut_for_slack_but_whole_on_the_command_line(world: FakeWorld) -> None:
    reply = await run_command(world.bus(), ADMIN, "team view all")
    assert reply.text.count("Person ") == USERS + 1  # the CLI's text keeps every member (and the lead)
    payload = reply_payload(reply.text, reply.blocks)
    assert "cut short for Slack" in payload["text"] and len(payload["text"]) <= MAX_MESSAGE_TEXT
    inspect = await run_command(world.bus(), ADMIN, f"user view --username {EVERYWHERE} --inspect")
    assert inspect.text.count("team-") >= 2 * TEAMS  # in every team and leading every team


async def test_export_at_50k_replies_with_a_summary_and_sends_every_row(world: FakeWorld) -> None:
    reply = await run_command(world.bus(), ADMIN, "export emails")
    assert f"{USERS + 1:,} rows" in reply.text and len(reply.text) < 1000
    sent = world.chat.files[-1]
    assert sent.user_id == ADMIN and sent.content.count(b"\r\n") == USERS + 2  # header + every user
