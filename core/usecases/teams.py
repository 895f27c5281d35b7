"""Team handlers: list, view, create, edit, add, remove, lead, delete, and the Drive sync job.

Contract (see /rocket team …):

- ``team`` is the GitHub slug (``Team.github_team_name``); members and leads are GitHub user
  ids, so a user needs ``github`` set (``/rocket user edit --github``) before joining a team.
- Anyone views. Team leads (permission ``team_lead``) and admins create teams; admins manage
  every team and a lead manages the teams they lead (``core.permissions.can_manage_team``).
  Only admins create or manage the teams named by ``settings.admin_team`` /
  ``settings.leads_team`` (their members are promoted).
- GitHub is the source of truth: every change goes to GitHub first and is stored only after
  GitHub accepted it; if GitHub raises, nothing is stored. A refused command changes nothing.
- Each change records its domain events (``MemberJoinedTeam``, ``MemberLeftTeam``,
  ``LeadChanged``, ``TeamCreated``, ``TeamChanged``, ``TeamDeleted``); what follows is done
  by subscribers (``core.subscribers``): the Drive folder sync (a failure is a warning in the
  result) and the promotion of members of ``settings.admin_team`` / ``settings.leads_team``.
"""

from __future__ import annotations

import dataclasses

from core import commands as c
from core.context import Ports, Settings
from core.errors import Conflict, NotFound, RocketError
from core.events import (
    FieldChange,
    LeadChanged,
    MemberJoinedTeam,
    MemberLeftTeam,
    TeamChanged,
    TeamCreated,
    TeamDeleted,
    record,
)
from core.limits import check_fields
from core.models import Team, User
from core.permissions import can_create_named_team, can_create_team, is_admin
from core.results import Deleted, DriveSyncResult, TeamList, TeamResult
from core.usecases.common import (
    QUERY_CHUNK,
    changed_team,
    find_user,
    managed_team,
    registered_user,
    require,
    team_by_slug,
    team_result,
    unassign_projects_of,
    update_with_retry,
    upsert_with_retry,
    users_by_github_ids,
)
from core.usecases.membership import store_from_github
from core.usecases.registry import handles
from core.validation import optional, require_github, team_slug

__all__ = [
    "QUERY_CHUNK",
    "unassign_projects_of",
    "upsert_with_retry",
    "users_by_github_ids",
]


def _merged(stored: Team, made: Team) -> Team | None:
    """``stored`` (written by a webhook or refresh since GitHub created the team) with what
    CreateTeam made added: its members and leads joined, its non-empty fields set."""
    new = dataclasses.replace(stored, github_team_name=made.github_team_name,
                              members=stored.members | made.members,
                              team_leads=stored.team_leads | made.team_leads,
                              display_name=made.display_name or stored.display_name,
                              platform=made.platform or stored.platform,
                              folder=made.folder or stored.folder)
    return None if new == stored else new


class _TeamHandler:
    def __init__(self, ports: Ports, settings: Settings) -> None:
        self.ports = ports
        self.settings = settings


@handles(c.ListTeams)
class ListTeamsHandler(_TeamHandler):
    """Every stored team, sorted by slug. Anyone may list."""

    async def __call__(self, cmd: c.ListTeams) -> TeamList:
        teams = await self.ports.store.query(Team)
        return TeamList(sorted(teams, key=lambda t: t.github_team_name), page=cmd.page)


@handles(c.ViewTeam)
class ViewTeamHandler(_TeamHandler):
    """One team with its registered members, leads and projects. Anyone may view; NotFound if missing."""

    async def __call__(self, cmd: c.ViewTeam) -> TeamResult:
        return await team_result(self.ports.store, await team_by_slug(self.ports.store, cmd.team))


@handles(c.CreateTeam)
class CreateTeamHandler(_TeamHandler):
    """Create a team on GitHub, then store it.

    Team leads and admins only. The creator becomes lead and member unless ``lead`` names
    someone else (who must be registered with GitHub); a creator without GitHub (and no
    ``lead``) creates the team without a lead and is told so in a warning. ``channel`` adds every registered
    member (with GitHub) of that Slack channel; others are listed in warnings. ``folder`` is
    the Drive folder to share with the members. If any GitHub step fails, the GitHub team is
    deleted again (best effort) and nothing is stored. If the team was stored meanwhile (GitHub's
    ``team created`` webhook, a refresh), the members, leads and fields are merged into it.
    Records ``TeamCreated``, then ``MemberJoinedTeam`` per member and ``LeadChanged``.
    """

    async def __call__(self, cmd: c.CreateTeam) -> TeamResult:
        store, github = self.ports.store, self.ports.github
        slug = team_slug(cmd.team)
        check_fields(Team, github_team_name=slug, display_name=optional(cmd.name),
                     platform=optional(cmd.platform), folder=optional(cmd.folder))
        actor_user = await find_user(store, cmd.actor)
        require(can_create_team(actor_user), "Only team leads and admins can create teams")
        require(can_create_named_team(actor_user, slug, self.settings.admin_team, self.settings.leads_team),
                f"Only admins can create {slug}: its members are given rank")
        await github.ensure_configured()
        if await store.query(Team, [("github_team_name", slug)]):
            raise Conflict(f"Team {slug!r} already exists")

        lead: User | None = actor_user if cmd.lead is None else await registered_user(store, cmd.lead.strip())
        assert lead is not None  # can_create_team refused an unregistered actor
        warnings: list[str] = []
        if cmd.lead is None and not (lead.github and lead.github_user_id):
            # A creator without GitHub may create teams; they just cannot be in one.
            warnings.append(
                f"You have no GitHub account on record, so {slug} was created without you as lead; "
                "link one with `/rocket user edit --github GITHUB_LOGIN`, or name a lead with "
                f"`/rocket team lead {slug} SLACK_ID`"
            )
            lead = None
        else:
            require_github(lead)
        lead_user = lead
        members: dict[str, User] = {lead_user.slack_id: lead_user} if lead_user is not None else {}
        if cmd.channel:
            channel_ids = await self.ports.chat.channel_members(cmd.channel)
            for user in await store.bulk_retrieve(User, channel_ids):
                if user.github and user.github_user_id:
                    members.setdefault(user.slack_id, user)
            skipped = sorted(set(channel_ids) - set(members))
            if skipped:
                warnings.append(
                    f"Not added from {cmd.channel} (not registered or no GitHub account): "
                    f"{', '.join(skipped)}"
                )

        created = await github.create_team(slug, (cmd.name or "").strip() or slug)
        try:
            for user in members.values():
                await github.add_team_member(created.id, user.github)
        except Exception:
            try:  # undo the half-made team so GitHub is as before; the first error is the one to report
                await github.delete_team(created.id)
            except RocketError:
                pass
            raise

        made = Team(
            github_team_id=created.id,
            github_team_name=created.slug,
            display_name=(cmd.name or "").strip(),
            platform=(cmd.platform or "").strip(),
            team_leads={lead_user.github_user_id} if lead_user is not None else set(),
            members={u.github_user_id for u in members.values()},
            folder=(cmd.folder or "").strip(),
        )
        # Stored as made, or merged into the team GitHub's `team created` webhook (or a
        # refresh) stored meanwhile.
        record_ = await update_with_retry(store, Team, created.id, lambda t: _merged(t, made), create=made)
        tid, slug = record_.github_team_id, record_.github_team_name
        record(TeamCreated(tid, slug, cmd.actor))
        member_list = sorted(members.values(), key=lambda u: u.slack_id)
        for user in member_list:
            record(MemberJoinedTeam(tid, slug, user.github_user_id, user.slack_id, user.github, cmd.actor))
        if lead_user is not None:
            record(LeadChanged(tid, slug, lead_user.github_user_id, True, lead_user.slack_id, cmd.actor))
        return await team_result(store, record_, f"Created team {slug}", warnings)


@handles(c.EditTeam)
class EditTeamHandler(_TeamHandler):
    """Change a team's display name, platform or Drive folder (admins and its leads).

    Only the directory changes (GitHub has no such fields). Setting a new folder shares it
    with the team's members; ``folder=""`` clears it (the old folder's sharing is left alone).
    Records ``TeamChanged`` with the old and new values when something changed.
    """

    async def __call__(self, cmd: c.EditTeam) -> TeamResult:
        store = self.ports.store
        current = await managed_team(store, cmd.actor, cmd.team, "edit this team", self.settings)
        given = (("display_name", optional(cmd.name)), ("platform", optional(cmd.platform)),
                 ("folder", optional(cmd.folder)))
        changes = {k: v for k, v in given if v is not None}
        check_fields(Team, **changes)
        if not changes:
            return await team_result(store, current, "Nothing to change: give --name, --platform or --folder")
        before: Team | None = None

        def change(t: Team) -> Team | None:
            nonlocal before
            before = t
            new = dataclasses.replace(t, display_name=changes.get("display_name", t.display_name),
                                      platform=changes.get("platform", t.platform),
                                      folder=changes.get("folder", t.folder))
            return None if new == t else new

        updated = await update_with_retry(store, Team, current.github_team_id, change)
        slug = updated.github_team_name
        diff = _diff(before, updated, tuple(changes)) if before is not None else ()
        if diff:
            record(TeamChanged(updated.github_team_id, slug, diff, cmd.actor))
        message = f"Updated team {slug}" if diff else f"Nothing changed: {slug} already has those values"
        return await team_result(store, updated, message)


def _diff(before: Team, after: Team, names: tuple[str, ...]) -> tuple[FieldChange, ...]:
    old, new = before.__dict__, after.__dict__
    return tuple(FieldChange(n, old[n], new[n]) for n in names if old[n] != new[n])


@handles(c.AddTeamMember)
class AddTeamMemberHandler(_TeamHandler):
    """Add a registered user (with GitHub) to a team: GitHub first, then the directory, both
    storing what GitHub then answers (``core.usecases.membership``). Idempotent: adding a
    member again asks GitHub again (so it is sure to hold) and says they already were one.
    Records ``MemberJoinedTeam`` when they were not a member yet."""

    async def __call__(self, cmd: c.AddTeamMember) -> TeamResult:
        store = self.ports.store
        current = await managed_team(store, cmd.actor, cmd.team, "add members to this team", self.settings)
        await self.ports.github.ensure_configured()
        user = await registered_user(store, cmd.slack_id)
        require_github(user)
        gid = user.github_user_id
        await self.ports.github.add_team_member(current.github_team_id, user.github)
        updated, _ = await store_from_github(self.ports, current.github_team_id, gid, user.github)
        if updated is not None and gid in updated.members:
            record(MemberJoinedTeam(updated.github_team_id, updated.github_team_name, gid, user.slack_id,
                                    user.github, cmd.actor))
            message = f"Added {cmd.slack_id} to {updated.github_team_name}"
        else:
            updated = await store.retrieve(Team, current.github_team_id)
            message = f"{cmd.slack_id} is already a member of {updated.github_team_name}; nothing changed"
        return await team_result(store, updated, message)


def _last_lead_warning(actor: str, user: User, before: Team, after: Team) -> list[str]:
    """A warning when ``actor`` just removed themselves as the team's last lead."""
    gid = user.github_user_id
    if actor == user.slack_id and before.team_leads == {gid} and not after.team_leads:
        return [f"You were the last lead of {after.github_team_name}: it has no lead now "
                f"(an admin can name one with `/rocket team lead {after.github_team_name} SLACK_ID`)"]
    return []


@handles(c.RemoveTeamMember)
class RemoveTeamMemberHandler(_TeamHandler):
    """Remove a member (and their lead role) from a team: GitHub first, then the directory,
    storing what GitHub then answers. Idempotent: removing a non-member still asks
    GitHub to drop them and says they were not a member. A lead removing themselves as the
    last lead is told so. Records ``MemberLeftTeam``."""

    async def __call__(self, cmd: c.RemoveTeamMember) -> TeamResult:
        store = self.ports.store
        current = await managed_team(store, cmd.actor, cmd.team, "remove members from this team",
                                     self.settings)
        await self.ports.github.ensure_configured()
        user = await registered_user(store, cmd.slack_id)
        gid = user.github_user_id
        before = current
        updated: Team | None = None
        if gid and user.github:
            await self.ports.github.remove_team_member(current.github_team_id, user.github)
            updated, _ = await store_from_github(self.ports, current.github_team_id, gid, user.github)
        elif gid:
            updated = await changed_team(store, current.github_team_id, lambda t: t.without_member(gid))
        if updated is not None and gid not in updated.members:
            record(MemberLeftTeam(updated.github_team_id, updated.github_team_name, gid, user.slack_id,
                                  user.github, cmd.actor))
            slug = updated.github_team_name
            return await team_result(store, updated, f"Removed {cmd.slack_id} from {slug}",
                                     _last_lead_warning(cmd.actor, user, before, updated))
        updated = await store.retrieve(Team, current.github_team_id)
        slug = updated.github_team_name
        return await team_result(store, updated,
                                 f"{cmd.slack_id} was not a member of {slug}; nothing changed")


@handles(c.SetTeamLead)
class SetTeamLeadHandler(_TeamHandler):
    """Make a user a lead of a team (adding them as a member on GitHub first if needed), or
    with ``remove`` drop only the lead role (they stay a member; no GitHub change).
    Records ``MemberJoinedTeam`` (when they joined) and ``LeadChanged``."""

    async def __call__(self, cmd: c.SetTeamLead) -> TeamResult:
        store = self.ports.store
        current = await managed_team(store, cmd.actor, cmd.team, "change the leads of this team",
                                     self.settings)
        user = await registered_user(store, cmd.slack_id)
        gid = user.github_user_id
        tid = current.github_team_id
        if cmd.remove:
            if not gid or gid not in current.team_leads:
                raise NotFound(f"{cmd.slack_id} is not a lead of {current.github_team_name}")
            updated = await changed_team(store, tid, lambda t: t.without_lead(gid))
            warnings: list[str] = []
            if updated is not None:
                record(LeadChanged(tid, updated.github_team_name, gid, False, user.slack_id, cmd.actor))
                warnings = _last_lead_warning(cmd.actor, user, current, updated)
            else:
                updated = await store.retrieve(Team, tid)
            return await team_result(store, updated,
                                     f"{cmd.slack_id} is no longer a lead of {updated.github_team_name}",
                                     warnings)

        await self.ports.github.ensure_configured()
        require_github(user)
        joined = gid not in current.members
        if joined:
            await self.ports.github.add_team_member(tid, user.github)
        updated = await changed_team(store, tid, lambda t: t.with_lead(gid))
        if updated is None:
            updated = await store.retrieve(Team, tid)
        slug = updated.github_team_name
        if joined:
            record(MemberJoinedTeam(tid, slug, gid, user.slack_id, user.github, cmd.actor))
        if gid not in current.team_leads:
            record(LeadChanged(tid, slug, gid, True, user.slack_id, cmd.actor))
        return await team_result(store, updated, f"{cmd.slack_id} is now a lead of {slug}")


@handles(c.DeleteTeam)
class DeleteTeamHandler(_TeamHandler):
    """Delete a team on GitHub, then from the directory; its projects become unassigned.

    Admins and the team's leads. Records ``TeamDeleted`` with the team's Drive folder; the
    Drive subscriber then unshares that folder from everyone Rocket shared it with (a Drive
    failure is a warning; ``drive sync`` does not retry a deleted team, so the warning says so).
    """

    async def __call__(self, cmd: c.DeleteTeam) -> Deleted:
        current = await managed_team(self.ports.store, cmd.actor, cmd.team, "delete this team", self.settings)
        await self.ports.github.delete_team(current.github_team_id)
        # Projects first, then the team: if storage fails in between, no project points at a
        # missing team, and running the command again (GitHub's 404 is no error) finishes it.
        unassigned = await unassign_projects_of(self.ports.store, {current.github_team_id})
        await self.ports.store.delete(Team, current.github_team_id)
        record(TeamDeleted(current.github_team_id, current.github_team_name, tuple(unassigned), cmd.actor,
                           folder=current.folder))
        note = f"; {len(unassigned)} project(s) unassigned" if unassigned else ""
        if current.folder:
            note += f"; Drive folder {current.folder} unshared from everyone Rocket shared it with"
        return Deleted("team", current.github_team_name, f"Deleted team {current.github_team_name}{note}")


@handles(c.SyncDrive)
class SyncDriveHandler(_TeamHandler):
    """Share every stored team's folder with exactly its registered members' emails.

    Admins only, unless ``scheduled`` (the job). Users are read once for all teams; a Drive
    failure for one team is a warning and the other teams are still synced.
    """

    async def __call__(self, cmd: c.SyncDrive) -> DriveSyncResult:
        store = self.ports.store
        if not cmd.scheduled:
            require(is_admin(await find_user(store, cmd.actor)), "Only admins can sync Drive folders")
        teams = sorted((t for t in await store.query(Team) if t.folder), key=lambda t: t.github_team_name)
        result = DriveSyncResult(teams=len(teams))
        if not teams:
            return result
        # Imported here: the other commands of this module need no subscriber (importing
        # core.subscribers costs every `rocket exec … "team list"`; start-up, issue 17).
        from core.subscribers.drive import sync_drive

        users = [u for u in await store.query(User) if u.github_user_id]
        for team in teams:
            warnings = await sync_drive(self.ports, team, users)
            if warnings:
                result.warnings += warnings
            else:
                result.synced.append(team.github_team_name)
        return result

