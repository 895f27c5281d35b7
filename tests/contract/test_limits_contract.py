"""Field length bounds (core/limits.py) make every backend agree on what a valid record is.

On each backend (memory, SQLite, mongomock, DynamoDB over moto's HTTP server, real MongoDB when
configured): the largest record the bounds allow, with every free-text character 4 bytes in
UTF-8, is stored and read back unchanged; an over-long record (a 500 KB bio) is refused by
``rocket db import``'s loader with the same one line, and nothing is written.
"""

from __future__ import annotations

import pytest

from core import limits
from core.errors import InvalidInput
from core.models import SET_FIELDS, Permissions, Project, Team, User
from entrypoints.dbio import ImportFileError, import_from

WIDE = "\U0001d11e"  # MUSICAL SYMBOL G CLEF: 4 bytes in UTF-8


def largest(model: type) -> object:
    """The record with every field at its bound (sets full of distinct items at full length)."""
    values: dict[str, object] = {}
    for field, limit in limits.TEXT[model].items():
        ascii_only = field in limits.ASCII[model]
        if field == "permission_level":
            values[field] = Permissions.team_lead
        elif field in SET_FIELDS[model]:
            count = limits.ITEMS[model][field]
            if ascii_only:
                values[field] = {f"{i:0{limit}d}" for i in range(count)}
            else:
                values[field] = {f"{i:06d}" + WIDE * (limit - 6) for i in range(count)}
        else:
            values[field] = ("9" if ascii_only else WIDE) * limit
    return model(**values)


def test_largest_records_fit_dynamodb_with_room_to_spare() -> None:
    for model in (User, Team, Project):
        record = largest(model)
        assert limits.violation(record) is None
        assert limits.worst_case_bytes(model) <= limits.DYNAMODB_ITEM_BYTES * limits.HEADROOM
        encoded = sum(
            sum(len(item.encode()) for item in v) if isinstance(v, set) else len(str(v).encode())
            for v in vars(record).values()
        )
        assert encoded <= limits.worst_case_bytes(model)


@pytest.mark.parametrize("model", [User, Team, Project])
async def test_largest_record_within_bounds_is_stored_on_every_backend(store, model: type) -> None:
    record = largest(model)
    stored = await store.store(record)
    key = getattr(record, model.KEY)
    back = await store.retrieve(model, key)
    assert back is not None
    assert {k: v for k, v in vars(back).items() if k != "version"} == {
        k: v for k, v in vars(stored).items() if k != "version"
    }


OVERLONG = {"users": [{"slack_id": "UBIG", "name": "Big", "bio": "x" * 500_000}],
            "teams": [{"github_team_id": "1", "github_team_name": "ok"}]}
EXPECTED = "users[0] ('UBIG'): Bio is too long (500,000 characters; at most 500)"


async def test_overlong_record_is_refused_identically_on_every_backend(store) -> None:
    with pytest.raises(ImportFileError) as info:
        await import_from(store, OVERLONG)
    assert str(info.value) == EXPECTED
    assert await store.query(User) == [] and await store.query(Team) == []


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (Team("1", members={str(i) for i in range(10_001)}), "Members has 10,001 entries (at most 10,000)"),
        (Team("1", members={"١٢٣"}), "Members must be plain ASCII"),
        (Project("p", tags={"t" * 51}), "Tags is too long (51 characters; at most 50)"),
        (User("U1", email="a" * 250 + "@b.cd"), "Email is too long (255 characters; at most 254)"),
    ],
)
def test_violation_names_the_field(record: object, message: str) -> None:
    found = limits.violation(record)
    assert found is not None and found.startswith(message)
    with pytest.raises(InvalidInput) as info:
        limits.check_fields(type(record), **{k: v for k, v in vars(record).items() if k != "version"})
    assert str(info.value) == found


async def test_commands_refuse_over_long_fields_before_github_or_storage() -> None:
    from core import commands as c
    from entrypoints.bootstrap import make_admin
    from tests.fakes.ports import fake_world

    world = fake_world()
    bus = world.bus()
    await make_admin(bus, "UADMIN")
    with pytest.raises(InvalidInput, match=r"Bio is too long \(501 characters; at most 500\)"):
        await bus.handle(c.EditUser("UADMIN", bio="b" * 501))
    with pytest.raises(InvalidInput, match=r"Name is too long \(256 characters; at most 255\)"):
        await bus.handle(c.CreateTeam("UADMIN", "web", name="n" * 256))
    assert world.github.teams == {} and sum(world.github.calls.values()) == 0
    await world.store.store(Team("7", "web"))
    with pytest.raises(InvalidInput, match="Platform is too long"):
        await bus.handle(c.EditTeam("UADMIN", "web", platform="p" * 101))
    await world.store.store(Project("p1", github_team_id="7"))
    with pytest.raises(InvalidInput, match="Name is too long"):
        await bus.handle(c.EditProject("UADMIN", "p1", name="n" * 256))
    assert (await world.store.retrieve(User, "UADMIN")).bio == ""
    assert (await world.store.retrieve(Team, "7")).platform == ""
    assert (await world.store.retrieve(Project, "p1")).display_name == ""
