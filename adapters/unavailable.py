"""Stand-ins for integrations absent from configuration: every call raises
``IntegrationUnavailable`` naming the integration, so the reply can say what is missing."""

from __future__ import annotations

from typing import Any, NoReturn

from core.errors import IntegrationUnavailable


class Unavailable:
    """Implements any port: each method raises ``IntegrationUnavailable(name)``."""

    def __init__(self, integration: str) -> None:
        self._integration = integration

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)

        async def unavailable(*_args: Any, **_kwargs: Any) -> NoReturn:
            raise IntegrationUnavailable(self._integration)

        return unavailable
