"""Issue 14, must show 4 and 5: ``team refresh --dry-run`` changes nothing and its plan is what
the following refresh does; the nightly refresh's guard rail holds a plan that removes too
much, posts it, and an admin's ``team refresh`` applies it. The real app on SQLite with the
GitHub and Slack stand-ins over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime

from core.commands import RefreshTeams
from core.context import Ports, Settings
from core.models import Team, User
from core.wiring import build_bus
from entrypoints.jobs.refresh import NightlyTeamRefresh
from entrypoints.jobs.scheduler import runner_for
from tests.fakes.chat import FakeChat
from tests.fakes.drive import FakeDrive
from tests.fakes.github import FakeGitHub


def _mutations(github) -> list[str]:
    """Requests that change something on GitHub (an installation token changes nothing)."""
    with github.lock:
        return [r for r in github.requests if not r.startswith("GET ") and not r.endswith("/access_tokens")]


def _changes_of(entries) -> dict[str, set]:
    """The audit entries of a refresh, in the plan's terms."""
    kinds = ("created", "renamed", "deleted", "added", "removed", "promoted")
    out: dict[str, set] = {k: set() for k in kinds}
    for e in entries:
        for field, old, new in e.changes:
            team = e.target.removeprefix("team:")
            if field == "slug":
                key = "created" if old is None else "deleted" if new is None else "renamed"
                out[key].add(new if old is None else old if new is None else (old, new))
            elif field == "member":
                out["added" if old is None else "removed"].add((team, new if old is None else old))
            elif field == "permission":
                out["promoted"].add((e.target.removeprefix("user:"), old, new))
    return out


def _plan_sets(plan) -> dict[str, set]:
    return {"created": set(plan.created), "renamed": set(plan.renamed), "deleted": set(plan.deleted),
            "added": set(plan.added), "removed": set(plan.removed), "promoted": set(plan.promoted)}


async def _world(w):
    gh = w.github
    ids = {login: gh.add_user(login, org_member=True) for login in ("ada", "bob", "cy", "dee")}
    await w.store.store(User("UADMIN", github="ada", github_user_id=str(ids["ada"]),
                             permission_level="admin"))
    await w.store.store(User("UBOB", github="bob", github_user_id=str(ids["bob"])))
    await w.store.store(User("UCY", github="cy", github_user_id=str(ids["cy"])))
    ios = gh.add_team("ios", members=["ada", "cy"])  # bob left, cy joined on GitHub
    await w.store.store(Team(str(ios), "ios", members={str(ids["ada"]), str(ids["bob"])}))
    renamed = gh.add_team("mobile-new", members=["dee"])
    await w.store.store(Team(str(renamed), "mobile-old", members={str(ids["dee"])}))
    gh.add_team("admins", members=["bob"])  # bob is promoted (GITHUB_ADMIN_TEAM_NAME=admins)
    await w.store.store(Team("999", "gone"))  # GitHub no longer has it
    return ids


async def test_dry_run_changes_nothing_and_its_plan_is_what_the_refresh_does(http_world):
    w = http_world
    await _world(w)
    handlers = await w.app.extensions["rocket_handlers"]()
    audit = handlers.ports.audit
    before, mutated = await w.directory(), len(_mutations(w.github))

    status, reply = await w.command("UADMIN", "team refresh --dry-run")
    assert status == 200 and "dry run" in reply["text"] and "bob from ios" in reply["text"], reply["text"]
    plan = (await handlers.bus.handle(RefreshTeams("UADMIN", dry_run=True))).plan
    assert await w.directory() == before
    assert _mutations(w.github)[mutated:] == []
    assert await audit.query(limit=1000) == []
    assert plan.created == ["admins"] and plan.deleted == ["gone"]
    assert plan.renamed == [("mobile-old", "mobile-new")]
    assert ("ios", "cy") in plan.added and plan.removed == [("ios", "bob")]
    assert plan.promoted == [("UBOB", "member", "admin")]

    status, reply = await w.command("UADMIN", "team refresh")
    assert "Teams refreshed" in reply["text"], reply["text"]
    done = _changes_of(await audit.query(limit=1000))
    assert done == _plan_sets(plan)
    again = (await handlers.bus.handle(RefreshTeams("UADMIN", dry_run=True))).plan
    assert again.empty  # nothing left to do


async def test_dry_run_calls_no_drive():
    from adapters.memory import MemoryStore

    store, drive, github = MemoryStore(), FakeDrive(), FakeGitHub()
    await store.store(User("UADMIN", permission_level="admin"))
    await store.store(Team("1", "ios", folder="F1"))
    bus = build_bus(Ports(store, github, FakeChat(), drive), Settings())
    result = await bus.handle(RefreshTeams("UADMIN", dry_run=True))
    assert drive.syncs == 0 and result.plan.deleted == ["ios"] and await store.query(Team) != []


async def test_guard_rail_holds_a_plan_that_removes_30_members_until_an_admin_refreshes(http_world):
    w = http_world
    gh = w.github
    logins = [f"m{i}" for i in range(35)]
    ids = [str(gh.add_user(login, org_member=True)) for login in logins]
    gh.add_user("ada", org_member=True)
    await w.store.store(User("UADMIN", github="ada", github_user_id=str(gh.users["ada"]),
                             permission_level="admin"))
    big = gh.add_team("big", members=logins[:5])  # GitHub lost 30 of the 35
    gh.add_team("admins", members=["ada"])
    await w.store.store(Team(str(big), "big", members=set(ids)))
    await w.store.store(Team(str(gh.team_id("admins")), "admins", members={str(gh.users["ada"])}))
    handlers = await w.app.extensions["rocket_handlers"]()
    before, mutated = await w.directory(), len(_mutations(gh))

    runner = runner_for(handlers.ports, handlers.settings)
    job = NightlyTeamRefresh(handlers.ports, handlers.settings)
    outcome = await runner.run(job, datetime(2026, 12, 2, 3, 0, tzinfo=UTC))
    assert outcome.status == "ran" and "NOT refreshed" in outcome.detail, outcome
    assert await w.directory() == before and _mutations(gh)[mutated:] == []
    assert await handlers.ports.audit.query(limit=1000) == []
    notices = w.slack.channel_texts("rocket-notices")
    plan_post = next(n for n in notices if "NOT applied" in n)
    assert "Members removed (30)" in plan_post and plan_post.count(" from big") == 30, plan_post
    assert f"{ids[5]} from big" in plan_post  # unregistered members are named by their GitHub id
    assert any(n.startswith("Scheduled job team-refresh: teams NOT refreshed") for n in notices)

    status, reply = await w.command("UADMIN", "team refresh")
    assert "Teams refreshed" in reply["text"], reply["text"]
    assert (await w.store.retrieve(Team, str(big))).members == set(ids[:5])
    removed = [e for e in await handlers.ports.audit.query(team="big", limit=1000)
               if e.changes[0][2] is None]
    assert len(removed) == 30 and {e.actor for e in removed} == {"UADMIN"}
