"""Apply GitHub webhook events to the directory (GitHub is the source of truth).

The handlers take the typed GitHub events of ``core.commands`` (built from the webhook JSON
by ``adapters.github.events.parse_webhook``); nothing here reads a payload. They never call
GitHub back: the event is the news. Events about teams or users Rocket does not know are
ignored (``EventOutcome.applied`` False). Behaviour, following Rocket 2 where the contract
is silent:

- organization ``member_removed``: the user (by GitHub id) leaves every stored team (as
  member and lead) and loses their GitHub link; their Slack profile is kept.
  ``member_added`` / ``member_invited``: noted, nothing stored.
- team ``created``: the team is stored (a team already stored, e.g. by ``team create``, is
  left as it is). ``deleted``: removed, its projects unassigned. ``edited``: the slug of a
  known team is refreshed (the display name is Rocket's own, as in a refresh).
  Other team actions: noted, nothing stored.
- membership ``added`` / ``removed`` (scope team): the GitHub id joins or leaves the stored
  team (a leaver also loses the lead role).

Every change records its domain events with ``via="github"``; the subscribers then promote
(joining the admin or leads team), re-sync Drive folders and post the notices.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from core import commands as c
from core.context import Ports, Settings
from core.errors import Conflict, NotFound
from core.events import (
    GITHUB,
    GitHubUnlinked,
    MemberJoinedOrganization,
    MemberJoinedTeam,
    MemberLeftOrganization,
    MemberLeftTeam,
    TeamCreated,
    TeamDeleted,
    TeamRenamed,
    record,
)
from core.models import Team, User
from core.results import EventOutcome
from core.usecases.common import changed_team, unassign_projects_of, update_with_retry

__all__ = ["EventOutcome", "GitHubEventHandlers"]


class GitHubEventHandlers:
    """One method per typed GitHub event (registered on the bus by ``core.wiring``)."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self.ports = ports
        self.settings = settings

    async def ping(self, cmd: c.GitHubPing) -> EventOutcome:
        return EventOutcome(False, "pong")

    async def ignored(self, cmd: c.GitHubIgnored) -> EventOutcome:
        return EventOutcome(False, cmd.summary)

    # --- organization -------------------------------------------------------------------------
    async def member_joined_org(self, cmd: c.GitHubMemberJoinedOrg) -> EventOutcome:
        verb = "was invited to" if cmd.invited else "joined"
        record(MemberJoinedOrganization(cmd.login, cmd.invited, cmd.actor))
        return EventOutcome(False, f"noted: {cmd.login} {verb} the organization")

    async def member_left_org(self, cmd: c.GitHubMemberLeftOrg) -> EventOutcome:
        store, github_id = self.ports.store, cmd.github_id
        teams = await store.query_or(Team, [("members", github_id), ("team_leads", github_id)])
        users = await store.query(User, [("github_user_id", github_id)])
        name = cmd.login or github_id
        if not teams and not users:
            return EventOutcome(False, f"ignored: {name} is not in the directory")
        record(MemberLeftOrganization(github_id, cmd.login, tuple(sorted(t.github_team_name for t in teams)),
                                      cmd.actor))
        slack_id = users[0].slack_id if users else ""
        for team in teams:
            updated = await changed_team(store, team.github_team_id, lambda t: t.without_member(github_id))
            if updated is not None:
                record(MemberLeftTeam(updated.github_team_id, updated.github_team_name, github_id, slack_id,
                                      cmd.login, cmd.actor, GITHUB))
        for user in users:
            await update_with_retry(store, User, user.slack_id, _unlink_github(github_id))
            record(GitHubUnlinked(user.slack_id, github_id, cmd.actor))
        return EventOutcome(True, f"{name} left the organization")

    # --- team ---------------------------------------------------------------------------------
    async def team_created(self, cmd: c.GitHubTeamCreated) -> EventOutcome:
        slug, name = cmd.slug, cmd.name
        try:
            await self.ports.store.store(Team(cmd.team_id, slug, display_name=name if name != slug else ""))
        except Conflict:
            return EventOutcome(False, f"noted: team {slug} already in the directory")
        record(TeamCreated(cmd.team_id, slug, cmd.actor, GITHUB))
        return EventOutcome(True, f"team {slug} created")

    async def team_deleted(self, cmd: c.GitHubTeamDeleted) -> EventOutcome:
        known = await self._stored_team(cmd.team_id)
        if known is None:
            return EventOutcome(False, f"ignored: team {cmd.slug or cmd.team_id} is not in the directory")
        # Projects first, then the team: an interrupted delete leaves no project pointing at
        # a missing team, and the redelivery (the team is still known) finishes it.
        unassigned = await unassign_projects_of(self.ports.store, {cmd.team_id})
        await self.ports.store.delete(Team, cmd.team_id)
        record(TeamDeleted(cmd.team_id, known.github_team_name, tuple(unassigned), cmd.actor, GITHUB,
                           folder=known.folder))
        return EventOutcome(True, f"team {known.github_team_name} deleted")

    async def team_renamed(self, cmd: c.GitHubTeamRenamed) -> EventOutcome:
        known = await self._stored_team(cmd.team_id)
        if known is None:
            return EventOutcome(False, f"ignored: team {cmd.slug or cmd.team_id} is not in the directory")
        slug = cmd.slug

        def rename(t: Team) -> Team | None:
            return None if t.github_team_name == slug else dataclasses.replace(t, github_team_name=slug)

        old = known.github_team_name
        after = await changed_team(self.ports.store, cmd.team_id, rename)
        if after is not None:
            record(TeamRenamed(cmd.team_id, old, slug, cmd.actor, GITHUB))
        return EventOutcome(True, f"team {slug} edited")

    async def team_noted(self, cmd: c.GitHubTeamNoted) -> EventOutcome:
        known = await self._stored_team(cmd.team_id)
        if known is None:
            return EventOutcome(False, f"ignored: team {cmd.slug or cmd.team_id} is not in the directory")
        return EventOutcome(False, f"noted: team {known.github_team_name} {cmd.action or 'event'}")

    # --- membership -----------------------------------------------------------------------------
    async def membership_added(self, cmd: c.GitHubMembershipAdded) -> EventOutcome:
        known = await self._stored_team(cmd.team_id)
        if known is None:
            return EventOutcome(False, f"ignored: team {cmd.team_id} is not in the directory")
        gid = cmd.github_id
        updated = await changed_team(self.ports.store, cmd.team_id, lambda t: t.with_member(gid))
        slug = updated.github_team_name if updated is not None else known.github_team_name
        if updated is not None:
            record(MemberJoinedTeam(cmd.team_id, slug, gid, await self._slack_id(gid), cmd.login,
                                    cmd.actor, GITHUB))
        return EventOutcome(updated is not None, f"{cmd.login or gid} added to {slug}")

    async def membership_removed(self, cmd: c.GitHubMembershipRemoved) -> EventOutcome:
        known = await self._stored_team(cmd.team_id)
        if known is None:
            return EventOutcome(False, f"ignored: team {cmd.team_id} is not in the directory")
        gid = cmd.github_id
        updated = await changed_team(self.ports.store, cmd.team_id, lambda t: t.without_member(gid))
        slug = updated.github_team_name if updated is not None else known.github_team_name
        if updated is not None:
            record(MemberLeftTeam(cmd.team_id, slug, gid, await self._slack_id(gid), cmd.login,
                                  cmd.actor, GITHUB))
        return EventOutcome(updated is not None, f"{cmd.login or gid} removed from {slug}")

    # --- storage helpers ------------------------------------------------------------------------
    async def _stored_team(self, team_id: str) -> Team | None:
        try:
            return await self.ports.store.retrieve(Team, team_id)
        except NotFound:
            return None

    async def _slack_id(self, github_id: str) -> str:
        users = await self.ports.store.query(User, [("github_user_id", github_id)])
        return users[0].slack_id if users else ""


def _unlink_github(github_id: str) -> Callable[[User], User | None]:
    def unlink(u: User) -> User | None:
        if u.github_user_id != github_id:
            return None
        return dataclasses.replace(u, github="", github_user_id="", github_verified=False)

    return unlink
