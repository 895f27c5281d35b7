"""`rocket admin`, `rocket db export` and `rocket db import` through the real console script."""

from __future__ import annotations

import json

from tests.support.cli import rocket
from tests.support.moto_server import moto_endpoint  # noqa: F401

SAMPLE = {
    "users": [
        {
            "slack_id": "U1",
            "name": 'Zoë "Q" — 名前',
            "email": "z@example.com",
            "github": "zoe",
            "github_user_id": "11",
            "major": "CS",
            "position": "Dev",
            "bio": "hi\nthere",
            "image_url": "",
            "permission_level": "team_lead",
            "karma": 7,
            "github_verified": True,
        },
        {
            "slack_id": "U2",
            "name": "Bob",
            "email": "",
            "github": "",
            "github_user_id": "",
            "major": "",
            "position": "",
            "bio": "",
            "image_url": "",
            "permission_level": "member",
            "karma": 1,
            "github_verified": False,
        },
    ],
    "teams": [
        {
            "github_team_id": "100",
            "github_team_name": "brussel",
            "display_name": "Brussel Sprouts",
            "platform": "web",
            "team_leads": ["11"],
            "members": ["11", "12"],
            "folder": "f1",
        },
        {
            "github_team_id": "101",
            "github_team_name": "empty",
            "display_name": "",
            "platform": "",
            "team_leads": [],
            "members": [],
            "folder": "",
        },
    ],
    "projects": [
        {
            "project_id": "p1",
            "github_team_id": "100",
            "github_urls": ["https://github.com/o/r"],
            "display_name": "R",
            "short_description": "s",
            "long_description": "l",
            "tags": ["a", "b"],
            "website_url": "",
            "medium_url": "",
            "appstore_url": "",
            "playstore_url": "",
        },
    ],
}


def sqlite_env(path) -> dict[str, str]:
    return {"DATABASE_URL": f"sqlite:///{path}"}


def export(env, tmp_path, name="out.json"):
    out = tmp_path / name
    result = rocket("db", "export", "-o", str(out), env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def test_admin_bootstrap_shows_in_export(tmp_path):
    env = sqlite_env(tmp_path / "a.db")
    result = rocket("admin", "U123", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert rocket("admin", "U123", env=env, cwd=tmp_path).returncode == 0  # idempotent
    stdout = rocket("db", "export", env=env, cwd=tmp_path)
    data = json.loads(stdout.stdout)
    assert data["users"] == [
        {
            "slack_id": "U123",
            "name": "",
            "email": "",
            "github": "",
            "github_user_id": "",
            "major": "",
            "position": "",
            "bio": "",
            "image_url": "",
            "permission_level": "admin",
            "karma": 1,
            "github_verified": True,
        }
    ]
    assert data["teams"] == [] and data["projects"] == []


def test_sqlite_to_sqlite_round_trip_and_idempotent_import(tmp_path):
    src = tmp_path / "sample.json"
    src.write_text(json.dumps(SAMPLE, ensure_ascii=False), encoding="utf-8")
    first, second = sqlite_env(tmp_path / "one.db"), sqlite_env(tmp_path / "two.db")
    assert rocket("db", "import", str(src), env=first, cwd=tmp_path).returncode == 0
    exported = export(first, tmp_path, "e1.json")
    assert exported == SAMPLE
    (tmp_path / "e1b.json").write_text(json.dumps(exported), encoding="utf-8")
    result = rocket("db", "import", str(tmp_path / "e1b.json"), env=second, cwd=tmp_path)
    assert result.returncode == 0 and "5 created" in result.stdout, result.stdout + result.stderr
    assert export(second, tmp_path, "e2.json") == exported
    again = rocket("db", "import", str(tmp_path / "e1b.json"), env=second, cwd=tmp_path)
    assert "0 created, 0 updated, 5 unchanged" in again.stdout
    assert export(second, tmp_path, "e3.json") == exported


def test_import_updates_changed_records(tmp_path):
    env = sqlite_env(tmp_path / "u.db")
    src = tmp_path / "s.json"
    src.write_text(json.dumps(SAMPLE), encoding="utf-8")
    assert rocket("db", "import", str(src), env=env, cwd=tmp_path).returncode == 0
    changed = json.loads(json.dumps(SAMPLE))
    changed["users"][1]["karma"] = 9
    src.write_text(json.dumps(changed), encoding="utf-8")
    result = rocket("db", "import", str(src), env=env, cwd=tmp_path)
    assert "0 created, 1 updated, 4 unchanged" in result.stdout
    assert export(env, tmp_path)["users"][1]["karma"] == 9


def test_sqlite_to_dynamodb_round_trip(tmp_path, moto_endpoint):  # noqa: F811
    src = tmp_path / "s.json"
    src.write_text(json.dumps(SAMPLE), encoding="utf-8")
    sqlite = sqlite_env(tmp_path / "s.db")
    assert rocket("db", "import", str(src), env=sqlite, cwd=tmp_path).returncode == 0
    exported = export(sqlite, tmp_path, "from_sqlite.json")
    host = moto_endpoint.removeprefix("http://")
    dynamo = {
        "DATABASE_URL": f"dynamodb://{host}",
        "AWS_ACCESS_KEYID": "testing",
        "AWS_SECRET_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_USERS_TABLE": "cli_users",
        "AWS_TEAMS_TABLE": "cli_teams",
        "AWS_PROJECTS_TABLE": "cli_projects",
        "AWS_LEASES_TABLE": "cli_leases",
    }
    result = rocket("db", "import", str(tmp_path / "from_sqlite.json"), env=dynamo, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert export(dynamo, tmp_path, "from_dynamo.json") == exported
    again = rocket("db", "import", str(tmp_path / "from_sqlite.json"), env=dynamo, cwd=tmp_path)
    assert "5 unchanged" in again.stdout
    assert export(dynamo, tmp_path, "from_dynamo2.json") == exported


def test_unknown_database_scheme_is_one_line_naming_the_variable(tmp_path):
    result = rocket("db", "export", env={"DATABASE_URL": "nosuch://x"}, cwd=tmp_path)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "DATABASE_URL" in lines[0]
    assert result.stdout == ""


def test_malformed_import_changes_nothing(tmp_path):
    env = sqlite_env(tmp_path / "m.db")
    bad = json.loads(json.dumps(SAMPLE))
    bad["teams"][1]["members"] = "not-a-list"
    src = tmp_path / "bad.json"
    src.write_text(json.dumps(bad), encoding="utf-8")
    result = rocket("db", "import", str(src), env=env, cwd=tmp_path)
    assert result.returncode == 1 and "teams[1]" in result.stderr and "nothing was imported" in result.stderr
    assert export(env, tmp_path) == {"users": [], "teams": [], "projects": []}
    (tmp_path / "notjson.json").write_text("{nope", encoding="utf-8")
    assert rocket("db", "import", str(tmp_path / "notjson.json"), env=env, cwd=tmp_path).returncode == 1


def test_default_database_is_rocket_db_in_working_directory(tmp_path):
    assert rocket("admin", "U9", env={}, cwd=tmp_path).returncode == 0
    assert (tmp_path / "rocket.db").exists()


def test_admin_with_an_empty_id_is_refused_and_stores_nothing(tmp_path):
    env = sqlite_env(tmp_path / "e.db")
    for blank in ("", "   "):
        result = rocket("admin", blank, env=env, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "empty" in lines[0], result.stderr
    assert export(env, tmp_path) == {"users": [], "teams": [], "projects": []}
    assert rocket("admin", " U7 ", env=env, cwd=tmp_path).returncode == 0
    assert [u["slack_id"] for u in export(env, tmp_path)["users"]] == ["U7"]


def test_import_of_deeply_nested_json_is_one_line_and_imports_nothing(tmp_path):
    env = sqlite_env(tmp_path / "d.db")
    deep = tmp_path / "deep.json"
    deep.write_text('{"users": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    result = rocket("db", "import", str(deep), env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "nothing was imported" in lines[0], result.stderr
    assert export(env, tmp_path) == {"users": [], "teams": [], "projects": []}
