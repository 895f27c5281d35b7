"""The GitHub port: the organization operations the use-cases need.

GitHub is the source of truth for teams. Implementations raise ``core.errors.UpstreamError``
(or ``RateLimited``) when GitHub refuses, ``NotFound`` for a missing login or team, and
``IntegrationUnavailable("GitHub")`` when not configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class GitHubUser:
    id: str
    login: str


class OrgMembership(str):
    """What ``invite_to_org`` returns: the user's GitHub id (the string itself, so callers that
    want only the id use it as before) and ``state``, the organization membership as GitHub
    reports it: ``"pending"`` (invited, not yet accepted) or ``"active"``."""

    state: str

    def __new__(cls, github_id: str, state: str = "active") -> OrgMembership:
        value = super().__new__(cls, github_id)
        value.state = state
        return value


@dataclass(frozen=True)
class Invitation:
    """An organization invitation as GitHub lists it: GitHub's invitation ``id`` (not the
    user's id), the invitee's ``login``, ``created_at`` (ISO 8601, as GitHub writes it) and,
    for a failed one, ``failed_reason`` (e.g. "Invitation expired")."""

    id: str
    login: str
    created_at: str
    failed_reason: str = ""


@dataclass(frozen=True)
class GitHubTeam:
    id: str
    slug: str
    name: str


class GitHub(Protocol):
    async def ensure_configured(self) -> None:
        """Return at once (no request) when GitHub is configured; the stand-in for an absent
        integration raises ``IntegrationUnavailable("GitHub")``. Use-cases call it before
        checks that would otherwise hide the missing integration behind another answer."""
        ...

    async def invite_to_org(self, login: str) -> str:
        """Invite ``login`` to the organization (a no-op if already a member or invited).

        Returns the user's GitHub id; an implementation that knows the membership state returns
        an ``OrgMembership`` (a ``str``, the id, with ``state`` ``pending`` or ``active``).
        Raises ``NotFound`` when no such login exists.
        """
        ...

    async def team_by_slug(self, slug: str) -> GitHubTeam:
        """The organization's team with that slug; raises ``NotFound`` when there is none."""
        ...

    async def list_teams(self) -> list[GitHubTeam]:
        """Every team of the organization (one logical listing, paginated inside)."""
        ...

    async def list_team_members(self, team_id: str) -> list[GitHubUser]:
        """Every member of the team (one logical listing, paginated inside)."""
        ...

    async def create_team(self, slug: str, name: str = "") -> GitHubTeam:
        """Create a team; returns it with its GitHub id. ``Conflict`` if the slug exists."""
        ...

    async def delete_team(self, team_id: str) -> None:
        """Delete a team. Deleting a team GitHub no longer has is not an error."""
        ...

    async def add_team_member(self, team_id: str, login: str) -> None:
        """Add ``login`` to the team (idempotent)."""
        ...

    async def remove_team_member(self, team_id: str, login: str) -> None:
        """Remove ``login`` from the team (idempotent)."""
        ...

    async def is_team_member(self, team_id: str, login: str) -> bool:
        """Whether GitHub has ``login`` in the team (an active or pending membership); a team
        GitHub no longer has is ``False``."""
        ...

    async def pending_invitation(self, login: str) -> Invitation | None:
        """``login``'s pending organization invitation, or None (a member, or never invited)."""
        ...

    async def expired_invitations(self) -> list[Invitation]:
        """The organization's failed invitations (GitHub expires them after 7 days)."""
        ...

    async def remove_from_org(self, login: str) -> str:
        """Take ``login`` out of the organization (which also drops every team membership).

        An active member is removed (``"removed"``); a pending invitation is cancelled by
        GitHub's invitation id (``"cancelled"``); neither is no error (``"absent"``).
        """
        ...
