"""Rendering: one text per result (CLI and Slack fallback) and Block Kit built from the same view."""

from __future__ import annotations

import json
from typing import Any

import pytest

from adapters.slack.render import (
    MAX_BLOCKS,
    MAX_FIELD,
    MAX_HEADER,
    MAX_SECTION,
    render_blocks,
    render_reply,
    render_slack_text,
    render_text,
    set_github_web_url,
    text_blocks,
)
from core.models import Project, Team, User
from core.permissions import Permissions
from core.results import (
    Deleted,
    EmailList,
    KarmaReset,
    KarmaResult,
    ProjectList,
    ProjectResult,
    RefreshResult,
    TeamList,
    TeamResult,
    UserResult,
)
from entrypoints.commands.plain import render_plain

ALICE = User("U1", name="Alice", email="alice@x.org", github="alice", github_user_id="501", position="Dev",
             bio="Likes <b> & rockets", permission_level=Permissions.team_lead, karma=5)
BOB = User("U2", name="Bob", github="bob", github_user_id="502")
IOS = Team("900", "ios", "iOS Team", "iOS", team_leads={"501"}, members={"501", "502", "503"}, folder="F1")
PROJECT = Project("p1", "900", {"https://github.com/o/r"}, "Rocket", long_description="Long story")

CASES: list[tuple[Any, list[str]]] = [
    (UserResult(ALICE, "Added you", teams=[IOS], leading=[IOS], warnings=["DM failed"]),
     ["Added you", "Alice", "alice@x.org", "alice (id 501)", "team_lead", "5", "Likes <b> & rockets", "ios",
      "DM failed"]),
    (TeamResult(IOS, members=[ALICE, BOB], leads=[ALICE], projects=[PROJECT], message="Added U2 to ios"),
     ["Added U2 to ios", "iOS Team", "ios", "iOS", "F1", "Alice (U1, @alice)", "Bob (U2, @bob)",
      "1 GitHub member not registered here", "p1: Rocket"]),
    (TeamList([IOS, Team("901", "android", members={"502"})]),
     ["Teams (2)", "ios: iOS Team (iOS) · 3 members", "android · 1 member"]),
    (TeamList([]), ["Teams (0)", "No teams yet"]),
    (ProjectResult(PROJECT, IOS, "Created project p1"), ["Created project p1", "Rocket", "p1", "ios",
                                                          "https://github.com/o/r", "Long story"]),
    (ProjectResult(Project("p2")), ["p2", "unassigned"]),
    (ProjectList([PROJECT]), ["Projects (1)", "p1: Rocket · https://github.com/o/r"]),
    (ProjectList([]), ["Projects (0)", "No projects yet"]),
    (Deleted("team", "ios", "Deleted team ios"), ["Deleted team ios"]),
    (Deleted("user", "U9"), ["Deleted user U9"]),
    (KarmaResult(ALICE, "Gave U1 one karma; they now have 5"), ["Gave U1 one karma; they now have 5", "5"]),
    (KarmaReset(3), ["Karma reset: 3 users now have 1 karma"]),
    (EmailList(["a@x.org", "b@x.org"], IOS, missing=["U7"]),
     ["Emails of team ios (2)", "a@x.org, b@x.org", "U7"]),
    (RefreshResult(created=["web"], updated=["ios"], promoted=["U1"], warnings=["Drive refused F1"]),
     ["1 created, 1 updated, 0 deleted", "web", "ios", "U1", "Drive refused F1"]),
]


# What Slack shows for a value that names a person or a GitHub login (everything else: escaped).
SLACK_FORMS = {
    "alice (id 501)": "<https://github.com/alice|alice> (id 501)",
    "Alice (U1, @alice)": "Alice (<@U1>, <https://github.com/alice|alice>)",
    "Bob (U2, @bob)": "Bob (<@U2>, <https://github.com/bob|bob>)",
}


@pytest.fixture(autouse=True)
def _github_com() -> Any:
    set_github_web_url()  # profiles on github.com (a container built by another test may have moved it)
    yield
    set_github_web_url()


def _block_strings(blocks: list[dict[str, Any]]) -> str:
    return json.dumps(blocks, ensure_ascii=False)


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@pytest.mark.parametrize(("result", "expected"), CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_text_and_blocks_show_the_same_things(result: Any, expected: list[str]) -> None:
    text = render_text(result)
    assert render_plain(result) == text  # the CLI uses the very same text
    blocks = _block_strings(render_blocks(result))
    slack_text = render_slack_text(result)
    for value in expected:
        assert value in text
        assert SLACK_FORMS.get(value, _escaped(value)) in blocks
        assert SLACK_FORMS.get(value, _escaped(value)) in slack_text


@pytest.mark.parametrize(("result", "expected"), CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_render_reply_is_the_three_renderings_at_once(result: Any, expected: list[str]) -> None:
    text, blocks, slack_text = render_reply(result)
    assert text == render_text(result)
    assert blocks == render_blocks(result)
    assert slack_text == render_slack_text(result)
    assert all(e in text for e in expected)


def test_people_are_mentions_and_logins_link_to_the_configured_github() -> None:
    team = TeamResult(IOS, members=[ALICE, BOB], leads=[ALICE])
    assert "Alice (U1, @alice)" in render_text(team) and "<@" not in render_text(team)  # the CLI: plain
    assert "Alice (<@U1>, <https://github.com/alice|alice>)" in render_slack_text(team)
    set_github_web_url("https://ghe.example.com/api/v3")
    assert "<https://ghe.example.com/bob|bob>" in _block_strings(render_blocks(team))
    assert "<https://ghe.example.com/bob|bob>" in render_slack_text(team)
    set_github_web_url("https://api.github.com", "https://github.internal.example")
    assert "<https://github.internal.example/alice|alice>" in render_slack_text(KarmaResult(ALICE))


def test_user_text_never_becomes_a_mention_or_link_in_slack_text() -> None:
    sneaky = User("U3", name="<!channel> <@U1> <https://evil.example|click>", bio="*bold* & <#C1>",
                  github="evil")
    for result in (UserResult(sneaky, message="<!here>"), TeamResult(IOS, members=[sneaky]),
                   KarmaResult(sneaky)):
        text = render_slack_text(result)
        own = text.replace("<@U3>", "").replace("<https://github.com/evil|evil>", "")
        assert "<" not in own.replace("&lt;", "") and ">" not in own.replace("&gt;", ""), text
        assert "&lt;!channel&gt; &lt;@U1&gt; &lt;https://evil.example|click&gt;" in text
        mrkdwn = " ".join(_mrkdwn_texts(render_blocks(result)))
        own = mrkdwn.replace("<@U3>", "").replace("<https://github.com/evil|evil>", "")
        assert "<" not in own.replace("&lt;", "") and ">" not in own.replace("&gt;", ""), mrkdwn
    odd = User("x<@U1>", name="", github="not a login")  # ids of a foreign shape are escaped, not linked
    text = render_slack_text(TeamResult(IOS, members=[odd]))
    assert "x&lt;@U1&gt;" in text and "not a login" in text and "<https" not in text


def _mrkdwn_texts(node: Any) -> list[str]:
    if isinstance(node, list):
        return [t for item in node for t in _mrkdwn_texts(item)]
    if isinstance(node, dict):
        own = [node["text"]] if node.get("type") == "mrkdwn" else []
        return own + [t for value in node.values() for t in _mrkdwn_texts(value)]
    return []


def test_user_data_cannot_form_mentions_or_links_in_blocks() -> None:
    sneaky = User("U3", name="<!channel> <@U1> <https://evil.example|click>", bio="*bold* & <#C1>")
    blocks = render_blocks(UserResult(sneaky, message="<!here>"))
    mrkdwn = " ".join(_mrkdwn_texts(blocks)).replace("<@U3>", "")  # the Slack ID field: Rocket's mention
    assert "<" not in mrkdwn.replace("&lt;", "") and ">" not in mrkdwn.replace("&gt;", "")
    assert "&lt;!channel&gt;" in mrkdwn and "&lt;!here&gt;" in mrkdwn and "&amp; &lt;#C1&gt;" in mrkdwn
    headers = [b["text"] for b in blocks if b["type"] == "header"]
    assert headers[0]["type"] == "plain_text"  # plain text is never parsed, so it stays as typed
    assert headers[0]["text"].startswith("User <!channel>")


def test_huge_results_stay_within_slack_limits() -> None:
    teams = [Team(str(i), f"team-{i:04d}-" + "x" * 80, display_name="N" * 200) for i in range(2000)]
    emails = [f"person{i}@example.org" for i in range(5000)]
    long_user = User("U1", name="N" * 5000, bio="B" * 5000)
    for result in (TeamList(teams), EmailList(emails), UserResult(long_user)):
        blocks = render_blocks(result)
        assert 0 < len(blocks) <= MAX_BLOCKS
        for block in blocks:
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= MAX_HEADER
            if "text" in block and block["type"] == "section":
                assert len(block["text"]["text"]) <= MAX_SECTION
            for field in block.get("fields", []):
                assert len(field["text"]) <= MAX_FIELD
            assert len(block.get("fields", [])) <= 10
    assert render_text(EmailList(emails)).count("@example.org") == 5000  # the text keeps everything


def test_text_blocks_for_help_are_preformatted_and_bounded() -> None:
    help_text = "\n".join(f"line {i} <x> & y" for i in range(2000))
    blocks = text_blocks(help_text, preformatted=True)
    assert 1 < len(blocks) <= MAX_BLOCKS
    assert all(b["text"]["text"].startswith("```") and len(b["text"]["text"]) <= MAX_SECTION for b in blocks)
    assert "line 0 &lt;x&gt; &amp; y" in blocks[0]["text"]["text"]
    assert text_blocks("   ") == []


def test_an_unknown_result_is_shown_not_crashed() -> None:
    assert render_text(None) == "Done."
    assert render_text(42) == "42"
    assert render_blocks(42)[0]["type"] == "header"
