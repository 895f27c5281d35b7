"""Lookups, the compare-and-set retry loop and the result builders shared by the handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection

from core.context import Settings
from core.errors import Conflict, NotFound, PermissionDenied
from core.models import M, Project, Team, User
from core.permissions import can_manage_team, is_admin, is_special_team
from core.records import replace as replace_record
from core.results import TeamResult
from ports.storage import Store

RETRIES = 8
# query_or clauses per storage call: keeps filter expressions small on every backend.
QUERY_CHUNK = 50

Change = Callable[[M], M | None] | Callable[[M], Awaitable[M | None]]


def require(allowed: bool, why: str) -> None:
    """Raise ``PermissionDenied(why)`` unless ``allowed``."""
    if not allowed:
        raise PermissionDenied(why)


async def find_user(store: Store, slack_id: str) -> User | None:
    try:
        return await store.retrieve(User, slack_id)
    except NotFound:
        return None


async def registered_user(store: Store, slack_id: str) -> User:
    """The user, or ``NotFound`` saying how to register."""
    user = await find_user(store, slack_id)
    if user is None:
        raise NotFound(f"{slack_id} is not registered yet (they can run `/rocket user add`)")
    return user


async def team_by_slug(store: Store, slug: str) -> Team:
    """The stored team whose ``github_team_name`` is ``slug``; ``NotFound`` otherwise."""
    teams = await store.query(Team, [("github_team_name", slug)])
    if not teams:
        raise NotFound(f"No team {slug!r} (see `/rocket team list`)")
    return teams[0]


async def upsert_with_retry(
    store: Store,
    model: type[M],
    key: str,
    change: Change[M],
    attempts: int = RETRIES,
    current: M | None = None,
    create: M | None = None,
) -> tuple[M, bool]:
    """Read the record, apply ``change`` (returns the new record, or None for "no change")
    and compare-and-set it; on ``Conflict`` re-read and re-apply, at most ``attempts`` times.
    Returns the record as stored and whether it was created.

    ``current``, a copy of the record just read (e.g. by a query), saves the first read: the
    first attempt applies ``change`` to it, and a stale or deleted copy costs one ``Conflict``
    (when ``change`` finds nothing to do, ``current`` is returned as read).
    ``create``: when the record is missing, ``change(create)`` (or ``create`` itself when that
    is None) is stored as a new record; a creation that loses a race becomes an update.
    ``change`` must be a pure function of the record it is given (it may run several times).
    Raises ``NotFound`` when the record is missing (and no ``create``), ``Conflict`` after too
    many lost races.
    """
    for _ in range(attempts):
        creating = False
        if current is None:
            try:
                current = await store.retrieve(model, key)
            except NotFound:
                if create is None:
                    raise
                current, creating = create, True
        updated = change(current)
        if isinstance(updated, Awaitable):
            updated = await updated
        if updated is None:
            if not creating:
                return current, False
            updated = current
        try:
            return await store.store(updated), creating
        except Conflict:
            current = None
    raise Conflict(f"{model.__name__} {key} is being changed by others; try again")


async def update_with_retry(
    store: Store,
    model: type[M],
    key: str,
    change: Change[M],
    attempts: int = RETRIES,
    current: M | None = None,
    create: M | None = None,
) -> M:
    """``upsert_with_retry`` without the "created" flag: the record as stored."""
    record, _ = await upsert_with_retry(store, model, key, change, attempts, current, create)
    return record


async def changed_team(store: Store, team_id: str, change: Callable[[Team], Team | None]) -> Team | None:
    """Apply ``change`` to team ``team_id`` with retry; the updated team, or None when nothing
    changed (``change`` returned None) or the team is gone."""
    changed = False

    def tracked(t: Team) -> Team | None:
        nonlocal changed
        updated = change(t)
        changed = updated is not None
        return updated

    try:
        after = await update_with_retry(store, Team, team_id, tracked)
    except NotFound:
        return None
    return after if changed else None


def replaced(record: M, changes: dict[str, object]) -> M | None:
    """``record`` with ``changes`` applied, or None when it already has those values."""
    current = record.__dict__
    if all(current[k] == v for k, v in changes.items()):
        return None
    return replace_record(record, **changes)


async def users_by_github_ids(store: Store, github_ids: Collection[str]) -> list[User]:
    """Registered users whose ``github_user_id`` is in ``github_ids``, sorted by Slack id."""
    ids = sorted({i for i in github_ids if i})
    found: dict[str, User] = {}
    for start in range(0, len(ids), QUERY_CHUNK):
        params = [("github_user_id", i) for i in ids[start : start + QUERY_CHUNK]]
        for user in await store.query_or(User, params):
            found[user.slack_id] = user
    return sorted(found.values(), key=lambda u: u.slack_id)


async def team_result(store: Store, team: Team, message: str = "", warnings: list[str] | None = None,
                      members: list[User] | None = None) -> TeamResult:
    """A ``TeamResult`` with the team's registered members, leads and projects filled in."""
    if members is None:
        members = await users_by_github_ids(store, team.members | team.team_leads)
    projects = await store.query(Project, [("github_team_id", team.github_team_id)])
    return TeamResult(
        team=team,
        members=[u for u in members if u.github_user_id in team.members],
        leads=[u for u in members if u.github_user_id in team.team_leads],
        projects=sorted(projects, key=lambda p: p.project_id),
        message=message,
        warnings=list(warnings or []),
    )


async def managed_team(store: Store, actor: str, slug: str, doing: str,
                       settings: Settings | None = None) -> Team:
    """The team ``slug``, after checking that ``actor`` may manage it (``doing`` names the act).

    With ``settings``, the admin and leads teams (``settings.admin_team`` / ``leads_team``)
    are managed by admins only.
    """
    team = await team_by_slug(store, slug)
    actor_user = await find_user(store, actor)
    require_manage(actor_user, team, doing, settings)
    return team


def require_manage(actor_user: User | None, team: Team, doing: str, settings: Settings | None) -> None:
    """``PermissionDenied`` unless ``actor_user`` may manage ``team`` (see ``can_manage_team``)."""
    admin_team = settings.admin_team if settings else ""
    leads_team = settings.leads_team if settings else ""
    slug = team.github_team_name
    if not is_admin(actor_user) and is_special_team(slug, admin_team, leads_team):
        require(False, f"Only admins can {doing}: {slug} grants rank")
    require(can_manage_team(actor_user, team, admin_team, leads_team),
            f"Only admins and leads of {slug} can {doing}")


async def unassign_projects_of(store: Store, team_ids: Collection[str]) -> list[str]:
    """Unassign every project assigned to one of ``team_ids``; returns their ids."""
    if not team_ids:
        return []
    if len(team_ids) == 1:
        projects = await store.query(Project, [("github_team_id", next(iter(team_ids)))])
    else:
        projects = await store.query(Project)
    done: list[str] = []
    for project in projects:
        if project.github_team_id not in team_ids:
            continue

        def change(p: Project) -> Project | None:
            return replace_record(p, github_team_id="") if p.github_team_id in team_ids else None

        try:  # the record just read is usually current: one write, no re-read
            await update_with_retry(store, Project, project.project_id, change, current=project)
        except NotFound:
            continue
        done.append(project.project_id)
    return done
