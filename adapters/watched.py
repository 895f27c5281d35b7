"""An adapter seen through a recorder of its calls' outcomes (the status page's "last call").

``watched(adapter, name, health)`` returns a transparent stand-in for ``adapter``: attributes
are the adapter's own, every coroutine method records its outcome with ``health.record(name,
error)``, and ``isinstance(watched(app), type(app))`` still holds. A call that ends in an answer
(including "not found" or "already exists") worked; one that raises ``UpstreamError`` or an
exception that is not a ``RocketError`` failed.
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Protocol


class HealthRecorder(Protocol):
    def record(self, name: str, error: BaseException | None = None) -> None: ...


def _failed(error: BaseException) -> bool:
    from core.errors import RocketError, UpstreamError

    return isinstance(error, UpstreamError) or not isinstance(error, RocketError)


class _Watched:
    """``adapter`` with every coroutine method recording its outcome in ``health``."""

    def __init__(self, adapter: Any, name: str, health: HealthRecorder) -> None:
        object.__setattr__(self, "_adapter", adapter)
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_health", health)

    def __getattr__(self, attr: str) -> Any:
        value = getattr(self._adapter, attr)
        if not inspect.iscoroutinefunction(value):
            return value
        name, health = self._name, self._health

        @functools.wraps(value)
        async def call(*args: Any, **kwargs: Any) -> Any:
            try:
                result = await value(*args, **kwargs)
            except BaseException as e:
                if isinstance(e, Exception):
                    health.record(name, e if _failed(e) else None)
                raise
            health.record(name)
            return result

        return call

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance(watched(app), GitHubApp) holds, as before
        return type(self._adapter)

    def __setattr__(self, attr: str, value: Any) -> None:
        setattr(self._adapter, attr, value)

    def __repr__(self) -> str:
        return f"watched({self._adapter!r})"


def watched(adapter: Any, name: str, health: HealthRecorder) -> Any:
    """``adapter`` seen through a recorder of its calls' outcomes."""
    return _Watched(adapter, name, health)


def unwrap(adapter: Any) -> Any:
    """The adapter under ``watched`` (itself otherwise)."""
    return adapter._adapter if isinstance(adapter, _Watched) else adapter
