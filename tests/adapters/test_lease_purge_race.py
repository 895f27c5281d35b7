"""``purge_expired_leases`` on the two-step backends (MongoDB, DynamoDB): a lease renewed or
taken over between finding the expired leases and deleting them is kept and not counted.

Each store is subclassed so the renewal happens exactly in that gap: after the expired names
were read (``_expired_lease_ids`` / ``_expired_lease_names``) and before any delete. MongoDB
runs on mongomock-motor, DynamoDB on moto's server on 127.0.0.1 (real HTTP).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from adapters.dynamo import DynamoStore
from adapters.mongo import MongoStore
from tests.support.moto_server import moto_endpoint  # noqa: F401  (session fixture)

NOW = 10_000.0


class RenewsInTheGap:
    """Mixin: once the expired names are read, re-take ``self.renew`` (a lease among them)."""

    renew: list[tuple[str, str]]  # (lease name, new owner), applied once
    names_read: list[str]

    async def _renew_now(self, names: list[str]) -> list[str]:
        self.names_read = list(names)
        for name, owner in self.renew:
            assert await self.acquire_lease(name, owner, 60, NOW)  # type: ignore[attr-defined]
        self.renew = []
        return names


class RacingMongo(RenewsInTheGap, MongoStore):
    async def _expired_lease_ids(self, now: float, limit: int) -> list[str]:
        return await self._renew_now(await super()._expired_lease_ids(now, limit))


class RacingDynamo(RenewsInTheGap, DynamoStore):
    async def _expired_lease_names(self, now: float, limit: int) -> list[str]:
        return await self._renew_now(await super()._expired_lease_names(now, limit))


@pytest.fixture(params=["mongomock", "dynamodb"])
async def store(request) -> AsyncIterator[RenewsInTheGap]:
    if request.param == "mongomock":
        from mongomock_motor import AsyncMongoMockClient

        s: RenewsInTheGap = await RacingMongo.open(AsyncMongoMockClient(), f"rocket_{uuid.uuid4().hex[:8]}")
    else:
        prefix = uuid.uuid4().hex[:8]
        s = await RacingDynamo.open(
            endpoint_url=request.getfixturevalue("moto_endpoint"), region="us-east-1",
            access_key="testing", secret_key="testing",
            tables={t: f"{prefix}_{t}" for t in ("users", "teams", "projects", "leases")},
        )
    s.renew = []
    try:
        yield s
    finally:
        await s.close()  # type: ignore[attr-defined]


async def test_a_lease_renewed_after_it_was_found_expired_is_kept(store):
    for name in ["a", "b", "c", "d"]:
        assert await store.acquire_lease(name, "w1", 10, NOW - 100)
    store.renew = [("b", "w1"), ("c", "w2")]  # b renewed by its holder, c taken over by another

    assert await store.purge_expired_leases(NOW) == 2

    assert sorted(store.names_read) == ["a", "b", "c", "d"]  # all four were found expired
    assert await store.acquire_lease("b", "intruder", 60, NOW) is False
    assert await store.acquire_lease("c", "intruder", 60, NOW) is False
    assert await store.purge_expired_leases(NOW + 59) == 0  # a and d are gone, b and c live
    assert await store.purge_expired_leases(NOW + 60) == 2


async def test_many_expired_leases_are_purged_up_to_the_limit(store):
    for i in range(60):  # more than one round of concurrent deletes
        assert await store.acquire_lease(f"old-{i}", "w", 10, NOW - 100)
    assert await store.acquire_lease("live", "w", 3600, NOW)
    assert await store.purge_expired_leases(NOW, limit=40) == 40
    assert len(store.names_read) == 40
    assert await store.purge_expired_leases(NOW, limit=40) == 20
    assert await store.purge_expired_leases(NOW) == 0
    assert await store.acquire_lease("live", "intruder", 60, NOW) is False
