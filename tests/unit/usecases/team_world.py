"""A small directory for the team and project use-case tests, and a snapshot to prove
"a refused command changes nothing" (storage, FakeGitHub and FakeDrive state).

People (Slack id -> role):
- UADMIN: admin, in no team;  ULEAD: team_lead, leads and is in ``alpha``;
- UOTHER: team_lead, leads ``beta``;  UMEM: member of ``alpha``;
- UNEW: registered with GitHub, in no team;  UNOGH: registered without GitHub.
``alpha`` has the Drive folder ``F-alpha`` (already shared with its members' emails).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.context import Settings
from core.models import Team, User
from core.permissions import Permissions
from tests.fakes.ports import FakeWorld, fake_world

SETTINGS = Settings(default_team="all", admin_team="admins", leads_team="leads")

PEOPLE = {
    "UADMIN": ("admin-gh", Permissions.admin),
    "ULEAD": ("lead-gh", Permissions.team_lead),
    "UOTHER": ("other-gh", Permissions.team_lead),
    "UMEM": ("mem-gh", Permissions.member),
    "UNEW": ("new-gh", Permissions.member),
}


@dataclass
class Directory:
    world: FakeWorld
    settings: Settings
    gid: dict[str, str]  # slack id -> GitHub user id
    alpha: Team
    beta: Team
    actor: str = ""  # who runs the command, for tables of commands

    @property
    def ports(self):
        return self.world.ports


async def make_directory(world: FakeWorld | None = None) -> Directory:
    world = world or fake_world()
    gh = world.github
    gid: dict[str, str] = {}
    for slack_id, (login, level) in PEOPLE.items():
        gid[slack_id] = gh.add_user(login, str(500 + len(gid)))
        await world.store.store(
            User(
                slack_id,
                name=slack_id.title(),
                email=f"{login}@example.org",
                github=login,
                github_user_id=gid[slack_id],
                permission_level=level,
            )
        )
    await world.store.store(User("UNOGH", name="No Github", email="nogh@example.org"))
    gh_alpha = gh.add_team("alpha", "Alpha", members=["lead-gh", "mem-gh"])
    gh_beta = gh.add_team("beta", "Beta", members=["other-gh"])
    alpha = await world.store.store(
        Team(
            gh_alpha.id,
            "alpha",
            "Alpha",
            "web",
            team_leads={gid["ULEAD"]},
            members={gid["ULEAD"], gid["UMEM"]},
            folder="F-alpha",
        )
    )
    beta = await world.store.store(
        Team(gh_beta.id, "beta", "Beta", "ios", team_leads={gid["UOTHER"]}, members={gid["UOTHER"]})
    )
    world.drive.shared["F-alpha"] = {"lead-gh@example.org", "mem-gh@example.org"}
    gh.calls.clear()
    world.drive.syncs = 0
    return Directory(world, SETTINGS, gid, alpha, beta)
