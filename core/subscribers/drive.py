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
from core.events import REFRESH, MemberJoinedTeam, MemberLeftTeam, TeamChanged, recorded
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
    """Subscriber of ``MemberJoinedTeam``, ``MemberLeftTeam`` and ``TeamChanged`` (folder)."""

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
