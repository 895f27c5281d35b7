"""The database goes down in the middle of a command, over HTTP on SQLite.

For each command below, and for every storage call it makes, the store is made to fail from
that call on (``FaultyStore.go_down_at(n)``). Each time: the reply says the database is
unavailable, ``/healthz`` answers 503 while it is down, and the directory is exactly as before
or, when the write went through before a later read failed, consistent with what GitHub did;
for the multi-record commands in ``MULTI_STEP`` a partial change has no dangling reference
and running the command again finishes it. After ``repair()`` the app recovers
without a restart: ``/healthz`` is 200 and the next attempt runs on.
"""

from __future__ import annotations

from core.models import Project, Team, User
from entrypoints.handlers import IN_PROGRESS_SECONDS
from tests.faults.world import (
    UNAVAILABLE,
    check_invariants,
    fault_world,
    github_state,
    github_teams_as_stored,
    restore_github,
    seed_people,
    stored_teams,
)
from tests.support.fixtures import github_payload, slack_file

# (actor, command) in order; each runs on the directory the previous ones left.
SCENARIO = [
    ("UADMIN", "user edit --name 'Ada Lovelace' --major Maths"),
    ("U2", "user edit --bio \u201cfault tolerant\u201d"),
    ("UADMIN", "team create newteam --name 'New Team' --platform web"),
    ("UADMIN", "team create brussel --lead U3"),
    ("UADMIN", "team add newteam U2"),
    ("UADMIN", "team lead newteam U2"),
    ("UADMIN", "team edit newteam --platform ios"),
    ("UADMIN", "project create octo/rocket newteam --name Rocket"),
    ("UADMIN", "project create octo/other brussel"),
    ("UADMIN", "<@U2|two> ++"),
    ("UADMIN", "karma set U3 7"),
    ("UADMIN", "team remove newteam U2"),
    ("UADMIN", "team delete newteam"),
]
# Commands that write several records; a failure between them may leave some done.
MULTI_STEP = {"team delete newteam"}


async def test_database_down_at_every_storage_call_of_each_command(tmp_path, github_env, github_standin,
                                                                    slack_standin):
    async with fault_world(tmp_path, github_env, github_standin, slack_standin) as w:
        await seed_people(w)
        failures = 0
        completed_late: list[str] = []
        for actor, command in SCENARIO:
            n = 1
            while True:
                before, gh_before = await w.directory(), github_state(w.github)
                w.faulty.go_down_at(n)
                text = await w.text(actor, command)
                if not w.faulty.tripped:  # the command made fewer than n storage calls: it ran through
                    assert UNAVAILABLE not in text and "refused" not in text, (command, text)
                    assert w.faulty.calls, command
                    break
                failures += 1
                assert UNAVAILABLE in text, (command, n, text)
                assert await w.healthz() == 503
                after = await w.directory()
                check_invariants(after)
                w.faulty.repair()
                assert await w.healthz() == 200
                if after != before:
                    # The write went through and a later read (for the reply) failed, or, for a
                    # multi-record command, part of it is done: the directory must agree with
                    # GitHub, or running the command again must finish it.
                    if stored_teams(after[1]) != github_teams_as_stored(w.github):
                        assert command in MULTI_STEP, (command, n, w.faulty.calls)
                        retry = await w.text(actor, command)
                        assert UNAVAILABLE not in retry and "refused" not in retry, retry
                    assert stored_teams((await w.directory())[1]) == github_teams_as_stored(w.github)
                    completed_late.append(command)
                    break
                restore_github(w.github, gh_before)  # undo what GitHub did, so the retry starts alike
                n += 1
        assert failures >= 3 * len(SCENARIO)  # every command was interrupted at several points

        users, teams, projects = await w.directory()
        assert sorted(t.github_team_name for t in teams) == ["all", "brussel"]
        brussel = next(t for t in teams if t.github_team_name == "brussel")
        assert {p.github_team_id for p in projects} == {"", brussel.github_team_id}
        karma = {u.slack_id: u.karma for u in users}
        assert karma["U2"] == 2 and karma["U3"] == 7
        assert stored_teams(teams) == github_teams_as_stored(w.github)


async def test_github_ahead_of_a_failed_write_is_reconciled_by_refresh(tmp_path, github_env, github_standin,
                                                                       slack_standin):
    """GitHub accepted ``team add`` but the write after it failed: the directory is unchanged,
    and once the database is back ``team refresh`` records what GitHub actually did."""
    async with fault_world(tmp_path, github_env, github_standin, slack_standin) as w:
        await seed_people(w)
        assert "brussel" in await w.text("UADMIN", "team create brussel")
        team_id = str(w.github.team_id("brussel"))
        before = await w.directory()

        w.faulty.go_down_at(4)  # query team, read actor, read user, read team for the write: then down
        text = await w.text("UADMIN", "team add brussel U2")
        assert w.faulty.calls[-1] == "retrieve" and UNAVAILABLE in text
        assert "octo2" in w.github.active_members(int(team_id))  # GitHub did it
        assert await w.directory() == before  # nothing half-written
        assert await w.healthz() == 503
        status, _ = await w.command("UADMIN", "team list")
        assert status == 200

        w.faulty.repair()
        assert await w.healthz() == 200
        assert "refused" not in await w.text("UADMIN", "team refresh")
        assert (await w.store.retrieve(Team, team_id)).members == {"501", "502"}
        assert stored_teams(await w.store.query(Team)) == github_teams_as_stored(w.github)


async def test_webhook_and_event_that_could_not_be_stored_are_applied_on_retry(
        tmp_path, github_env, github_standin, slack_standin):
    """A webhook or Slack event whose write fails gets 503 and is not taken as handled: its claim
    could not even be released (the database is down), but it lapses after
    ``IN_PROGRESS_SECONDS``, so GitHub's redelivery or Slack's retry is applied then."""
    async with fault_world(tmp_path, github_env, github_standin, slack_standin) as w:
        body = github_payload("team.created")
        w.faulty.go_down_at(2)  # the delivery is claimed, then the write fails
        response = await w.webhook("team", body, delivery="d-1")
        assert response.status_code == 503 and w.faulty.calls == ["acquire_lease", "store", "release_lease"]
        assert await w.store.query(Team) == []
        w.faulty.repair()
        early = await w.webhook("team", body, delivery="d-1")  # still claimed by the failed attempt
        assert (await early.get_json())["duplicate"] is True and await w.store.query(Team) == []
        w.clock.advance(IN_PROGRESS_SECONDS + 1)
        retry = await w.webhook("team", body, delivery="d-1")
        assert (await retry.get_json())["applied"] is True
        assert [t.github_team_name for t in await w.store.query(Team)] == ["github"]
        again = await w.webhook("team", body, delivery="d-1")  # now handled: a duplicate for good
        w.clock.advance(IN_PROGRESS_SECONDS + 1)
        assert (await again.get_json())["duplicate"] is True
        assert (await (await w.webhook("team", body, delivery="d-1")).get_json())["duplicate"] is True

        event = slack_file("team_join.event.json")
        w.faulty.go_down_at(3)  # claim, look-up, then the write fails
        response = await w.event(event)
        assert response.status_code == 503
        assert w.faulty.calls == ["acquire_lease", "retrieve", "store", "release_lease"]
        assert await w.store.query(User) == []
        w.faulty.repair()
        w.clock.advance(IN_PROGRESS_SECONDS + 1)
        retry = await w.event(event, headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_error"})
        assert retry.status_code == 200 and (await retry.get_json()) == {"ok": True}
        assert [u.slack_id for u in await w.store.query(User)] == ["U0FAKENEW"]
        assert len(w.slack.dm_texts("U0FAKENEW")) == 1


async def test_team_deleted_webhook_interrupted_leaves_no_dangling_project(tmp_path, github_env,
                                                                           github_standin, slack_standin):
    """``team deleted`` unassigns the team's projects and removes the team; if the database goes
    down in between, no project is left pointing at a missing team, and the redelivery finishes."""
    async with fault_world(tmp_path, github_env, github_standin, slack_standin) as w:
        assert (await (await w.webhook("team", github_payload("team.created"))).get_json())["applied"]
        for i in range(3):
            await w.store.store(Project(f"p{i}", github_team_id="3253328", github_urls={f"https://x/{i}"}))
        for n in range(2, 8):
            w.faulty.go_down_at(n)
            response = await w.webhook("team", github_payload("team.deleted"), delivery=f"del-{n}")
            if not w.faulty.tripped:
                break
            assert response.status_code == 503
            check_invariants(await w.directory())
            w.faulty.repair()
        assert response.status_code == 200 and (await response.get_json())["applied"] is True
        assert await w.store.query(Team) == []
        assert {p.github_team_id for p in await w.store.query(Project)} == {""}


async def test_refresh_interrupted_at_every_storage_call_stays_consistent(tmp_path, github_env,
                                                                          github_standin, slack_standin):
    """``team refresh`` while GitHub dropped a team that has projects and changed another: the
    database goes down at each of its storage calls in turn; no project is ever left pointing at
    a missing team, and the refresh that finally runs through makes the directory equal GitHub."""
    async with fault_world(tmp_path, github_env, github_standin, slack_standin) as w:
        await seed_people(w)
        assert "doomed" in await w.text("UADMIN", "team create doomed")
        doomed = str(w.github.team_id("doomed"))
        for i in range(3):
            await w.store.store(Project(f"p{i}", github_team_id=doomed, github_urls={f"https://x/{i}"}))
        with w.github.lock:
            del w.github.teams[int(doomed)]
        w.github.add_team("fresh", members=["octo2", "octo3"])
        for n in range(1, 50):
            w.faulty.go_down_at(n)
            text = await w.text("UADMIN", "team refresh")
            if not w.faulty.tripped:
                break
            assert UNAVAILABLE in text
            check_invariants(await w.directory())
            w.faulty.repair()
        assert not w.faulty.tripped and n > 4
        assert stored_teams(await w.store.query(Team)) == github_teams_as_stored(w.github)
        assert {p.github_team_id for p in await w.store.query(Project)} == {""}
