"""Regression tests for issue 11 findings 7, 8 and 9 (input hygiene, escaping, operations),
end to end: the HTTP app over the Slack and GitHub stand-ins, and the ``rocket`` CLI."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from core.models import User
from core.permissions import Permissions
from tests.e2e.conftest import HttpWorld
from tests.support.cli import rocket


def team_join(user_id: str, real_name: str, event_id: str = "Ev1") -> dict:
    return {"type": "event_callback", "event_id": event_id, "team_id": "T1",
            "event": {"type": "team_join", "user": {"id": user_id, "real_name": real_name,
                                                     "profile": {"real_name": real_name}}}}


def raw_json(value: dict) -> bytes:
    """JSON as Slack could send it: ``\\ud800`` escapes stay escapes (ensure_ascii)."""
    return json.dumps(value).encode()


# --- finding 7: lone surrogates and NUL ------------------------------------------------------
@pytest.mark.parametrize("bad", ["Ada\ud800", "Ada\x00", "\udfff"])
async def test_finding7_a_team_join_with_a_lone_surrogate_or_nul_is_refused(
        http_world: HttpWorld, bad: str, tmp_path: Path) -> None:
    response = await http_world.event(raw_json(team_join("UNEW", bad)))
    assert response.status_code == 400
    assert await http_world.store.query(User) == []
    # and the export still works (nothing bad was stored)
    out = rocket("db", "export", env=http_world.env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["users"] == []


async def test_finding7_webhooks_and_commands_refuse_them_too(http_world: HttpWorld) -> None:
    response = await http_world.webhook("team", raw_json(
        {"action": "created", "team": {"id": 1, "slug": "x\ud800", "name": "x"},
         "organization": {"login": "o"}}))
    assert response.status_code == 400
    status, reply = await http_world.command("U1", "user edit --name \x00Ada")
    assert status == 200 and "NUL" in reply["text"] and "Nothing was done" in reply["text"]
    assert await http_world.store.query(User) == []


async def test_finding7_export_never_fails_on_a_stored_surrogate(tmp_path: Path) -> None:
    """A value stored before input was checked (an older version) is exported, escaped."""
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rocket.db'}", "ROCKET_SCHEDULER": "off"}
    from adapters.sqlite.store import SqliteStore

    store = await SqliteStore.open(str(tmp_path / "rocket.db"))
    try:
        await store.store(User("U1", name="Ada\ud800"))
    finally:
        await store.close()
    out = rocket("db", "export", env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["users"][0]["name"] == "Ada\ud800"


# --- finding 8: reply text escaped ------------------------------------------------------------
async def test_finding8_reply_text_escapes_user_text_and_refusals(http_world: HttpWorld) -> None:
    await http_world.store.store(User("U1", permission_level=Permissions.admin))
    line = 'user edit --name "<!channel> <http://evil|Reset password>"'
    status, reply = await http_world.command("U1", line)
    assert status == 200
    status, reply = await http_world.command("U1", "user view")
    assert "<!channel>" not in reply["text"] and "&lt;!channel&gt;" in reply["text"]
    assert "<http://evil" not in reply["text"]
    # a refusal echoing the input is escaped too
    status, reply = await http_world.command("U1", "project view <!here>")
    assert "<!here>" not in reply["text"]
    status, reply = await http_world.command("U1", "team view <!everyone>&")
    assert "<!everyone>" not in reply["text"] and "&amp;" in reply["text"]


async def test_finding8_mentions_of_people_are_kept() -> None:
    from adapters.slack.render import render_slack_text
    from core.results import KarmaResult
    from entrypoints.handlers import reply_payload

    # a person Rocket names is a mention (the renderer's Slack text); what a user typed is escaped
    rich = render_slack_text(KarmaResult(User("U123", name="<@U9> & co")))
    text = reply_payload("unused when the Slack text is given", slack_text=rich)["text"]
    assert "<@U123>" in text and "&lt;@U9&gt; &amp; co" in text and "<@U9>" not in text
    # text the renderer did not build (a refusal echoing input) is escaped whole: a typed mention never pings
    text = reply_payload("<@U123> gave <!channel> a point & more")["text"]
    assert text == "&lt;@U123&gt; gave &lt;!channel&gt; a point &amp; more"


# --- finding 9: import types, .env, URLs, db file ---------------------------------------------
BAD_IMPORTS = {
    "object as a name": '{"users": [{"slack_id": "U1", "name": {"a": 1}}]}',
    "7.9 karma": '{"users": [{"slack_id": "U1", "karma": 7.9}]}',
    "string karma": '{"users": [{"slack_id": "U1", "karma": "7"}]}',
    "1e400 karma": '{"users": [{"slack_id": "U1", "karma": 1e400}]}',
    "NaN karma": '{"users": [{"slack_id": "U1", "karma": NaN}]}',
    "duplicate key": '{"users": [{"slack_id": "U1", "name": "a", "name": "b"}]}',
    "duplicate section": '{"users": [], "users": [{"slack_id": "U1"}]}',
    "NUL in a name": '{"users": [{"slack_id": "U1", "name": "a\\u0000b"}]}',
    "surrogate in a key": '{"users": [{"slack_id": "U1\\ud800"}]}',
    "number members": '{"teams": [{"github_team_id": "1", "members": [1, 2]}]}',
    "bool verified as string": '{"users": [{"slack_id": "U1", "github_verified": "yes"}]}',
    "huge integer": '{"users": [{"slack_id": "U1", "karma": ' + "9" * 5000 + "}]}",
}


@pytest.mark.parametrize("name", sorted(BAD_IMPORTS))
def test_finding9_import_refuses_wrong_types_in_one_line(tmp_path: Path, name: str) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rocket.db'}", "ROCKET_SCHEDULER": "off"}
    good = {"slack_id": "U0", "name": "fine"}
    text = BAD_IMPORTS[name].replace('{"users": [', '{"users": [' + json.dumps(good) + ", ", 1) \
        if name != "duplicate section" else BAD_IMPORTS[name]
    (tmp_path / "in.json").write_text(text, encoding="utf-8")
    out = rocket("db", "import", "in.json", env=env, cwd=tmp_path)
    assert out.returncode == 1
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "nothing was imported" in lines[0], out.stderr
    assert "Traceback" not in out.stderr
    exported = json.loads(rocket("db", "export", env=env, cwd=tmp_path).stdout)
    assert exported["users"] == []  # not even the good record before the bad one


def test_finding9_a_dotenv_that_is_not_utf8_is_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_bytes(b"SLACK_API_TOKEN=xoxb-\xff\xfe\n")
    out = rocket("db", "export", env={"ROCKET_SCHEDULER": "off"}, cwd=tmp_path)
    assert out.returncode != 0
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and ".env" in lines[0] and "UTF-8" in lines[0], out.stderr


@pytest.mark.parametrize("url", ["ftp://bob:hunter2@example.com/", "https://bob:hunter2@example.com:99999/",
                                 "https://bob:hunter2@/api", "https://bob:hunter2@example.com/?q=1",
                                 "bob:hunter2@example.com"])
def test_finding9_a_bad_github_api_url_never_echoes_its_password(tmp_path: Path, url: str) -> None:
    out = rocket("db", "export", env={"GITHUB_API_URL": url, "ROCKET_SCHEDULER": "off"}, cwd=tmp_path)
    assert out.returncode != 0
    assert "hunter2" not in out.stderr + out.stdout
    assert "GITHUB_API_URL" in out.stderr and len(out.stderr.strip().splitlines()) == 1


def test_finding9_rocket_db_is_created_owner_only(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        out = rocket("admin", "U1", env={"ROCKET_SCHEDULER": "off"}, cwd=tmp_path)
    finally:
        os.umask(old)
    assert out.returncode == 0, out.stderr
    assert stat.S_IMODE((tmp_path / "rocket.db").stat().st_mode) == 0o600


def test_without_password_keeps_host_and_path() -> None:
    from entrypoints.settings import without_password

    assert without_password("https://u:pw@h:8/x") == "https://h:8/x"
    assert without_password("https://h/x") == "https://h/x"

