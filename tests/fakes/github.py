"""A stateful in-memory GitHub organization implementing ports.github.GitHub.

It keeps which logins exist, org members, teams and team memberships, counts every call
(``calls``), and can be told to fail an operation (``fail_on``) to test GitHub-first order.
"""

from __future__ import annotations

from collections import Counter

from core.errors import Conflict, NotFound, UpstreamError
from ports.github import GitHubTeam, GitHubUser, Invitation


class FakeGitHub:
    def __init__(self) -> None:
        self.users: dict[str, str] = {}  # login -> GitHub user id (logins that exist)
        self.org_members: set[str] = set()  # logins
        self.teams: dict[str, GitHubTeam] = {}  # team id -> team
        self.team_members: dict[str, set[str]] = {}  # team id -> logins
        self.calls: Counter[str] = Counter()
        self.fail_on: dict[str, Exception] = {}  # operation name -> error to raise
        # operation name -> (n, error): only its n-th call (counted in ``calls``) fails
        self.fail_nth: dict[str, tuple[int, Exception]] = {}
        self.invited: set[str] = set()  # logins with a pending organization invitation
        self.invited_at: dict[str, str] = {}  # login -> ISO time of the invitation
        self.expired: list[Invitation] = []  # failed (expired) invitations
        self._next_team_id = 1000

    # --- test set-up helpers -------------------------------------------------------
    def add_user(self, login: str, user_id: str | None = None) -> str:
        self.users[login] = user_id or str(len(self.users) + 1)
        return self.users[login]

    def add_team(self, slug: str, name: str = "", members: list[str] = (), team_id: str = "") -> GitHubTeam:
        if not team_id:
            self._next_team_id += 1
            team_id = str(self._next_team_id)
        team = GitHubTeam(team_id, slug, name or slug)
        self.teams[team_id] = team
        self.team_members[team_id] = set(members)
        for login in members:
            self.users.setdefault(login, str(len(self.users) + 1))
        return team

    def members_of(self, slug: str) -> set[str]:
        return self.team_members[self._by_slug(slug).id]

    # --- the port ----------------------------------------------------------------------
    def _enter(self, op: str) -> None:
        self.calls[op] += 1
        if op in self.fail_on:
            raise self.fail_on[op]
        nth = self.fail_nth.get(op)
        if nth is not None and nth[0] == self.calls[op]:
            raise nth[1]

    def _by_slug(self, slug: str) -> GitHubTeam:
        for team in self.teams.values():
            if team.slug == slug:
                return team
        raise NotFound(f"GitHub has no team {slug!r}")

    def _team(self, team_id: str) -> GitHubTeam:
        if team_id not in self.teams:
            raise NotFound(f"GitHub has no team with id {team_id}")
        return self.teams[team_id]

    async def ensure_configured(self) -> None:
        """Not a request to GitHub, so not counted in ``calls``."""
        if "ensure_configured" in self.fail_on:
            raise self.fail_on["ensure_configured"]

    async def invite_to_org(self, login: str) -> str:
        self._enter("invite_to_org")
        if login not in self.users:
            raise NotFound(f"GitHub has no user {login!r}")
        self.org_members.add(login)
        return self.users[login]

    async def team_by_slug(self, slug: str) -> GitHubTeam:
        self._enter("team_by_slug")
        return self._by_slug(slug)

    async def list_teams(self) -> list[GitHubTeam]:
        self._enter("list_teams")
        return list(self.teams.values())

    async def list_team_members(self, team_id: str) -> list[GitHubUser]:
        self._enter("list_team_members")
        self._team(team_id)
        return [GitHubUser(self.users[login], login) for login in sorted(self.team_members[team_id])]

    async def create_team(self, slug: str, name: str = "") -> GitHubTeam:
        self._enter("create_team")
        if any(t.slug == slug for t in self.teams.values()):
            raise Conflict(f"GitHub already has a team {slug!r}")
        return self.add_team(slug, name)

    async def delete_team(self, team_id: str) -> None:
        self._enter("delete_team")
        self.teams.pop(team_id, None)
        self.team_members.pop(team_id, None)

    async def add_team_member(self, team_id: str, login: str) -> None:
        self._enter("add_team_member")
        self._team(team_id)
        if login not in self.users:
            raise NotFound(f"GitHub has no user {login!r}")
        self.team_members[team_id].add(login)
        self.org_members.add(login)

    async def remove_team_member(self, team_id: str, login: str) -> None:
        self._enter("remove_team_member")
        self._team(team_id)
        self.team_members[team_id].discard(login)

    async def is_team_member(self, team_id: str, login: str) -> bool:
        self._enter("is_team_member")
        return login in self.team_members.get(team_id, set())

    async def pending_invitation(self, login: str) -> Invitation | None:
        self._enter("pending_invitation")
        if login not in self.invited:
            return None
        return Invitation(str(900 + len(login)), login, self.invited_at.get(login, "2026-01-01T00:00:00Z"))

    async def expired_invitations(self) -> list[Invitation]:
        self._enter("expired_invitations")
        return list(self.expired)

    async def remove_from_org(self, login: str) -> str:
        self._enter("remove_from_org")
        if login in self.invited:
            self.invited.discard(login)
            return "cancelled"
        if login not in self.org_members:
            return "absent"
        self.org_members.discard(login)
        for members in self.team_members.values():
            members.discard(login)
        return "removed"


def refused(detail: str = "server error") -> UpstreamError:
    """The error a real adapter raises when GitHub refuses an operation."""
    return UpstreamError("GitHub", detail)
