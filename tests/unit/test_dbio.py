"""``entrypoints.dbio.export_to_file``: an export that fails part-way leaves the file as it was."""

from __future__ import annotations

import json

import pytest

from adapters.memory import MemoryStore
from core.errors import StorageUnavailable
from core.models import Project, User
from entrypoints.dbio import export_to_file


class FailsOnProjects(MemoryStore):
    """A store whose database goes away after users and teams were read."""

    async def query(self, model, params=()):
        if model is Project:
            raise StorageUnavailable("database went away")
        return await super().query(model, params)


async def test_export_to_file_writes_the_whole_export(tmp_path):
    store = MemoryStore()
    await store.store(User("U1"))
    out = tmp_path / "out.json"
    assert await export_to_file(store, out) == 1
    assert [u["slack_id"] for u in json.loads(out.read_text("utf-8"))["users"]] == ["U1"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


async def test_a_failed_export_keeps_the_previous_file_and_leaves_no_temporary(tmp_path):
    out = tmp_path / "directory.json"
    out.write_text('{"users": [], "teams": [], "projects": []}\n', encoding="utf-8")
    before = out.read_bytes()
    store = FailsOnProjects()
    await store.store(User("U1"))
    with pytest.raises(StorageUnavailable):
        await export_to_file(store, out)
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["directory.json"]


async def test_github_verified_is_exported_and_a_file_without_it_imports_as_verified():
    """Issue 11: ``github_verified`` in export and import; a file without the field is vouched
    for by the operator (verified); an explicit false stays false; a non-boolean is refused."""
    import io

    from entrypoints.dbio import ImportFileError, export_to, import_from, parse_export
    from tests.fakes.ports import store_bus

    store = MemoryStore()
    bus = store_bus(store)
    data = {"users": [
        {"slack_id": "UOLD", "github": "old", "github_user_id": "1"},
        {"slack_id": "UCLAIM", "github": "claim", "github_user_id": "2", "github_verified": False},
    ]}
    await import_from(bus, data)
    assert (await store.retrieve(User, "UOLD")).github_verified is True
    assert (await store.retrieve(User, "UCLAIM")).github_verified is False
    out = io.StringIO()
    await export_to(store, out)
    exported = {u["slack_id"]: u for u in json.loads(out.getvalue())["users"]}
    assert exported["UOLD"]["github_verified"] is True and exported["UCLAIM"]["github_verified"] is False
    for bad in ("yes", 1, "false"):
        with pytest.raises(ImportFileError, match="github_verified"):
            parse_export({"users": [{"slack_id": "U1", "github_verified": bad}]})
