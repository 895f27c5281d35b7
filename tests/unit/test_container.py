"""The container picks the storage adapter from DATABASE_URL and closes cleanly."""

from __future__ import annotations

import pytest

from adapters.memory import MemoryStore
from adapters.sqlite import SqliteStore
from adapters.unavailable import Unavailable
from core.errors import IntegrationUnavailable
from entrypoints.config import ConfigError, load_config
from entrypoints.container import close_container, make_container


async def test_memory_and_sqlite_are_selected_by_scheme(tmp_path):
    memory = make_container(load_config({"DATABASE_URL": "memory://"}))
    assert isinstance(await memory.store(), MemoryStore)
    await close_container(memory)
    sqlite = make_container(load_config({"DATABASE_URL": f"sqlite:///{tmp_path}/x.db"}))
    store = await sqlite.store()
    assert isinstance(store, SqliteStore) and store is await sqlite.store()
    await close_container(sqlite)
    assert (tmp_path / "x.db").exists()


async def test_closing_a_container_whose_store_was_never_opened():
    await close_container(make_container(load_config({"DATABASE_URL": "memory://"})))


async def test_absent_integrations_answer_not_configured():
    container = make_container(load_config({"DATABASE_URL": "memory://"}))
    ports = await container.ports()
    for port, name in ((ports.github, "GitHub"), (ports.chat, "Slack"), (ports.drive, "Google Drive")):
        assert isinstance(port, Unavailable)
        with pytest.raises(IntegrationUnavailable, match=f"{name} is not configured"):
            await port.list_teams() if name == "GitHub" else await port.send_dm("U1", "x")
    await close_container(container)


@pytest.mark.parametrize("env, variable", [
    ({"DATABASE_URL": "nosuch://x"}, "DATABASE_URL"),
    ({"DATABASE_URL": "sqlite:/nope"}, "DATABASE_URL"),
    ({"DATABASE_URL": "dynamodb://host:notaport"}, "DATABASE_URL"),
    ({"GITHUB_API_URL": "ftp://x"}, "GITHUB_API_URL"),
    ({"SLACK_APP_TOKEN": "xoxb-1"}, "SLACK_APP_TOKEN"),
    ({"GITHUB_APP_ID": "1", "GITHUB_ORG_NAME": "o", "GITHUB_KEY": "not a key"}, "GITHUB_KEY"),
    ({"GCP_SERVICE_ACCOUNT_CREDENTIALS": "{not json"}, "GCP_SERVICE_ACCOUNT_CREDENTIALS"),
    ({"GITHUB_WEBHOOK_ENDPT": "/hook/<int:x>"}, "GITHUB_WEBHOOK_ENDPT"),
    ({"GITHUB_WEBHOOK_ENDPT": "/hook?x=1"}, "GITHUB_WEBHOOK_ENDPT"),
    ({"GITHUB_WEBHOOK_ENDPT": "/my hook"}, "GITHUB_WEBHOOK_ENDPT"),
    ({"PORT": "abc"}, "PORT"),
    ({"PORT": "70000"}, "PORT"),
    ({"PORT": "-1"}, "PORT"),
    ({"ROCKET_SCHEDULER": "sometimes"}, "ROCKET_SCHEDULER"),
])
def test_malformed_settings_name_the_variable(env, variable):
    with pytest.raises(ConfigError) as info:
        make_container(load_config(env))
    message = str(info.value)
    assert variable in message and "\n" not in message


def test_port_defaults_to_5000_and_is_read_from_port():
    assert load_config({}).port == 5000
    assert load_config({"PORT": ""}).port == 5000  # compose passes unset settings as empty
    assert load_config({"PORT": " 8080 "}).port == 8080


@pytest.mark.parametrize("url", ["mongodb:admin:hunter2@db.example.org", "dynamodb://admin:hunter2@host:x"])
def test_a_malformed_database_url_is_not_echoed(url):
    """It may carry a password, and start-up errors end up in container logs."""
    with pytest.raises(ConfigError) as info:
        load_config({"DATABASE_URL": url})
    assert "DATABASE_URL" in str(info.value) and "hunter2" not in str(info.value)
