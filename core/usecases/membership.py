"""One truth with GitHub for team memberships: the per-team lease.

Every Rocket change of a team's membership (``team add``, ``team remove``, ``team lead``,
``user delete``, the default team of ``user edit --github``) runs its GitHub write and
the directory write *inside* the storage lease ``team-membership:{team id}``. Why a lease
and not "re-read GitHub after the write": a re-read outside a lock can still be stored out
of order (A adds and reads "member", B removes and reads "not a member", B stores, then A
stores "member" while GitHub says otherwise). With the lease, the GitHub write and the store
of what GitHub answered happen as one step per team, so the last GitHub write is always the
last directory write. The lease lives in the configured database (``Store.acquire_lease``),
so it also holds across worker processes; its TTL bounds the wait after a crashed holder.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from core.context import Ports
from core.errors import Conflict

LEASE_TTL = 30.0
WAIT_SECONDS = 20.0


def lease_name(team_id: str) -> str:
    return f"team-membership:{team_id}"


@asynccontextmanager
async def team_lease(ports: Ports, team_id: str, wait: float = WAIT_SECONDS) -> AsyncIterator[None]:
    """Hold the team's membership lease for the body; waits (polling) up to ``wait`` seconds
    for another holder, then raises ``Conflict`` (nothing done) asking to try again."""
    owner = ports.ids.new_id()
    name = lease_name(team_id)
    delay, waited = 0.002, 0.0
    while not await ports.store.acquire_lease(name, owner, LEASE_TTL, ports.clock.now()):
        if waited >= wait:
            raise Conflict("Another change to this team's members is in progress; try again in a moment")
        await asyncio.sleep(delay)
        waited += delay
        delay = min(delay * 2, 0.05)
    try:
        yield
    finally:
        await ports.store.release_lease(name, owner)
