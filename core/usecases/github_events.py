"""Apply GitHub webhook events to the directory (GitHub is the source of truth).

``ApplyGitHubEvent(event, payload)`` handles ``ping``, ``organization``, ``team`` and
``membership``; anything else, and events about teams or users Rocket does not know, is
ignored (``EventOutcome.applied`` False). It never calls GitHub back: the payload is the
news. Behaviour, following Rocket 2 where the contract is silent:

- organization ``member_removed``: the user (by GitHub id) leaves every stored team (as
  member and lead) and loses their GitHub link; their Slack profile is kept.
  ``member_added`` / ``member_invited`` / ``renamed``: noted, nothing stored.
- team ``created``: the team is stored (a team already stored, e.g. by ``team create``, is
  left as it is). ``deleted``: removed, its projects unassigned. ``edited``: the slug of a
  known team is refreshed (the display name is Rocket's own, as in a refresh).
  ``added_to_repository`` / ``removed_from_repository``: noted, nothing stored.
- membership ``added`` / ``removed`` (scope team): the GitHub id joins or leaves the stored
  team (a leaver also loses the lead role); joining the admin or leads team promotes a
  registered user. Teams with a Drive folder are re-synced.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from core.context import Ports, Settings
from core.errors import Conflict, NotFound
from core.models import Team, User
from core.usecases.common import update_with_retry
from core.usecases.teams import promote, sync_drive, unassign_projects_of


@dataclass
class EventOutcome:
    """What an event did: ``applied`` when the directory changed; ``notice`` is a one-line
    summary for the notification channel (empty when there is nothing worth saying)."""

    applied: bool
    summary: str
    notice: str = ""
    warnings: list[str] = field(default_factory=list)


def _str_id(obj: Any) -> str:
    value = obj.get("id") if isinstance(obj, dict) else None
    return str(value) if isinstance(value, int | str) and str(value) else ""


def _login(obj: Any) -> str:
    value = obj.get("login") if isinstance(obj, dict) else None
    return value if isinstance(value, str) else ""


class ApplyGitHubEvent:
    def __init__(self, ports: Ports, settings: Settings) -> None:
        self.ports = ports
        self.settings = settings

    async def __call__(self, event: str, payload: dict[str, Any]) -> EventOutcome:
        if not isinstance(payload, dict):
            return EventOutcome(False, "ignored: payload is not an object")
        action = payload.get("action") if isinstance(payload.get("action"), str) else ""
        handler = {
            "ping": self._ping,
            "organization": self._organization,
            "team": self._team,
            "membership": self._membership,
        }.get(event)
        if handler is None:
            return EventOutcome(False, f"ignored: {event or 'unnamed'} events are not handled")
        return await handler(action, payload)

    async def _ping(self, action: str, payload: dict[str, Any]) -> EventOutcome:
        return EventOutcome(False, "pong")

    # --- organization -------------------------------------------------------------------------
    async def _organization(self, action: str, payload: dict[str, Any]) -> EventOutcome:
        membership = payload.get("membership") if isinstance(payload.get("membership"), dict) else {}
        user = membership.get("user") or payload.get("user") or {}
        github_id, login = _str_id(user), _login(user)
        if action == "member_removed" and github_id:
            return await self._member_left_org(github_id, login)
        if action in ("member_added", "member_invited") and login:
            verb = "joined" if action == "member_added" else "was invited to"
            return EventOutcome(False, f"noted: {login} {verb} the organization",
                                notice=f"GitHub: {login} {verb} the organization")
        return EventOutcome(False, f"ignored: organization {action or 'event'}")

    async def _member_left_org(self, github_id: str, login: str) -> EventOutcome:
        store = self.ports.store
        teams = await store.query_or(Team, [("members", github_id), ("team_leads", github_id)])
        users = await store.query(User, [("github_user_id", github_id)])
        if not teams and not users:
            return EventOutcome(False, f"ignored: {login or github_id} is not in the directory")
        warnings: list[str] = []
        for team in teams:
            updated = await self._leave_team(team.github_team_id, github_id)
            if updated is not None:
                warnings += await sync_drive(self.ports, updated)
        for user in users:
            await update_with_retry(store, User, user.slack_id, _unlink_github(github_id))
        name = login or github_id
        return EventOutcome(True, f"{name} left the organization",
                            notice=f"GitHub: {name} left the organization and was removed from "
                                   f"{len(teams)} team(s)", warnings=warnings)

    # --- team ---------------------------------------------------------------------------------
    async def _team(self, action: str, payload: dict[str, Any]) -> EventOutcome:
        team = payload.get("team") if isinstance(payload.get("team"), dict) else {}
        team_id, slug = _str_id(team), team.get("slug") if isinstance(team.get("slug"), str) else ""
        name = team.get("name") if isinstance(team.get("name"), str) else ""
        if not team_id:
            return EventOutcome(False, "ignored: team event without a team id")
        if action == "created" and slug:
            return await self._team_created(team_id, slug, name)
        known = await self._stored_team(team_id)
        if known is None:
            return EventOutcome(False, f"ignored: team {slug or team_id} is not in the directory")
        if action == "deleted":
            # Projects first, then the team: an interrupted delete leaves no project pointing at
            # a missing team, and the redelivery (the team is still known) finishes it.
            unassigned = await unassign_projects_of(self.ports, {team_id})
            await self.ports.store.delete(Team, team_id)
            return EventOutcome(True, f"team {known.github_team_name} deleted",
                                notice=f"GitHub: team {known.github_team_name} was deleted"
                                       + (f"; {len(unassigned)} project(s) unassigned" if unassigned else ""))
        if action == "edited" and slug:
            def rename(t: Team) -> Team | None:
                if t.github_team_name == slug:
                    return None
                return dataclasses.replace(t, github_team_name=slug)

            await update_with_retry(self.ports.store, Team, team_id, rename)
            return EventOutcome(True, f"team {slug} edited")
        return EventOutcome(False, f"noted: team {known.github_team_name} {action or 'event'}")

    async def _team_created(self, team_id: str, slug: str, name: str) -> EventOutcome:
        try:
            await self.ports.store.store(Team(team_id, slug, display_name=name if name != slug else ""))
        except Conflict:
            return EventOutcome(False, f"noted: team {slug} already in the directory")
        return EventOutcome(True, f"team {slug} created", notice=f"GitHub: team {slug} was created")

    # --- membership -----------------------------------------------------------------------------
    async def _membership(self, action: str, payload: dict[str, Any]) -> EventOutcome:
        if payload.get("scope") not in (None, "team"):
            return EventOutcome(False, f"ignored: membership scope {payload.get('scope')!r}")
        team_id = _str_id(payload.get("team"))
        member = payload.get("member") or {}
        github_id, login = _str_id(member), _login(member)
        if not team_id or not github_id or action not in ("added", "removed"):
            return EventOutcome(False, f"ignored: membership {action or 'event'}")
        known = await self._stored_team(team_id)
        if known is None:
            return EventOutcome(False, f"ignored: team {team_id} is not in the directory")
        if action == "added":
            updated = await self._join_team(team_id, github_id)
            promoted = await self._promote(known.github_team_name, github_id)
            verb = "added to"
        else:
            updated = await self._leave_team(team_id, github_id)
            promoted = []
            verb = "removed from"
        warnings = await sync_drive(self.ports, updated) if updated is not None else []
        changed = updated is not None or bool(promoted)
        extra = f" (promoted {', '.join(promoted)})" if promoted else ""
        who = login or github_id
        notice = f"GitHub: {who} {verb} team {known.github_team_name}{extra}" if changed else ""
        return EventOutcome(changed, f"{who} {verb} {known.github_team_name}{extra}", notice=notice,
                            warnings=warnings)

    async def _promote(self, slug: str, github_id: str) -> list[str]:
        raised = []
        for user in await self.ports.store.query(User, [("github_user_id", github_id)]):
            if await promote(self.ports, self.settings, slug, user):
                raised.append(user.slack_id)
        return raised

    # --- storage helpers ------------------------------------------------------------------------
    async def _stored_team(self, team_id: str) -> Team | None:
        try:
            return await self.ports.store.retrieve(Team, team_id)
        except NotFound:
            return None

    async def _join_team(self, team_id: str, github_id: str) -> Team | None:
        """The updated team, or None when nothing changed (already a member, or gone)."""
        def join(t: Team) -> Team | None:
            return None if github_id in t.members else dataclasses.replace(t, members=t.members | {github_id})

        return await self._update_team(team_id, join)

    async def _leave_team(self, team_id: str, github_id: str) -> Team | None:
        def leave(t: Team) -> Team | None:
            if github_id not in t.members and github_id not in t.team_leads:
                return None
            return dataclasses.replace(
                t, members=t.members - {github_id}, team_leads=t.team_leads - {github_id}
            )

        return await self._update_team(team_id, leave)

    async def _update_team(self, team_id: str, change: Any) -> Team | None:
        changed = False

        def tracked(t: Team) -> Team | None:
            nonlocal changed
            updated = change(t)
            changed = updated is not None
            return updated

        try:
            after = await update_with_retry(self.ports.store, Team, team_id, tracked)
        except NotFound:
            return None
        return after if changed else None


def _unlink_github(github_id: str) -> Any:
    def unlink(u: User) -> User | None:
        if u.github_user_id != github_id:
            return None
        return dataclasses.replace(u, github="", github_user_id="")

    return unlink
