"""ViewKarma, SetKarma, ResetKarma, GiveKarma on the memory store (and SQLite for the race)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.commands import GiveKarma, ResetKarma, SetKarma, ViewKarma
from core.context import Ports, Settings
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.models import Team, User
from core.permissions import Permissions
from core.usecases.common import update_with_retry
from tests.fakes.counting_store import CountingStore
from tests.fakes.observe import YieldingStore, snapshot
from tests.fakes.ports import FakeWorld, fake_world, usecase

SETTINGS = Settings()


@pytest.fixture
async def world() -> FakeWorld:
    """An admin, the lead of alpha, the lead of beta, a member of alpha with 7 karma, a loner."""
    w = fake_world()
    s = w.store
    await s.store(User("UADMIN", permission_level=Permissions.admin, karma=3))
    await s.store(User("ULEAD", github_user_id="11", permission_level=Permissions.team_lead, karma=0))
    await s.store(User("UOTHER", github_user_id="12", permission_level=Permissions.team_lead))
    await s.store(User("UMEM", name="Mem", github_user_id="13", karma=7))
    await s.store(User("ULONE", name="Lone", karma=-4))
    await s.store(Team("101", "alpha", team_leads={"11"}, members={"11", "13"}))
    await s.store(Team("102", "beta", team_leads={"12"}, members={"12"}))
    return w


def uc(cls: type, world: FakeWorld, store: Any = None) -> Any:
    ports = world.ports
    used = Ports(store or ports.store, ports.github, ports.chat, ports.drive, ports.clock, ports.ids)
    return usecase(cls, used, SETTINGS)


async def karma_of(world: FakeWorld, slack_id: str) -> int:
    return (await world.store.retrieve(User, slack_id)).karma


# --- ViewKarma -------------------------------------------------------------------------
@pytest.mark.parametrize("actor", ["UMEM", "UADMIN", "UNREGISTERED"])
async def test_anyone_views_karma(world: FakeWorld, actor: str) -> None:
    result = await uc(ViewKarma, world)(actor, "UMEM")
    assert result.user.karma == 7
    assert "7" in result.message


async def test_viewing_karma_of_a_missing_user_is_not_found(world: FakeWorld) -> None:
    with pytest.raises(NotFound, match="UGHOST"):
        await uc(ViewKarma, world)("UMEM", "UGHOST")


# --- SetKarma --------------------------------------------------------------------------
@pytest.mark.parametrize("amount", [5, 0, -12, 1_000_000, -1_000_000])
async def test_admin_sets_karma(world: FakeWorld, amount: int) -> None:
    result = await uc(SetKarma, world)("UADMIN", "UMEM", amount)
    assert await karma_of(world, "UMEM") == amount == result.user.karma
    assert (await world.store.retrieve(User, "UMEM")).name == "Mem"


@pytest.mark.parametrize("actor", ["UMEM", "ULEAD", "UOTHER", "UNREGISTERED"])
async def test_only_admins_set_karma(world: FakeWorld, actor: str) -> None:
    # ULEAD leads UMEM's team alpha, UOTHER leads beta: neither may set karma.
    before = await snapshot(world)
    with pytest.raises(PermissionDenied, match="Only admins can set karma"):
        await uc(SetKarma, world)(actor, "UMEM", 100)
    assert await snapshot(world) == before


@pytest.mark.parametrize("amount", [1_000_001, -1_000_001, True, 2.5, "5", None])
async def test_set_karma_rejects_bad_amounts(world: FakeWorld, amount: Any) -> None:
    before = await snapshot(world)
    with pytest.raises(InvalidInput):
        await uc(SetKarma, world)("UADMIN", "UMEM", amount)
    assert await snapshot(world) == before


async def test_setting_karma_of_a_missing_user_is_not_found(world: FakeWorld) -> None:
    before = await snapshot(world)
    with pytest.raises(NotFound, match="UGHOST"):
        await uc(SetKarma, world)("UADMIN", "UGHOST", 3)
    assert await snapshot(world) == before


async def test_set_karma_racing_profile_edits_keeps_every_change(world: FakeWorld) -> None:
    store = YieldingStore(world.store)
    fields = ["name", "bio", "major", "position", "email"]

    async def edit(field: str, delay: int) -> None:
        for _ in range(delay):  # staggered starts, so some edit overlaps the set's read and write
            await asyncio.sleep(0)
        await update_with_retry(
            store, User, "UMEM", lambda u: dataclasses.replace(u, **{field: f"new {field}"})
        )

    await asyncio.gather(
        uc(SetKarma, world, store)("UADMIN", "UMEM", 42), *(edit(f, i) for i, f in enumerate(fields))
    )
    stored = await world.store.retrieve(User, "UMEM")
    assert stored.karma == 42
    assert [getattr(stored, f) for f in fields] == [f"new {f}" for f in fields]
    assert store.conflicts > 0


# --- ResetKarma ------------------------------------------------------------------------
async def test_admin_resets_everyones_karma_to_one(world: FakeWorld) -> None:
    names_before = {u.slack_id: u.name for u in await world.store.query(User)}
    result = await uc(ResetKarma, world)("UADMIN")
    users = await world.store.query(User)
    assert {u.karma for u in users} == {1}
    assert result.count == len(users) == 5
    assert {u.slack_id: u.name for u in users} == names_before


async def test_reset_reads_the_users_once_not_once_per_user(world: FakeWorld) -> None:
    store = CountingStore(world.store)
    await uc(ResetKarma, world, store)("UADMIN")
    # the actor, then one listing; each of the four users not at 1 is written straight from it
    assert (store.calls["retrieve"], store.calls["query"], store.calls["store"]) == (1, 1, 4)


@pytest.mark.parametrize("actor", ["UMEM", "ULEAD", "UOTHER", "UNREGISTERED"])
async def test_only_admins_reset_karma(world: FakeWorld, actor: str) -> None:
    before = await snapshot(world)
    with pytest.raises(PermissionDenied, match="Only admins can reset karma"):
        await uc(ResetKarma, world)(actor)
    assert await snapshot(world) == before


async def test_reset_racing_profile_edits_keeps_the_edits(world: FakeWorld) -> None:
    store = YieldingStore(world.store)
    targets = ["UMEM", "ULONE", "ULEAD"]

    async def edit(slack_id: str, delay: int) -> None:
        for _ in range(delay):  # staggered starts, so edits overlap the reset's reads and writes
            await asyncio.sleep(0)
        await update_with_retry(store, User, slack_id, lambda u: dataclasses.replace(u, bio=f"bio {delay}"))

    edits = [edit(s, d) for s in targets for d in range(6)]
    await asyncio.gather(uc(ResetKarma, world, store)("UADMIN"), *edits)
    users = {u.slack_id: u for u in await world.store.query(User)}
    assert {u.karma for u in users.values()} == {1}
    assert all(users[s].bio.startswith("bio ") for s in targets)  # no edit was overwritten by the reset
    assert store.conflicts > 0


async def test_reset_skips_a_user_deleted_after_it_was_listed(world: FakeWorld) -> None:
    class DeletesAfterListing(YieldingStore):
        """Lists every user, then ULONE is deleted before the reset writes it."""

        def __getattr__(self, name: str) -> Any:
            if name != "query":
                return super().__getattr__(name)

            async def query(model: type, params: Any = ()) -> Any:
                listed = await self.inner.query(model, params)
                await self.inner.delete(User, "ULONE")
                return listed

            return query

    result = await uc(ResetKarma, world, DeletesAfterListing(world.store))("UADMIN")
    assert result.count == 4
    assert {u.karma for u in await world.store.query(User)} == {1}
    assert await world.store.query(User, [("slack_id", "ULONE")]) == []


# --- GiveKarma -------------------------------------------------------------------------
@pytest.mark.parametrize("actor", ["ULONE", "ULEAD", "UADMIN", "UNREGISTERED"])
async def test_anyone_gives_one_karma_to_a_registered_user(world: FakeWorld, actor: str) -> None:
    result = await uc(GiveKarma, world)(actor, "UMEM")
    assert await karma_of(world, "UMEM") == 8 == result.user.karma


async def test_nobody_gives_karma_to_themselves(world: FakeWorld) -> None:
    before = await snapshot(world)
    with pytest.raises(PermissionDenied, match="yourself"):
        await uc(GiveKarma, world)("UMEM", "UMEM")
    assert await snapshot(world) == before


async def test_karma_for_an_unregistered_user_is_not_found(world: FakeWorld) -> None:
    before = await snapshot(world)
    with pytest.raises(NotFound, match="UGHOST"):
        await uc(GiveKarma, world)("UMEM", "UGHOST")
    assert await snapshot(world) == before


@pytest.fixture(params=["memory", "sqlite"])
async def any_store(request: pytest.FixtureRequest, tmp_path: Any, world: FakeWorld) -> AsyncIterator[Any]:
    """The world's memory store, or a SQLite file with the same users (real awaits, real SQL)."""
    if request.param == "memory":
        yield world.store
        return
    from adapters.sqlite import SqliteStore

    store = await SqliteStore.open(str(tmp_path / "karma.db"))
    for user in await world.store.query(User):
        await store.store(dataclasses.replace(user, version=0))
    try:
        yield store
    finally:
        await store.close()


async def test_fifty_concurrent_gifts_add_exactly_fifty(world: FakeWorld, any_store: Any) -> None:
    give = uc(GiveKarma, world, YieldingStore(any_store))
    results = await asyncio.gather(*(give(f"UGIVER{i}", "UMEM") for i in range(50)))
    assert (await any_store.retrieve(User, "UMEM")).karma == 7 + 50
    assert sorted(r.user.karma for r in results) == list(range(8, 58))  # each saw its own increment
