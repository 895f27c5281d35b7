"""GitHub failing during ``team add``, ``team create`` and ``team refresh``, over HTTP on SQLite.

The GitHub adapter is built with a 1 s timeout, one retry and no back-off. GitHub answers 5xx
(stand-in ``fail_next``) or answers too slowly (``latency`` beyond the timeout). Each time the
reply says GitHub failed and the directory is unchanged; where GitHub did the work anyway (a
slow answer the client gave up on), the directory stays as it was and ``team refresh`` makes it
agree with GitHub afterwards.
"""

from __future__ import annotations

import asyncio
import time

from core.models import Team
from tests.faults.world import (
    check_invariants,
    fault_world,
    github_state,
    github_teams_as_stored,
    seed_people,
    stored_teams,
)

GITHUB_OPTIONS = {"timeout": 1, "retries": 1, "backoff": 0}
ORG_TEAMS = "/orgs/rocket-org/teams"


async def refused(w, command: str) -> str:
    """Run ``command`` as the admin and return the reply, checking it reports a GitHub failure."""
    text = await w.text("UADMIN", command)
    assert "GitHub" in text and any(
        word in text for word in ("unavailable", "refused", "could not be reached")
    ), text
    return text


async def until(predicate, seconds: float = 5.0) -> None:
    """Wait (bounded) for the stand-in to finish requests the client already gave up on."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, "the stand-in did not finish in time"
        await asyncio.sleep(0.05)


async def test_github_5xx_during_team_add_create_and_refresh(tmp_path, github_env, github_standin,
                                                             slack_standin):
    async with fault_world(tmp_path, github_env, github_standin, slack_standin, GITHUB_OPTIONS) as w:
        await seed_people(w)
        assert "brussel" in await w.text("UADMIN", "team create brussel")
        team_id = w.github.team_id("brussel")

        # team add: the PUT fails on both tries -> nothing anywhere.
        before, gh_before = await w.directory(), github_state(w.github)
        w.github.fail_next(f"PUT {ORG_TEAMS}/", 502, times=2)
        assert "HTTP 502" in await refused(w, "team add brussel U2")
        assert await w.directory() == before and github_state(w.github) == gh_before
        # ... a single 503 is retried (PUT is idempotent) and the command goes through.
        w.github.fail_next(f"PUT {ORG_TEAMS}/", 503, times=1)
        assert "Added U2" in await w.text("UADMIN", "team add brussel U2")
        assert (await w.store.retrieve(Team, str(team_id))).members == {"501", "502"}

        # team create: the POST is not retried (a 5xx may hide a write) -> nothing anywhere.
        before, gh_before = await w.directory(), github_state(w.github)
        posts, deletes = w.github.count(f"POST {ORG_TEAMS}"), w.github.count(f"DELETE {ORG_TEAMS}/")
        w.github.fail_next(f"POST {ORG_TEAMS}", 502, times=1)
        await refused(w, "team create sprouts")
        assert await w.directory() == before and github_state(w.github) == gh_before
        # ... the team is made but adding its lead fails: the GitHub team is deleted again.
        w.github.fail_next(f"PUT {ORG_TEAMS}/", 503, times=2)
        await refused(w, "team create sprouts")
        assert await w.directory() == before and github_state(w.github) == gh_before
        assert w.github.count(f"POST {ORG_TEAMS}") == posts + 2
        assert w.github.count(f"DELETE {ORG_TEAMS}/") == deletes + 1

        # team refresh with GitHub changed underneath: a failed listing writes nothing.
        w.github.add_team("fresh", members=["octo3"])
        with w.github.lock:
            w.github.memberships[team_id].pop("octo2")
        before = await w.directory()
        w.github.fail_next(f"GET {ORG_TEAMS}", 502, times=2)
        await refused(w, "team refresh")
        assert await w.directory() == before
        # member lists (fetched concurrently): every try of every team fails
        w.github.fail_next(f"GET {ORG_TEAMS}/", 503, times=2 * len(w.github.teams))
        await refused(w, "team refresh")
        assert await w.directory() == before

        assert "refused" not in await w.text("UADMIN", "team refresh")
        check_invariants(await w.directory())
        assert stored_teams(await w.store.query(Team)) == github_teams_as_stored(w.github)


async def test_github_timing_out_during_team_add_create_and_refresh(tmp_path, github_env, github_standin,
                                                                    slack_standin):
    async with fault_world(tmp_path, github_env, github_standin, slack_standin, GITHUB_OPTIONS) as w:
        await seed_people(w)
        assert "brussel" in await w.text("UADMIN", "team create brussel")
        team_id = w.github.team_id("brussel")
        before = await w.directory()
        w.github.latency = 1.5  # beyond the 1 s timeout: every call times out

        started = time.perf_counter()
        assert "GitHub could not be reached" in await refused(w, "team add brussel U2")
        assert time.perf_counter() - started < 4  # one retry of 1 s each, not the 15 s default
        assert await w.directory() == before
        await until(lambda: "octo2" in w.github.active_members(team_id))  # GitHub did it, late

        posts = w.github.count(f"POST {ORG_TEAMS}")
        await refused(w, "team create slowpokes")
        assert await w.directory() == before
        await until(lambda: any(t["slug"] == "slowpokes" for t in w.github.teams.values()))
        assert w.github.count(f"POST {ORG_TEAMS}") == posts + 1  # the POST was not retried

        w.github.add_team("fresh", members=["octo3"])
        await refused(w, "team refresh")
        assert await w.directory() == before

        # GitHub answers in time again: the directory catches up with what GitHub actually did.
        w.github.latency = 0
        await asyncio.sleep(1.6)  # let the stand-in finish the requests that timed out
        assert stored_teams(await w.store.query(Team)) != github_teams_as_stored(w.github)
        assert "refused" not in await w.text("UADMIN", "team refresh")
        check_invariants(await w.directory())
        teams = stored_teams(await w.store.query(Team))
        assert teams == github_teams_as_stored(w.github)
        assert teams[str(team_id)] == ("brussel", {"501", "502"})
        assert "slowpokes" in {slug for slug, _ in teams.values()}
