"""Project use-cases: list, view, create, edit, assign, unassign, delete.

Contract (see /rocket project …):

- ``project_id`` comes from ``ports.ids.new_id()``. ``repo`` is a URL or ``owner/repo``
  (``github.com/owner/repo``, a trailing ``.git`` or ``/`` are accepted) and is stored as
  ``https://github.com/owner/repo``; anything else is ``InvalidInput``.
- Anyone lists and views. Create needs lead of the team or admin; assign needs manage rights
  on the target team (``can_manage_team``) and ``force`` when another team has the project
  (``Conflict`` otherwise), and taking it from that team needs manage rights on it too;
  edit, unassign and delete need lead of the assigned team or
  admin (an unassigned project: admins only); deleting an assigned project needs ``force``.
- Projects live only in the directory (no GitHub call). A refused command changes nothing.
"""

from __future__ import annotations

import dataclasses

from core import commands as c
from core.context import Ports, Settings
from core.errors import Conflict, InvalidInput, NotFound
from core.events import FieldChange, ProjectAssigned, ProjectChanged, ProjectCreated, ProjectDeleted, record
from core.limits import check_fields
from core.models import Project, Team, User
from core.permissions import can_manage_team, is_admin
from core.results import Deleted, ProjectList, ProjectResult
from core.usecases.common import find_user, require, team_by_slug, update_with_retry
from core.usecases.registry import handles
from core.validation import normalize_repo

__all__ = ["SHORT_ID", "normalize_repo", "short_ids"]
SHORT_ID = 6  # a short project id has at least this many characters


def short_ids(ids: list[str]) -> dict[str, str]:
    """Each id's shortest prefix (at least ``SHORT_ID`` characters) that no other id starts with."""
    ordered = sorted({i.lower(): i for i in ids}.items())
    out: dict[str, str] = {}
    for n, (low, original) in enumerate(ordered):
        common = 0
        for _, (other, _) in ((m, ordered[m]) for m in (n - 1, n + 1) if 0 <= m < len(ordered)):
            k = 0
            while k < min(len(low), len(other)) and low[k] == other[k]:
                k += 1
            common = max(common, k)
        out[original] = original[: max(SHORT_ID, common + 1)]
    return out


class _ProjectUseCase:
    def __init__(self, ports: Ports, settings: Settings) -> None:
        self.ports = ports
        self.settings = settings

    async def _project(self, project_id: str) -> Project:
        """The project with this id, or with this short id: a prefix of at least
        ``SHORT_ID`` characters that only one project's id starts with."""
        try:
            return await self.ports.store.retrieve(Project, project_id)
        except NotFound:
            pass
        wanted = project_id.strip().lower()
        if len(wanted) >= SHORT_ID:
            every = await self.ports.store.query(Project)
            found = [p for p in every if p.project_id.lower().startswith(wanted)]
            if len(found) == 1:
                return found[0]
            if found:
                raise InvalidInput(f"{project_id!r} is the start of {len(found)} project ids; "
                                   "give more of it")
        raise NotFound(f"No project {project_id!r} (see `/rocket project list`)")

    async def _team_of(self, project: Project) -> Team | None:
        if not project.github_team_id:
            return None
        try:
            return await self.ports.store.retrieve(Team, project.github_team_id)
        except NotFound:
            return None

    def _manages(self, actor_user: User | None, team: Team) -> bool:
        return can_manage_team(actor_user, team, self.settings.admin_team, self.settings.leads_team)

    async def _require_owner(self, actor: str, project: Project, doing: str) -> Team | None:
        """Admins, or leads of the team the project is assigned to; returns that team."""
        team = await self._team_of(project)
        actor_user = await find_user(self.ports.store, actor)
        allowed = is_admin(actor_user) or (team is not None and self._manages(actor_user, team))
        if team is not None:
            why = f"Only admins and leads of {team.github_team_name} can {doing}"
        else:
            why = f"Only admins can {doing} (it is not assigned to a team)"
        require(allowed, why)
        return team


@handles(c.ListProjects)
class ListProjectsHandler(_ProjectUseCase):
    """Every project, sorted by id. Anyone may list."""

    async def __call__(self, cmd: c.ListProjects) -> ProjectList:
        projects = await self.ports.store.query(Project)
        return ProjectList(sorted(projects, key=lambda p: p.project_id), page=cmd.page)


@handles(c.ViewProject)
class ViewProjectHandler(_ProjectUseCase):
    """One project and the team it is assigned to (if any). Anyone may view."""

    async def __call__(self, cmd: c.ViewProject) -> ProjectResult:
        project = await self._project(cmd.project_id)
        return ProjectResult(project, await self._team_of(project))


@handles(c.CreateProject)
class CreateProjectHandler(_ProjectUseCase):
    """Create a project for ``repo`` assigned to ``team``; admins and leads of that team.

    ``name`` defaults to the repository's name.
    """

    async def __call__(self, cmd: c.CreateProject) -> ProjectResult:
        actor, team, name = cmd.actor, cmd.team, cmd.name
        url = normalize_repo(cmd.repo)
        check_fields(Project, display_name=(name or "").strip())
        target = await team_by_slug(self.ports.store, team)
        actor_user = await find_user(self.ports.store, actor)
        require(self._manages(actor_user, target),
                f"Only admins and leads of {target.github_team_name} can create projects for it")
        project = Project(
            project_id=self.ports.ids.new_id(),
            github_team_id=target.github_team_id,
            github_urls={url},
            display_name=(name or "").strip() or url.rsplit("/", 1)[1],
        )
        stored = await self.ports.store.store(project)
        record(ProjectCreated(stored.project_id, stored.github_team_id, actor))
        return ProjectResult(stored, target, f"Created project {stored.project_id}")


@handles(c.EditProject)
class EditProjectHandler(_ProjectUseCase):
    """Change a project's display name; admins and leads of its team."""

    async def __call__(self, cmd: c.EditProject) -> ProjectResult:
        actor, project_id, name = cmd.actor, cmd.project_id, cmd.name
        project = await self._project(project_id)
        project_id = project.project_id
        team = await self._require_owner(actor, project, "edit this project")
        if name is None:
            return ProjectResult(project, team, "Nothing to change: give --name")
        new_name = name.strip()
        check_fields(Project, display_name=new_name)
        changed = False
        old_name = ""

        def change(p: Project) -> Project | None:
            nonlocal changed, old_name
            changed, old_name = p.display_name != new_name, p.display_name
            return dataclasses.replace(p, display_name=new_name) if changed else None

        updated = await update_with_retry(self.ports.store, Project, project_id, change)
        if changed:
            record(ProjectChanged(project_id, (FieldChange("display_name", old_name, new_name),), actor))
        message = (f"Updated project {project_id}" if changed
                   else f"Nothing changed: project {project_id} is already named {new_name!r}")
        return ProjectResult(updated, team, message)


@handles(c.AssignProject)
class AssignProjectHandler(_ProjectUseCase):
    """Assign a project to ``team`` (admins and that team's leads).

    If another team has it, ``force`` is needed (``Conflict`` otherwise).
    """

    async def __call__(self, cmd: c.AssignProject) -> ProjectResult:
        actor, project_id, team, force = cmd.actor, cmd.project_id, cmd.team, cmd.force
        project = await self._project(project_id)
        project_id = project.project_id
        target = await team_by_slug(self.ports.store, team)
        actor_user = await find_user(self.ports.store, actor)
        require(self._manages(actor_user, target),
                f"Only admins and leads of {target.github_team_name} can assign projects to it")
        tid = target.github_team_id
        if project.github_team_id and project.github_team_id != tid and force:
            # Taking a project from another team needs the right to manage that team too.
            owner = await self._team_of(project)
            if owner is not None:
                require(self._manages(actor_user, owner),
                        f"Only admins and leads of {owner.github_team_name} can take project "
                        f"{project_id} from it")
        previous: str | None = None

        checked_owner = project.github_team_id

        def change(p: Project) -> Project | None:
            nonlocal previous
            previous = p.github_team_id
            if p.github_team_id == tid:
                return None
            if p.github_team_id and p.github_team_id != checked_owner:
                raise Conflict(f"Project {project_id} was reassigned meanwhile; nothing changed")
            if p.github_team_id and not force:
                raise Conflict(f"Project {project_id} is assigned to another team; use -f to reassign it")
            return dataclasses.replace(p, github_team_id=tid)

        change(project)  # refuse before writing anything; re-checked on the fresh record below

        updated = await update_with_retry(self.ports.store, Project, project_id, change)
        if previous is not None and previous != tid:
            record(ProjectAssigned(project_id, tid, previous, actor))
        return ProjectResult(updated, target, f"Assigned project {project_id} to {target.github_team_name}")


@handles(c.UnassignProject)
class UnassignProjectHandler(_ProjectUseCase):
    """Remove a project from its team; admins and leads of that team."""

    async def __call__(self, cmd: c.UnassignProject) -> ProjectResult:
        actor, project_id = cmd.actor, cmd.project_id
        project = await self._project(project_id)
        project_id = project.project_id
        if not project.github_team_id:
            raise InvalidInput(f"Project {project_id} is not assigned to a team")
        await self._require_owner(actor, project, "unassign this project")
        old = project.github_team_id

        def change(p: Project) -> Project | None:
            if p.github_team_id != old:
                raise Conflict(f"Project {project_id} was reassigned meanwhile; nothing changed")
            return dataclasses.replace(p, github_team_id="")

        updated = await update_with_retry(self.ports.store, Project, project_id, change)
        record(ProjectAssigned(project_id, "", old, actor))
        return ProjectResult(updated, None, f"Unassigned project {project_id}")


@handles(c.DeleteProject)
class DeleteProjectHandler(_ProjectUseCase):
    """Delete a project; admins and leads of its team. An assigned project needs ``force``."""

    async def __call__(self, cmd: c.DeleteProject) -> Deleted:
        actor, project_id, force = cmd.actor, cmd.project_id, cmd.force
        project = await self._project(project_id)
        project_id = project.project_id
        await self._require_owner(actor, project, "delete this project")
        if project.github_team_id and not force:
            raise Conflict(f"Project {project_id} is assigned to a team; use -f to delete it anyway")
        await self.ports.store.delete(Project, project_id)
        record(ProjectDeleted(project_id, project.github_team_id, actor))
        return Deleted("project", project_id, f"Deleted project {project_id}")
