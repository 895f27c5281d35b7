"""Configuration from environment variables (and a ``.env`` file in the working directory).

``load_config()`` validates everything at start-up: a malformed setting raises
``ConfigError`` whose one-line message names the variable. Absent integrations are off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from core.context import Settings

DEFAULT_DATABASE_URL = "sqlite:///rocket.db"
DEFAULT_PORT = 5000
SCHEDULER_FLAG = "ROCKET_SCHEDULER"
DATABASE_SCHEMES = ("sqlite", "mongodb", "mongodb+srv", "dynamodb", "memory")


class ConfigError(ValueError):
    """A setting is present but malformed; the message names the variable."""


@dataclass(frozen=True)
class DatabaseSettings:
    """Which storage adapter to use. ``backend`` is sqlite, mongodb, dynamodb or memory."""

    backend: str
    url: str
    path: str = ""  # sqlite only


@dataclass(frozen=True)
class Config:
    env: Mapping[str, str]
    database: DatabaseSettings
    settings: Settings
    webhook_path: str = "/webhook"
    slack_signing_secret: str = ""
    github_webhook_secret: str = ""
    integrations: dict[str, bool] = field(default_factory=dict)
    port: int = DEFAULT_PORT  # PORT: the default port of ``rocket serve``

    def get(self, name: str, default: str = "") -> str:
        return self.env.get(name, default) or default


def parse_database_url(url: str) -> DatabaseSettings:
    """Pick the storage adapter from ``DATABASE_URL`` as the contract describes."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme:
        # The value is not echoed: a malformed URL may still carry a password.
        raise ConfigError("DATABASE_URL: not a URL (e.g. sqlite:///rocket.db or mongodb://host/rocket)")
    scheme = scheme.lower()
    if scheme not in DATABASE_SCHEMES:
        raise ConfigError(
            f"DATABASE_URL: unknown scheme {scheme!r} (use sqlite, mongodb, mongodb+srv, dynamodb or memory)"
        )
    if scheme == "sqlite":
        if not rest.startswith("/") or rest == "/":
            raise ConfigError("DATABASE_URL: a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path")
        return DatabaseSettings("sqlite", url, path=rest[1:])
    if scheme in ("mongodb", "mongodb+srv"):
        if not rest or rest.startswith("/"):
            raise ConfigError("DATABASE_URL: a MongoDB URL needs a host, e.g. mongodb://localhost:27017/rocket")
        return DatabaseSettings("mongodb", url)
    if scheme == "dynamodb":
        host = rest.rstrip("/")
        if host:
            try:
                port = urlsplit(f"http://{host}").port
            except ValueError as e:
                raise ConfigError(f"DATABASE_URL: bad DynamoDB endpoint ({e})") from None
            if port is None:
                raise ConfigError("DATABASE_URL: a DynamoDB endpoint is dynamodb://HOST:PORT")
        return DatabaseSettings("dynamodb", url)
    return DatabaseSettings("memory", url)


def _check_http_url(env: Mapping[str, str], name: str) -> None:
    value = env.get(name)
    if value:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{name}: {value!r} is not an http(s) URL")


def parse_port(env: Mapping[str, str]) -> int:
    """``PORT`` (empty or absent: 5000); ``ConfigError`` naming it unless a port 1-65535."""
    value = (env.get("PORT") or "").strip()
    if not value:
        return DEFAULT_PORT
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ConfigError(f"PORT: {value!r} is not a port number (1-65535)")
    return int(value)


def scheduler_enabled(env: Mapping[str, str]) -> bool:
    """``ROCKET_SCHEDULER``: on (default) or off; ``ConfigError`` naming it when malformed."""
    value = (env.get(SCHEDULER_FLAG) or "on").strip().lower()
    if value in ("on", "true", "yes", "1"):
        return True
    if value in ("off", "false", "no", "0"):
        return False
    raise ConfigError(f"{SCHEDULER_FLAG}: {value!r} is not on or off")


def read_env(base: Mapping[str, str] | None = None, dotenv: Path | None = None) -> dict[str, str]:
    """The process environment over the values of ``./.env`` (the environment wins)."""
    from dotenv import dotenv_values

    env: dict[str, str] = {}
    path = dotenv if dotenv is not None else Path.cwd() / ".env"
    if path.is_file():
        env.update({k: v for k, v in dotenv_values(path).items() if v is not None})
    env.update(os.environ if base is None else base)
    return env


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Validate the environment; raises ``ConfigError`` naming the first bad variable."""
    env = dict(read_env() if env is None else env)
    database = parse_database_url(env.get("DATABASE_URL") or DEFAULT_DATABASE_URL)
    for name in ("GITHUB_API_URL", "SLACK_API_URL", "GOOGLE_API_URL"):
        _check_http_url(env, name)
    webhook_path = env.get("GITHUB_WEBHOOK_ENDPT") or "/webhook"
    if (not webhook_path.startswith("/") or webhook_path.startswith(("/slack/", "/healthz", "/metrics"))
            or any(c in webhook_path for c in "<>?#") or any(c.isspace() for c in webhook_path)):
        # "<" would be read as a Quart route variable, and every delivery would answer 500
        raise ConfigError(f"GITHUB_WEBHOOK_ENDPT: {webhook_path!r} must be a free path starting with /")
    port = parse_port(env)
    scheduler_enabled(env)  # checked here so every entry point fails before it starts serving
    app_token = env.get("SLACK_APP_TOKEN", "")
    if app_token and not app_token.startswith("xapp-"):
        raise ConfigError("SLACK_APP_TOKEN: an app-level token starts with xapp-")
    settings = Settings(
        default_team=env.get("GITHUB_DEFAULT_TEAM_NAME") or "all",
        admin_team=env.get("GITHUB_ADMIN_TEAM_NAME", ""),
        leads_team=env.get("GITHUB_LEADS_TEAM_NAME", ""),
        notification_channel=env.get("SLACK_NOTIFICATION_CHANNEL", ""),
        announcement_channel=env.get("SLACK_ANNOUNCEMENT_CHANNEL", ""),
    )
    integrations = {
        "GitHub": all(env.get(n) for n in ("GITHUB_APP_ID", "GITHUB_KEY", "GITHUB_ORG_NAME")),
        "Slack": bool(env.get("SLACK_API_TOKEN")),
        "Google Drive": bool(env.get("GCP_SERVICE_ACCOUNT_CREDENTIALS")),
    }
    return Config(
        env=env,
        database=database,
        settings=settings,
        webhook_path=webhook_path,
        slack_signing_secret=env.get("SLACK_SIGNING_SECRET", ""),
        github_webhook_secret=env.get("GITHUB_WEBHOOK_SECRET", ""),
        integrations=integrations,
        port=port,
    )
