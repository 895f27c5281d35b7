"""Lookups and the retry loop shared by the use-cases."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.errors import Conflict, NotFound, PermissionDenied
from core.models import M, Team, User
from ports.storage import Store

RETRIES = 8


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


async def update_with_retry(
    store: Store,
    model: type[M],
    key: str,
    change: Callable[[M], M | None] | Callable[[M], Awaitable[M | None]],
    attempts: int = RETRIES,
    current: M | None = None,
) -> M:
    """Read the record, apply ``change`` (returns the new record, or None for "no change")
    and compare-and-set it; on ``Conflict`` re-read and re-apply, at most ``attempts`` times.

    ``current``, a copy of the record just read (e.g. by a query), saves the first read: the
    first attempt applies ``change`` to it, and a stale or deleted copy costs one ``Conflict``
    (when ``change`` finds nothing to do, ``current`` is returned as read).
    ``change`` must be a pure function of the record it is given (it may run several times).
    Raises ``NotFound`` when the record is missing, ``Conflict`` after too many lost races.
    """
    for _ in range(attempts):
        if current is None:
            current = await store.retrieve(model, key)
        updated = change(current)
        if isinstance(updated, Awaitable):
            updated = await updated
        if updated is None:
            return current
        try:
            return await store.store(updated)
        except Conflict:
            current = None
    raise Conflict(f"{model.__name__} {key} is being changed by others; try again")
