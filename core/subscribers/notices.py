"""Notices: what happened on GitHub (webhooks, ``via == "github"``) is posted as one line to
``settings.notification_channel`` (when set). A Slack failure is logged, never raised: the
directory change stands and only the notice is lost.
"""

from __future__ import annotations

import json
import logging

from core.context import Ports, Settings
from core.events import (
    GITHUB,
    Event,
    MemberJoinedOrganization,
    MemberJoinedTeam,
    MemberLeftOrganization,
    MemberLeftTeam,
    TeamCreated,
    TeamDeleted,
    UserPromoted,
    recorded,
)

log = logging.getLogger("rocket.requests")


def notice_for(event: Event) -> str:
    """The notice for one event ("" when it is not worth one)."""
    if isinstance(event, TeamCreated):
        return f"GitHub: team {event.slug} was created"
    if isinstance(event, TeamDeleted):
        unassigned = len(event.unassigned_projects)
        return (f"GitHub: team {event.slug} was deleted"
                + (f"; {unassigned} project(s) unassigned" if unassigned else ""))
    if isinstance(event, MemberLeftOrganization):
        return (f"GitHub: {event.login or event.github_id} left the organization and was removed from "
                f"{len(event.teams)} team(s)")
    if isinstance(event, MemberJoinedOrganization):
        verb = "was invited to" if event.invited else "joined"
        return f"GitHub: {event.login} {verb} the organization"
    if isinstance(event, MemberJoinedTeam | MemberLeftTeam):
        earlier = recorded()
        if any(isinstance(e, MemberLeftOrganization) and e.github_id == event.github_id for e in earlier):
            return ""  # said once by the organization notice
        raised = sorted(e.slack_id for e in earlier if isinstance(e, UserPromoted)
                        and e.github_id == event.github_id and e.slug == event.slug)
        extra = f" (promoted {', '.join(raised)})" if raised else ""
        verb = "added to" if isinstance(event, MemberJoinedTeam) else "removed from"
        return f"GitHub: {event.login or event.github_id} {verb} team {event.slug}{extra}"
    return ""


class Notices:
    """Subscriber of every event; posts only those that came from GitHub."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self.ports = ports
        self.settings = settings

    async def on_event(self, event: Event) -> None:
        channel = self.settings.notification_channel
        if not channel or _origin(event) != GITHUB:
            return
        text = notice_for(event)
        if not text:
            return
        try:
            await self.ports.chat.post_to_channel(channel, text)
        except Exception as exc:  # the directory change stands; only the notice is lost
            log.warning(json.dumps({"kind": "notice", "outcome": "dropped", "error": str(exc)[:200]}))


def _origin(event: Event) -> str:
    """Where the event came from ("" for an event class without ``via``)."""
    via = event.__dict__.get("via", "")
    return via if isinstance(via, str) else ""
