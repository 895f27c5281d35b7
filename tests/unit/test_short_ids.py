"""Short project ids (issue 13): the shortest unique prefix, at least 6 characters, shown in
`project list` and accepted wherever a project id is."""

from __future__ import annotations

from adapters.memory.store import MemoryStore
from core.models import Project, Team
from core.usecases.projects import short_ids
from entrypoints.commands.dispatch import run_command
from tests.fakes.ports import store_bus


def test_short_ids_are_the_shortest_unique_prefixes_of_at_least_six():
    ids = ["abcdef0123", "abcdef9999", "abcdeX7777", "zzzzzzzzzz1"]
    assert short_ids(ids) == {"abcdef0123": "abcdef0", "abcdef9999": "abcdef9", "abcdeX7777": "abcdeX",
                              "zzzzzzzzzz1": "zzzzzz"}
    assert short_ids([]) == {}


async def test_a_short_id_is_shown_and_accepted_and_an_ambiguous_one_refused():
    from core.models import Permissions, User

    store = MemoryStore()
    await store.store(User("U0ADMIN", permission_level=Permissions.admin))
    await store.store(Team("1", "ios", "iOS"))
    for pid in ("4f3c2b1a" + "0" * 24, "4f3c2b9a" + "0" * 24, "77aa11bb" + "0" * 24):
        await store.store(Project(pid, "", display_name=f"P {pid[:8]}"))
    bus = store_bus(store)
    listed = await run_command(bus, "U0ADMIN", "project list")
    assert "- 4f3c2b1: P 4f3c2b1a" in listed.text and "- 77aa11: P 77aa11bb" in listed.text
    assert ("4f3c2b1a" + "0" * 24) not in listed.text
    viewed = await run_command(bus, "U0ADMIN", "project view 77aa11")
    assert viewed.ok and "77aa11bb" + "0" * 24 in viewed.text
    renamed = await run_command(bus, "U0ADMIN", 'project edit 4f3c2b1 --name "Renamed"')
    assert renamed.ok, renamed.text
    assert (await store.retrieve(Project, "4f3c2b1a" + "0" * 24)).display_name == "Renamed"
    ambiguous = await run_command(bus, "U0ADMIN", "project delete 4f3c2b")
    assert not ambiguous.ok and "2 project ids" in ambiguous.text
    assert len(await store.query(Project)) == 3
    too_short = await run_command(bus, "U0ADMIN", "project view 77aa1")
    assert not too_short.ok
