"""Backends for the storage contract suite: every test in this folder runs on each.

- memory, sqlite (a temp file), mongomock (mongomock-motor), dynamodb (moto's
  server on 127.0.0.1: real HTTP, real boto serialization), and mongodb-real
  when MONGODB_TEST_URI is set (skipped otherwise, with the reason).
- mongo-wire: ``DATABASE_URL=mongodb://127.0.0.1:PORT/DB`` opened by production's own code
  (``entrypoints.storage.open_store``, so PyMongo's ``AsyncMongoClient``) against the OP_MSG
  stand-in in tests/support/mongo_wire.py: the real driver, BSON and sockets.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.support.mongo_wire import mongo_wire  # noqa: F401  (session fixture)
from tests.support.moto_server import moto_endpoint  # noqa: F401  (session fixture)

BACKENDS = ["memory", "sqlite", "mongomock", "mongo-wire", "mongodb-real", "dynamodb"]


@pytest.fixture(params=BACKENDS)
async def store(request, tmp_path) -> AsyncIterator[object]:
    backend = request.param
    if backend == "memory":
        from adapters.memory import MemoryStore

        s = MemoryStore()
    elif backend == "sqlite":
        from adapters.sqlite import SqliteStore

        s = await SqliteStore.open(str(tmp_path / "contract.db"))
    elif backend == "mongomock":
        from mongomock_motor import AsyncMongoMockClient

        from adapters.mongo import MongoStore

        s = await MongoStore.open(AsyncMongoMockClient(), f"rocket_{uuid.uuid4().hex[:8]}")
    elif backend == "mongo-wire":
        from entrypoints.storage import open_store

        url = request.getfixturevalue("mongo_wire").url(f"rocket_{uuid.uuid4().hex[:8]}")
        s = await open_store(url, None)
    elif backend == "mongodb-real":
        uri = os.environ.get("MONGODB_TEST_URI")
        if not uri:
            pytest.skip("MONGODB_TEST_URI is not set: no real MongoDB server to test against")
        from entrypoints.storage import open_store

        # The same production path as mongo-wire, on this test's own database (the URI's
        # path is replaced; its options are kept).
        db_name = f"rocket_test_{uuid.uuid4().hex[:8]}"
        parts = urlsplit(uri)
        url = urlunsplit((parts.scheme, parts.netloc, f"/{db_name}", parts.query, ""))
        s = await open_store(url, None)
        try:
            yield s
        finally:
            await s._client.drop_database(db_name)
            await s.close()
        return
    elif backend == "dynamodb":
        from adapters.dynamo import DynamoStore

        endpoint = request.getfixturevalue("moto_endpoint")
        prefix = uuid.uuid4().hex[:8]
        s = await DynamoStore.open(
            endpoint_url=endpoint,
            region="us-east-1",
            access_key="testing",
            secret_key="testing",
            tables={t: f"{prefix}_{t}" for t in ("users", "teams", "projects", "leases")},
        )
    else:  # pragma: no cover
        raise AssertionError(backend)
    try:
        yield s
    finally:
        await s.close()
