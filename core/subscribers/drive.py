"""Drive sync after a membership change: the team's folder is shared with exactly the emails
of its registered members.

Runs once per team per command: on the last membership event of that team recorded in the
command (so ``team create`` with five members syncs once). Teams changed by a refresh are
skipped: the refresh syncs every team with a folder itself, in bulk.
"""

from __future__ import annotations

from collections.abc import Iterable

from core.context import Ports
from core.errors import NotFound, RocketError
from core.events import (
    REFRESH,
    FieldChange,
    MemberJoinedTeam,
    MemberLeftTeam,
    ProfileChanged,
    TeamChanged,
    TeamDeleted,
    recorded,
)
from core.models import Team, User
from core.usecases.common import users_by_github_ids

_MEMBERSHIP = (MemberJoinedTeam, MemberLeftTeam)


async def sync_drive(ports: Ports, team: Team, members: Iterable[User] | None = None) -> list[str]:
    """Share the team's folder with exactly its registered members' emails.

    Returns warnings (empty when the team has no folder or the sync worked); never raises a
    ``RocketError``, because it runs after GitHub and storage already accepted the change.
    """
    if not team.folder:
        return []
    try:
        if members is None:
            members = await users_by_github_ids(ports.store, team.members)
        # Only verified links: a login typed by someone else must not open the team's folder.
        emails = sorted({u.email for u in members if u.email and u.verified_github_id in team.members})
        await ports.drive.sync_folder(team.folder, emails)
    except RocketError as exc:
        return [f"Drive folder {team.folder} of {team.github_team_name} was not synced: {exc}"]
    return []


class DriveSync:
    """Subscriber of ``MemberJoinedTeam``, ``MemberLeftTeam``, ``TeamChanged`` (folder),
    ``TeamDeleted`` (its folder is unshared from everyone Rocket shared it with) and
    ``ProfileChanged`` (email: every folder of the user's teams is re-shared, so the old
    address loses access and the new one gains it)."""

    def __init__(self, ports: Ports) -> None:
        self.ports = ports

    async def on_membership(self, event: MemberJoinedTeam | MemberLeftTeam) -> list[str]:
        if event.via == REFRESH:
            return []
        later = [e for e in recorded() if isinstance(e, _MEMBERSHIP) and e.team_id == event.team_id]
        if later and later[-1] is not event:
            return []  # a later event of this command syncs the team once
        return await self._sync(event.team_id)

    async def on_team_changed(self, event: TeamChanged) -> list[str]:
        if not event.changed("folder"):
            return []
        return await self._sync(event.team_id)

    async def _sync(self, team_id: str) -> list[str]:
        try:
            team = await self.ports.store.retrieve(Team, team_id)
        except NotFound:
            return []
        return await sync_drive(self.ports, team)

    async def on_team_deleted(self, event: TeamDeleted) -> list[str]:
        if not event.folder:
            return []
        try:
            await self.ports.drive.sync_folder(event.folder, [])
        except RocketError as exc:
            return [f"Drive folder {event.folder} of the deleted team {event.slug} was not unshared: {exc}"]
        return []

    async def on_profile_changed(self, event: ProfileChanged) -> list[str]:
        change = next((c for c in event.changes if c.field == "email"), None)
        if change is None:
            return []
        try:
            user = await self.ports.store.retrieve(User, event.slack_id)
        except NotFound:
            return []
        ids = {user.github_user_id} | _changed_ids(event.changes)
        ids.discard("")
        if not ids:
            return []
        teams = await self.ports.store.query_or(Team, [("members", i) for i in sorted(ids)])
        warnings: list[str] = []
        for team in sorted(teams, key=lambda t: t.github_team_name):
            warnings += await sync_drive(self.ports, team)
        return warnings


def _changed_ids(changes: tuple[FieldChange, ...]) -> set[str]:
    """GitHub ids named by a ``github_user_id`` change (old and new), if any."""
    return {str(v) for c in changes if c.field == "github_user_id" for v in (c.old, c.new) if v}
