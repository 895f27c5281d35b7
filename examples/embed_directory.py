"""Embedding Rocket's core in another program: no Slack, no web server, no database server.

The core only needs ``core.context.Ports``. Here storage is ``adapters.memory.MemoryStore``,
GitHub is a small in-memory organization defined below (the core asks GitHub first, so
something must answer), and Slack and Google Drive are ``adapters.unavailable.Unavailable``
because nothing here uses them. Every change is a command of ``core.commands`` handed to the
bus ``core.wiring.build_bus`` builds, with the same permission checks the ``/rocket`` command
applies; the first admin is made with ``entrypoints.bootstrap.make_admin``, as ``rocket
admin`` does.

Run it with Rocket installed (``make run`` or ``pip install -e .`` does that):
    .venv/bin/python examples/embed_directory.py
"""

from __future__ import annotations

import asyncio

from adapters.memory import MemoryStore
from adapters.unavailable import Unavailable
from core.bus import MessageBus
from core.commands import AddTeamMember, CreateTeam, EditUser, ListTeams, ViewTeam
from core.context import Ports, Settings
from core.errors import Conflict, NotFound
from core.wiring import build_bus
from entrypoints.bootstrap import make_admin
from ports.github import GitHubTeam, GitHubUser


class InMemoryOrg:
    """A GitHub organization in a dict: implements ``ports.github.GitHub``."""

    def __init__(self) -> None:
        self.users: dict[str, str] = {}  # login -> GitHub id
        self.teams: dict[str, GitHubTeam] = {}  # id -> team
        self.members: dict[str, set[str]] = {}  # team id -> logins

    async def ensure_configured(self) -> None:
        return None

    async def invite_to_org(self, login: str) -> str:
        return self.users.setdefault(login, str(1000 + len(self.users)))

    async def team_by_slug(self, slug: str) -> GitHubTeam:
        for team in self.teams.values():
            if team.slug == slug:
                return team
        raise NotFound(f"No GitHub team {slug!r}")

    async def list_teams(self) -> list[GitHubTeam]:
        return list(self.teams.values())

    async def list_team_members(self, team_id: str) -> list[GitHubUser]:
        return [GitHubUser(self.users[login], login) for login in sorted(self.members.get(team_id, ()))]

    async def create_team(self, slug: str, name: str = "") -> GitHubTeam:
        if any(t.slug == slug for t in self.teams.values()):
            raise Conflict(f"GitHub team {slug!r} exists")
        team = GitHubTeam(str(500 + len(self.teams)), slug, name or slug)
        self.teams[team.id], self.members[team.id] = team, set()
        return team

    async def delete_team(self, team_id: str) -> None:
        self.teams.pop(team_id, None)
        self.members.pop(team_id, None)

    async def add_team_member(self, team_id: str, login: str) -> None:
        self.members[team_id].add(login)

    async def remove_team_member(self, team_id: str, login: str) -> None:
        self.members[team_id].discard(login)

    async def is_team_member(self, team_id: str, login: str) -> bool:
        return login in self.members.get(team_id, set())

    async def pending_invitation(self, login: str) -> None:
        return None

    async def expired_invitations(self) -> list:
        return []

    async def remove_from_org(self, login: str) -> str:
        for members in self.members.values():
            members.discard(login)
        return "removed"


PEOPLE = [  # slack id, name, GitHub login
    ("U0ADA", "Ada Lovelace", "ada"),
    ("U0GRACE", "Grace Hopper", "grace"),
    ("U0ALAN", "Alan Turing", "alan"),
    ("U0KATH", "Katherine Johnson", "kath"),
]


async def build_directory(bus: MessageBus) -> None:
    admin = PEOPLE[0][0]
    await make_admin(bus, admin)
    for slack_id, name, login in PEOPLE:
        await bus.handle(EditUser(slack_id, name=name, github=login))  # registers and links GitHub
    await bus.handle(CreateTeam(admin, "compilers", name="Compilers", platform="backend"))
    await bus.handle(AddTeamMember(admin, "compilers", "U0GRACE"))
    await bus.handle(CreateTeam(admin, "orbits", name="Orbital Mechanics", lead="U0KATH"))
    await bus.handle(AddTeamMember(admin, "orbits", "U0ALAN"))


async def print_directory(bus: MessageBus, actor: str) -> None:
    """Teams (sorted by slug) and their members; leads are marked."""
    for team in (await bus.handle(ListTeams(actor))).teams:
        view = await bus.handle(ViewTeam(actor, team.github_team_name))
        leads = {u.slack_id for u in view.leads}
        print(f"{team.display_name or team.github_team_name} ({team.github_team_name})")
        for user in sorted(view.members, key=lambda u: u.name):
            lead = " (lead)" if user.slack_id in leads else ""
            print(f"  - {user.name} <{user.slack_id}> github:{user.github}{lead}")


async def main() -> None:
    store = MemoryStore()
    ports = Ports(store=store, github=InMemoryOrg(),
                  chat=Unavailable("Slack"), drive=Unavailable("Google Drive"))
    bus = build_bus(ports, Settings(default_team="all"))
    await build_directory(bus)
    await print_directory(bus, PEOPLE[0][0])


if __name__ == "__main__":
    asyncio.run(main())
