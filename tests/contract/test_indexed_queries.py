"""Indexed lookups, on every backend (issue 15; issue 12's must-show 5).

- Case-insensitive: a team slug and a GitHub login are found whatever their case.
- Indexed queries return exactly what a scan (the model's own ``matches`` over every
  record) returns, also after the indexed fields change and records are deleted.
- They do not scan: counted per backend (memory's scan counter, SQLite's query plan,
  MongoDB's index list, DynamoDB's operations as sent by the client).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from typing import Any

import pytest

from core.models import INDEXED_FIELDS, Project, Team, User, matches

ODD = "Ünïcode ' \" ; -- %_"


async def test_team_slug_and_github_login_are_case_insensitive(store):
    await store.store(Team("7", "Big_Team", members={"g1"}))
    await store.store(User("U1", github="octocat", github_user_id="g1"))
    for slug in ("Big_Team", "big_team", "BIG_TEAM"):
        found = await store.query(Team, [("github_team_name", slug)])
        assert [t.github_team_id for t in found] == ["7"], slug
        assert found[0].github_team_name == "Big_Team"  # stored as written
    for login in ("OctoCat", "octocat", "OCTOCAT"):
        assert [u.slack_id for u in await store.query(User, [("github", login)])] == ["U1"], login
    either = await store.query_or(User, [("github", "OCTOCAT"), ("email", "nobody@x.org")])
    assert [u.slack_id for u in either] == ["U1"]
    assert await store.query(Team, [("github_team_name", "big-team")]) == []  # folding, not fuzzing
    assert await store.query(User, [("github", "octo")]) == []


def _directory() -> tuple[list[User], list[Team], list[Project]]:
    users = [
        User(f"U{i:03}", github=("Login" if i % 2 else "login") + str(i % 23),
             github_user_id=str(i % 31) if i % 5 else "", email=f"p{i % 17}@x.org" if i % 4 else "",
             name=ODD if i == 3 else f"n{i}")
        for i in range(60)
    ]
    teams = [
        Team(str(100 + t), ("Team_" if t % 2 else "team_") + str(t % 7),
             members={str((t * 3 + k) % 31) for k in range(t % 6)},
             team_leads={str(t % 31)} if t % 3 == 0 else set())
        for t in range(20)
    ]
    projects = [
        Project(f"P{p}", github_team_id=str(100 + p % 6) if p % 3 else "",
                github_urls={f"https://github.com/o/r{p % 4}"} if p % 2 else set())
        for p in range(12)
    ]
    return users, teams, projects


def _queries() -> list[tuple[type, list[tuple[str, Any]]]]:
    out: list[tuple[type, list[tuple[str, Any]]]] = []
    for i in range(0, 32, 3):
        out.append((User, [("github_user_id", str(i))]))
        out.append((Team, [("members", str(i))]))
        out.append((Team, [("team_leads", str(i))]))
    for login in ("login4", "LOGIN5", "Login22", "nobody"):
        out.append((User, [("github", login)]))
    for mail in ("p3@x.org", "p0@x.org", "P3@x.org"):
        out.append((User, [("email", mail)]))
    for slug in ("team_3", "TEAM_4", "Team_0", "none"):
        out.append((Team, [("github_team_name", slug)]))
    for t in range(100, 107):
        out.append((Project, [("github_team_id", str(t))]))
    for r in range(5):
        out.append((Project, [("github_urls", f"https://github.com/o/r{r}")]))
    out.append((User, [("github", "LOGIN4"), ("name", "n4")]))
    out.append((Team, [("members", "4"), ("github_team_name", "TEAM_1")]))
    return out


async def _check_against_scan(store: Any) -> None:
    everything = {m: await store.query(m) for m in (User, Team, Project)}
    for model, params in _queries():
        want = sorted(r.key for r in everything[model] if all(matches(r, n, v) for n, v in params))
        got = sorted(r.key for r in await store.query(model, params))
        assert got == want, (model.__name__, params)
        want_or = sorted(r.key for r in everything[model] if any(matches(r, n, v) for n, v in params))
        got_or = sorted(r.key for r in await store.query_or(model, params))
        assert got_or == want_or, ("or", model.__name__, params)
    for model in (User, Team):  # OR over several indexed pairs (the team view's member lookup)
        field = "github_user_id" if model is User else "members"
        params = [(field, str(i)) for i in range(0, 31, 4)]
        want = sorted(r.key for r in everything[model] if any(matches(r, n, v) for n, v in params))
        assert sorted(r.key for r in await store.query_or(model, params)) == want


async def test_indexed_queries_return_what_a_scan_returns_also_after_changes(store):
    users, teams, projects = _directory()
    stored: dict[str, Any] = {}
    for record in (*users, *teams, *projects):
        stored[record.key] = await store.store(record)
    await _check_against_scan(store)
    # Change every indexed field of some records, delete others: the indexes follow.
    for i in range(0, 60, 7):
        u = stored[f"U{i:03}"]
        stored[u.key] = await store.store(dataclasses.replace(u, github=f"NEW{i}", github_user_id=str(i % 29),
                                                              email=""))
    for t in range(0, 20, 4):
        team = stored[str(100 + t)]
        stored[team.key] = await store.store(dataclasses.replace(
            team, github_team_name=f"Renamed_{t}", members=set(list(team.members)[1:]) | {"30"},
            team_leads=set()))
    for p in range(0, 12, 5):
        project = stored[f"P{p}"]
        stored[project.key] = await store.store(dataclasses.replace(project, github_team_id="101",
                                                                    github_urls=set()))
    for key, model in (("U010", User), ("105", Team), ("P7", Project)):
        assert await store.delete(model, key)
    await store.increment(User, "U011", "karma", 2)  # a version bump that changes no index
    await _check_against_scan(store)
    assert [t.key for t in await store.query(Team, [("github_team_name", "renamed_8")])] == ["108"]
    assert [u.key for u in await store.query(User, [("github", "new14")])] == ["U014"]


class _DynamoCounter:
    """Counts the DynamoDB operations the store's two clients send (botocore's before-call)."""

    def __init__(self, store: Any) -> None:
        self.ops: Counter[str] = Counter()
        for client in (store._client, store._writer):
            client.meta.events.register("before-call.dynamodb", self._seen)

    def _seen(self, model: Any, **_: Any) -> None:
        self.ops[model.name] += 1


async def _assert_no_scan(store: Any, backend: str, model: type, params: list[tuple[str, Any]],
                          joiner: str) -> None:
    run = store.query if joiner == "AND" else store.query_or
    if backend == "memory":
        before = store.scans
        await run(model, params)
        assert store.scans == before, (model.__name__, params)
    elif backend == "sqlite":
        plan = await store.query_plan(model, params, joiner)
        assert not [d for d in plan if d.startswith(f"SCAN {model.TABLE}")], (params, plan)
    elif backend == "dynamodb":
        counter = _DynamoCounter(store)
        await run(model, params)
        assert counter.ops["Scan"] == 0 and counter.ops["Query"] >= 1, (params, counter.ops)
    else:  # MongoDB: the field of an AND's indexed pair, every field of an OR, has an index
        info = await store._db[model.TABLE].index_information()
        indexed = {k for spec in info.values() for k, _ in spec["key"]}
        for name, _ in params if joiner == "OR" else params[:1]:
            field = f"_fold_{name}" if name in ("github", "github_team_name") else name
            assert field in indexed or name == model.KEY, (model.__name__, name, sorted(indexed))


async def test_indexed_queries_do_not_scan(store, request):
    backend = request.node.callspec.params["store"]
    users, teams, projects = _directory()
    for record in (*users, *teams, *projects):
        await store.store(record)
    for model, fields in INDEXED_FIELDS.items():
        for name in sorted(fields):
            await _assert_no_scan(store, backend, model, [(name, "4")], "AND")
            await _assert_no_scan(store, backend, model, [(name, "4"), ("version", 1)], "AND")
            await _assert_no_scan(store, backend, model, [(name, "4"), (name, "5")], "OR")
    if backend == "memory":  # the counter does count a scan
        before = store.scans
        await store.query(User, [("name", "n1")])
        assert store.scans == before + 1
    if backend == "dynamodb":
        counter = _DynamoCounter(store)
        await store.query(User, [("name", "n1")])
        assert counter.ops["Scan"] >= 1


@pytest.mark.parametrize("size", [40, 400])
async def test_dynamodb_lookup_requests_do_not_grow_with_the_table(store, request, size):
    """On DynamoDB an indexed lookup costs the same requests at 40 and 400 users."""
    if request.node.callspec.params["store"] != "dynamodb":
        pytest.skip("counts DynamoDB requests")
    for i in range(size):
        await store.store(User(f"U{i}", github=f"Login{i}", github_user_id=str(i)))
    counter = _DynamoCounter(store)
    assert [u.key for u in await store.query(User, [("github", "login7")])] == ["U7"]
    assert counter.ops == Counter(Query=1, BatchGetItem=1)
