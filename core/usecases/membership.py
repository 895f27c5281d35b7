"""One truth with GitHub for team memberships: store what GitHub answers, re-read in the CAS loop.

Every Rocket change of one person's membership of a team (``team add``, ``team remove``,
``user delete``, the default team of ``user edit --github``) first writes to GitHub, then
calls ``store_from_github``: inside the compare-and-set retry loop it re-reads GitHub's
membership of that login (``GitHub.is_team_member``) *after* reading the team record, and
stores exactly that. Why this and not a lease: a storage lease left behind by a crash (or a
release that failed while the database was down) blocks every change of the team until its
TTL; the re-read needs no lock. Why it converges: a compare-and-set succeeds only if no
other write happened since its record read, and its GitHub read came after that record
read. Any GitHub write W later than that GitHub read belongs to a command that reads the
record after W and so cannot have written in between; its own write comes later, with a
GitHub read later than W. So the last stored value was read from GitHub after the last
GitHub write: the directory ends equal to GitHub (tests/e2e/test_offboarding.py, 50 rounds).
For that, the record is written (its version bumped) even when its content is unchanged.
"""

from __future__ import annotations

import dataclasses

from core.context import Ports
from core.errors import NotFound
from core.models import Team
from core.usecases.common import update_with_retry


async def store_from_github(
    ports: Ports, team_id: str, github_id: str, login: str
) -> tuple[Team | None, bool]:
    """Store in team ``team_id`` whether ``github_id`` (login ``login``) is a member, as GitHub
    says at the moment of the write. Returns (the team when its record changed, else None;
    whether GitHub has them). A team missing from the directory changes nothing."""
    member = False
    changed = False

    async def apply(team: Team) -> Team | None:
        nonlocal member, changed
        try:
            member = await ports.github.is_team_member(team_id, login)
        except NotFound:
            member = False
        updated = team.with_member(github_id) if member else team.without_member(github_id)
        changed = updated is not None
        # Written even when unchanged: the version bump makes a concurrent writer's stale
        # compare-and-set fail and re-read GitHub (a skipped write would let it through).
        return updated if updated is not None else dataclasses.replace(team)

    try:
        after = await update_with_retry(ports.store, Team, team_id, apply)
    except NotFound:
        return None, member
    return (after if changed else None), member
