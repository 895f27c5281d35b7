"""What the status page (``GET /``) says about each integration.

Contract:

- An integration that is off is listed with the variables that turn it on, naming only those
  still unset (``integration_hints``); values are never shown.
- An integration that is on is listed with the outcome of its last call: "no call yet", "last
  call worked (HH:MM:SS UTC)" or "last call failed (HH:MM:SS UTC): <the one-line reason the
  reply gave>". ``IntegrationHealth`` keeps those outcomes; ``watched(adapter, name, health)``
  wraps an adapter so every ``async`` method call records one. A call that ends in an answer
  (including "not found" or "already exists") worked; one that raises ``UpstreamError`` (refused,
  rate-limited, unreachable) or an exception that is not a ``RocketError`` failed. Reasons are
  the errors' user-facing messages, cut to 200 characters (they never carry a secret).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from adapters.watched import unwrap, watched

if TYPE_CHECKING:
    from entrypoints.settings import RocketSettings

# The variables that turn each integration on (README "Configuration"); all of them are needed.
TURNS_ON: dict[str, tuple[str, ...]] = {
    "GitHub": ("GITHUB_APP_ID", "GITHUB_KEY", "GITHUB_ORG_NAME"),
    "Slack": ("SLACK_API_TOKEN", "SLACK_SIGNING_SECRET"),
    "Google Drive": ("GCP_SERVICE_ACCOUNT_CREDENTIALS",),
}
MAX_REASON = 200


def _is_set(rocket: RocketSettings, variable: str) -> bool:
    value = vars(rocket).get(variable.lower(), "")
    if hasattr(value, "get_secret_value"):
        value = value.get_secret_value()
    return bool(str(value or "").strip())


def integration_hints(rocket: RocketSettings) -> dict[str, list[str]]:
    """For each integration, the variables among ``TURNS_ON`` that are still unset."""
    return {name: [v for v in variables if not _is_set(rocket, v)] for name, variables in TURNS_ON.items()}


@dataclass(frozen=True)
class Outcome:
    ok: bool
    at: float
    reason: str = ""

    def describe(self) -> str:
        when = time.strftime("%H:%M:%S UTC", time.gmtime(self.at))
        return f"last call worked ({when})" if self.ok else f"last call failed ({when}): {self.reason}"


class IntegrationHealth:
    """The last call's outcome per integration name (one per process)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._last: dict[str, Outcome] = {}

    def record(self, name: str, error: BaseException | None = None) -> None:
        if error is None:
            self._last[name] = Outcome(True, self._clock())
            return
        reason = " ".join(str(error).split())[:MAX_REASON] or type(error).__name__
        self._last[name] = Outcome(False, self._clock(), reason)

    def last(self, name: str) -> Outcome | None:
        return self._last.get(name)

    def describe(self, name: str) -> str:
        outcome = self._last.get(name)
        return outcome.describe() if outcome else "no call yet"


__all__ = ["TURNS_ON", "IntegrationHealth", "integration_hints", "unwrap", "watched"]
