"""Promotion: members of ``settings.admin_team`` / ``settings.leads_team`` rise to ``admin`` /
``team_lead`` when they join those teams (never demoted: an admin stays admin). Only a user
whose GitHub link is verified (``User.github_verified``) rises: rank never follows a login
someone merely typed.

Records ``UserPromoted`` for each user who rose. Teams changed by a refresh are skipped: the
refresh promotes every member of those teams itself, in bulk.
"""

from __future__ import annotations

import dataclasses

from core.context import Ports, Settings
from core.events import REFRESH, MemberJoinedTeam, UserPromoted, record
from core.models import User
from core.permissions import Permissions
from core.usecases.common import update_with_retry

_RANK = {Permissions.member: 0, Permissions.team_lead: 1, Permissions.admin: 2}


def promotion_for(settings: Settings, slug: str) -> Permissions | None:
    """The permission membership of team ``slug`` grants, if it is a special team."""
    if settings.admin_team and slug == settings.admin_team:
        return Permissions.admin
    if settings.leads_team and slug == settings.leads_team:
        return Permissions.team_lead
    return None


def promoted(user: User, level: Permissions | None) -> User | None:
    """``user`` raised to ``level`` (None when that is no raise: never demote, and never raise a
    user whose GitHub link is not verified)."""
    if level is None or not user.verified_github_id or _RANK[level] <= _RANK[user.permission_level]:
        return None
    return dataclasses.replace(user, permission_level=level)


class Promotion:
    """Subscriber of ``MemberJoinedTeam``."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self.ports = ports
        self.settings = settings

    async def on_joined(self, event: MemberJoinedTeam) -> None:
        level = promotion_for(self.settings, event.slug)
        if level is None or event.via == REFRESH or not event.github_id:
            return
        for user in await self.ports.store.query(User, [("github_user_id", event.github_id)]):
            if promoted(user, level) is None:
                continue
            old = user.permission_level
            after = await update_with_retry(self.ports.store, User, user.slack_id,
                                            lambda u: promoted(u, level), current=user)
            if after.permission_level != old:
                record(UserPromoted(after.slack_id, event.github_id, old, after.permission_level,
                                    event.slug, event.actor, event.via))
