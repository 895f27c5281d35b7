"""``rocket db import`` killed part-way (SIGKILL) on SQLite, then run again: it completes, the
export equals the file, and there is no duplicate or partial record."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import time

from tests.support.cli import ROCKET, rocket

USERS, TEAMS, PROJECTS = 20_000, 300, 300


def export_file() -> dict:
    """A large export: every field filled, sets as sorted lists, keys in export order."""
    users = [{"slack_id": f"U{i:06d}", "name": f"User {i} \u00e9\u2014\U0001f680",
              "email": f"u{i}@example.com", "github": f"gh{i}", "github_user_id": str(100_000 + i),
              "major": "CS", "position": "dev",
              "bio": "line one, \"quoted\"", "image_url": f"https://img.example/{i}.png",
              "permission_level": ("member", "team_lead", "admin")[i % 3], "karma": 1 + i % 50,
              "github_verified": i % 2 == 0}
             for i in range(USERS)]
    teams = [{"github_team_id": str(9_000_000 + i), "github_team_name": f"team-{i}",
              "display_name": f"Team {i}", "platform": "web", "team_leads": [str(100_000 + i)],
              "members": sorted(str(100_000 + i + k) for k in range(5)), "folder": ""}
             for i in range(TEAMS)]
    projects = [{"project_id": f"p{i:05d}", "github_team_id": str(9_000_000 + i % TEAMS),
                 "github_urls": [f"https://github.com/o/r{i}"], "display_name": f"P{i}",
                 "short_description": "s", "long_description": "l", "tags": ["a", "b"], "website_url": "",
                 "medium_url": "", "appstore_url": "", "playstore_url": ""}
                for i in range(PROJECTS)]
    return {"users": users, "teams": teams, "projects": projects}


def count_users(db) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute("SELECT count(*) FROM users").fetchone()[0]
    except sqlite3.Error:  # not created yet
        return 0


def test_import_killed_part_way_then_run_again_completes(tmp_path):
    data = export_file()
    source = tmp_path / "big.json"
    source.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    db = tmp_path / "rocket.db"
    env = {"DATABASE_URL": f"sqlite:///{db}"}

    child_env = {k: v for k, v in os.environ.items()
                 if not k.startswith(("GITHUB_", "SLACK_", "DATABASE_URL"))}
    child = subprocess.Popen([ROCKET, "db", "import", str(source)], env={**child_env, **env}, cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while count_users(db) < 500 and child.poll() is None:
            assert time.monotonic() < deadline, "the import never started writing"
            time.sleep(0.005)
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL, "the import finished before it could be killed"
    partial = count_users(db)
    assert 0 < partial < USERS

    again = rocket("db", "import", str(source), env=env, cwd=tmp_path, timeout=120)
    assert again.returncode == 0, again.stderr
    assert f"{USERS + TEAMS + PROJECTS - partial} created" in again.stdout
    assert f"{partial} unchanged" in again.stdout

    exported = rocket("db", "export", env=env, cwd=tmp_path, timeout=120)
    assert exported.returncode == 0, exported.stderr
    assert json.loads(exported.stdout) == data

    with sqlite3.connect(db) as conn:
        for table, section in (("users", "users"), ("teams", "teams"), ("projects", "projects")):
            rows = conn.execute(f"SELECT key, version, doc FROM {table}").fetchall()
            assert len(rows) == len({key for key, _, _ in rows}) == len(data[section])
            assert {version for _, version, _ in rows} == {1}  # each record written exactly once

    third = rocket("db", "import", str(source), env=env, cwd=tmp_path, timeout=120)
    assert third.returncode == 0
    assert f"0 created, 0 updated, {USERS + TEAMS + PROJECTS} unchanged" in third.stdout
