"""Team use-cases: list, view, create, edit, add, remove, lead, delete.

Contract (see /rocket team …):

- ``team`` is the GitHub slug (``Team.github_team_name``); members and leads are GitHub user
  ids, so a user needs ``github`` set (``/rocket user edit --github``) before joining a team.
- Anyone views. Team leads (permission ``team_lead``) and admins create teams; admins manage
  every team and a lead manages the teams they lead (``core.permissions.can_manage_team``).
- GitHub is the source of truth: every change goes to GitHub first and is stored only after
  GitHub accepted it; if GitHub raises, nothing is stored. A refused command changes nothing.
- A team with a Drive folder has its sharing synced to its registered members' emails after
  each membership change; a Drive failure after GitHub and storage succeeded becomes a
  warning in the result instead of an error.
- Members of ``settings.admin_team`` / ``settings.leads_team`` are promoted to ``admin`` /
  ``team_lead`` when they are added to those teams (never demoted, an admin stays admin).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable

from core.context import Ports, Settings
from core.errors import Conflict, InvalidInput, NotFound, RocketError
from core.limits import check_fields
from core.models import Project, Team, User
from core.permissions import Permissions, can_create_team, can_manage_team
from core.results import Deleted, TeamList, TeamResult
from core.usecases.common import find_user, registered_user, require, team_by_slug, update_with_retry

# query_or clauses per storage call: keeps filter expressions small on every backend.
QUERY_CHUNK = 50


# --- helpers shared by the team, project and refresh use-cases -------------------------------


def require_github(user: User) -> None:
    """``InvalidInput`` unless the user has a GitHub account on record (needed to join a team)."""
    if not user.github or not user.github_user_id:
        raise InvalidInput(
            f"{user.slack_id} has no GitHub account on record; "
            "they need to run `/rocket user edit --github GITHUB_LOGIN` first"
        )


async def users_by_github_ids(ports: Ports, github_ids: Collection[str]) -> list[User]:
    """Registered users whose ``github_user_id`` is in ``github_ids``, sorted by Slack id."""
    ids = sorted({i for i in github_ids if i})
    found: dict[str, User] = {}
    for start in range(0, len(ids), QUERY_CHUNK):
        params = [("github_user_id", i) for i in ids[start : start + QUERY_CHUNK]]
        for user in await ports.store.query_or(User, params):
            found[user.slack_id] = user
    return sorted(found.values(), key=lambda u: u.slack_id)


async def sync_drive(ports: Ports, team: Team, members: Iterable[User] | None = None) -> list[str]:
    """Share the team's folder with exactly its registered members' emails.

    Returns warnings (empty when the team has no folder or the sync worked); never raises a
    ``RocketError``, because it runs after GitHub and storage already accepted the change.
    """
    if not team.folder:
        return []
    try:
        if members is None:
            members = await users_by_github_ids(ports, team.members)
        emails = sorted({u.email for u in members if u.email and u.github_user_id in team.members})
        await ports.drive.sync_folder(team.folder, emails)
    except RocketError as exc:
        return [f"Drive folder {team.folder} of {team.github_team_name} was not synced: {exc}"]
    return []


def promotion_for(settings: Settings, slug: str) -> Permissions | None:
    """The permission membership of team ``slug`` grants, if it is a special team."""
    if settings.admin_team and slug == settings.admin_team:
        return Permissions.admin
    if settings.leads_team and slug == settings.leads_team:
        return Permissions.team_lead
    return None


def promoted(user: User, level: Permissions | None) -> User | None:
    """``user`` raised to ``level`` (None when that is no raise: never demote)."""
    rank = {Permissions.member: 0, Permissions.team_lead: 1, Permissions.admin: 2}
    if level is None or rank[level] <= rank[user.permission_level]:
        return None
    return dataclasses.replace(user, permission_level=level)


async def promote(ports: Ports, settings: Settings, slug: str, user: User) -> bool:
    """Promote ``user`` if ``slug`` is the admin or leads team; True when they rose."""
    level = promotion_for(settings, slug)
    if promoted(user, level) is None:
        return False
    await update_with_retry(ports.store, User, user.slack_id, lambda u: promoted(u, level))
    return True


async def team_result(ports: Ports, team: Team, message: str = "", warnings: list[str] | None = None,
                      members: list[User] | None = None) -> TeamResult:
    """A ``TeamResult`` with the team's registered members, leads and projects filled in."""
    if members is None:
        members = await users_by_github_ids(ports, team.members | team.team_leads)
    projects = await ports.store.query(Project, [("github_team_id", team.github_team_id)])
    return TeamResult(
        team=team,
        members=[u for u in members if u.github_user_id in team.members],
        leads=[u for u in members if u.github_user_id in team.team_leads],
        projects=sorted(projects, key=lambda p: p.project_id),
        message=message,
        warnings=list(warnings or []),
    )


async def managed_team(ports: Ports, actor: str, slug: str, doing: str) -> Team:
    """The team ``slug``, after checking that ``actor`` may manage it (``doing`` names the act)."""
    team = await team_by_slug(ports.store, slug)
    actor_user = await find_user(ports.store, actor)
    require(
        can_manage_team(actor_user, team),
        f"Only admins and leads of {slug} can {doing}",
    )
    return team


def _merged(stored: Team, made: Team) -> Team | None:
    """``stored`` (written by a webhook or refresh since GitHub created the team) with what
    CreateTeam made added: its members and leads joined, its non-empty fields set."""
    fields = {k: getattr(made, k) for k in ("display_name", "platform", "folder") if getattr(made, k)}
    new = dataclasses.replace(stored, github_team_name=made.github_team_name,
                              members=stored.members | made.members,
                              team_leads=stored.team_leads | made.team_leads, **fields)
    return None if new == stored else new


def _clean(value: str | None) -> str | None:
    return None if value is None else value.strip()


# --- the use-cases -----------------------------------------------------------------------------


class _TeamUseCase:
    def __init__(self, ports: Ports, settings: Settings) -> None:
        self.ports = ports
        self.settings = settings


class ListTeams(_TeamUseCase):
    """Every stored team, sorted by slug. Anyone may list."""

    async def __call__(self, actor: str) -> TeamList:
        teams = await self.ports.store.query(Team)
        return TeamList(sorted(teams, key=lambda t: t.github_team_name))


class ViewTeam(_TeamUseCase):
    """One team with its registered members, leads and projects. Anyone may view; NotFound if missing."""

    async def __call__(self, actor: str, team: str) -> TeamResult:
        return await team_result(self.ports, await team_by_slug(self.ports.store, team))


class CreateTeam(_TeamUseCase):
    """Create a team on GitHub, then store it.

    Team leads and admins only. The creator becomes lead and member unless ``lead`` names
    someone else (who must be registered with GitHub). ``channel`` adds every registered
    member (with GitHub) of that Slack channel; others are listed in warnings. ``folder`` is
    the Drive folder to share with the members. If any GitHub step fails, the GitHub team is
    deleted again (best effort) and nothing is stored. If the team was stored meanwhile (GitHub's
    ``team created`` webhook, a refresh), the members, leads and fields are merged into it.
    """

    async def __call__(self, actor: str, team: str, name: str | None = None, platform: str | None = None,
                       channel: str | None = None, lead: str | None = None,
                       folder: str | None = None) -> TeamResult:
        store, github = self.ports.store, self.ports.github
        slug = (team or "").strip()
        if not slug or any(c.isspace() for c in slug):
            raise InvalidInput("The GitHub team name must be non-empty and cannot contain spaces")
        check_fields(Team, github_team_name=slug, display_name=_clean(name), platform=_clean(platform),
                     folder=_clean(folder))
        actor_user = await find_user(store, actor)
        require(can_create_team(actor_user), "Only team leads and admins can create teams")
        await github.ensure_configured()
        if await store.query(Team, [("github_team_name", slug)]):
            raise Conflict(f"Team {slug!r} already exists")

        lead_user = actor_user if lead is None else await registered_user(store, lead.strip())
        require_github(lead_user)
        members: dict[str, User] = {lead_user.slack_id: lead_user}
        warnings: list[str] = []
        if channel:
            channel_ids = await self.ports.chat.channel_members(channel)
            for user in await store.bulk_retrieve(User, channel_ids):
                if user.github and user.github_user_id:
                    members.setdefault(user.slack_id, user)
            skipped = sorted(set(channel_ids) - set(members))
            if skipped:
                warnings.append(
                    f"Not added from {channel} (not registered or no GitHub account): {', '.join(skipped)}"
                )

        created = await github.create_team(slug, (name or "").strip() or slug)
        try:
            for user in members.values():
                await github.add_team_member(created.id, user.github)
        except Exception:
            try:  # undo the half-made team so GitHub is as before; the first error is the one to report
                await github.delete_team(created.id)
            except RocketError:
                pass
            raise

        record = Team(
            github_team_id=created.id,
            github_team_name=created.slug,
            display_name=(name or "").strip(),
            platform=(platform or "").strip(),
            team_leads={lead_user.github_user_id},
            members={u.github_user_id for u in members.values()},
            folder=(folder or "").strip(),
        )
        try:
            record = await store.store(record)
        except Conflict:  # GitHub's `team created` webhook (or a refresh) stored it meanwhile
            record = await update_with_retry(store, Team, created.id, lambda t, made=record: _merged(t, made))
        for user in members.values():
            await promote(self.ports, self.settings, record.github_team_name, user)
        member_list = sorted(members.values(), key=lambda u: u.slack_id)
        warnings += await sync_drive(self.ports, record, member_list)
        return await team_result(self.ports, record, f"Created team {record.github_team_name}", warnings)


class EditTeam(_TeamUseCase):
    """Change a team's display name, platform or Drive folder (admins and its leads).

    Only the directory changes (GitHub has no such fields). Setting a new folder shares it
    with the team's members; ``folder=""`` clears it (the old folder's sharing is left alone).
    """

    async def __call__(self, actor: str, team: str, name: str | None = None, platform: str | None = None,
                       folder: str | None = None) -> TeamResult:
        current = await managed_team(self.ports, actor, team, "edit this team")
        changes = {k: v for k, v in (("display_name", _clean(name)), ("platform", _clean(platform)),
                                      ("folder", _clean(folder))) if v is not None}
        check_fields(Team, **changes)

        if not changes:
            return await team_result(self.ports, current,
                                     "Nothing to change: give --name, --platform or --folder")
        changed = False

        def change(t: Team) -> Team | None:
            nonlocal changed
            changed = not all(getattr(t, k) == v for k, v in changes.items())
            return dataclasses.replace(t, **changes) if changed else None

        updated = await update_with_retry(self.ports.store, Team, current.github_team_id, change)
        warnings: list[str] = []
        if "folder" in changes and updated.folder:
            warnings = await sync_drive(self.ports, updated)
        slug = updated.github_team_name
        message = f"Updated team {slug}" if changed else f"Nothing changed: {slug} already has those values"
        return await team_result(self.ports, updated, message, warnings)


class AddTeamMember(_TeamUseCase):
    """Add a registered user (with GitHub) to a team: GitHub first, then the directory."""

    async def __call__(self, actor: str, team: str, slack_id: str) -> TeamResult:
        current = await managed_team(self.ports, actor, team, "add members to this team")
        await self.ports.github.ensure_configured()
        user = await registered_user(self.ports.store, slack_id)
        require_github(user)
        await self.ports.github.add_team_member(current.github_team_id, user.github)

        def change(t: Team) -> Team | None:
            if user.github_user_id in t.members:
                return None
            return dataclasses.replace(t, members=t.members | {user.github_user_id})

        updated = await update_with_retry(self.ports.store, Team, current.github_team_id, change)
        await promote(self.ports, self.settings, updated.github_team_name, user)
        warnings = await sync_drive(self.ports, updated)
        return await team_result(self.ports, updated, f"Added {slack_id} to {updated.github_team_name}",
                                 warnings)


class RemoveTeamMember(_TeamUseCase):
    """Remove a member (and their lead role) from a team: GitHub first, then the directory."""

    async def __call__(self, actor: str, team: str, slack_id: str) -> TeamResult:
        current = await managed_team(self.ports, actor, team, "remove members from this team")
        await self.ports.github.ensure_configured()
        user = await registered_user(self.ports.store, slack_id)
        if not user.github_user_id or user.github_user_id not in current.members | current.team_leads:
            raise NotFound(f"{slack_id} is not a member of {current.github_team_name}")
        if user.github:
            await self.ports.github.remove_team_member(current.github_team_id, user.github)
        gid = user.github_user_id

        def change(t: Team) -> Team | None:
            if gid not in t.members and gid not in t.team_leads:
                return None
            return dataclasses.replace(t, members=t.members - {gid}, team_leads=t.team_leads - {gid})

        updated = await update_with_retry(self.ports.store, Team, current.github_team_id, change)
        warnings = await sync_drive(self.ports, updated)
        return await team_result(self.ports, updated,
                                 f"Removed {slack_id} from {updated.github_team_name}", warnings)


class SetTeamLead(_TeamUseCase):
    """Make a user a lead of a team (adding them as a member on GitHub first if needed), or
    with ``remove=True`` drop only the lead role (they stay a member; no GitHub change)."""

    async def __call__(self, actor: str, team: str, slack_id: str, remove: bool = False) -> TeamResult:
        current = await managed_team(self.ports, actor, team, "change the leads of this team")
        user = await registered_user(self.ports.store, slack_id)
        gid = user.github_user_id
        if remove:
            if not gid or gid not in current.team_leads:
                raise NotFound(f"{slack_id} is not a lead of {current.github_team_name}")

            def demote(t: Team) -> Team | None:
                if gid not in t.team_leads:
                    return None
                return dataclasses.replace(t, team_leads=t.team_leads - {gid})

            updated = await update_with_retry(self.ports.store, Team, current.github_team_id, demote)
            return await team_result(self.ports, updated,
                                     f"{slack_id} is no longer a lead of {updated.github_team_name}")

        await self.ports.github.ensure_configured()
        require_github(user)
        joined = gid not in current.members
        if joined:
            await self.ports.github.add_team_member(current.github_team_id, user.github)

        def make_lead(t: Team) -> Team | None:
            if gid in t.members and gid in t.team_leads:
                return None
            return dataclasses.replace(t, members=t.members | {gid}, team_leads=t.team_leads | {gid})

        updated = await update_with_retry(self.ports.store, Team, current.github_team_id, make_lead)
        warnings: list[str] = []
        if joined:
            await promote(self.ports, self.settings, updated.github_team_name, user)
            warnings = await sync_drive(self.ports, updated)
        return await team_result(self.ports, updated,
                                 f"{slack_id} is now a lead of {updated.github_team_name}", warnings)


class DeleteTeam(_TeamUseCase):
    """Delete a team on GitHub, then from the directory; its projects become unassigned.

    Admins and the team's leads. The Drive folder's sharing is left as it is.
    """

    async def __call__(self, actor: str, team: str) -> Deleted:
        current = await managed_team(self.ports, actor, team, "delete this team")
        await self.ports.github.delete_team(current.github_team_id)
        # Projects first, then the team: if storage fails in between, no project points at a
        # missing team, and running the command again (GitHub's 404 is no error) finishes it.
        unassigned = await unassign_projects_of(self.ports, {current.github_team_id})
        await self.ports.store.delete(Team, current.github_team_id)
        note = f"; {len(unassigned)} project(s) unassigned" if unassigned else ""
        return Deleted("team", current.github_team_name, f"Deleted team {current.github_team_name}{note}")


async def unassign_projects_of(ports: Ports, team_ids: Collection[str]) -> list[str]:
    """Unassign every project assigned to one of ``team_ids``; returns their ids."""
    if not team_ids:
        return []
    if len(team_ids) == 1:
        projects = await ports.store.query(Project, [("github_team_id", next(iter(team_ids)))])
    else:
        projects = await ports.store.query(Project)
    done: list[str] = []
    for project in projects:
        if project.github_team_id not in team_ids:
            continue

        def change(p: Project) -> Project | None:
            return dataclasses.replace(p, github_team_id="") if p.github_team_id in team_ids else None

        try:  # the record just read is usually current: one write, no re-read
            await update_with_retry(ports.store, Project, project.project_id, change, current=project)
        except NotFound:
            continue
        done.append(project.project_id)
    return done
