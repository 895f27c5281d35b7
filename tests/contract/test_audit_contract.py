"""The audit log contract (ports/audit.py), run unchanged on every backend.

The ``audit_log`` fixture takes the storage contract's backend ids (tests/contract/conftest.py
``BACKENDS``); a backend id without an audit log yet is skipped with the reason, so adding a
backend there only needs a branch in ``_open_audit_log``. Expected answers come from
``expected()``, a plain filter-and-sort over the entries the test appended.
"""

from __future__ import annotations

import asyncio
import os
import random
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from core.audit import AuditEntry, audit_time, encode_cursor
from core.errors import InvalidInput
from tests.contract.conftest import BACKENDS

ODD = 'Zoë "Q" O\'Brien — 名前 🚀 \\ % _ * #'


async def _open_audit_log(backend: str, request: pytest.FixtureRequest, tmp_path,
                          cleanups: list[Callable[[], Any]]) -> Any:
    """The audit log of ``backend``, opened beside that backend's store where it has one."""
    if backend == "memory":
        from adapters.memory.audit import MemoryAuditLog

        return MemoryAuditLog()
    if backend == "sqlite":
        from adapters.sqlite import SqliteStore
        from adapters.sqlite.audit import SqliteAuditLog

        store: Any = await SqliteStore.open(str(tmp_path / "contract.db"))
        cleanups.append(store.close)
        return await SqliteAuditLog.for_store(store)
    if backend in ("mongomock", "mongodb-real"):
        from adapters.mongo import MongoStore
        from adapters.mongo.audit import MongoAuditLog

        if backend == "mongomock":
            from mongomock_motor import AsyncMongoMockClient

            client: Any = AsyncMongoMockClient()
            db_name = f"rocket_{uuid.uuid4().hex[:8]}"
        else:
            uri = os.environ.get("MONGODB_TEST_URI")
            if not uri:
                pytest.skip("MONGODB_TEST_URI is not set: no real MongoDB server to test against")
            from pymongo import AsyncMongoClient

            client = AsyncMongoClient(uri, serverSelectionTimeoutMS=5000)
            db_name = f"rocket_test_{uuid.uuid4().hex[:8]}"

        store = await MongoStore.open(client, db_name)
        cleanups.append(store.close)  # closes the client
        if backend == "mongodb-real":
            async def drop() -> None:
                await client.drop_database(db_name)

            cleanups.append(drop)  # runs first: cleanups run in reverse
        return await MongoAuditLog.for_store(store)
    if backend == "dynamodb":
        from adapters.dynamo import DynamoStore
        from adapters.dynamo.audit import DynamoAuditLog
        from tests.support import moto_transactions

        moto_transactions.install()  # O(items) transactions, as in DynamoDB (see the module)
        endpoint = request.getfixturevalue("moto_endpoint")
        prefix = uuid.uuid4().hex[:8]
        store = await DynamoStore.open(
            endpoint_url=endpoint, region="us-east-1", access_key="testing", secret_key="testing",
            tables={t: f"{prefix}_{t}" for t in ("users", "teams", "projects", "leases")},
        )
        cleanups.append(store.close)
        return await DynamoAuditLog.for_store(store, {"AWS_AUDIT_TABLE": f"{prefix}_audit"})
    pytest.skip(f"no audit log for the {backend} backend yet")


@pytest.fixture(params=BACKENDS)
async def audit_log(request, tmp_path) -> AsyncIterator[Any]:
    cleanups: list[Callable[[], Any]] = []
    try:
        log = await _open_audit_log(request.param, request, tmp_path, cleanups)
        try:
            yield log
        finally:
            await log.close()
    finally:
        for cleanup in reversed(cleanups):
            await cleanup()


# -- data ------------------------------------------------------------------------------------

ACTORS = ["U1", "U2", "github", "job:refresh", "cli"]
USERS = ["U1", "U2", "U3", "U4", "U5", "U6"]
TEAMS = ["backend", "frontend", "infra", ODD]


def make_entries(n: int, seed: int = 7, prefix: str = "e") -> list[AuditEntry]:
    """``n`` varied entries over three days; some share a time (the id breaks the tie)."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        day = 1 + rng.randrange(3)
        second = rng.randrange(0, 3600 * 24, 7 * 60)  # coarse: several entries per instant
        time = f"2026-11-{day:02d}T{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d}Z"
        users = rng.sample(USERS, rng.randrange(0, 3))
        teams = rng.sample(TEAMS, rng.randrange(0, 2))
        out.append(AuditEntry(
            id=f"{prefix}{i:04d}", time=time, actor=rng.choice(ACTORS), action="team add",
            target=f"team:{teams[0]}" if teams else "user:U1",
            changes=(("members", [], users), ("name", None, ODD)), users=users, teams=teams,
        ))
    return out


def expected(entries: list[AuditEntry], limit: int = 20, **filters: Any) -> list[AuditEntry]:
    """The port's answer worked out by hand: filter, newest first, limit."""
    filters = {k: audit_time(v) if k in ("since", "until") else v for k, v in filters.items()}

    def keep(e: AuditEntry) -> bool:
        return ((filters.get("since") is None or e.time >= filters["since"])
                and (filters.get("until") is None or e.time < filters["until"])
                and (filters.get("actor") is None or e.actor == filters["actor"])
                and (filters.get("user") is None or filters["user"] in e.users)
                and (filters.get("team") is None or filters["team"] in e.teams))
    chosen = sorted((e for e in entries if keep(e)), key=lambda e: (e.time, e.id), reverse=True)
    return chosen[:limit]


def ids(entries: list[AuditEntry]) -> list[str]:
    return [e.id for e in entries]


async def query_all(log: Any, page: int = 1000, before: Any = None, **filters: Any) -> list[AuditEntry]:
    """Every matching entry (older than ``before``), by following ``before`` cursors."""
    out: list[AuditEntry] = []
    while True:
        got = await log.query(limit=page, before=before, **filters)
        out += got
        if len(got) < page:
            return out
        before = got[-1].cursor


# -- append ----------------------------------------------------------------------------------

async def test_append_then_query_round_trips_every_field(audit_log):
    entry = AuditEntry(
        id="change-1", time="2026-12-01T11:00:00.123456+01:00", actor="U1", action="user edit",
        target="user:U2", changes=(("bio", "old\nline", ODD), ("karma", 1, 2),
                                   ("tags", ["a"], {"k": [1, None, True, 1.5]}),
                                   ("odd", {"$set": {"a.b": 2**70}}, -(2**64))),
        users=("U2", ODD), teams=("backend",),
    )
    assert await audit_log.append([entry]) == 1
    [got] = await audit_log.query()
    assert got == entry
    assert got.time == "2026-12-01T10:00:00.123456Z"


async def test_the_largest_entry_about_the_most_users_and_teams_is_stored(audit_log):
    from core.audit import MAX_ENTRY_BYTES, MAX_TAGS

    users = [f"U{i:03d}" for i in range(MAX_TAGS // 2)]
    teams = [f"team-{i}" for i in range(MAX_TAGS - len(users))]
    big = AuditEntry(id="big", time="2026-12-01T10:00:00Z", actor="job:refresh", action="team refresh",
                     target="org", changes=[("bio", "", "x" * (MAX_ENTRY_BYTES - 3000))],
                     users=users, teams=teams)
    assert await audit_log.append([big]) == 1
    assert await audit_log.query(user=users[-1]) == [big]
    assert await audit_log.query(team=teams[-1]) == [big]


async def test_append_counts_new_entries_and_an_empty_append_writes_nothing(audit_log):
    assert await audit_log.append([]) == 0
    entries = make_entries(5)
    assert await audit_log.append(entries) == 5
    assert ids(await audit_log.query()) == ids(expected(entries))


async def test_reappending_an_id_stores_one_entry_and_keeps_the_first(audit_log):
    entries = make_entries(4)
    assert await audit_log.append(entries) == 4
    assert await audit_log.append(entries) == 0
    changed = AuditEntry(id=entries[0].id, time="2026-12-30T00:00:00Z", actor="cli",
                         action="team delete", target="team:x", users=["U9"], teams=["x"])
    assert await audit_log.append([changed, *entries[1:]]) == 0
    got = await query_all(audit_log)
    assert sorted(ids(got)) == sorted(ids(entries))
    assert next(e for e in got if e.id == entries[0].id) == entries[0]
    assert await audit_log.query(user="U9") == [] and await audit_log.query(team="x") == []


async def test_an_id_repeated_in_one_call_is_stored_once(audit_log):
    a, b = make_entries(2)
    twin = AuditEntry(id=a.id, time=b.time, actor="cli", action="x", target="y")
    assert await audit_log.append([a, b, twin, a]) == 2
    assert sorted(ids(await audit_log.query())) == sorted([a.id, b.id])
    assert [e for e in await audit_log.query() if e.id == a.id] == [a]


async def test_bad_input_is_refused_and_writes_nothing(audit_log):
    good = make_entries(1)[0]
    with pytest.raises(InvalidInput):
        await audit_log.append([good, {"id": "x"}])  # type: ignore[list-item]
    assert await audit_log.query() == []
    for bad in ({"since": "yesterday"}, {"until": 5}, {"limit": 0}, {"limit": 1001},
                {"limit": "5"}, {"limit": True}, {"actor": ""}, {"before": "no-cursor"},
                {"before": ("2026-01-01", "")}):
        with pytest.raises(InvalidInput):
            await audit_log.query(**bad)
    for older_than, limit in (("soon", 10), ("2026-01-01", 0), ("2026-01-01", -1), ("2026-01-01", 1.5)):
        with pytest.raises(InvalidInput):
            await audit_log.purge(older_than, limit)


# -- query -----------------------------------------------------------------------------------

FILTERS: list[dict[str, Any]] = [
    {},
    {"since": "2026-11-02T00:00:00Z"},
    {"until": "2026-11-02T12:00:00Z"},
    {"since": "2026-11-01T06:00:00Z", "until": "2026-11-03T06:00:00Z"},
    {"actor": "github"},
    {"user": "U3"},
    {"team": "backend"},
    {"team": ODD},
    {"actor": "U1", "user": "U2"},
    {"user": "U1", "team": "infra"},
    {"actor": "job:refresh", "team": "frontend", "since": "2026-11-02T00:00:00Z"},
    {"user": "U4", "until": "2026-11-03T00:00:00Z", "since": "2026-11-01T12:00:00Z"},
    {"actor": "cli", "user": "U5", "team": "backend"},
    {"actor": "nobody"},
    {"user": "U404"},
    {"since": "2026-11-03T00:00:00Z", "until": "2026-11-02T00:00:00Z"},
]


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: ",".join(sorted(f)) or "none")
async def test_query_by_each_key_and_combination_newest_first(audit_log, filters):
    entries = make_entries(120)
    await audit_log.append(entries)
    for limit in (1, 5, 20, 1000):
        want = expected(entries, limit=limit, **filters)
        assert ids(await audit_log.query(limit=limit, **filters)) == ids(want), (limit, filters)
    assert len(expected(entries, limit=1000, **filters)) < 120 or not filters


async def test_the_filters_select_something_in_the_data_set():
    # guards the test above from passing on empty answers
    entries = make_entries(120)
    selective = [f for f in FILTERS if f and len(expected(entries, limit=1000, **f)) > 0]
    assert len(selective) >= 11


async def test_entries_at_the_same_time_order_by_id_descending(audit_log):
    same = [AuditEntry(id=i, time="2026-12-01T10:00:00Z", actor="cli", action="a", target="t",
                       users=["U1"]) for i in ("b", "a", "c", "a#1", "B")]
    await audit_log.append(same)
    want = sorted(e.id for e in same)[::-1]
    assert ids(await audit_log.query()) == want
    assert ids(await audit_log.query(user="U1")) == want
    assert ids(await audit_log.query(actor="cli", limit=2)) == want[:2]


async def test_since_is_inclusive_and_until_exclusive(audit_log):
    at = "2026-12-01T10:00:00.000001Z"
    entry = AuditEntry(id="x", time=at, actor="cli", action="a", target="t", teams=["infra"])
    await audit_log.append([entry])
    assert ids(await audit_log.query(since=at)) == ["x"]
    assert await audit_log.query(until=at) == []
    assert ids(await audit_log.query(until="2026-12-01T10:00:00.000002Z", team="infra")) == ["x"]
    assert await audit_log.query(since="2026-12-01T10:00:00.000002Z", team="infra") == []
    assert ids(await audit_log.query(since="2026-12-01T11:00:00+01:00")) == ["x"]  # same instant


@pytest.mark.parametrize("filters", [{}, {"user": "U2"}, {"team": "backend"}, {"actor": "U1"},
                                     {"since": "2026-11-01T12:00:00Z", "user": "U1"}],
                         ids=lambda f: ",".join(sorted(f)) or "none")
async def test_paging_with_before_visits_each_entry_once_in_order(audit_log, filters):
    entries = make_entries(90)
    await audit_log.append(entries)
    want = expected(entries, limit=1000, **filters)
    assert len(want) >= 8
    pages: list[list[AuditEntry]] = []
    before: Any = None
    while True:
        page = await audit_log.query(limit=7, before=before, **filters)
        if not page:
            break
        pages.append(page)
        before = encode_cursor(page[-1].cursor) if len(pages) % 2 else page[-1].cursor
    assert all(len(p) == 7 for p in pages[:-1])
    assert ids([e for p in pages for e in p]) == ids(want)


async def test_paging_does_not_shift_when_newer_entries_arrive(audit_log):
    entries = make_entries(30)
    await audit_log.append(entries)
    first = await audit_log.query(limit=10)
    late = make_entries(10, seed=99, prefix="late")  # their times interleave with the others
    await audit_log.append(late)
    rest = await query_all(audit_log, page=10, before=first[-1].cursor)
    older = [e for e in expected(entries + late, limit=1000) if e.cursor < first[-1].cursor]
    assert ids(rest) == ids(older)
    assert any(e.id.startswith("late") for e in rest)
    seen = ids(first + rest)
    assert len(seen) == len(set(seen))


# -- purge -----------------------------------------------------------------------------------

async def test_purge_deletes_older_entries_oldest_first_up_to_limit(audit_log):
    entries = make_entries(60)
    await audit_log.append(entries)
    cutoff = "2026-11-02T12:00:00Z"
    old = sorted((e for e in entries if e.time < cutoff), key=lambda e: (e.time, e.id))
    assert len(old) > 10
    assert await audit_log.purge(cutoff, limit=5) == 5
    left = [e for e in entries if e not in old[:5]]
    assert ids(await query_all(audit_log)) == ids(expected(left, limit=1000))
    assert await audit_log.purge(cutoff) == len(old) - 5
    assert await audit_log.purge(cutoff) == 0
    kept = [e for e in entries if e.time >= cutoff]
    assert ids(await query_all(audit_log)) == ids(expected(kept, limit=1000))
    for key in [{"user": u} for u in USERS] + [{"team": t} for t in TEAMS] + [{"actor": a} for a in ACTORS]:
        assert ids(await audit_log.query(limit=1000, **key)) == ids(expected(kept, limit=1000, **key))


async def test_a_purged_id_can_be_appended_again(audit_log):
    entry = make_entries(1)[0]
    await audit_log.append([entry])
    assert await audit_log.purge("2027-01-01T00:00:00Z") == 1
    assert await audit_log.query() == []
    assert await audit_log.append([entry]) == 1
    assert await audit_log.query() == [entry]


# -- volume and concurrency ------------------------------------------------------------------

async def test_concurrent_appends_lose_nothing_and_racing_duplicates_store_one(audit_log):
    entries = make_entries(150, seed=11)
    twin = AuditEntry(id="racing", time="2026-11-02T10:00:00Z", actor="cli", action="a",
                      target="t", users=["U1"], teams=["infra"])
    calls = [audit_log.append([e]) for e in entries] + [audit_log.append([twin]) for _ in range(50)]
    random.Random(5).shuffle(calls)
    counts = await asyncio.gather(*calls)
    assert sum(counts) == 151
    got = await query_all(audit_log)
    assert sorted(ids(got)) == sorted([*ids(entries), "racing"])
    assert [e for e in await audit_log.query(user="U1", limit=1000) if e.id == "racing"] == [twin]


# -- cost: no full scan ----------------------------------------------------------------------

def _count_dynamo_calls(log: Any) -> dict[str, int]:
    counts: dict[str, int] = {}

    def count(model: Any, **_: Any) -> None:
        counts[model.name] = counts.get(model.name, 0) + 1

    for client in (log._store._client, log._store._writer):
        client.meta.events.register("before-call.dynamodb", count)
    return counts


async def _assert_indexed(log: Any, run: Callable[[], Any], **query: Any) -> None:
    """Backend-specific proof that ``query`` reads an index, not every entry."""
    from adapters.dynamo.audit import DynamoAuditLog
    from adapters.memory.audit import MemoryAuditLog
    from adapters.mongo.audit import MongoAuditLog
    from adapters.sqlite.audit import SqliteAuditLog

    if isinstance(log, SqliteAuditLog):
        plan = " | ".join(await log.explain(**query))
        assert "TEMP B-TREE" not in plan, plan
        for step in plan.split(" | "):
            assert step.startswith("SEARCH") or "USING INDEX" in step or "PRIMARY KEY" in step, plan
        if query.get("actor") or query.get("user") or query.get("team"):
            assert plan.startswith("SEARCH"), plan
        await run()
    elif isinstance(log, MemoryAuditLog):
        before = log.reads
        await run()
        read = log.reads - before  # 1,000 entries stored; a page of 10
        keys = sum(1 for k in ("actor", "user", "team") if query.get(k))
        assert read <= (11 if keys < 2 else 400), (read, query)
    elif isinstance(log, MongoAuditLog):
        info = await log._coll.index_information()
        assert {"audit_by_time", "audit_by_actor", "audit_by_user", "audit_by_team"} <= set(info)
        try:
            plan = str(await log.explain(**query))
        except (NotImplementedError, AttributeError):
            plan = ""  # mongomock has no query planner: the indexes above are what we can check
        if plan:
            assert "IXSCAN" in plan and "COLLSCAN" not in plan, plan
        await run()
    elif isinstance(log, DynamoAuditLog):
        counts = _count_dynamo_calls(log)
        await run()
        assert counts.get("Scan", 0) == 0, counts
        assert 1 <= counts.get("Query", 0) <= 8, counts
    else:  # pragma: no cover
        raise AssertionError(f"no cost check for {type(log).__name__}")


COST_QUERIES: list[dict[str, Any]] = [
    {}, {"since": "2026-11-02T00:00:00Z"}, {"until": "2026-11-02T00:00:00Z"}, {"actor": "github"},
    {"user": "U2"}, {"team": "backend"}, {"user": "U2", "team": "backend"},
    {"actor": "U1", "user": "U3", "since": "2026-11-01T00:00:00Z"},
    {"before": ("2026-11-02T12:00:00.000000Z", "e0500")},
]


async def test_a_thousand_entries_are_all_kept_in_order_and_queries_read_an_index(audit_log):
    entries = make_entries(1000, seed=3)
    assert await audit_log.append(entries) == 1000
    everything = await audit_log.query(limit=1000)
    assert ids(everything) == ids(expected(entries, limit=1000))
    assert ids(await query_all(audit_log, page=250)) == ids(everything)
    for key in ({"user": "U6"}, {"team": "infra"}, {"actor": "github", "since": "2026-11-02T00:00:00Z"}):
        want = expected(entries, limit=1000, **key)
        assert len(want) > 50
        assert ids(await audit_log.query(limit=1000, **key)) == ids(want)
    for query in COST_QUERIES:
        got: list[AuditEntry] = []

        async def run(query: dict[str, Any] = query, got: list[AuditEntry] = got) -> None:
            got.extend(await audit_log.query(limit=10, **query))

        await _assert_indexed(audit_log, run, limit=10, **query)
        filters = {k: v for k, v in query.items() if k != "before"}
        want = [e for e in expected(entries, limit=1000, **filters)
                if "before" not in query or e.cursor < query["before"]][:10]
        assert ids(got) == ids(want) and len(got) == 10, query
