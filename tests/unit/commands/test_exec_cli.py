"""``rocket exec --as SLACK_ID "TEXT"`` as a real subprocess of the installed console script,
on a fresh SQLite database with no integration configured."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrypoints.cli import exec_line
from tests.support.cli import rocket as run_rocket


@pytest.fixture
def rocket(tmp_path: Path):
    """Run ``rocket ARGS`` in an empty directory against ``tmp_path/x.db``; returns the completed process."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PYTHONIOENCODING": "utf-8"}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return run_rocket(*args, env=env, cwd=tmp_path)

    return run


def test_admin_then_team_list_on_a_fresh_database(rocket) -> None:
    made = rocket("admin", "U_ADMIN")
    assert made.returncode == 0, made.stderr
    listed = rocket("exec", "--as", "U_ADMIN", "team list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.startswith("Teams (0)\n")
    assert "No teams yet" in listed.stdout


def test_a_refused_command_exits_1_and_says_why(rocket) -> None:
    assert rocket("admin", "U_ADMIN").returncode == 0
    refused = rocket("exec", "--as", "U_NOBODY", "user delete U_ADMIN")
    assert refused.returncode == 1
    assert refused.stdout.strip() == "Permission denied: Only admins can delete users"
    still_there = rocket("exec", "--as", "U_NOBODY", "user view --username U_ADMIN")
    assert still_there.returncode == 0
    assert "Slack ID: U_ADMIN" in still_there.stdout and "Permission: admin" in still_there.stdout


def test_changes_persist_between_runs_and_words_may_be_given_separately(rocket) -> None:
    edited = rocket("exec", "--as", "U1", "user", "edit", "--name", "Zoë Ångström", "--bio", "“hi” — there")
    assert edited.returncode == 0, edited.stdout + edited.stderr
    viewed = rocket("exec", "--as", "U2", "user view --username <@U1|zoe>")
    assert viewed.returncode == 0
    # the contract undoes smart quotes and em dashes everywhere, quoted values included
    assert "Name: Zoë Ångström" in viewed.stdout and 'Bio: "hi" -- there' in viewed.stdout


def test_help_malformed_lines_and_missing_integrations(rocket) -> None:
    helped = rocket("exec", "--as", "U1", "help")
    assert helped.returncode == 0 and "/rocket team create TEAM" in helped.stdout
    malformed = rocket("exec", "--as", "U1", "user edit --bogus")
    assert malformed.returncode == 1
    assert "unrecognized arguments: --bogus" in malformed.stdout
    assert "usage: /rocket user edit" in malformed.stdout
    no_github = rocket("exec", "--as", "U1", "user edit --github octocat")
    assert no_github.returncode == 1 and no_github.stdout.strip() == "GitHub is not configured"


def test_team_create_without_github_settings_says_so_and_stores_nothing(rocket) -> None:
    assert rocket("admin", "U_ADMIN").returncode == 0
    before = rocket("db", "export").stdout
    created = rocket("exec", "--as", "U_ADMIN", "team create x")
    assert created.returncode == 1
    assert created.stdout.strip() == "GitHub is not configured"
    assert rocket("db", "export").stdout == before
    assert '"teams": [\n]' in before


@given(st.lists(st.one_of(st.sampled_from(["team", "list", "U1", "--name", "a-b", "x=1", "", "é", "a b", "'",
                                           '"', "$x", "50%", "@U2", "++"]), st.text(max_size=4)),
                max_size=5))
def test_exec_joins_its_words_as_shlex_join_does(words: list[str]) -> None:
    line = exec_line(words)
    assert line == (words[0] if len(words) == 1 else shlex.join(words))
