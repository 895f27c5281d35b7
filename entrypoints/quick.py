"""The CLI's fast path (issue 17): ``rocket exec`` (and ``admin``, ``audit``, ``db``) without
pydantic, pydantic-settings or dependency_injector when nothing needs them.

Contract:

- :func:`quick_config` reads the same sources as :func:`entrypoints.settings.load_settings`
  (exactly ``env`` when given, else the process environment over ``./.env``; an empty value
  counts as unset) and checks each value with the same functions (:mod:`entrypoints.checks`,
  :func:`entrypoints.storage.check_database_url`). It returns ``None``, meaning "use
  :func:`entrypoints.config.load_config`", whenever it is not certain to agree with
  :class:`~entrypoints.settings.RocketSettings`: an integration is configured (GitHub, Slack
  or Google Drive: their adapters take the typed settings), the backend is DynamoDB (its
  adapter reads ``settings.aws``), a value fails a check or is not in the plain form read here
  (an integer with a sign or spaces, a ``.env`` that cannot be read, a ``.env`` key without
  ``=``). So the pydantic settings stay the source of truth, and a malformed setting always
  gets their own one-line error. tests/unit/test_quick_config.py checks the two agree.
- :class:`QuickWiring` builds what a CLI command uses, as the container would for the same
  configuration: the store (``entrypoints.storage.open_store``), the audit log beside it, the
  absent integrations as ``adapters.unavailable.Unavailable``, and the bus
  (``core.wiring.build_bus``). ``store()``, ``ports()`` and ``bus()`` are awaited like the
  container's providers; :meth:`QuickWiring.close` closes the audit log, then the store.
- :class:`LazyBus` stands for a bus until a command is handled (then it builds the real one).
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.context import Settings
from core.records import record
from entrypoints import checks
from entrypoints.storage import backend_name, check_database_url

if TYPE_CHECKING:
    from core.bus import MessageBus
    from core.commands import Command
    from core.context import Ports
    from ports.audit import AuditLog
    from ports.storage import Store

DEFAULT_DATABASE_URL = "sqlite:///rocket.db"  # = entrypoints.settings.DEFAULT_DATABASE_URL (a test checks)
_PLAIN_INT = re.compile(r"[0-9]{1,18}")

# The variables whose value RocketSettings checks, with the same check; any other variable of
# the contract is free text (a str or SecretStr field).
_CHECKED: dict[str, Callable[[str], object]] = {
    "PORT": checks.port,
    "ROCKET_SCHEDULER": checks.on_off,
    "SLACK_APP_TOKEN": checks.app_token,
    "SLACK_API_URL": checks.http_url,
    "GITHUB_API_URL": checks.http_url,
    "GITHUB_OAUTH_URL": checks.http_url,
    "GOOGLE_API_URL": checks.optional_http_url,
    "GITHUB_WEBHOOK_ENDPT": checks.webhook_path,
}
# Integer settings and their lower bounds (RocketSettings: ``ge=``).
_INTEGERS = {"ROCKET_AUDIT_DAYS": 1, "ROCKET_REFRESH_MAX_REMOVALS": 0}


@record
class QuickConfig:
    """What the CLI's commands need when no integration is configured."""

    database_url: str
    backend: str
    settings: Settings


def _sources(env: Mapping[str, str] | None, dotenv: Path | None) -> dict[str, str] | None:
    """The values RocketSettings would read (empty ones dropped), or None when unsure."""
    if env is not None:
        return {k: v for k, v in env.items() if isinstance(v, str) and v != ""}
    values: dict[str, str] = {}
    path = dotenv if dotenv is not None else Path.cwd() / ".env"
    if path.is_file():
        try:
            from dotenv import dotenv_values  # what pydantic-settings reads .env with

            file_values = dotenv_values(path, encoding="utf-8")
        except Exception:  # noqa: BLE001 - e.g. not UTF-8: load_settings says so in one line
            return None
        for key, value in file_values.items():
            if value is None:
                return None
            if value != "":
                values[key] = value
    values.update((k, v) for k, v in os.environ.items() if v != "")
    return values


def _integer(value: str, minimum: int) -> int | None:
    if not _PLAIN_INT.fullmatch(value) or int(value) < minimum:
        return None
    return int(value)


def _integration_configured(values: Mapping[str, str]) -> bool:
    """RocketSettings.integrations, any of them on."""
    def given(name: str) -> bool:
        return bool(values.get(name, "").strip())

    github = given("GITHUB_APP_ID") and given("GITHUB_KEY") and given("GITHUB_ORG_NAME")
    return github or given("SLACK_API_TOKEN") or given("GCP_SERVICE_ACCOUNT_CREDENTIALS")


def quick_config(env: Mapping[str, str] | None = None, dotenv: Path | None = None) -> QuickConfig | None:
    """The configuration for the fast path, or None: then ``load_config()`` must be used."""
    values = _sources(env, dotenv)
    if values is None or _integration_configured(values):
        return None
    try:
        for name, check in _CHECKED.items():
            if name in values:
                check(values[name])
        url = values.get("DATABASE_URL", DEFAULT_DATABASE_URL)
        check_database_url(url)
        backend = backend_name(url)
    except ValueError:
        return None
    if backend == "dynamodb":
        return None
    integers = {name: _integer(values[name], low) if name in values else None
                for name, low in _INTEGERS.items()}
    if any(name in values and number is None for name, number in integers.items()):
        return None
    audit_days, max_removals = integers["ROCKET_AUDIT_DAYS"], integers["ROCKET_REFRESH_MAX_REMOVALS"]
    settings = Settings(
        default_team=values.get("GITHUB_DEFAULT_TEAM_NAME", "all") or "all",
        admin_team=values.get("GITHUB_ADMIN_TEAM_NAME", ""),
        leads_team=values.get("GITHUB_LEADS_TEAM_NAME", ""),
        notification_channel=values.get("SLACK_NOTIFICATION_CHANNEL", ""),
        announcement_channel=values.get("SLACK_ANNOUNCEMENT_CHANNEL", ""),
        audit_days=400 if audit_days is None else audit_days,
        refresh_max_removals=10 if max_removals is None else max_removals,
    )
    return QuickConfig(database_url=url, backend=backend, settings=settings)


class QuickWiring:
    """The store, audit log, ports and bus of one CLI command, built directly (no container).

    Each is built once, on first use, like the container's singletons and resources."""

    def __init__(self, config: QuickConfig) -> None:
        self.config = config
        self._store: Store | None = None
        self._audit: AuditLog | None = None
        self._ports: Ports | None = None
        self._bus: MessageBus | None = None

    async def store(self) -> Store:
        if self._store is None:
            from entrypoints.storage import open_store

            self._store = await open_store(self.config.database_url, None)
        return self._store

    async def audit(self) -> AuditLog:
        if self._audit is None:
            from entrypoints.storage import open_audit

            self._audit = await open_audit(await self.store())
        return self._audit

    async def ports(self) -> Ports:
        if self._ports is None:
            from adapters.unavailable import Unavailable
            from core.context import Ports
            from ports.clock import SystemClock, UuidGenerator

            store = await self.store()
            self._ports = Ports(
                store=store, github=Unavailable("GitHub"), chat=Unavailable("Slack"),
                drive=Unavailable("Google Drive"), clock=SystemClock(), ids=UuidGenerator(),
                identity=None, audit=await self.audit(),
            )
        return self._ports

    async def bus(self) -> MessageBus:
        if self._bus is None:
            from core.wiring import build_bus

            self._bus = build_bus(await self.ports(), self.config.settings)
        return self._bus

    async def close(self) -> None:
        """Close what was opened: the audit log, then the store (the container's order)."""
        audit, store, self._audit, self._store = self._audit, self._store, None, None
        try:
            if audit is not None:
                await audit.close()
        finally:
            if store is not None:
                await store.close()


class LazyBus:
    """A bus built on first ``handle``: ``rocket exec`` answers help and malformed lines without
    importing the handlers (``core.wiring``). ``provide`` returns the real bus (the container's
    or :meth:`QuickWiring.bus`)."""

    def __init__(self, provide: Callable[[], Awaitable[MessageBus]]) -> None:
        self._provide = provide

    async def handle(self, command: Command[Any]) -> Any:
        bus = await self._provide()
        return await bus.handle(command)
