"""Issue 14, must show 2: one change through each path leaves exactly one audit entry with the
right actor (the real app on SQLite, the container's audit log beside the store); a refused
or failed change leaves none; a redelivered webhook leaves one."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from core.models import Team, User
from entrypoints.cli import cmd_admin, cmd_import
from entrypoints.config import load_config
from entrypoints.container import close_container, make_container
from entrypoints.jobs.refresh import NightlyTeamRefresh
from entrypoints.jobs.runner import LeasedRunner
from tests.support.cli import rocket
from tests.support.fixtures import github_payload


async def _entries(w) -> list:
    handlers = await w.app.extensions["rocket_handlers"]()
    return await handlers.ports.audit.query(limit=1000)


async def _new_since(w, before: list) -> list:
    seen = {e.id for e in before}
    return [e for e in await _entries(w) if e.id not in seen]


async def test_each_path_leaves_exactly_one_entry_with_its_actor(http_world, tmp_path, capsys):
    w = http_world
    await w.store.store(User("UADMIN", name="Ada", permission_level="admin"))
    await w.store.store(User("U2", name="Two"))

    # slash command
    before = await _entries(w)
    status, reply = await w.command("U2", "user edit --name Tess")
    assert status == 200 and "Tess" in reply["text"], reply
    [entry] = await _new_since(w, before)
    assert (entry.actor, entry.action, entry.target) == ("U2", "user edit", "user:U2")
    assert entry.changes == (("name", "Two", "Tess"),) and entry.users == ("U2",)

    # refused (not an admin) and failed (no such user) changes leave nothing
    before = await _entries(w)
    _, refused = await w.command("U2", "karma set UADMIN 50")
    _, failed = await w.command("UADMIN", "karma set UNOBODY 5")
    assert "Permission denied" in refused["text"] and (await w.store.retrieve(User, "UADMIN")).karma == 1
    assert await _new_since(w, before) == [], failed

    # webhook, then the same delivery again
    before = await _entries(w)
    body = json.dumps(github_payload("team.created")).encode()
    first = await w.webhook("team", body, delivery="d-audit-1")
    again = await w.webhook("team", body, delivery="d-audit-1")
    assert (await first.get_json())["applied"] and (await again.get_json())["duplicate"]
    [entry] = await _new_since(w, before)
    assert (entry.actor, entry.action, entry.target) == ("github", "github team created", "team:github")
    assert entry.teams == ("github",)

    # scheduled job (the nightly refresh through the leased runner): GitHub has one new team
    w.github.add_team("github", team_id=3253328)  # the webhook's team, unchanged
    w.github.add_team("design", members=())
    handlers = await w.app.extensions["rocket_handlers"]()
    before = await _entries(w)
    job = NightlyTeamRefresh(handlers.ports, handlers.settings)
    fire = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)
    outcome = await LeasedRunner(handlers.ports.store, handlers.ports.clock).run(job, fire)
    assert outcome.status == "ran", outcome
    new = await _new_since(w, before)
    assert [(e.actor, e.action, e.target) for e in new] == [
        ("job:team-refresh", "team refresh", "team:design")]

    # rocket admin and rocket db import (the CLI's own functions, on a container of their own)
    cli = make_container(load_config(w.env))
    try:
        before = await _entries(w)
        assert await cmd_admin(cli, "U2") == 0
        [entry] = await _new_since(w, before)
        assert (entry.actor, entry.action) == ("cli", "admin")
        assert entry.changes == (("permission", "member", "admin"),)

        export = tmp_path / "import.json"
        users = [{"slack_id": "U9", "name": "Nine"}]
        export.write_text(json.dumps({"users": users, "teams": [], "projects": []}))
        before = await _entries(w)
        assert await cmd_import(cli, str(export)) == 0
        [entry] = await _new_since(w, before)
        assert (entry.actor, entry.action, entry.target) == ("cli", "db import", "directory")
        assert ("created", None, 1) in entry.changes
        before = await _entries(w)
        assert await cmd_import(cli, str(export)) == 0  # the same file again changes nothing
        assert await _new_since(w, before) == []
    finally:
        await close_container(cli)
    assert (await w.store.retrieve(Team, "3253328")).github_team_name == "github"

    # `rocket audit` prints them as JSON lines, newest first
    done = rocket("audit", "--limit", "3", env=w.env)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [list(line) for line in lines] == [["time", "actor", "action", "target", "changes"]] * 3
    assert [line["action"] for line in lines] == ["db import", "admin", "team refresh"]
    bad = rocket("audit", "--since", "yesterday", env=w.env)
    assert bad.returncode == 2 and "ISO 8601" in bad.stderr and bad.stdout == ""


async def test_slash_audit_admins_see_all_leads_their_teams_others_nothing(http_world):
    w = http_world
    await w.store.store(User("UADMIN", permission_level="admin"))
    await w.store.store(User("ULEAD", github="lead", github_user_id="77", permission_level="team_lead"))
    await w.store.store(User("U3", name="Three"))
    await w.store.store(Team("1", "ios", team_leads={"77"}, members={"77"}))
    await w.store.store(Team("2", "web"))
    handlers = await w.app.extensions["rocket_handlers"]()
    from core.audit import AuditEntry

    await handlers.ports.audit.append([
        AuditEntry(id=f"e{i}", time=f"2026-12-01T10:00:0{i}Z", actor="UADMIN", action="team edit",
                   target=f"team:{slug}", changes=[("platform", "a", "b")], teams=[slug])
        for i, slug in enumerate(["ios", "web", "ios"])
    ])
    _, admin = await w.command("UADMIN", "audit --limit 2")
    assert "2 entries" in admin["text"] and "--before" in admin["text"], admin["text"]
    _, lead = await w.command("ULEAD", "audit")
    assert lead["text"].count("team:ios") == 2 and "team:web" not in lead["text"], lead["text"]
    _, other_team = await w.command("ULEAD", "audit --team web")
    assert "Permission denied" in other_team["text"]
    _, member = await w.command("U3", "audit")
    assert "Permission denied" in member["text"]
    _, bad = await w.command("UADMIN", "audit --limit 500")
    assert "page size" in bad["text"]
    assert len(admin.get("blocks", [])) <= 50
