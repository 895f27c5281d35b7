"""What handlers record: the events (with old and new values) a later audit log reads, and
subscribers that act once per command."""

from __future__ import annotations

from core.commands import CreateTeam, EditTeam, EditUser, SetKarma
from core.events import (
    Event,
    FieldChange,
    KarmaChanged,
    LeadChanged,
    MemberJoinedTeam,
    ProfileChanged,
    TeamChanged,
    TeamCreated,
)
from tests.unit.usecases.team_world import make_directory


async def recorded_by(d, command) -> tuple[object, list[Event]]:
    bus = d.world.bus(d.settings)
    seen: list[Event] = []

    async def keep(event: Event) -> None:
        seen.append(event)

    bus.subscribe(Event, keep)
    return await bus.handle(command), seen


async def test_profile_changed_carries_old_and_new_values_of_changed_fields_only():
    d = await make_directory()
    _, seen = await recorded_by(d, EditUser("UADMIN", target="UMEM", name="Mem Two", major="CS",
                                            bio=None, position=""))
    [event] = [e for e in seen if isinstance(e, ProfileChanged)]
    assert event.slack_id == "UMEM" and event.actor == "UADMIN"
    assert set(event.changes) == {FieldChange("name", "Umem", "Mem Two"), FieldChange("major", "", "CS")}
    _, again = await recorded_by(d, EditUser("UADMIN", target="UMEM", name="Mem Two"))
    assert not [e for e in again if isinstance(e, ProfileChanged)]  # nothing changed, nothing recorded


async def test_team_create_records_creation_members_and_lead_and_syncs_drive_once():
    d = await make_directory()
    d.world.chat.add_channel("C1", "gamma-chat", members=["ULEAD", "UMEM", "UNEW"])
    result, seen = await recorded_by(d, CreateTeam("ULEAD", "gamma", channel="C1", folder="F-gamma"))
    kinds = [type(e) for e in seen if isinstance(e, TeamCreated | MemberJoinedTeam | LeadChanged)]
    assert kinds == [TeamCreated, MemberJoinedTeam, MemberJoinedTeam, MemberJoinedTeam, LeadChanged]
    assert d.world.drive.syncs == 1
    assert d.world.drive.shared["F-gamma"] == {"lead-gh@example.org", "mem-gh@example.org",
                                               "new-gh@example.org"}
    assert result.warnings == []


async def test_team_edit_records_the_changed_fields():
    d = await make_directory()
    _, seen = await recorded_by(d, EditTeam("ULEAD", "alpha", platform="ios", name="Alpha"))
    [event] = [e for e in seen if isinstance(e, TeamChanged)]
    assert event.changes == (FieldChange("platform", "web", "ios"),) and not event.changed("folder")
    assert d.world.drive.syncs == 0  # no new folder: no sync


async def test_karma_set_records_old_and_new():
    d = await make_directory()
    _, seen = await recorded_by(d, SetKarma("UADMIN", "UMEM", 42))
    assert [e for e in seen if isinstance(e, KarmaChanged)] == [KarmaChanged("UMEM", 1, 42, "UADMIN")]
