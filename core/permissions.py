"""Permission levels and the contract's "who may do what" rules, as pure functions."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.models import Team, User


class Permissions(StrEnum):
    """A user's permission tier; values are the strings stored and exported."""

    member = "member"
    team_lead = "team_lead"
    admin = "admin"


def is_admin(user: User | None) -> bool:
    return user is not None and user.permission_level == Permissions.admin


def leads(user: User | None, team: Team) -> bool:
    """True when ``user`` is listed as a lead of ``team`` by a **verified** GitHub link.

    An unverified link (self-set without the device flow) gives no lead rights, even when its
    GitHub id is among ``team.team_leads``: anyone can type someone else's login.
    """
    return user is not None and bool(user.verified_github_id) and user.verified_github_id in team.team_leads


def can_edit_other_user(actor: User | None) -> bool:
    """Admins and team leads may edit another user's profile."""
    return actor is not None and actor.permission_level in (Permissions.admin, Permissions.team_lead)


def can_change_permission(actor: User | None) -> bool:
    """Only admins change ``--permission``."""
    return is_admin(actor)


def can_delete_user(actor: User | None) -> bool:
    return is_admin(actor)


def can_manage_karma(actor: User | None) -> bool:
    """Only admins set or reset karma."""
    return is_admin(actor)


def can_refresh_teams(actor: User | None) -> bool:
    return is_admin(actor)


def can_create_team(actor: User | None) -> bool:
    """Team leads and admins may create teams."""
    return actor is not None and actor.permission_level in (Permissions.admin, Permissions.team_lead)


def can_manage_team(actor: User | None, team: Team) -> bool:
    """Admins manage every team; a team lead manages the teams they lead.

    "Manage" covers edit, add, remove, lead, delete and assigning projects to the team.
    """
    return is_admin(actor) or leads(actor, team)


def can_export_emails(actor: User | None) -> bool:
    return actor is not None and actor.permission_level in (Permissions.admin, Permissions.team_lead)


def can_give_karma(actor_id: str, receiver_id: str) -> bool:
    """Anyone may give karma, but not to themselves."""
    return actor_id != receiver_id
