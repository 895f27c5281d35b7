"""``export emails`` as a CSV file in the actor's DMs (issue 15), end to end.

A signed ``/rocket export emails`` to the Quart app (SQLite, the Slack stand-in as Slack): the
reply is a short summary within Slack's limits, and the file the stand-in received through
``files.getUploadURLExternal`` + the upload URL + ``files.completeUploadExternal`` is read back and
compared, row by row, with the directory. Names with commas, quotes, line breaks and formula
characters must survive the round trip (quoted) and never start a formula (``'`` prefix).
``rocket exec`` without Slack prints the CSV on stdout.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode

import pytest

from adapters.slack.client import SlackChat
from core.errors import UpstreamError
from core.models import Team, User
from core.permissions import Permissions
from core.usecases.emails import CSV_HEADER, safe_cell
from entrypoints.config import load_config
from entrypoints.container import make_container
from entrypoints.http import create_app
from tests.e2e.conftest import FORM, slack_headers
from tests.support.blockkit import assert_within_limits
from tests.support.cli import rocket
from tests.support.slack_standin import SlackStandIn, slack_standin_fixture  # noqa: F401

SECRET = "s3cret-for-export-tests"
ADMIN = "UADMIN1"
LEAD = "ULEAD01"
TRICKY = [
    User("UT1", name='Doe, "Jay"', email="jay@example.org", github="jay", github_user_id="1"),
    User("UT2", name="Two\nLines\r\nHere", email="two@example.org", github_user_id="2"),
    User("UT3", name="=HYPERLINK(\"http://evil\")", email="eq@example.org", github_user_id="3"),
    User("UT4", name="+1 sum", email="@at@example.org"),
    User("UT5", name="-2", email="minus@example.org", github="-x"),
    User("UT6", name="No mail", github_user_id="6"),
    User("UT7", name="Ünïcødé 名前", email="Jay@Example.org"),
]


@pytest.fixture
async def app(tmp_path, slack_standin: SlackStandIn) -> AsyncIterator[Any]:  # noqa: F811
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'rocket.db'}", "SLACK_SIGNING_SECRET": SECRET,
           "ROCKET_SCHEDULER": "off", **slack_standin.env()}
    container = make_container(load_config(env))
    store = await container.store()
    await store.store(User(ADMIN, name="Ada", email="ada@example.org", permission_level=Permissions.admin))
    await store.store(User(LEAD, name="Lee", email="lee@example.org", github_user_id="11"))
    for user in TRICKY:
        await store.store(user)
    await store.store(Team("900", "alpha", team_leads={"11"}, members={"1", "2", "6", "404"}))
    async with create_app(container).test_app() as test_app:
        yield test_app.test_client(), store
    await container.shutdown_resources()


async def slash(client: Any, user: str, text: str) -> dict[str, Any]:
    form = urlencode({"token": "x", "team_id": "T1", "channel_id": "C1", "user_id": user, "user_name": "u",
                      "command": "/rocket", "text": text, "response_url": ""})
    r = await client.post("/slack/commands", data=form,
                          headers={**slack_headers(form, secret=SECRET), "Content-Type": FORM})
    assert r.status_code == 200
    return await r.get_json()


def expected_rows(users: list[User]) -> list[list[str]]:
    """What the file must hold for ``users``, computed here from the records."""
    ordered = sorted(users, key=lambda u: (u.email == "", u.email.lower(), u.slack_id))
    return [[safe_cell(v) for v in (u.email, u.name, u.slack_id, u.github)] for u in ordered]


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


async def test_export_emails_sends_the_whole_directory_as_a_csv_to_the_actors_dm(app, slack_standin):  # noqa: F811
    client, store = app
    reply = await slash(client, ADMIN, "export emails")
    assert_within_limits(reply)
    [sent] = slack_standin.dm_files(ADMIN)
    assert sent.filename.startswith("rocket-emails-all-") and sent.filename.endswith(".csv")
    assert str(len(await store.query(User))) in reply["text"] and "sent to your DMs" in reply["text"]
    assert sent.filename in reply["text"]
    rows = rows_of(sent.text())
    assert rows[0] == list(CSV_HEADER)
    assert rows[1:] == expected_rows(await store.query(User))
    by_id = {r[2]: r for r in rows[1:]}
    assert by_id["UT1"][1] == 'Doe, "Jay"' and by_id["UT2"][1] == "Two\nLines\r\nHere"
    assert by_id["UT3"][1].startswith("'=") and by_id["UT4"][0] == "'@at@example.org"
    assert by_id["UT4"][1] == "'+1 sum" and by_id["UT5"][1] == "'-2" and by_id["UT5"][3] == "'-x"
    assert by_id["UT6"][0] == "" and rows[-1][2] == "UT6"  # no email: last, email empty
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in rows for cell in row)
    # the three Slack calls, in order, into the DM the bot opened with the actor
    methods = [c.method for c in slack_standin.calls if c.method.startswith("files.")]
    assert methods == ["files.getUploadURLExternal", "files.completeUploadExternal"]
    [get] = slack_standin.calls_to("files.getUploadURLExternal")
    assert int(get.args["length"]) == len(sent.content or b"")
    assert sent.title == "Rocket: emails of everyone"


async def test_export_emails_of_a_team_sends_its_registered_members_and_leads(app, slack_standin):  # noqa: F811
    client, store = app
    reply = await slash(client, LEAD, "export emails --team ALPHA")
    assert_within_limits(reply)
    [sent] = slack_standin.dm_files(LEAD)
    assert sent.filename.startswith("rocket-emails-alpha-")
    members = [u for u in await store.query(User) if u.github_user_id in {"1", "2", "6", "11"}]
    assert rows_of(sent.text())[1:] == expected_rows(members)
    assert "4 rows" in reply["text"] and "UT6" in reply["text"]  # the summary names who has no email
    assert slack_standin.dm_files(ADMIN) == []


async def test_a_refused_export_sends_no_file(app, slack_standin):  # noqa: F811
    client, _ = app
    reply = await slash(client, "UT1", "export emails")
    assert "Permission denied" in reply["text"]
    assert slack_standin.files == [] and not slack_standin.calls_to("files.getUploadURLExternal")


async def test_slack_refusing_the_upload_is_said_and_shares_nothing(app, slack_standin):  # noqa: F811
    client, _ = app
    slack_standin.fail_next("files.completeUploadExternal", "channel_not_found")
    reply = await slash(client, ADMIN, "export emails")
    assert reply["text"] == "Slack refused: channel_not_found"
    assert slack_standin.files == []


async def test_send_file_errors_become_upstream_errors(slack_standin):  # noqa: F811
    chat = SlackChat.create(slack_standin.token, slack_standin.base_url, handlers=[])
    slack_standin.fail_next("files.getUploadURLExternal", "invalid_arguments")
    with pytest.raises(UpstreamError, match="invalid_arguments"):
        await chat.send_file("U1", "a.csv", b"x,y\r\n")
    await chat.send_file("U1", "a.csv", b"x,y\r\n", title="T")  # and the next one goes through
    [sent] = slack_standin.dm_files("U1")
    assert (sent.content, sent.title, sent.filename) == (b"x,y\r\n", "T", "a.csv")
    # the upload URL is single use: the stand-in answers 404 to a second POST of the same file
    assert slack_standin.receive_upload(sent.id, b"x,y\r\n") == 404


async def test_rocket_exec_without_slack_prints_the_csv(tmp_path):
    db = tmp_path / "cli.db"
    data = {"users": [
        {"slack_id": ADMIN, "name": "Ada", "email": "ada@example.org", "permission_level": "admin"},
        {"slack_id": "UT1", "name": 'Doe, "Jay"', "email": "=jay@example.org"},
    ]}
    source = tmp_path / "in.json"
    source.write_text(json.dumps(data))
    env = {"DATABASE_URL": f"sqlite:///{db}"}
    assert rocket("db", "import", str(source), env=env).returncode == 0
    done = rocket("exec", "--as", ADMIN, "export emails", env=env)
    assert done.returncode == 0, done.stderr
    # sorted by the address as stored ("=" before "a"), the formula character made harmless
    assert rows_of(done.stdout) == [list(CSV_HEADER), ["'=jay@example.org", 'Doe, "Jay"', "UT1", ""],
                                    ["ada@example.org", "Ada", ADMIN, ""]]
    assert "not sent: Slack is not configured" in done.stderr and "2 rows" in done.stderr
