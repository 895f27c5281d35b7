"""Regression tests for issue 11's permission findings 3 and 4, as an attacker would try them
(the whole matrix is in test_permission_matrix.py)."""

from __future__ import annotations

import pytest

from core import commands as c
from core.errors import PermissionDenied
from core.models import Team, User
from tests.fakes.observe import snapshot
from tests.unit.usecases.test_permission_matrix import matrix_directory


@pytest.mark.parametrize("slug", ["leads", "LEADS"])
@pytest.mark.parametrize("how", ["--lead", "--channel", "plain"])
async def test_finding3_a_lead_cannot_mint_admins_by_creating_the_rank_teams(slug: str, how: str) -> None:
    """A lead creates GITHUB_LEADS_TEAM_NAME (missing so far) with --lead / --channel: refused,
    nothing on GitHub, nobody promoted."""
    d = await matrix_directory()
    admins = await d.world.store.query(Team, [("github_team_name", "admins")])
    await d.world.store.delete(Team, admins[0].key)
    d.world.chat.add_channel("C1", "general", members=["UMEM", "UNEW"])
    bus = d.world.bus(d.settings)
    before = await snapshot(d.world)
    for team in (slug, "admins", "Admins"):
        cmd = c.CreateTeam("ULEAD", team, lead="UMEM" if how == "--lead" else None,
                           channel="C1" if how == "--channel" else None)
        with pytest.raises(PermissionDenied, match="Only admins"):
            await bus.handle(cmd)
    assert await snapshot(d.world) == before
    assert (await d.world.store.retrieve(User, "UMEM")).permission_level == "member"
    await bus.handle(c.CreateTeam("UADMIN", slug, lead="UMEM"))  # an admin may


async def test_finding4_a_lead_cannot_rewrite_the_email_of_another_teams_member() -> None:
    d = await matrix_directory()
    bus = d.world.bus(d.settings)
    before = await snapshot(d.world)
    # UMEM is in alpha, not in beta (which UOTHER leads): neither email nor any other field.
    for kwargs in ({"email": "attacker@evil.test"}, {"name": "pwned"}):
        with pytest.raises(PermissionDenied):
            await bus.handle(c.EditUser("UOTHER", target="UMEM", **kwargs))
    # Not even the lead of UMEM's own team changes their email or GitHub link.
    with pytest.raises(PermissionDenied, match="email"):
        await bus.handle(c.EditUser("ULEAD", target="UMEM", email="attacker@evil.test"))
    with pytest.raises(PermissionDenied, match="GitHub"):
        await bus.handle(c.EditUser("ULEAD", target="UMEM", github="fresh-gh"))
    assert await snapshot(d.world) == before
    assert (await d.world.store.retrieve(User, "UMEM")).email == "mem-gh@example.org"


async def test_finding4_a_lead_cannot_edit_an_admins_profile_even_in_their_team() -> None:
    d = await matrix_directory()
    alpha = await d.world.store.retrieve(Team, d.alpha.github_team_id)
    await d.world.store.store(Team(alpha.github_team_id, alpha.github_team_name, alpha.display_name,
                                   alpha.platform, alpha.team_leads, alpha.members | {d.gid["UADMIN"]},
                                   alpha.folder, alpha.version))
    bus = d.world.bus(d.settings)
    before = await snapshot(d.world)
    with pytest.raises(PermissionDenied, match="admin"):
        await bus.handle(c.EditUser("ULEAD", target="UADMIN", name="Mallory", bio="I was here"))
    assert await snapshot(d.world) == before
    await bus.handle(c.EditUser("ULEAD", target="UMEM", bio="ok"))  # a plain member of alpha: allowed
    assert (await d.world.store.retrieve(User, "UMEM")).bio == "ok"
