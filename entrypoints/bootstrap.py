"""Operator actions that need no Slack: making the first admin (``rocket admin``)."""

from __future__ import annotations

from core.bus import MessageBus
from core.commands import MakeAdmin
from core.models import User

OPERATOR = ""  # the CLI's actor: the operator at the shell, no Slack user


async def make_admin(bus: MessageBus, slack_id: str) -> User:
    """Create the user if missing (karma 1) and set ``permission_level`` to admin.

    ``slack_id`` is stripped of surrounding whitespace; an empty one raises ``InvalidInput``
    and stores nothing (a user with an empty id could not be read back).
    """
    return (await bus.handle(MakeAdmin(OPERATOR, slack_id))).user
