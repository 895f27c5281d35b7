"""The storage port on MongoDB (``mongodb://`` / ``mongodb+srv://``).

Registry entry (see entrypoints/storage.py): ``SCHEMES``, ``check_url`` and ``open_store``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.mongo.store import MongoStore

SCHEMES = ("mongodb", "mongodb+srv")
__all__ = ["SCHEMES", "MongoStore", "check_url", "open_store"]


def check_url(url: str) -> None:
    """``ValueError`` (reason only: the URL may carry a password) unless the URL has a host."""
    rest = url.partition("://")[2]
    hosts = rest.split("/", 1)[0].rpartition("@")[2]
    if not hosts.strip(","):
        raise ValueError("a MongoDB URL needs a host, e.g. mongodb://localhost:27017/rocket")


async def open_store(url: str, settings: Any) -> MongoStore:
    """Connect; the database is the URL's path, else ``rocket``."""
    from adapters.mongo.store import MongoStore

    return await MongoStore.from_url(url)


def __getattr__(name: str) -> Any:  # the store class is imported on first use (keeps start-up light)
    if name == "MongoStore":
        from adapters.mongo.store import MongoStore

        return MongoStore
    raise AttributeError(name)
