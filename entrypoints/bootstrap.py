"""Operator actions that need no Slack: making the first admin."""

from __future__ import annotations

import dataclasses

from core.errors import Conflict, InvalidInput
from core.models import User
from core.permissions import Permissions
from core.usecases.common import find_user, update_with_retry
from ports.storage import Store


async def make_admin(store: Store, slack_id: str) -> User:
    """Create the user if missing (karma 1) and set ``permission_level`` to admin.

    ``slack_id`` is stripped of surrounding whitespace; an empty one raises ``InvalidInput``
    and stores nothing (a user with an empty id could not be read back).
    """
    slack_id = slack_id.strip()
    if not slack_id:
        raise InvalidInput("a Slack user id must not be empty (e.g. rocket admin U0123ABCD)")
    if await find_user(store, slack_id) is None:
        try:
            return await store.store(User(slack_id, permission_level=Permissions.admin))
        except Conflict:
            pass  # created concurrently: promote below

    def promote(user: User) -> User | None:
        if user.permission_level == Permissions.admin:
            return None
        return dataclasses.replace(user, permission_level=Permissions.admin)

    return await update_with_retry(store, User, slack_id, promote)
