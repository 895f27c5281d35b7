"""Issue 17, finding 6: ``rocket exec`` on the default SQLite backend with no integration takes the
fast path (entrypoints/quick.py): it imports none of the heavy parts (a guard against regressions,
not a timed test), and answers exactly as the container path does, errors included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import entrypoints.container
import entrypoints.quick
from entrypoints.cli import main
from entrypoints.config import ConfigError, load_config

# Never imported by `rocket exec` on SQLite without integrations (each is 10-200 ms, or pulls such).
HEAVY = ("pydantic", "pydantic_core", "pydantic_settings", "dependency_injector", "quart", "hypercorn",
         "werkzeug", "yaml", "slack_bolt", "slack_sdk", "github", "googleapiclient", "google", "aioboto3",
         "boto3", "botocore", "pymongo", "motor", "aiohttp", "apscheduler", "prometheus_client", "jwt",
         "requests", "dotenv")
CLEARED = ("GITHUB_", "SLACK_", "GCP_", "AWS_", "DATABASE_URL", "PORT", "ROCKET_")


def _clean_env(**extra: str) -> dict[str, str]:
    return {**{k: v for k, v in os.environ.items() if not k.startswith(CLEARED)}, **extra}


def modules_after(argv: list[str], cwd: Path, **env: str) -> set[str]:
    """Every module imported by ``rocket ARGV`` in a fresh interpreter (default backend: a
    rocket.db in ``cwd``)."""
    script = (
        "import sys\n"
        "from entrypoints.cli import main\n"
        f"code = main({argv!r})\n"
        "print('MODULES', code, ' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True,
                            env=_clean_env(**env), timeout=120)
    [line] = [line for line in result.stderr.splitlines() if line.startswith("MODULES ")]
    code, *modules = line.split()[1:]
    assert code in ("0", "1"), result.stderr
    return set(modules)


def heavy_in(modules: set[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY))


# Ports only annotations name on the fast path (each Protocol module costs 1-4 ms to import).
UNUSED_PORTS = {"ports.github", "ports.identity", "ports.chat", "ports.drive"}
# Imported when an audit entry is appended or read, not when the audit log is opened (issue 17).
AUDIT_ON_USE = {"core.audit", "core.subscribers.audit"}
# Imported where first used, not at start-up (issue 17): shlex (malformed quoting, a word to
# quote), unicodedata (checking typed text), random (featuring a channel).
LOADED_ON_USE = {"shlex", "unicodedata", "random"}


def test_exec_help_imports_none_of_the_heavy_parts_nor_the_handlers(tmp_path):
    modules = modules_after(["exec", "--as", "U1", "help"], tmp_path)
    assert {"entrypoints.commands.dispatch", "adapters.sqlite.store", "adapters.sqlite.audit"} <= modules
    assert (tmp_path / "rocket.db").exists()  # it ran, on SQLite, with its audit log
    assert heavy_in(modules) == []
    assert "core.wiring" not in modules  # help needs no handlers
    assert "core.context" in modules and "core.events" not in modules  # nor the ports, nor events
    assert "adapters.slack.render" not in modules  # the CLI prints help as text: no Slack blocks
    assert not UNUSED_PORTS & modules and "uuid" not in modules and "hashlib" not in modules
    assert not LOADED_ON_USE & modules  # what a line without quotes, nor a check of text, needs not
    assert not AUDIT_ON_USE & modules  # help appends no audit entry


def test_exec_of_a_command_imports_the_handlers_but_none_of_the_heavy_parts(tmp_path):
    modules = modules_after(["exec", "--as", "U1", "team list"], tmp_path)
    assert {"core.wiring", "adapters.sqlite.audit", "adapters.slack.render"} <= modules
    assert heavy_in(modules) == []
    assert not UNUSED_PORTS & modules and "csv" not in modules
    assert not LOADED_ON_USE & modules  # random: featuring a channel only
    # A listing records no event: no subscriber, no audit entry; and only its own handlers.
    assert not AUDIT_ON_USE & modules and not {m for m in modules if m.startswith("core.subscribers")}
    assert "core.usecases.teams" in modules
    assert not {"core.usecases.users", "core.usecases.karma", "core.usecases.projects",
                "core.usecases.refresh", "core.usecases.github_events", "core.verification"} & modules


def test_exec_of_a_change_loads_the_subscribers_and_the_audit_trail(tmp_path):
    modules = modules_after(["exec", "--as", "U1", "user add"], tmp_path)
    assert {"core.usecases.users", "core.subscribers.audit", "core.audit"} <= modules
    assert "core.usecases.teams" not in modules


def test_exec_of_several_plain_words_needs_no_shlex(tmp_path):
    modules = modules_after(["exec", "--as", "U1", "team", "list", "--page", "1"], tmp_path)
    assert "core.wiring" in modules and "shlex" not in modules
    quoted = modules_after(["exec", "--as", "U1", "user", "edit", "--bio", "I like rockets"], tmp_path)
    assert "shlex" in quoted  # a word that needs quoting is joined by shlex itself


def test_the_guard_sees_the_heavy_parts_when_an_integration_needs_them(tmp_path):
    modules = modules_after(["exec", "--as", "U1", "help"], tmp_path, SLACK_API_TOKEN="xoxb-not-used")
    assert {"pydantic_settings", "dependency_injector", "slack_sdk"} <= set(heavy_in(modules))


# --- the same answers on both paths ---------------------------------------------------------------

SESSION = [
    ["admin", "U0ADMIN"],
    ["exec", "--as", "U0ADMIN", "help"],
    ["exec", "--as", "U2", "user add"],
    ["exec", "--as", "U2", "user", "edit", "--name", "Tess B", "--email", "tess@example.org"],
    ["exec", "--as", "U2", "USER VIEW"],
    ["exec", "--as", "U0ADMIN", "team create robots"],  # GitHub is not configured: refused
    ["exec", "--as", "U2", "bogus"],
    ["exec", "--as", "U2", 'user edit --bio "unclosed'],
    ["exec", "--as", "U0ADMIN", "U2 ++"],
    ["exec", "--as", "U0ADMIN", "team list"],
    ["exec", "--as", "U0ADMIN", "karma", "reset", "--all"],
    ["db", "export", "-o", "export.json"],
    ["db", "import", "export.json"],
    ["audit", "--limit", "50"],
    ["audit", "--since", "yesterday"],
]


def run_session(workdir: Path, monkeypatch, capsys, *, fast: bool) -> list[tuple[int, str, str]]:
    """Each command of SESSION through ``main`` in ``workdir`` (its own rocket.db)."""
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    for name in list(os.environ):
        if name.startswith(CLEARED):
            monkeypatch.delenv(name)
    if fast:  # the container must not be used at all
        def no_container(*_args, **_kwargs):
            raise AssertionError("the fast path built the container")

        monkeypatch.setattr(entrypoints.container, "make_container", no_container)
    else:
        monkeypatch.setattr(entrypoints.quick, "quick_config", lambda *_args, **_kwargs: None)
    outcomes = []
    for argv in SESSION:
        code = main(argv)
        out, err = capsys.readouterr()
        if argv[0] == "audit" and code == 0:  # the times differ between the two runs, and entries
            # of the same instant (admin's "user add" and "admin") come in either order
            out = "\n".join(sorted(json.dumps({k: v for k, v in json.loads(line).items() if k != "time"})
                                   for line in out.splitlines()))
        outcomes.append((code, out, err))
    outcomes.append((0, (workdir / "export.json").read_text(encoding="utf-8"), ""))
    monkeypatch.undo()
    return outcomes


def test_the_fast_path_answers_exactly_as_the_container(tmp_path, monkeypatch, capsys):
    fast = run_session(tmp_path / "fast", monkeypatch, capsys, fast=True)
    slow = run_session(tmp_path / "container", monkeypatch, capsys, fast=False)
    for argv, got, expected in zip(SESSION + [["export.json"]], fast, slow, strict=True):
        assert got == expected, argv
    codes = [code for code, _, _ in fast]
    assert codes[:5] == [0, 0, 0, 0, 0] and codes[5] == 1 and codes[6] == 1  # the session did things
    assert "GitHub is not configured" in fast[5][1] and "Tess B" in fast[4][1]
    assert fast[12][0] == 0 and "Imported export.json" in fast[12][1]
    assert len(fast[13][1].splitlines()) >= 3  # admin, user edit, karma … were audited


@pytest.mark.parametrize("env", [
    {"PORT": "abc"},
    {"ROCKET_SCHEDULER": "sometimes"},
    {"DATABASE_URL": "nosuch://user:hunter2@host"},
    {"DATABASE_URL": "sqlite://"},
    {"ROCKET_AUDIT_DAYS": "0"},
    {"SLACK_API_URL": "ftp://user:hunter2@slack"},
    {"GITHUB_WEBHOOK_ENDPT": "/slack/events"},
    {"SLACK_APP_TOKEN": "xoxb-hunter2"},
])
def test_a_malformed_setting_gets_rocket_settings_own_line(tmp_path, monkeypatch, capsys, env):
    with pytest.raises(ConfigError) as expected:
        load_config(env)
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(CLEARED):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["exec", "--as", "U1", "help"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", f"rocket: {expected.value}\n")
    assert "hunter2" not in err and not (tmp_path / "rocket.db").exists()


def test_an_unopenable_database_fails_the_same_way_on_both_paths(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in list(os.environ):
        if name.startswith(CLEARED):
            monkeypatch.delenv(name)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/no/such/dir/rocket.db")
    fast = main(["exec", "--as", "U1", "help"]), capsys.readouterr()
    monkeypatch.setattr(entrypoints.quick, "quick_config", lambda *_args, **_kwargs: None)
    slow = main(["exec", "--as", "U1", "help"]), capsys.readouterr()
    assert fast == slow
    code, (out, err) = fast
    assert code == 1 and out == "" and err.startswith("rocket: SQLite") and len(err.splitlines()) == 1
