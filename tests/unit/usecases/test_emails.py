"""ExportEmails on the memory store: who may export, which emails, and how many reads."""

from __future__ import annotations

from typing import Any

import pytest

from core.commands import ExportEmails
from core.context import Ports, Settings
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.models import Team, User
from core.permissions import Permissions
from core.usecases.common import QUERY_CHUNK
from tests.fakes.counting_store import CountingStore
from tests.fakes.observe import snapshot
from tests.fakes.ports import FakeWorld, fake_world, usecase


@pytest.fixture
async def world() -> FakeWorld:
    """alpha: lead ULEAD (11), member UMEM (13), and GitHub id 77 nobody registered.
    beta: lead UOTHER (12). ULONE has no email; UNOGH no GitHub account."""
    w = fake_world()
    s = w.store
    await s.store(User("UADMIN", email="ada@example.com", permission_level=Permissions.admin))
    await s.store(
        User("ULEAD", email="Lee@Example.com", github_user_id="11", permission_level=Permissions.team_lead)
    )
    await s.store(
        User("UOTHER", email="oto@example.com", github_user_id="12", permission_level=Permissions.team_lead)
    )
    await s.store(User("UMEM", email="mem@example.com", github_user_id="13"))
    await s.store(User("ULONE", github_user_id="14"))
    await s.store(User("UNOGH", email="lee@example.com"))  # same address as ULEAD, other case
    await s.store(Team("101", "alpha", team_leads={"11"}, members={"13", "77", "14"}))
    await s.store(Team("102", "beta", team_leads={"12"}, members={"12"}))
    await s.store(Team("103", "empty"))
    return w


def export(world: FakeWorld, store: Any = None) -> ExportEmails:
    p = world.ports
    ports = Ports(store or p.store, p.github, p.chat, p.drive, p.clock, p.ids)
    return usecase(ExportEmails, ports, Settings())


async def test_admins_export_everyones_emails(world: FakeWorld) -> None:
    result = await export(world)("UADMIN")
    assert result.emails == ["ada@example.com", "Lee@Example.com", "mem@example.com", "oto@example.com"]
    assert result.team is None
    assert result.missing == ["ULONE"]


async def test_team_export_lists_members_and_leads_of_that_team_only(world: FakeWorld) -> None:
    result = await export(world)("ULEAD", team="alpha")
    assert result.emails == ["Lee@Example.com", "mem@example.com"]
    assert result.team is not None and result.team.github_team_id == "101"
    assert result.missing == ["ULONE"]


@pytest.mark.parametrize(("actor", "team"), [("ULEAD", None), ("UOTHER", None), ("UOTHER", "alpha")])
async def test_leads_export_only_the_teams_they_lead(world: FakeWorld, actor: str, team: str | None) -> None:
    # The revised contract: team leads for the teams they lead; admins for any team or all.
    with pytest.raises(PermissionDenied):
        await export(world)(actor, team=team)
    assert (await export(world)("UADMIN", team="beta")).emails == ["oto@example.com"]


async def test_an_empty_team_exports_no_emails(world: FakeWorld) -> None:
    result = await export(world)("UADMIN", team="empty")
    assert (result.emails, result.missing) == ([], [])


@pytest.mark.parametrize("actor", ["UMEM", "UNREGISTERED"])
@pytest.mark.parametrize("team", [None, "alpha"])
async def test_members_and_strangers_may_not_export(world: FakeWorld, actor: str, team: str | None) -> None:
    before = await snapshot(world)
    refused = "Only admins (can export every|and the leads of alpha can export its)"
    with pytest.raises(PermissionDenied, match=refused):
        await export(world)(actor, team=team)
    assert await snapshot(world) == before


async def test_exporting_a_missing_team_is_not_found(world: FakeWorld) -> None:
    with pytest.raises(NotFound, match="nosuchteam"):
        await export(world)("UADMIN", team="nosuchteam")


async def test_team_members_are_fetched_in_one_query_not_one_per_member(world: FakeWorld) -> None:
    big = {str(1000 + i) for i in range(40)}
    for gid in big:
        await world.store.store(User(f"U{gid}", email=f"u{gid}@example.com", github_user_id=gid))
    await world.store.store(Team("104", "big", members=big))
    store = CountingStore(world.store)
    result = await export(world, store)("UADMIN", team="big")
    assert len(result.emails) == 40
    # find the actor, find the team, fetch the members: three reads whatever the team's size.
    assert store.reads == 3 and store.writes == 0
    assert store.calls["retrieve"] == 1


class OrLimitedStore(CountingStore):
    """A store that, like DynamoDB (expressions of at most ~300 operators, 4 KB), refuses a
    ``query_or`` with more pairs than the use-cases' chunk size."""

    def __getattr__(self, name: str) -> Any:
        method = super().__getattr__(name)
        if name != "query_or":
            return method

        async def limited(model: Any, params: Any = ()) -> Any:
            if len(params) > QUERY_CHUNK:
                raise InvalidInput(f"filter expression too large ({len(params)} terms)")
            return await method(model, params)

        return limited


async def test_a_team_larger_than_one_query_exports_every_email(world: FakeWorld) -> None:
    big = {str(2000 + i) for i in range(3 * QUERY_CHUNK + 1)}
    for gid in big:
        await world.store.store(User(f"U{gid}", email=f"u{gid}@example.com", github_user_id=gid))
    await world.store.store(Team("105", "huge", members=big))
    store = OrLimitedStore(world.store)
    result = await export(world, store)("UADMIN", team="huge")
    assert result.emails == sorted(f"u{gid}@example.com" for gid in big)
    assert store.calls["query_or"] == 4


async def test_the_export_goes_to_the_actors_dm_as_a_csv_of_every_user_in_scope(world: FakeWorld) -> None:
    import csv
    import io

    result = await export(world)("UADMIN")
    [sent] = world.chat.files
    assert sent.user_id == "UADMIN" and sent.filename == "rocket-emails-all-2023-11-14.csv"
    rows = list(csv.reader(io.StringIO(sent.content.decode(), newline="")))
    assert rows[0] == ["email", "name", "slack_id", "github"]
    assert [r[2] for r in rows[1:]] == ["UADMIN", "ULEAD", "UNOGH", "UMEM", "UOTHER", "ULONE"]
    assert result.file is not None and (result.file.rows, result.file.sent, result.file.csv) == (6, True, "")


async def test_without_slack_the_csv_is_kept_in_the_result(world: FakeWorld) -> None:
    from adapters.unavailable import Unavailable

    p = world.ports
    ports = Ports(p.store, p.github, Unavailable("Slack"), p.drive, p.clock, p.ids)
    result = await usecase(ExportEmails, ports, Settings())("ULEAD", team="alpha")
    assert result.file is not None and not result.file.sent
    assert result.file.filename.startswith("rocket-emails-alpha-")
    rows = result.file.csv.splitlines()[1:]
    assert rows == ["Lee@Example.com,,ULEAD,", "mem@example.com,,UMEM,", ",,ULONE,"]


async def test_a_slack_refusal_is_raised_and_nothing_is_sent(world: FakeWorld) -> None:
    from core.errors import UpstreamError

    world.chat.fail_on["send_file"] = UpstreamError("Slack", "not_allowed_token_type")
    with pytest.raises(UpstreamError, match="not_allowed_token_type"):
        await export(world)("UADMIN")
    assert world.chat.files == []
