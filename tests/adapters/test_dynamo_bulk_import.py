"""``rocket db import`` on DynamoDB: absent records are created with BatchWriteItem (issue 15).

Through the fault proxy of test_dynamo_write_retries (moto behind it), so the requests on the
wire are counted and faults injected: an import sends no PutItem for new records, only
BatchWriteItem of at most 25 items; the records and their index items are the ones ``store``
writes (version 1, found by every indexed query); importing again writes nothing; an import
cut off part-way (an answer lost) is completed by running it again. UnprocessedItems are
retried with backoff (a fake write client that leaves half of each request unprocessed).
"""

from __future__ import annotations

import math
from contextlib import AsyncExitStack
from typing import Any

import pytest

from adapters.dynamo import DynamoStore
from adapters.dynamo import store as dynamo_store
from adapters.storage_common import index_entries
from core.errors import InvalidInput, StorageUnavailable
from core.models import Project, Team, User, from_dict, to_dict
from entrypoints.dbio import import_from
from tests.adapters.test_dynamo_write_retries import Rig, proxy, rig  # noqa: F401  (fixtures)
from tests.fakes.ports import store_bus
from tests.support.moto_server import moto_endpoint  # noqa: F401  (session fixture)

USERS = 130
TEAMS = 6


def export_data() -> dict[str, Any]:
    users = [User(f"U{i:04d}", name=f"Person {i}", email=f"p{i}@example.org", github=f"Login{i}",
                  github_user_id=str(1000 + i)) for i in range(USERS)]
    teams = [Team(str(500 + t), f"Team-{t}", members={str(1000 + t * 10 + k) for k in range(10)},
                  team_leads={str(1000 + t * 10)}) for t in range(TEAMS)]
    projects = [Project("p1", github_team_id="500", github_urls={"https://github.com/o/r1"})]
    return {"users": [to_dict(u, with_version=False) for u in users],
            "teams": [to_dict(t, with_version=False) for t in teams],
            "projects": [to_dict(p, with_version=False) for p in projects]}


def index_item_count() -> int:
    data = export_data()
    return sum(len(index_entries(from_dict(model, {**item, "version": 1})))
               for section, model in (("users", User), ("teams", Team), ("projects", Project))
               for item in data[section])


async def check_directory(store: DynamoStore) -> None:
    """Every record stored at version 1 and found through its indexes (no Scan needed)."""
    users = await store.bulk_retrieve(User, [f"U{i:04d}" for i in range(USERS)])
    assert len(users) == USERS and {u.version for u in users} == {1}
    assert [u.slack_id for u in await store.query(User, [("github", "login77")])] == ["U0077"]
    assert [u.slack_id for u in await store.query(User, [("email", "p5@example.org")])] == ["U0005"]
    assert [u.slack_id for u in await store.query(User, [("github_user_id", "1129")])] == ["U0129"]
    assert [t.github_team_id for t in await store.query(Team, [("members", "1012")])] == ["501"]
    assert [t.github_team_id for t in await store.query(Team, [("github_team_name", "TEAM-3")])] == ["503"]
    assert [p.project_id for p in await store.query(Project, [("github_team_id", "500")])] == ["p1"]


async def test_import_writes_new_records_with_batch_writes_only(rig: Rig) -> None:  # noqa: F811
    result = await import_from(store_bus(rig.via_proxy), export_data())
    assert (result.created, result.updated, result.unchanged) == (USERS + TEAMS + 1, 0, 0)
    seen = rig.proxy.seen
    assert seen.count("PutItem") == 0 and seen.count("UpdateItem") == 0
    records = USERS + TEAMS + 1
    # per import batch (users, teams, projects): the index items, then the records, 25 a request
    least = math.ceil(records / 25) + math.ceil(index_item_count() / 25)
    assert least <= seen.count("BatchWriteItem") <= least + 6
    await check_directory(rig.direct)
    rig.proxy.seen.clear()
    again = await import_from(store_bus(rig.via_proxy), export_data())
    assert (again.created, again.updated, again.unchanged) == (0, 0, records)
    assert not {"BatchWriteItem", "PutItem", "UpdateItem", "DeleteItem"} & set(rig.proxy.seen)


async def test_an_interrupted_import_is_completed_by_running_it_again(rig: Rig) -> None:  # noqa: F811
    rig.proxy.fail_next("drop", 1, {"BatchWriteItem"})  # applied by moto, the answer lost
    rig.proxy.seen.clear()
    with pytest.raises(StorageUnavailable):
        await import_from(store_bus(rig.via_proxy), export_data())
    assert len(await rig.direct.bulk_retrieve(User, [f"U{i:04d}" for i in range(USERS)])) < USERS
    result = await import_from(store_bus(rig.via_proxy), export_data())
    assert result.created + result.unchanged == USERS + TEAMS + 1 and result.updated == 0
    await check_directory(rig.direct)


async def test_throttled_batch_writes_are_resent(rig: Rig) -> None:  # noqa: F811
    rig.proxy.fail_next("throttle", 2, {"BatchWriteItem"})  # rejected before applying: resent
    result = await import_from(store_bus(rig.via_proxy), export_data())
    assert result.created == USERS + TEAMS + 1
    await check_directory(rig.direct)


class HalfProcessed:
    """A write client: each BatchWriteItem applies the first half of its items and hands the
    rest back as UnprocessedItems (as DynamoDB does under load)."""

    def __init__(self) -> None:
        self.items: dict[str, list[dict[str, Any]]] = {}
        self.calls: list[int] = []

    async def batch_write_item(self, RequestItems: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:  # noqa: N803
        [(table, requests)] = RequestItems.items()
        self.calls.append(len(requests))
        keep = max(1, len(requests) // 2)
        self.items.setdefault(table, []).extend(r["PutRequest"]["Item"] for r in requests[:keep])
        rest = requests[keep:]
        return {"UnprocessedItems": {table: rest} if rest else {}}


async def test_unprocessed_items_are_retried_with_backoff_until_written(monkeypatch) -> None:
    sleeps: list[float] = []

    async def no_sleep(seconds: float) -> None:
        sleeps.append(seconds)

    monkeypatch.setattr(dynamo_store.asyncio, "sleep", no_sleep)
    writer = HalfProcessed()
    tables = {"users": "u", "teams": "t", "projects": "p", "leases": "l"}
    store = DynamoStore(AsyncExitStack(), client=None, writer=writer, tables=tables)
    users = [User(f"U{i}", github=f"g{i}") for i in range(30)]
    stored = await store.create_many(users)
    assert [u.version for u in stored] == [1] * 30
    assert sorted(i["slack_id"]["S"] for i in writer.items["u"]) == sorted(u.slack_id for u in users)
    assert len(writer.items["u_index"]) == sum(len(index_entries(u)) for u in stored)
    assert max(writer.calls) <= 25 and sleeps and max(sleeps) > min(sleeps) == 0.05  # backoff grows


async def test_create_many_refuses_what_is_not_a_create() -> None:
    tables = {"users": "u", "teams": "t", "projects": "p", "leases": "l"}
    store = DynamoStore(AsyncExitStack(), client=None, writer=HalfProcessed(), tables=tables)
    for bad in ([User("U1", version=3)], [User("U1"), User("U1")], [User("")]):
        with pytest.raises(InvalidInput):
            await store.create_many(bad)
    assert await store.create_many([]) == []
