"""RefreshTeams: reconcile the whole team directory with the GitHub organization.

Contract:

- ``RefreshTeams(actor)`` is for admins only; with ``scheduled`` (the job) there is no
  permission check.
- GitHub calls: one ``list_teams()`` and one ``list_team_members`` per team. Storage reads:
  one ``query(Team)`` and one ``query(User)`` (plus one ``query(Project)`` when teams were
  deleted), whatever the number of members; retries re-read only after a lost race.
- Stored teams are created or updated from GitHub (slug and members; display name, platform,
  folder and leads are kept, leads who are no longer members are dropped); stored teams
  GitHub no longer has are deleted and their projects unassigned. Only changed records are
  written. The directory is read before GitHub, so a team created by command during the
  refresh (GitHub first, then stored) is never deleted as gone.
- Members of ``settings.admin_team`` become ``admin``; members of ``settings.leads_team``
  become ``team_lead`` (an admin is never demoted).
- Every team with a Drive folder is synced to its registered members' emails; a Drive
  failure is a warning. All GitHub reads happen before any write: if GitHub fails (other
  than a team vanishing between the two listings), nothing is written.
- Plan first: every GitHub and storage read, then ``plan()`` (no I/O) computes the
  ``RefreshPlan`` (teams created, renamed, deleted; members added, removed; promotions) with
  the rules the writes use. ``dry_run`` returns it and writes nothing (no GitHub, Drive or
  storage write). ``guarded`` runs (the nightly job) apply the guard rail: a plan deleting a team or removing
  more than ``settings.refresh_max_removals`` memberships is returned unapplied (``held``).
- Records ``TeamCreated``, ``TeamRenamed``, ``MemberJoinedTeam``, ``MemberLeftTeam``,
  ``TeamDeleted``, ``UserPromoted`` (all ``via="refresh"``: the Drive and promotion
  subscribers leave them to the refresh) and finally ``TeamsRefreshed``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, TypeVar

from core import commands as c
from core.context import Ports, Settings
from core.errors import Conflict, NotFound, RocketError
from core.events import (
    REFRESH,
    MemberJoinedTeam,
    MemberLeftTeam,
    TeamCreated,
    TeamDeleted,
    TeamRenamed,
    TeamsRefreshed,
    UserPromoted,
    record,
)
from core.models import Team, User
from core.permissions import Permissions, can_refresh_teams
from core.results import RefreshPlan, RefreshResult
from core.subscribers.promotion import promoted
from core.usecases.common import find_user, require, unassign_projects_of, update_with_retry
from core.usecases.invitations import expired_among
from core.usecases.registry import handles

if TYPE_CHECKING:  # annotations only (start-up: the bus is built by every CLI command)
    from ports.github import GitHubTeam, GitHubUser

T = TypeVar("T")
X = TypeVar("X")
CONCURRENCY = 8  # outstanding GitHub / storage / Drive calls at a time


async def _bounded(call: Callable[[X], Awaitable[T]], items: Iterable[X], limit: int = CONCURRENCY,
                   ) -> list[T | BaseException]:
    """``call(item)`` for each item, at most ``limit`` at a time; results (or raised errors) in order."""
    gate = asyncio.Semaphore(limit)

    async def one(item: X) -> T:
        async with gate:
            return await call(item)

    return await asyncio.gather(*(one(i) for i in items), return_exceptions=True)


def _raise_first(results: list[T | BaseException]) -> list[T]:
    for r in results:
        if isinstance(r, BaseException):
            raise r
    return [r for r in results if not isinstance(r, BaseException)]


def _same(a: Team | User, b: Team | User) -> bool:
    """Equal apart from ``version``."""
    return dataclasses.replace(a, version=0) == dataclasses.replace(b, version=0)


def reconciled(team: Team, slug: str, member_ids: set[str]) -> Team | None:
    """``team`` brought in line with GitHub, or None when it already is."""
    new = dataclasses.replace(
        team, github_team_name=slug, members=set(member_ids), team_leads=team.team_leads & member_ids
    )
    return None if _same(new, team) else new


@handles(c.RefreshTeams)
class RefreshTeamsHandler:
    """Reconcile stored teams and promotions with GitHub (see the module docstring)."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self.ports = ports
        self.settings = settings

    async def __call__(self, cmd: c.RefreshTeams) -> RefreshResult:
        if not cmd.scheduled:
            require(can_refresh_teams(await find_user(self.ports.store, cmd.actor)),
                    "Only admins can refresh teams")
        return await self.run(cmd.actor, dry_run=cmd.dry_run, guarded=cmd.guarded)

    async def run(self, actor: str = "", *, dry_run: bool = False, guarded: bool = False) -> RefreshResult:
        """Read, plan, then (unless ``dry_run``, or ``guarded`` and over the guard rail) apply."""
        result = RefreshResult()
        github, store = self.ports.github, self.ports.store

        # The directory is read before GitHub: a team created meanwhile (GitHub first, then
        # stored) is then missing from the snapshot at worst, never taken for one GitHub deleted.
        stored = {t.github_team_id: t for t in await store.query(Team)}
        users = {u.github_user_id: u for u in await store.query(User) if u.github_user_id}

        gh_teams = await github.list_teams()
        listings = await _bounded(lambda t: github.list_team_members(t.id), gh_teams)
        members: dict[str, list[GitHubUser]] = {}
        for team, listing in zip(gh_teams, listings, strict=True):
            if isinstance(listing, NotFound):  # deleted between the two listings: next refresh
                result.warnings.append(f"GitHub team {team.slug} vanished during the refresh; skipped")
            elif isinstance(listing, BaseException):
                raise listing
            else:
                members[team.id] = listing
        seen = {t.id for t in gh_teams}

        result.plan = plan = self.plan(stored, users, [t for t in gh_teams if t.id in members], members, seen)
        if dry_run:
            result.applied = False
            return result
        limit = self.settings.refresh_max_removals
        if guarded and (plan.deleted or plan.removals > limit):
            result.applied = False
            result.held = (f"it deletes {len(plan.deleted)} team(s)" if plan.deleted else
                           f"it removes {plan.removals} membership(s), more than "
                           f"ROCKET_REFRESH_MAX_REMOVALS={limit}")
            return result

        final = await self._write_teams([t for t in gh_teams if t.id in members], members, stored, result)
        gone = [t for tid, t in stored.items() if tid not in seen]
        unassigned: list[str] = []
        if gone:  # projects first: an interrupted refresh leaves none pointing at a missing team
            unassigned = await unassign_projects_of(store, {t.github_team_id for t in gone})
        _raise_first(await _bounded(lambda t: store.delete(Team, t.github_team_id), gone))
        result.deleted = sorted(t.github_team_name for t in gone)
        self._record_changes(stored, final, gone, users, actor)
        for t in sorted(gone, key=lambda t: t.github_team_name):
            mine = tuple(unassigned) if len(gone) == 1 else ()  # per team only when one team went
            record(TeamDeleted(t.github_team_id, t.github_team_name, mine, actor, REFRESH, folder=t.folder))

        await self._promote(gh_teams, members, users, result, actor)
        await self._sync_drive(final, users, result)
        result.expired_invitations, warnings = await expired_among(self.ports, users.values())
        result.warnings += warnings
        record(TeamsRefreshed(tuple(result.created), tuple(result.updated), tuple(result.deleted), actor))
        return result

    def plan(self, stored: dict[str, Team], users: dict[str, User], gh_teams: list[GitHubTeam],
             members: dict[str, list[GitHubUser]], seen: set[str]) -> RefreshPlan:
        """What applying would change: the same ``reconciled`` / ``promoted`` rules and the same
        member arithmetic as ``_write_teams``, ``_record_changes`` and ``_promote``; no I/O."""
        plan = RefreshPlan()

        def name(gid: str) -> str:
            u = users.get(gid)
            return u.github if u is not None and u.github else gid

        for gh in sorted(gh_teams, key=lambda t: t.slug):
            ids = {m.id for m in members[gh.id]}
            current = stored.get(gh.id)
            if current is None:
                plan.created.append(gh.slug)
                old: set[str] = set()
                new = ids
            else:
                target = reconciled(current, gh.slug, ids) or current
                if current.github_team_name != gh.slug:
                    plan.renamed.append((current.github_team_name, gh.slug))
                old, new = current.members | current.team_leads, target.members
            plan.added += [(gh.slug, name(gid)) for gid in sorted(new - old)]
            plan.removed += [(gh.slug, name(gid)) for gid in sorted(old - new)]
        plan.deleted = sorted(t.github_team_name for tid, t in stored.items() if tid not in seen)
        for gid, level in self._levels(gh_teams, members, []).items():
            user = users.get(gid)
            if user is not None and promoted(user, level) is not None:
                plan.promoted.append((user.slack_id, user.permission_level.value, level.value))
        plan.promoted.sort()
        return plan

    def _levels(self, gh_teams: list[GitHubTeam], members: dict[str, list[GitHubUser]],
                warnings: list[str]) -> dict[str, Permissions]:
        """The level each member of the admin and leads teams is raised to (admin wins)."""
        levels: dict[str, Permissions] = {}
        for setting, level in ((self.settings.leads_team, Permissions.team_lead),
                               (self.settings.admin_team, Permissions.admin)):
            if not setting:
                continue
            team = next((t for t in gh_teams if t.slug == setting), None)
            if team is None or team.id not in members:
                warnings.append(f"GitHub has no team {setting!r}; nobody promoted to {level.value}")
                continue
            for m in members[team.id]:
                levels[m.id] = level  # admin is applied last, so it wins
        return levels

    @staticmethod
    def _record_changes(stored: dict[str, Team], final: list[Team], gone: list[Team],
                        users: dict[str, User], actor: str) -> None:
        """The events of what the refresh wrote, team by team (sorted by slug)."""
        for team in sorted(final, key=lambda t: t.github_team_name):
            tid, slug = team.github_team_id, team.github_team_name
            before = stored.get(tid)
            if before is None:
                record(TeamCreated(tid, slug, actor, REFRESH))
                old_members: set[str] = set()
            else:
                if before.github_team_name != slug:
                    record(TeamRenamed(tid, before.github_team_name, slug, actor, REFRESH))
                old_members = before.members | before.team_leads
            for gid in sorted(team.members - old_members):
                u = users.get(gid)
                record(MemberJoinedTeam(tid, slug, gid, u.slack_id if u else "", u.github if u else "",
                                        actor, REFRESH))
            for gid in sorted(old_members - team.members):
                u = users.get(gid)
                record(MemberLeftTeam(tid, slug, gid, u.slack_id if u else "", u.github if u else "",
                                      actor, REFRESH))

    async def _write_teams(self, gh_teams: list[GitHubTeam], members: dict[str, list[GitHubUser]],
                           stored: dict[str, Team], result: RefreshResult) -> list[Team]:
        """Create or update each team; returns the teams as they now are."""
        store = self.ports.store

        async def write(gh: GitHubTeam) -> tuple[str, Team]:
            ids = {m.id for m in members[gh.id]}
            current = stored.get(gh.id)
            if current is None:
                try:
                    new = Team(github_team_id=gh.id, github_team_name=gh.slug, display_name=gh.name,
                               members=ids)
                    return "created", await store.store(new)
                except Conflict:  # created meanwhile: update it instead
                    pass
            elif reconciled(current, gh.slug, ids) is None:
                return "same", current
            fresh = await update_with_retry(store, Team, gh.id, lambda t: reconciled(t, gh.slug, ids),
                                            current=current)
            return "updated", fresh

        outcomes = _raise_first(await _bounded(write, gh_teams))
        result.created = sorted(t.github_team_name for kind, t in outcomes if kind == "created")
        result.updated = sorted(t.github_team_name for kind, t in outcomes if kind == "updated")
        return [t for _, t in outcomes]

    async def _promote(self, gh_teams: list[GitHubTeam], members: dict[str, list[GitHubUser]],
                       users: dict[str, User], result: RefreshResult, actor: str) -> None:
        """Raise members of the admin and leads teams; updates ``users`` in place."""
        levels = self._levels(gh_teams, members, result.warnings)
        todo = [(users[gid], level) for gid, level in levels.items()
                if gid in users and promoted(users[gid], level) is not None]

        async def raise_one(todo_item: tuple[User, Permissions]) -> User:
            user, level = todo_item
            return await update_with_retry(self.ports.store, User, user.slack_id,
                                           lambda u: promoted(u, level), current=user)

        done = _raise_first(await _bounded(raise_one, todo))
        slug_of = {self.settings.leads_team: Permissions.team_lead,
                   self.settings.admin_team: Permissions.admin}
        for user in done:
            old = users[user.github_user_id].permission_level
            users[user.github_user_id] = user
            if user.permission_level != old:
                slug = next((s for s, lv in slug_of.items() if lv == user.permission_level and s), "")
                record(UserPromoted(user.slack_id, user.github_user_id, old, user.permission_level, slug,
                                    actor, REFRESH))
        result.promoted = sorted(u.slack_id for u in done)

    async def _sync_drive(self, teams: list[Team], users: dict[str, User], result: RefreshResult) -> None:
        with_folder = sorted((t for t in teams if t.folder), key=lambda t: t.github_team_name)

        def emails(team: Team) -> list[str]:
            return sorted({users[g].email for g in team.members
                           if g in users and users[g].email and users[g].github_verified})

        outcomes = await _bounded(lambda t: self.ports.drive.sync_folder(t.folder, emails(t)), with_folder)
        for team, outcome in zip(with_folder, outcomes, strict=True):
            if isinstance(outcome, RocketError):
                result.warnings.append(f"Drive folder {team.folder} of {team.github_team_name} "
                                       f"was not synced: {outcome}")
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                result.drive_synced.append(team.github_team_name)
