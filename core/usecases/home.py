"""``ViewHome``: what the Slack Home tab shows a user, in a bounded number of storage calls.

Reads, whatever the size of the directory or the number of the user's teams:
1. the user (``retrieve``);
2. the teams they are a member of (one ``query`` on ``members``);
3. those teams' projects (one ``query_or`` on ``github_team_id``);
4. for admins every team, for others the teams they lead (one ``query``).
So at most four storage calls. Lists are sorted by slug / name and cut at ``limit``.
"""

from __future__ import annotations

from core import commands as c
from core.context import Ports, Settings
from core.models import Project, Team
from core.permissions import can_manage_team, is_admin
from core.results import HomeView
from core.usecases.common import find_user
from core.usecases.registry import handles

MAX_LIMIT = 50


def _slug(team: Team) -> str:
    return team.github_team_name.lower()


@handles(c.ViewHome)
class ViewHomeHandler:
    """Anyone may view their own Home; a user not in the directory gets an empty one."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._settings = settings

    async def __call__(self, cmd: c.ViewHome) -> HomeView:
        store = self._ports.store
        limit = max(1, min(cmd.limit, MAX_LIMIT))
        user = await find_user(store, cmd.actor)
        if user is None:
            return HomeView(cmd.actor, None)
        teams: list[Team] = []
        projects: list[Project] = []
        if user.github_user_id:
            teams = sorted(await store.query(Team, [("members", user.github_user_id)]), key=_slug)
            if teams:
                wanted = [("github_team_id", t.github_team_id) for t in teams]
                projects = await store.query_or(Project, wanted)
                projects.sort(key=lambda p: (p.display_name.lower(), p.project_id))
        managed: list[Team] = []
        if is_admin(user):
            managed = await store.query(Team)
        elif user.github_user_id:
            managed = await store.query(Team, [("team_leads", user.github_user_id)])
        managed = sorted((t for t in managed if can_manage_team(user, t)), key=_slug)
        return HomeView(
            cmd.actor, user,
            teams=teams[:limit], teams_total=len(teams),
            projects=projects[:limit], projects_total=len(projects),
            managed=managed[:limit], managed_total=len(managed),
        )
