"""SQLite storage (``sqlite:///path``): one file, shareable by several processes (WAL).

Registry entry (see entrypoints/storage.py): ``SCHEMES``, ``check_url`` and ``open_store``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.sqlite.store import SqliteStore

SCHEMES = ("sqlite",)
__all__ = ["SCHEMES", "SqliteStore", "check_url", "open_store"]


def _path(url: str) -> str:
    rest = url.partition("://")[2]
    if not rest.startswith("/") or rest == "/":
        raise ValueError("a SQLite URL is sqlite:///relative/path or sqlite:////absolute/path")
    return rest[1:]


def check_url(url: str) -> None:
    """``ValueError`` (reason only, no value) unless a usable ``sqlite:///…`` URL."""
    _path(url)


async def open_store(url: str, settings: Any) -> SqliteStore:
    """Open (creating the file and tables) the database file the URL names."""
    from adapters.sqlite.store import SqliteStore

    return await SqliteStore.open(_path(url))


def __getattr__(name: str) -> Any:  # the store class is imported on first use (keeps start-up light)
    if name == "SqliteStore":
        from adapters.sqlite.store import SqliteStore

        return SqliteStore
    raise AttributeError(name)
