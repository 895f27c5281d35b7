"""The storage registry: the ONE place that maps a ``DATABASE_URL`` scheme to a backend.

Each backend package (``adapters/<backend>/__init__.py``) declares ``SCHEMES`` (the URL schemes
it serves), ``check_url(url)`` (``ValueError`` with a reason that never repeats the URL) and
``async open_store(url, settings) -> Store``. Adding a backend: its folder, one line in
``BACKENDS`` below, and its entry in the contract suite's list (tests/contract/conftest.py).
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from types import ModuleType
from typing import Any

import adapters.dynamo
import adapters.memory
import adapters.mongo
import adapters.sqlite
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


AUDIT_LOGS = {"memory": "MemoryAuditLog", "sqlite": "SqliteAuditLog", "mongo": "MongoAuditLog",
              "dynamo": "DynamoAuditLog"}


async def open_audit(store: Store) -> AuditLog:
    """The audit log beside ``store`` (same SQLite file, Mongo database, DynamoDB clients; a
    memory store gets a memory log): ``adapters/<backend>/audit.py``'s ``for_store``."""
    parts = type(store).__module__.split(".")
    backend = parts[1] if len(parts) > 1 and parts[0] == "adapters" else ""
    if backend not in AUDIT_LOGS:
        backend = "memory"  # a store of tests or an embedding: its changes are still recorded
    module = importlib.import_module(f"adapters.{backend}.audit")
    audit: AuditLog = await getattr(module, AUDIT_LOGS[backend]).for_store(store)
    return audit


async def audit_resource(store: Store) -> AsyncIterator[AuditLog]:
    """dependency-injector Resource: the audit log beside ``store``, closed on shutdown."""
    audit = await open_audit(store)
    try:
        yield audit
    finally:
        await audit.close()
