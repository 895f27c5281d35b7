"""Property: whatever text arrives, run_command answers with a Reply that has text, and never raises."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from core.context import Settings
from core.models import User
from core.permissions import Permissions
from core.wiring import build_bus
from entrypoints.commands.dispatch import run_command
from entrypoints.commands.escapes import unescape
from entrypoints.commands.grammar import GRAMMAR
from entrypoints.commands.reply import Reply
from tests.fakes.ports import fake_world

WORDS = sorted(
    {"help", "-h", "--help", "++", "-f", "--force", "--all", "--remove", "--inspect"}
    | set(GRAMMAR)
    | {sub for group in GRAMMAR.values() for sub in group.subs}
    | {opt for group in GRAMMAR.values() for sub in group.subs.values()
       for action in sub._actions for opt in action.option_strings}
)
SLACKY = [
    "<@U1|alice>", "<@U_ADMIN>", "<#C1|general>", "<mailto:a@b.co|a@b.co>", "<https://github.com/o/r>",
    "&amp;", "&lt;", "&gt;", "\u201c", "\u201d", "\u2018", "\u2019", "\u2014", '"', "'", "\\", "<", ">", "|",
]
ODD = [
    "\x00", "\u200b", "\u00a0", "\u202e", "\ufeff", "🚀", "Zoë", "İ", "ß",
    "\U0001f9d1\u200d\U0001f680", "\ud800",
]
COMMANDS = [f"{g} {s}" for g, group in GRAMMAR.items() for s in group.subs]

token = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(SLACKY),
    st.sampled_from(ODD),
    st.text(min_size=1, max_size=12),
    st.integers(-10**12, 10**12).map(str),
)
line = st.one_of(
    st.lists(token, max_size=12).map(" ".join),
    st.lists(token, max_size=12).map("".join),
    st.text(max_size=300),
    st.builds(lambda t, n: t * n, st.text(min_size=1, max_size=8), st.integers(500, 10_240)),  # up to ~80 KB
    st.builds(
        lambda w, n: f"user edit --bio \"{w * n}\"", st.sampled_from(["x", "é", "🚀"]), st.integers(1, 10_240)
    ),
    st.builds(
        lambda c, words: f"{c} {' '.join(words)}", st.sampled_from(COMMANDS), st.lists(token, max_size=6)
    ),
)


async def _run(text: str, actor: str) -> Reply:
    world = fake_world()
    await world.store.store(User("U_ADMIN", permission_level=Permissions.admin))
    await world.store.store(User("U1", name="Alice"))
    world.github.add_user("alice", "501")
    return await run_command(build_bus(world.ports, Settings()), actor, text)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=line, actor=st.sampled_from(["U_ADMIN", "U1", "U_NEW", "\u200b", ""]))
def test_run_command_always_replies(text: str, actor: str) -> None:
    reply = asyncio.run(_run(text, actor))
    event(f"ok={reply.ok}, parsed={bool(reply.command)}")
    assert isinstance(reply, Reply)
    assert isinstance(reply.text, str) and reply.text.strip()
    assert isinstance(reply.ok, bool) and isinstance(reply.blocks, list)
    if len(text) > 4000:
        assert not reply.ok and "too long" in reply.text
    reply.text.encode("utf-8")  # printable by the CLI and sendable to Slack
    for block in reply.blocks:
        assert block["type"] in {"section", "header", "context"}


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(blacklist_characters="<>&\u201c\u201d\u2018\u2019\u2014"),
                    max_size=200))
def test_unescape_leaves_text_without_slack_markup_alone(text: str) -> None:
    assert unescape(text) == text
