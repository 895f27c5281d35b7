"""The one place that wires Rocket: configuration → adapters → ports → the bus (``core.wiring.build_bus``).

``DATABASE_URL``'s scheme selects the storage adapter (through the registry in
entrypoints/storage.py); each integration adapter receives its part of the settings; an
integration absent from configuration is wired to ``adapters.unavailable.Unavailable`` so
commands that need it answer "GitHub is not configured" (or Slack, or Google Drive).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any, cast

from dependency_injector import containers, providers

from adapters.unavailable import Unavailable
from core.bus import MessageBus
from core.context import Ports
from core.wiring import build_bus
from entrypoints.config import Config, ConfigError
from entrypoints.status import IntegrationHealth, watched
from entrypoints.storage import audit_resource, store_resource
from ports.clock import SystemClock, UuidGenerator


def _integration(
    config: Config, name: str, build: Callable[[], Any], health: IntegrationHealth | None = None
) -> Any:
    """The adapter ``build()`` returns, or ``Unavailable(name)`` when the integration is not
    configured (then the adapter is not even imported: they are heavy); a malformed setting (the
    adapter's one-line ``ValueError`` naming the variable) becomes a ``ConfigError``. With
    ``health``, the adapter's calls record their outcomes there (the status page shows them)."""
    if not config.integrations.get(name):
        return Unavailable(name)
    try:
        adapter = build()
    except ValueError as e:
        raise ConfigError(str(e)) from None
    if adapter is None:
        return Unavailable(name)
    return watched(adapter, name, health) if health is not None else adapter


def build_github(config: Config, health: IntegrationHealth | None = None) -> Any:
    def build() -> Any:
        from adapters.github.client import GitHubApp

        return GitHubApp.from_settings(config.rocket.github)

    return _integration(config, "GitHub", build, health)


def build_chat(config: Config, health: IntegrationHealth | None = None) -> Any:
    def build() -> Any:
        from adapters.slack.client import SlackChat

        return SlackChat.from_settings(config.rocket.slack)

    return _integration(config, "Slack", build, health)


def build_drive(config: Config, health: IntegrationHealth | None = None) -> Any:
    def build() -> Any:
        from adapters.gdrive.drive import GoogleDrive

        return GoogleDrive.from_settings(config.rocket.drive)

    return _integration(config, "Google Drive", build, health)


def build_identity(config: Config) -> Any:
    """GitHub's device flow (``adapters.github.device_flow``) when ``GITHUB_CLIENT_ID`` is set and
    the GitHub App is configured; ``None`` otherwise (self-set links are then stored unverified)."""
    rocket = config.rocket
    client_id = rocket.github_client_id.strip()
    if not client_id or rocket.github is None:
        return None
    from adapters.github.device_flow import GitHubDeviceFlow

    return GitHubDeviceFlow(client_id, oauth_url=str(rocket.github_oauth_url),
                            api_url=str(rocket.github_api_url))


def _build_bus(ports: Ports, config: Config) -> MessageBus:
    return build_bus(ports, config.settings)


class Container(containers.DeclarativeContainer):
    """Async resources: ``await container.store()``, ``await container.bus()``;
    ``await close_container(container)`` closes the store."""

    config = providers.Dependency(instance_of=Config)

    # The backend is picked by the storage registry (entrypoints/storage.py) from the URL's scheme.
    store = providers.Resource(store_resource, config.provided.rocket.database_url, config.provided.rocket)
    audit = providers.Resource(audit_resource, store)
    health = providers.Singleton(IntegrationHealth)  # last call per integration (status page)
    github = providers.Singleton(build_github, config, health)
    chat = providers.Singleton(build_chat, config, health)
    drive = providers.Singleton(build_drive, config, health)
    identity = providers.Singleton(build_identity, config)
    clock = providers.Singleton(SystemClock)
    ids = providers.Singleton(UuidGenerator)

    ports = providers.Singleton(
        Ports, store=store, github=github, chat=chat, drive=drive, clock=clock, ids=ids, identity=identity,
        audit=audit,
    )
    bus = providers.Singleton(_build_bus, ports, config)


async def resolved_ports(container: Container) -> Ports:
    """The ports (their provider is async: the store under them is an async resource)."""
    return await cast(Awaitable[Ports], container.ports())


async def resolved_bus(container: Container) -> MessageBus:
    """The bus over the ports (async, like ``resolved_ports``)."""
    return await cast(Awaitable[MessageBus], container.bus())


def make_container(config: Config) -> Container:
    """A container for ``config``; build integrations eagerly so bad settings fail at start-up."""
    from adapters.slack.render import set_github_web_url  # GitHub profile links in replies

    set_github_web_url(str(config.rocket.github_api_url), str(config.rocket.github_oauth_url))
    container = Container(config=config)
    container.github()
    container.chat()
    container.drive()
    return container


async def close_container(container: Container) -> None:
    """Close the store if it was opened (``shutdown_resources`` returns None when no async
    resource was ever initialised, an awaitable otherwise)."""
    pending = container.shutdown_resources()
    if inspect.isawaitable(pending):
        await pending
