"""The storage contract (ports/storage.py), run unchanged on every backend."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from core.errors import Conflict, InvalidInput, NotFound
from core.models import Project, Team, User
from core.permissions import Permissions

ODD = 'Zoë "Q" O\'Brien — 名前 🚀 \\ % _ *'


async def test_store_then_retrieve_round_trips_every_field(store):
    user = User(
        slack_id="U1", name=ODD, email="zoe@example.com", github="zoe", github_user_id="42",
        major="CS", position="Dev", bio="line1\nline2", image_url="https://x/y.png",
        permission_level=Permissions.admin, karma=7,
    )
    stored = await store.store(user)
    assert stored.version == 1 and user.version == 0
    got = await store.retrieve(User, "U1")
    assert got == stored


async def test_team_and_project_sets_round_trip(store):
    team = Team("100", "brussel", ODD, "web", {"1"}, {"1", "2", "3"}, "folder1")
    project = Project("P1", "100", {"https://github.com/a/b", "https://github.com/a/c"},
                      "Proj", "short", "long", {"x", ODD}, "w", "m", "a", "p")
    assert (await store.store(team)).version == 1
    assert (await store.store(project)).version == 1
    assert await store.retrieve(Team, "100") == dataclasses.replace(team, version=1)
    assert await store.retrieve(Project, "P1") == dataclasses.replace(project, version=1)


async def test_empty_sets_round_trip(store):
    await store.store(Team("7"))
    got = await store.retrieve(Team, "7")
    assert got.members == set() and got.team_leads == set()


async def test_retrieve_missing_raises_not_found(store):
    with pytest.raises(NotFound):
        await store.retrieve(User, "nobody")
    with pytest.raises(NotFound):
        await store.retrieve(Team, "nobody")


async def test_create_existing_key_conflicts_and_writes_nothing(store):
    await store.store(User("U1", name="first"))
    with pytest.raises(Conflict):
        await store.store(User("U1", name="second"))
    assert (await store.retrieve(User, "U1")).name == "first"


async def test_compare_and_set_update(store):
    v1 = await store.store(User("U1", name="a"))
    v2 = await store.store(dataclasses.replace(v1, name="b"))
    assert v2.version == 2
    with pytest.raises(Conflict):
        await store.store(dataclasses.replace(v1, name="stale"))
    got = await store.retrieve(User, "U1")
    assert got.name == "b" and got.version == 2


async def test_update_of_deleted_record_conflicts(store):
    v1 = await store.store(User("U1"))
    assert await store.delete(User, "U1") is True
    with pytest.raises(Conflict):
        await store.store(dataclasses.replace(v1, name="ghost"))
    with pytest.raises(NotFound):
        await store.retrieve(User, "U1")


async def test_delete_missing_is_false(store):
    assert await store.delete(User, "nobody") is False
    assert await store.delete(Project, "nobody") is False


async def test_empty_tables(store):
    assert await store.query(User) == []
    assert await store.query_or(Team) == []
    assert await store.query(Project, [("github_team_id", "1")]) == []
    assert await store.bulk_retrieve(User, []) == []
    assert await store.bulk_retrieve(User, ["a", "b"]) == []


async def test_query_equality_and_and(store):
    await store.store(User("U1", name="Ann", permission_level=Permissions.admin, major="CS"))
    await store.store(User("U2", name="Bob", permission_level=Permissions.member, major="CS"))
    await store.store(User("U3", name=ODD, permission_level=Permissions.admin, major="Math"))
    admins = await store.query(User, [("permission_level", "admin")])
    assert sorted(u.slack_id for u in admins) == ["U1", "U3"]
    both = await store.query(User, [("permission_level", "admin"), ("major", "CS")])
    assert [u.slack_id for u in both] == ["U1"]
    assert [u.slack_id for u in await store.query(User, [("name", ODD)])] == ["U3"]
    assert len(await store.query(User)) == 3


async def test_query_on_set_fields_means_contains(store):
    await store.store(Team("1", "a", members={"m1", "m2"}, team_leads={"m1"}))
    await store.store(Team("2", "b", members={"m2", "m3"}))
    await store.store(Team("3", "c", members=set()))
    with_m2 = await store.query(Team, [("members", "m2")])
    assert sorted(t.github_team_id for t in with_m2) == ["1", "2"]
    both = await store.query(Team, [("members", "m2"), ("members", "m3")])
    assert [t.github_team_id for t in both] == ["2"]
    leads = await store.query(Team, [("team_leads", "m1")])
    assert [t.github_team_id for t in leads] == ["1"]
    assert await store.query(Team, [("members", "m")]) == []  # no substring matching
    await store.store(Project("P", "1", {"https://github.com/o/r"}, tags={ODD}))
    assert len(await store.query(Project, [("github_urls", "https://github.com/o/r")])) == 1
    assert len(await store.query(Project, [("tags", ODD)])) == 1


async def test_query_or_is_a_union(store):
    await store.store(Team("1", "a", members={"m1"}))
    await store.store(Team("2", "b", members={"m2"}))
    await store.store(Team("3", "c", members={"m3"}))
    got = await store.query_or(Team, [("members", "m1"), ("github_team_name", "b")])
    assert sorted(t.github_team_id for t in got) == ["1", "2"]
    assert len(await store.query_or(Team)) == 3
    assert await store.query_or(Team, [("members", "zzz")]) == []


async def test_query_unknown_field_is_invalid_input(store):
    with pytest.raises(InvalidInput):
        await store.query(User, [("no_such_field", "x")])
    with pytest.raises(InvalidInput):
        await store.query_or(User, [("no_such_field", "x")])


async def test_query_by_integer_field(store):
    await store.store(User("U1", karma=5))
    await store.store(User("U2", karma=1))
    assert [u.slack_id for u in await store.query(User, [("karma", 5)])] == ["U1"]


async def test_bulk_retrieve_keeps_order_and_skips_missing(store):
    for i in range(5):
        await store.store(User(f"U{i}"))
    got = await store.bulk_retrieve(User, ["U3", "missing", "U0", "U3", "U4"])
    assert [u.slack_id for u in got] == ["U3", "U0", "U4"]


async def test_bulk_retrieve_a_thousand_records(store):
    await asyncio.gather(*(store.store(User(f"U{i:04d}", name=f"n{i}")) for i in range(1000)))
    keys = [f"U{i:04d}" for i in range(999, -1, -1)] + ["nope"]
    got = await store.bulk_retrieve(User, keys)
    assert [u.slack_id for u in got] == keys[:-1]
    assert got[0].name == "n999"


async def test_increment_is_atomic_under_concurrency(store):
    await store.store(User("U1"))
    results = await asyncio.gather(*(store.increment(User, "U1", "karma", 1) for _ in range(50)))
    assert sorted(results) == list(range(2, 52))
    got = await store.retrieve(User, "U1")
    assert got.karma == 51
    assert got.version == 51  # one create + fifty increments


async def test_increment_bumps_version_so_stale_store_conflicts(store):
    v1 = await store.store(User("U1", name="a"))
    assert await store.increment(User, "U1", "karma", 3) == 4
    with pytest.raises(Conflict):
        await store.store(dataclasses.replace(v1, name="b"))
    assert (await store.retrieve(User, "U1")).karma == 4


async def test_increment_missing_and_bad_field(store):
    with pytest.raises(NotFound):
        await store.increment(User, "nobody", "karma", 1)
    await store.store(User("U1"))
    with pytest.raises(InvalidInput):
        await store.increment(User, "U1", "name", 1)
    assert await store.increment(User, "U1", "karma", -1) == 0


@pytest.mark.parametrize("amount", [1.5, "1", True, None])
async def test_increment_by_a_non_integer_is_invalid_input_and_writes_nothing(store, amount):
    stored = await store.store(User("U1", karma=3))
    with pytest.raises(InvalidInput):
        await store.increment(User, "U1", "karma", amount)
    assert await store.retrieve(User, "U1") == stored


async def test_concurrent_stale_stores_one_wins(store):
    base = await store.store(User("U1", name="base"))
    a = dataclasses.replace(base, name="alice")
    b = dataclasses.replace(base, name="bob")
    results = await asyncio.gather(store.store(a), store.store(b), return_exceptions=True)
    wins = [r for r in results if isinstance(r, User)]
    conflicts = [r for r in results if isinstance(r, Conflict)]
    assert len(wins) == 1 and len(conflicts) == 1, results
    got = await store.retrieve(User, "U1")
    assert got.name == wins[0].name and got.version == 2


async def test_concurrent_creates_one_wins(store):
    results = await asyncio.gather(
        store.store(Team("9", "x")), store.store(Team("9", "y")), return_exceptions=True
    )
    assert sum(isinstance(r, Team) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == 1


async def test_leases(store):
    assert await store.acquire_lease("job", "w1", 60, now=1000) is True
    assert await store.acquire_lease("job", "w2", 60, now=1010) is False
    assert await store.acquire_lease("job", "w1", 60, now=1020) is True  # renewal
    assert await store.acquire_lease("job", "w2", 60, now=1081) is True  # expired at 1080
    assert await store.acquire_lease("job", "w1", 60, now=1082) is False
    await store.release_lease("job", "w1")  # not the holder: nothing happens
    assert await store.acquire_lease("job", "w3", 60, now=1083) is False
    await store.release_lease("job", "w2")
    assert await store.acquire_lease("job", "w3", 60, now=1084) is True


async def test_releasing_a_lease_nobody_holds_does_nothing(store):
    await store.release_lease("never-taken", "")
    await store.release_lease("never-taken", "w1")
    assert await store.acquire_lease("never-taken", "w2", 60, now=1000) is True


async def test_concurrent_lease_only_one_holder(store):
    results = await asyncio.gather(
        *(store.acquire_lease("delivery-1", f"w{i}", 3600, now=5000) for i in range(10))
    )
    assert results.count(True) == 1


async def test_purge_expired_leases_deletes_and_counts_only_expired_ones(store):
    assert await store.acquire_lease("gone-1", "w1", 10, now=1000)  # expires at 1010
    assert await store.acquire_lease("gone-2", "w1", 20.5, now=1000)  # 1020.5
    assert await store.acquire_lease("edge", "w1", 50, now=1000)  # 1050: expired at 1050 exactly
    assert await store.acquire_lease("live", "w1", 100, now=1000)  # 1100
    assert await store.acquire_lease("renewed", "w1", 10, now=1000)  # expired at 1010 ...
    assert await store.acquire_lease("renewed", "w1", 100, now=1030)  # ... renewed until 1130
    assert await store.acquire_lease("taken-over", "w1", 10, now=1000)  # expired at 1010 ...
    assert await store.acquire_lease("taken-over", "w2", 100, now=1040)  # ... w2's until 1140

    assert await store.purge_expired_leases(now=1050) == 3
    assert await store.purge_expired_leases(now=1050) == 0  # they are gone, not just counted

    for name, holder in [("live", "w1"), ("renewed", "w1"), ("taken-over", "w2")]:
        assert await store.acquire_lease(name, "intruder", 60, now=1060) is False, name
        assert await store.acquire_lease(name, holder, 100, now=1060) is True, name  # still theirs
    for name in ["gone-1", "gone-2", "edge"]:
        assert await store.acquire_lease(name, "newcomer", 100, now=1060) is True, name
    assert await store.purge_expired_leases(now=1159) == 0  # everything lives until 1160 now
    assert await store.purge_expired_leases(now=1160) == 6


async def test_purge_expired_leases_honours_the_limit(store):
    for i in range(7):
        assert await store.acquire_lease(f"old-{i}", f"w{i}", 10 + i, now=1000)
    for i in range(2):
        assert await store.acquire_lease(f"new-{i}", "w", 3600, now=1000)
    assert [await store.purge_expired_leases(now=2000, limit=3) for _ in range(4)] == [3, 3, 1, 0]
    assert await store.purge_expired_leases(now=2000) == 0
    for i in range(2):
        assert await store.acquire_lease(f"new-{i}", "intruder", 60, now=2000) is False
    for i in range(7):
        assert await store.acquire_lease(f"old-{i}", "newcomer", 60, now=2000) is True


async def test_purge_expired_leases_on_an_empty_table_returns_zero(store):
    assert await store.purge_expired_leases(now=1e12) == 0
    assert await store.purge_expired_leases(now=1e12, limit=1) == 0


@pytest.mark.parametrize("limit", [0, -1, True, 1.5])
async def test_purge_expired_leases_refuses_a_limit_that_is_not_a_positive_integer(store, limit):
    assert await store.acquire_lease("gone", "w1", 10, now=1000)
    with pytest.raises(InvalidInput):
        await store.purge_expired_leases(now=2000, limit=limit)
    assert await store.purge_expired_leases(now=2000) == 1  # nothing was deleted by the refused call


async def test_ping(store):
    await store.ping()


async def test_200_concurrent_stores_on_200_records_each_keep_their_own_outcome(store):
    """Creates, fresh updates and stale updates of 200 records, all in flight at once.

    Each write's outcome is its own: a stale neighbour in the same burst (on SQLite, the
    same transaction) never turns a fresh write into a Conflict or the reverse.
    """
    n = 200
    keys = [f"C{i:03d}" for i in range(n)]
    created = await asyncio.gather(*(store.store(User(k, name="v1")) for k in keys))
    assert [(u.slack_id, u.version, u.name) for u in created] == [(k, 1, "v1") for k in keys]
    odd = created[1::2]
    bumped = await asyncio.gather(*(store.store(dataclasses.replace(u, name="v2")) for u in odd))
    assert all(u.version == 2 for u in bumped)

    # even records: written from their current version; odd ones: from the stale v1 copy
    burst = [dataclasses.replace(u, name=f"burst {i}") for i, u in enumerate(created)]
    results = await asyncio.gather(*(store.store(u) for u in burst), return_exceptions=True)
    for i, result in enumerate(results):
        if i % 2 == 0:
            assert isinstance(result, User) and result.version == 2, (i, result)
            assert result.name == f"burst {i}"
        else:
            assert isinstance(result, Conflict), (i, result)
    stored = {u.slack_id: u for u in await store.bulk_retrieve(User, keys)}
    assert len(stored) == n  # nothing lost
    for i, key in enumerate(keys):
        assert stored[key].version == 2, key
        assert stored[key].name == (f"burst {i}" if i % 2 == 0 else "v2"), key
    again = await asyncio.gather(*(store.store(User(k)) for k in keys), return_exceptions=True)
    assert all(isinstance(r, Conflict) for r in again)  # creates of existing keys, all refused
    assert len(await store.query(User)) == n


async def test_200_concurrent_stores_on_one_record_exactly_one_wins(store):
    base = await store.store(User("U1", name="base", karma=5))
    results = await asyncio.gather(
        *(store.store(dataclasses.replace(base, name=f"writer {i}")) for i in range(200)),
        return_exceptions=True,
    )
    wins = [r for r in results if isinstance(r, User)]
    assert len(wins) == 1, [r for r in results if not isinstance(r, Conflict | User)]
    assert sum(isinstance(r, Conflict) for r in results) == 199
    got = await store.retrieve(User, "U1")
    assert got == wins[0] and got.version == 2 and got.karma == 5

    creates = await asyncio.gather(*(store.store(Team("T1", f"team {i}")) for i in range(200)),
                                   return_exceptions=True)
    made = [r for r in creates if isinstance(r, Team)]
    assert len(made) == 1 and sum(isinstance(r, Conflict) for r in creates) == 199
    assert await store.retrieve(Team, "T1") == made[0]

