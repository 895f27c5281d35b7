"""In-process storage (``memory://``): nothing kept after exit. For tests and embedding.

Registry entry (see entrypoints/storage.py): ``SCHEMES``, ``check_url`` and ``open_store``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.memory.store import MemoryStore

SCHEMES = ("memory",)
__all__ = ["SCHEMES", "MemoryStore", "check_url", "open_store"]


def check_url(url: str) -> None:
    """Any ``memory://`` URL is fine."""


async def open_store(url: str, settings: Any) -> MemoryStore:
    """A new, empty store."""
    from adapters.memory.store import MemoryStore

    return MemoryStore()


def __getattr__(name: str) -> Any:  # the store class is imported on first use (as adapters.sqlite)
    if name == "MemoryStore":
        from adapters.memory.store import MemoryStore

        return MemoryStore
    raise AttributeError(name)
