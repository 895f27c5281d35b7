"""HomeRefresh: after a change that concerns a user (their profile, their team membership or
lead rights), that user's Slack Home tab is published again.

The subscriber only decides WHO to refresh; ``publish(slack_id)`` (given by the Slack edge,
which renders and calls ``views.publish``) does the rest. A user is refreshed at most once per
command, however many events concern them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from core.events import (
    Event,
    LeadChanged,
    MemberJoinedTeam,
    MemberLeftTeam,
    ProfileChanged,
    UserPromoted,
    UserRegistered,
    recorded,
)

Publish = Callable[[str], Awaitable[None]]
CONCERNING = (ProfileChanged, UserRegistered, UserPromoted, MemberJoinedTeam, MemberLeftTeam, LeadChanged)


def concerned(event: Event) -> str:
    """The Slack id a change concerns ("" when none is known)."""
    return event.slack_id if isinstance(event, CONCERNING) else ""


class HomeRefresh:
    def __init__(self, publish: Publish) -> None:
        self._publish = publish

    async def on_event(self, event: Event) -> list[str] | None:
        """Republish the Home of the user ``event`` concerns, unless an earlier event of the
        same command concerned them already."""
        slack_id = concerned(event)
        if not slack_id:
            return None
        for earlier in recorded():
            if earlier is event:
                break
            if isinstance(earlier, CONCERNING) and concerned(earlier) == slack_id:
                return None  # refreshed already for this command
        await self._publish(slack_id)
        return None
