"""ViewAudit: read the audit log (``/rocket audit``).

Contract:

- Admins see every entry (filtered by ``--user`` / ``--team`` when given).
- A team lead sees only the entries about the teams they lead: with ``--team`` a team they
  lead (another team is refused); without, the entries of every team they lead, merged newest
  first. ``--user`` then narrows to entries about that user too. Anyone else is refused.
- ``limit`` is 1..50 (one Slack message), default 20; the result's ``more`` is the cursor of
  the next page when there may be more, which ``before`` takes.
- Reads only: one index query per team led (one in total for admins); never a full scan.
"""

from __future__ import annotations

import heapq

from core import commands as c
from core.audit import AuditEntry, decode_cursor, encode_cursor
from core.context import Ports, Settings
from core.errors import IntegrationUnavailable, InvalidInput, NotFound
from core.models import Team
from core.permissions import is_admin, leads
from core.results import AuditPage
from core.usecases.common import find_user, require, team_by_slug
from core.usecases.registry import handles

MAX_PAGE = 50  # entries per reply: one block each at most, within Slack's 50 blocks


@handles(c.ViewAudit)
class ViewAuditHandler:
    def __init__(self, ports: Ports, settings: Settings) -> None:
        self.ports = ports
        self.settings = settings

    async def __call__(self, cmd: c.ViewAudit) -> AuditPage:
        audit = self.ports.audit
        if audit is None:
            raise IntegrationUnavailable("The audit log is not configured")
        limit = cmd.limit
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE:
            raise InvalidInput(f"--limit must be a whole number from 1 to {MAX_PAGE}")
        before = decode_cursor(cmd.before) if cmd.before else None
        user = cmd.user or None
        actor = await find_user(self.ports.store, cmd.actor)
        if is_admin(actor):
            slug = None
            if cmd.team:
                slug = await _slug(self.ports, cmd.team)
            entries = await audit.query(user=user, team=slug, limit=limit + 1, before=before)
            scope = "every entry"
        else:
            teams = [t for t in await self.ports.store.query(Team) if leads(actor, t)]
            require(bool(teams), "Only admins and team leads can read the audit log")
            slugs = sorted(t.github_team_name for t in teams)
            if cmd.team:
                slug = await _slug(self.ports, cmd.team)
                require(slug in slugs, f"You can read the audit entries of the teams you lead, not {slug}")
                slugs = [slug]
            pages = [await audit.query(user=user, team=s, limit=limit + 1, before=before) for s in slugs]
            entries = _merged(pages, limit + 1)
            scope = "teams " + ", ".join(slugs)
        more = encode_cursor(entries[limit - 1].cursor) if len(entries) > limit else ""
        return AuditPage(entries[:limit], more, scope)


async def _slug(ports: Ports, team: str) -> str:
    try:
        return (await team_by_slug(ports.store, team)).github_team_name
    except NotFound:
        return team  # a deleted team still has its entries


def _merged(pages: list[list[AuditEntry]], limit: int) -> list[AuditEntry]:
    """Newest first over several newest-first pages, each entry once, at most ``limit``."""
    seen: set[str] = set()
    out: list[AuditEntry] = []
    for entry in heapq.merge(*pages, key=lambda e: e.cursor, reverse=True):
        if entry.id not in seen:
            seen.add(entry.id)
            out.append(entry)
            if len(out) == limit:
                break
    return out
