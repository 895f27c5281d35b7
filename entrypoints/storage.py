"""The storage registry: the ONE place that maps a ``DATABASE_URL`` scheme to a backend.

Each backend package (``adapters/<backend>/__init__.py``) declares ``SCHEMES`` (the URL schemes
it serves), ``check_url(url)`` (``ValueError`` with a reason that never repeats the URL) and
``async open_store(url, settings) -> Store``. Adding a backend: its folder, one line in
``BACKENDS`` below, and its entry in the contract suite's list (tests/contract/conftest.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from types import ModuleType
from typing import TYPE_CHECKING, Any

import adapters.dynamo
import adapters.memory
import adapters.mongo
import adapters.sqlite

if TYPE_CHECKING:  # annotations only: the ports' Protocol classes cost every start (issue 17)
    from ports.audit import AuditLog
    from ports.storage import Store

BACKENDS: dict[str, ModuleType] = {
    "sqlite": adapters.sqlite,
    "mongodb": adapters.mongo,
    "dynamodb": adapters.dynamo,
    "memory": adapters.memory,
}
REGISTRY: dict[str, tuple[str, ModuleType]] = {
    scheme: (name, module) for name, module in BACKENDS.items() for scheme in module.SCHEMES
}


def scheme_of(url: str) -> str:
    """The URL's scheme, lower-cased; ``ValueError`` when the value is not a URL."""
    scheme, sep, _ = url.partition("://")
    if not sep or not scheme:
        # The value is not echoed: a malformed URL may still carry a password.
        raise ValueError("not a URL (e.g. sqlite:///rocket.db or mongodb://host/rocket)")
    return scheme.lower()


def backend_name(url: str) -> str:
    """Which backend serves ``url`` (sqlite, mongodb, dynamodb or memory)."""
    return REGISTRY[scheme_of(url)][0]


def check_database_url(url: str) -> None:
    """``ValueError`` (one line, the URL not repeated) unless a registered backend accepts ``url``."""
    scheme = scheme_of(url)
    if scheme not in REGISTRY:
        known = ", ".join(REGISTRY)
        raise ValueError(f"unknown scheme {scheme[:20]!r} (use {known})")
    REGISTRY[scheme][1].check_url(url)


async def open_store(url: str, settings: Any) -> Store:
    """Connect (creating files or tables as needed) and return the store ``url`` names."""
    store: Store = await REGISTRY[scheme_of(url)][1].open_store(url, settings)
    return store


async def store_resource(url: str, settings: Any) -> AsyncIterator[Store]:
    """dependency-injector Resource: opens the store, closes it on shutdown."""
    store = await open_store(url, settings)
    try:
        yield store
    finally:
        await store.close()


async def open_audit(store: Store) -> AuditLog:
    """The audit log beside ``store`` (same SQLite file, Mongo database, DynamoDB clients): the
    ``for_store`` of ``adapters/<backend>/audit.py``; any other store (tests, an embedding) gets
    a memory log, so its changes are still recorded. Each backend is imported only when used."""
    kind = type(store).__module__
    audit: AuditLog
    if kind == "adapters.sqlite.store":
        from adapters.sqlite.audit import SqliteAuditLog

        audit = await SqliteAuditLog.for_store(store)
    elif kind == "adapters.mongo.store":
        from adapters.mongo.audit import MongoAuditLog

        audit = await MongoAuditLog.for_store(store)
    elif kind == "adapters.dynamo.store":
        from adapters.dynamo.audit import DynamoAuditLog

        audit = await DynamoAuditLog.for_store(store)  # type: ignore[arg-type]
    else:
        from adapters.memory.audit import MemoryAuditLog

        audit = await MemoryAuditLog.for_store(store)
    return audit


async def audit_resource(store: Store) -> AsyncIterator[AuditLog]:
    """dependency-injector Resource: the audit log beside ``store``, closed on shutdown."""
    audit = await open_audit(store)
    try:
        yield audit
    finally:
        await audit.close()
