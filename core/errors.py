"""Errors raised by the core and by adapters; entrypoints turn them into replies.

Every error carries a message written for the person who ran the command.
"""

from __future__ import annotations


class RocketError(Exception):
    """Base of every error Rocket turns into a reply instead of a crash."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message or self.__class__.__doc__ or self.__class__.__name__

    def __str__(self) -> str:
        return self.message


class PermissionDenied(RocketError):
    """You do not have permission to do that."""


class NotFound(RocketError):
    """That record does not exist."""


class Conflict(RocketError):
    """The record changed or already exists; nothing was written."""


class InvalidInput(RocketError):
    """The input is not valid."""


class IntegrationUnavailable(RocketError):
    """An integration (GitHub, Slack, Google Drive) is not configured or cannot be reached."""

    def __init__(self, integration: str, message: str = "") -> None:
        super().__init__(message or f"{integration} is not configured")
        self.integration = integration


class StorageUnavailable(RocketError):
    """The database did not answer."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or "The database is unavailable right now; try again shortly")


class UpstreamError(RocketError):
    """An integration refused or failed an operation (the reply names it)."""

    def __init__(self, integration: str, message: str) -> None:
        super().__init__(f"{integration} refused: {message}")
        self.integration = integration
        self.detail = message


class UpstreamUnreachable(UpstreamError):
    """An integration could not be reached (no answer, or 5xx after retries): nothing refused
    anything, so the reply says so, and that nothing was changed."""

    def __init__(self, integration: str, detail: str) -> None:
        super().__init__(integration, detail)
        self.message = (
            f"{integration} could not be reached ({detail}); nothing was changed, try again shortly"
        )
        self.args = (self.message,)


class RateLimited(UpstreamError):
    """An integration rate-limited us; ``reset_at`` is a Unix time when known."""

    def __init__(self, integration: str, reset_at: float | None = None) -> None:
        when = f" until {reset_at:.0f} (Unix time)" if reset_at else ""
        super().__init__(integration, f"rate limited{when}")
        self.reset_at = reset_at
