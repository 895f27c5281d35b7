"""The configuration the entry points pass around: a thin view over ``entrypoints.settings``.

``load_config()`` validates everything at start-up (through :func:`entrypoints.settings.load_settings`):
a malformed setting raises ``ConfigError`` whose one-line message names the variable. Absent
integrations are off. ``Config.rocket`` is the typed :class:`~entrypoints.settings.RocketSettings`;
the other fields are the shapes the entry points use.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from core.context import Settings
from entrypoints.settings import (
    DEFAULT_DATABASE_URL,
    DEFAULT_PORT,
    ConfigError,
    RocketSettings,
    load_settings,
)
from entrypoints.storage import backend_name

SCHEDULER_FLAG = "ROCKET_SCHEDULER"
__all__ = ["DEFAULT_DATABASE_URL", "DEFAULT_PORT", "SCHEDULER_FLAG", "Config", "ConfigError",
           "DatabaseSettings", "load_config", "scheduler_enabled"]


@dataclass(frozen=True)
class DatabaseSettings:
    """Which storage backend ``DATABASE_URL`` names (sqlite, mongodb, dynamodb or memory)."""

    backend: str
    url: str = field(repr=False)  # may carry a password


@dataclass(frozen=True)
class Config:
    rocket: RocketSettings
    database: DatabaseSettings
    settings: Settings
    webhook_path: str = "/webhook"
    slack_signing_secret: str = field(default="", repr=False)
    github_webhook_secret: str = field(default="", repr=False)
    integrations: dict[str, bool] = field(default_factory=dict)
    port: int = DEFAULT_PORT  # PORT: the default port of ``rocket serve``
    # The flags the scheduler reads (``scheduler_enabled(config.env)``); no environment is kept.
    env: Mapping[str, str] = field(default_factory=dict)


def scheduler_enabled(env: Mapping[str, str]) -> bool:
    """``ROCKET_SCHEDULER``: on (default) or off; ``ConfigError`` naming it when malformed."""
    value = (env.get(SCHEDULER_FLAG) or "on").strip().lower()
    if value in ("on", "true", "yes", "1"):
        return True
    if value in ("off", "false", "no", "0"):
        return False
    raise ConfigError(f"{SCHEDULER_FLAG}: {value!r} is not on or off")


def config_from_settings(rocket: RocketSettings) -> Config:
    """The entry points' view of validated settings."""
    return Config(
        rocket=rocket,
        database=DatabaseSettings(backend_name(rocket.database_url), rocket.database_url),
        settings=rocket.core,
        webhook_path=rocket.github_webhook_endpt,
        slack_signing_secret=rocket.slack_signing_secret.get_secret_value(),
        github_webhook_secret=rocket.github_webhook_secret.get_secret_value(),
        integrations=rocket.integrations,
        port=rocket.port_number,
        env={SCHEDULER_FLAG: rocket.rocket_scheduler},
    )


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Validate the settings (``env``, else the process environment over ``./.env``); raises
    ``ConfigError`` naming the first bad variable."""
    return config_from_settings(load_settings(env))
