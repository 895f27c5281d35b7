"""entrypoints/settings.py: one typed settings object, every contract variable, one-line errors
that name the variable and never echo a secret or a URL, and ``./.env`` under the environment."""

from __future__ import annotations

import re

import pytest

import entrypoints.storage as storage
from entrypoints.settings import ConfigError, RocketSettings, load_settings
from tests.support.fixtures import CONTRACT


def contract_variables() -> set[str]:
    """Every backticked UPPER_CASE name of the contract's Configuration section."""
    text = CONTRACT.read_text(encoding="utf-8")
    section = text.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([A-Z][A-Z0-9_]+)`", section))


def test_every_contract_variable_is_a_setting_under_its_exact_name():
    aliases = {f.alias for f in RocketSettings.model_fields.values()}
    assert contract_variables() - aliases == set()


def test_defaults_are_the_contract_defaults():
    s = load_settings({})
    assert (s.database_url, s.port_number, s.github_default_team_name, s.github_webhook_endpt) == (
        "sqlite:///rocket.db", 5000, "all", "/webhook")
    assert (s.github_api_url, s.slack_api_url, s.github_oauth_url) == (
        "https://api.github.com", "https://slack.com/api/", "https://github.com")
    assert (s.rocket_audit_days, s.rocket_refresh_max_removals) == (400, 10)
    assert s.aws.tables == {"users": "users", "teams": "teams", "projects": "projects",
                            "leases": "rocket_leases"}
    assert (s.github, s.drive, s.integrations) == (None, None, {"GitHub": False, "Slack": False,
                                                              "Google Drive": False})


def test_secrets_are_hidden_in_repr():
    s = load_settings({"SLACK_SIGNING_SECRET": "hunter2", "SLACK_API_TOKEN": "xoxb-hunter2",
                       "AWS_SECRET_KEY": "hunter2", "GITHUB_WEBHOOK_SECRET": "hunter2"})
    assert "hunter2" not in repr(s) and "hunter2" not in repr(s.slack) and "hunter2" not in repr(s.aws)
    assert s.slack.token.get_secret_value() == "xoxb-hunter2"


@pytest.mark.parametrize("name, value", [
    ("DATABASE_URL", "mongodb://user:hunter2@/x"),
    ("DATABASE_URL", "nosuch://user:hunter2@host"),
    ("DATABASE_URL", "hunter2"),
    ("SLACK_API_URL", "ftp://user:hunter2@slack"),
    ("GITHUB_API_URL", "https://user:hunter2@host:notaport/"),
    ("GOOGLE_API_URL", "hunter2"),
    ("GITHUB_OAUTH_URL", "hunter2://x"),
    ("SLACK_APP_TOKEN", "xoxb-hunter2"),
    ("PORT", "0"),
    ("ROCKET_AUDIT_DAYS", "forever"),
    ("ROCKET_REFRESH_MAX_REMOVALS", "-1"),
])
def test_a_malformed_value_is_one_line_naming_it_without_the_value(name, value):
    with pytest.raises(ConfigError) as info:
        load_settings({name: value})
    message = str(info.value)
    assert message.startswith(name) and "\n" not in message
    assert "hunter2" not in message


def test_dotenv_is_read_and_the_environment_wins(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("SLACK_NOTIFICATION_CHANNEL=from-dotenv\nPORT=6001\nGITHUB_ORG_NAME=dot\n")
    monkeypatch.chdir(tmp_path)
    for name in ("SLACK_NOTIFICATION_CHANNEL", "PORT", "GITHUB_ORG_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PORT", "6002")
    monkeypatch.setenv("GITHUB_ORG_NAME", "")  # empty counts as unset: .env's value stays
    s = load_settings()
    assert (s.slack_notification_channel, s.port_number, s.github_org_name) == ("from-dotenv", 6002, "dot")


def test_every_scheme_of_the_registry_is_served_by_its_backend_package():
    assert set(storage.REGISTRY) == {"sqlite", "mongodb", "mongodb+srv", "dynamodb", "memory"}
    for scheme, (name, module) in storage.REGISTRY.items():
        assert scheme in module.SCHEMES and storage.BACKENDS[name] is module
        assert callable(module.open_store) and callable(module.check_url)
    assert storage.backend_name("MongoDB+SRV://host/db") == "mongodb"
