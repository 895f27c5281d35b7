"""Organization invitations, tracked where they live: on GitHub.

Rocket stores no invitation state of its own (so it cannot drift): an invitation is
pending from ``invite_to_org`` (``OrgMembership.state == "pending"``) until GitHub says the
person is a member (the ``organization`` ``member_added`` webhook, or any later look-up)
or that it failed. ``user view`` asks GitHub for a pending invitation and shows its age;
the refresh lists the invitations GitHub expired (after 7 days) among registered users.
Both are best effort: when GitHub does not answer, the view or refresh goes on without.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from core.context import Ports
from core.errors import RocketError
from core.models import User

EXPIRY_DAYS = 7


def _age_days(created_at: str, now: float) -> int | None:
    try:
        when = datetime.fromisoformat(created_at.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None
    return max(int((now - when) // 86400), 0)


def describe(created_at: str, now: float) -> str:
    """``"pending since 2026-11-28 (3 days)"``, and a word when GitHub's 7 days are up."""
    days = _age_days(created_at, now)
    if days is None:
        return "pending"
    age = "today" if days == 0 else f"{days} day{'s' if days != 1 else ''}"
    note = f"pending since {created_at[:10]} ({age})"
    if days >= EXPIRY_DAYS:
        note += f"; GitHub expires invitations after {EXPIRY_DAYS} days"
    return note


async def invitation_note(ports: Ports, user: User) -> str:
    """"" unless ``user``'s GitHub login has a pending organization invitation."""
    if not user.github:
        return ""
    try:
        await ports.github.ensure_configured()
        invitation = await ports.github.pending_invitation(user.github)
    except RocketError:
        return ""
    if invitation is None:
        return ""
    return describe(invitation.created_at, ports.clock.now())


async def expired_among(ports: Ports, users: Iterable[User]) -> tuple[list[str], list[str]]:
    """(``"SLACK_ID (login)"`` for each registered user whose invitation GitHub expired,
    warnings). Sorted; a GitHub failure is a warning, not an error."""
    by_login = {u.github.casefold(): u for u in users if u.github}
    try:
        failed = await ports.github.expired_invitations()
    except RocketError as exc:
        return [], [f"Expired GitHub invitations were not checked: {exc}"]
    found = {f"{by_login[i.login.casefold()].slack_id} ({i.login})" for i in failed
             if i.login.casefold() in by_login}
    return sorted(found), []
