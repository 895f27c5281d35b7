"""Open the storage adapter that ``DATABASE_URL`` names."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

from entrypoints.config import DatabaseSettings
from ports.storage import Store


async def open_store(database: DatabaseSettings, env: Mapping[str, str]) -> Store:
    """Connect (creating files or tables as needed) and return the store."""
    if database.backend == "sqlite":
        from adapters.sqlite import SqliteStore

        return await SqliteStore.open(database.path)
    if database.backend == "mongodb":
        from adapters.mongo import MongoStore

        return await MongoStore.from_url(database.url)
    if database.backend == "dynamodb":
        from adapters.dynamo import DynamoStore

        return await DynamoStore.from_settings(database.url, env)
    from adapters.memory import MemoryStore

    return MemoryStore()


async def store_resource(database: DatabaseSettings, env: Mapping[str, str]) -> AsyncIterator[Store]:
    """dependency-injector Resource: opens the store, closes it on shutdown."""
    store = await open_store(database, env)
    try:
        yield store
    finally:
        await store.close()
