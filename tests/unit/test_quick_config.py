"""entrypoints/quick.py: the CLI's hand-built settings reader never disagrees with the pydantic
RocketSettings. Whenever it answers, load_config() accepts the same environment and gives the
same database and core settings; whenever load_config() refuses, it steps aside (None), so the
one-line error is always RocketSettings' own."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from entrypoints import quick
from entrypoints.config import ConfigError, load_config
from entrypoints.quick import QuickConfig, quick_config
from entrypoints.settings import DEFAULT_DATABASE_URL, RocketSettings

# For each variable, values RocketSettings accepts and values it refuses (and some edge forms).
SAMPLES: dict[str, list[str]] = {
    "DATABASE_URL": ["sqlite:///rocket.db", "sqlite:////tmp/x.db", "SQLITE:///a.db", "memory://",
                     "mongodb://localhost/rocket", "mongodb+srv://h/x", "dynamodb://localhost:8000",
                     "sqlite://", "sqlite:///", "mongodb:///x", "nosuch://h", "hunter2", "dynamodb://h"],
    "PORT": ["5000", " 6001 ", "65535", "65536", "0", "abc", "", "  ", "٣", "-1", "+5"],
    "ROCKET_SCHEDULER": ["on", "OFF", " yes", "0", "sometimes", ""],
    "ROCKET_AUDIT_DAYS": ["400", "1", "0", "-3", " 7", "7 ", "07", "+7", "1_000", "7.0", "forever", "٣"],
    "ROCKET_REFRESH_MAX_REMOVALS": ["10", "0", "-1", "3", " 3", "x"],
    "ROCKET_LOG_LEVEL": ["DEBUG", "whatever"],
    "SLACK_APP_TOKEN": ["xapp-1", " xapp-2 ", "xoxb-1", ""],
    "SLACK_API_URL": ["https://slack.com/api/", "http://127.0.0.1:9/api/", "ftp://x", "https://h:bad/",
                      "https://h/?q=1", ""],
    "GITHUB_API_URL": ["https://api.github.com", "hunter2"],
    "GITHUB_OAUTH_URL": ["https://github.com", "https://h#frag"],
    "GOOGLE_API_URL": ["", "  ", "http://127.0.0.1:1/", "nope"],
    "GITHUB_WEBHOOK_ENDPT": ["/webhook", "/hooks/gh", "webhook", "/slack/x", "/a<b>", "/a b", "/metrics"],
    "GITHUB_DEFAULT_TEAM_NAME": ["all", "everyone", ""],
    "GITHUB_ADMIN_TEAM_NAME": ["admins", ""],
    "GITHUB_LEADS_TEAM_NAME": ["leads"],
    "SLACK_NOTIFICATION_CHANNEL": ["C123", "#general"],
    "SLACK_ANNOUNCEMENT_CHANNEL": ["C9"],
    "SLACK_SIGNING_SECRET": ["s3cret"],
    "GITHUB_WEBHOOK_SECRET": ["s3cret"],
    "GITHUB_CLIENT_ID": ["Iv1.abc"],
    "AWS_REGION": ["eu-west-1"],
    # integrations (any of them on sends the CLI to the container)
    "SLACK_API_TOKEN": ["xoxb-1", " ", ""],
    "GITHUB_APP_ID": ["123", " "],
    "GITHUB_KEY": ["-----BEGIN KEY-----"],
    "GITHUB_ORG_NAME": ["club", ""],
    "GCP_SERVICE_ACCOUNT_CREDENTIALS": ["{}", " "],
}

environments = st.dictionaries(
    st.sampled_from(sorted(SAMPLES)), st.just(None), max_size=4,
).flatmap(lambda keys: st.fixed_dictionaries({k: st.sampled_from(SAMPLES[k]) for k in keys}))


def agrees(env: dict[str, str]) -> QuickConfig | None:
    """quick_config(env), after checking it against load_config(env)."""
    answer = quick_config(env)
    try:
        config = load_config(env)
    except ConfigError:
        assert answer is None, f"the fast path accepted what RocketSettings refuses: {env}"
        return None
    if answer is not None:
        assert (answer.database_url, answer.backend) == (config.database.url, config.database.backend)
        assert answer.settings == config.settings
        assert not any(config.integrations.values())
        assert answer.backend != "dynamodb"
    return answer


def test_every_sample_alone_and_beside_a_bad_port():
    for name, values in SAMPLES.items():
        for value in values:
            agrees({name: value})
            agrees({name: value, "PORT": "abc"})


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(environments)
def test_the_fast_path_never_disagrees_with_rocket_settings(env):
    agrees(env)


@pytest.mark.parametrize("env", [
    {},
    {"DATABASE_URL": "sqlite:////tmp/rocket-test.db", "PORT": "6001", "ROCKET_AUDIT_DAYS": "30"},
    {"DATABASE_URL": "memory://", "GITHUB_DEFAULT_TEAM_NAME": "everyone", "SLACK_SIGNING_SECRET": "x"},
    {"DATABASE_URL": "mongodb://localhost/rocket", "ROCKET_SCHEDULER": "off"},
    {"GITHUB_APP_ID": "1", "GITHUB_ORG_NAME": "club"},  # no key: GitHub stays off
])
def test_a_plain_configuration_takes_the_fast_path(env):
    assert agrees(env) is not None


@pytest.mark.parametrize("env", [
    {"SLACK_API_TOKEN": "xoxb-1"},
    {"GITHUB_APP_ID": "1", "GITHUB_KEY": "k", "GITHUB_ORG_NAME": "club"},
    {"GCP_SERVICE_ACCOUNT_CREDENTIALS": "{}"},
    {"DATABASE_URL": "dynamodb://localhost:8000"},
    {"PORT": "abc"},
    {"ROCKET_AUDIT_DAYS": "0"},
    {"ROCKET_AUDIT_DAYS": " 7"},  # not the plain form: RocketSettings decides
])
def test_integrations_dynamodb_and_anything_unusual_go_to_rocket_settings(env):
    assert quick_config(env) is None


def test_the_defaults_are_the_settings_defaults():
    assert quick.DEFAULT_DATABASE_URL == DEFAULT_DATABASE_URL
    default = RocketSettings.model_fields
    assert quick_config({}) == QuickConfig(
        database_url=default["database_url"].default, backend="sqlite", settings=load_config({}).settings)


def test_the_process_environment_wins_over_dotenv_and_empty_counts_as_unset(tmp_path, monkeypatch):
    dotenv = tmp_path / ".env"
    dotenv.write_text("DATABASE_URL=memory://\nGITHUB_DEFAULT_TEAM_NAME=from-dotenv\n"
                      "GITHUB_ADMIN_TEAM_NAME=dot-admins\nSLACK_NOTIFICATION_CHANNEL=\n")
    monkeypatch.chdir(tmp_path)
    for name in list(SAMPLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("GITHUB_DEFAULT_TEAM_NAME", "from-env")
    monkeypatch.setenv("GITHUB_ADMIN_TEAM_NAME", "")  # empty: .env's value stays
    answer = quick_config()
    assert answer is not None and answer.backend == "memory"
    assert answer.settings == load_config().settings
    assert (answer.settings.default_team, answer.settings.admin_team) == ("from-env", "dot-admins")


@pytest.mark.parametrize("content", [b"PORT=\xff\xfe\n", b"PORT\n"])
def test_a_dotenv_it_cannot_read_plainly_goes_to_rocket_settings(tmp_path, monkeypatch, content):
    (tmp_path / ".env").write_bytes(content)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PORT", raising=False)
    assert quick_config() is None


def test_a_dotenv_integration_goes_to_rocket_settings(tmp_path, monkeypatch):
    (tmp_path / ".env").write_text("SLACK_API_TOKEN=xoxb-from-dotenv\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SLACK_API_TOKEN", raising=False)
    assert quick_config() is None
