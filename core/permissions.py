"""Permission levels and the contract's "who may do what" rules, as pure functions."""

from __future__ import annotations

from collections.abc import Iterable
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


def can_edit_other_user(actor: User | None, target: User | None = None,
                        teams: Iterable[Team] = (), fields: Iterable[str] = ()) -> bool:
    """May ``actor`` edit ``target``'s profile fields ``fields``?

    Admins edit anyone. A team lead may edit another user only when that user is a member of
    a team the lead leads (``teams`` are the target's teams; ``leads()`` decides leading) and
    is not an admin, and never their ``email``, ``github`` or ``permission_level``. Without a
    ``target`` the answer is whether ``actor`` may edit anyone else at all.
    """
    if is_admin(actor):
        return True
    if actor is None or actor.permission_level != Permissions.team_lead:
        return False
    if target is None:
        return True
    if is_admin(target) or set(fields) & LEAD_FORBIDDEN_FIELDS:
        return False
    gid = target.github_user_id
    return bool(gid) and any(gid in t.members and leads(actor, t) for t in teams)


LEAD_FORBIDDEN_FIELDS = frozenset({"email", "github", "github_user_id", "permission_level"})
"""Profile fields a team lead never changes on another user (only admins do)."""


def is_special_team(slug: str, admin_team: str, leads_team: str) -> bool:
    """True when ``slug`` names the admin or leads team (case-insensitively, as GitHub does)."""
    folded = slug.strip().casefold()
    return bool(folded) and folded in {n.strip().casefold() for n in (admin_team, leads_team) if n.strip()}


def can_demote_self(other_admins: int) -> bool:
    """An admin may drop their own admin rank only while another admin remains
    (``other_admins`` counts the admins other than the actor): the last admin cannot."""
    return other_admins > 0


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


def can_manage_team(actor: User | None, team: Team, admin_team: str = "", leads_team: str = "") -> bool:
    """Admins manage every team; a team lead manages the teams they lead, except the teams
    named by ``admin_team`` / ``leads_team`` (GITHUB_ADMIN_TEAM_NAME / GITHUB_LEADS_TEAM_NAME),
    which only admins manage (their membership grants rank).

    "Manage" covers edit, add, remove, lead, delete and assigning projects to the team.
    """
    if is_admin(actor):
        return True
    if is_special_team(team.github_team_name, admin_team, leads_team):
        return False
    return leads(actor, team)


def can_create_named_team(actor: User | None, slug: str, admin_team: str = "", leads_team: str = "") -> bool:
    """``team create SLUG``: team leads and admins, but only admins create the admin or
    leads team (with or without ``--lead`` / ``--channel``)."""
    if not can_create_team(actor):
        return False
    return is_admin(actor) or not is_special_team(slug, admin_team, leads_team)


def can_export_emails(actor: User | None, team: Team | None = None) -> bool:
    """``export emails``: admins for any team or all; ``--team`` for a lead of that team (by a
    verified link, whatever their permission level); ``team`` None means every user's email."""
    if is_admin(actor):
        return True
    if actor is None or team is None:
        return False
    return leads(actor, team)


def can_give_karma(actor_id: str, receiver_id: str) -> bool:
    """Anyone may give karma, but not to themselves."""
    return actor_id != receiver_id
