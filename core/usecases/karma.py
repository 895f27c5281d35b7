"""Karma use-cases: ``karma view``, ``karma set``, ``karma reset --all`` and ``@user ++``.

Anyone may view karma and give one point to a registered user other than themselves; only
admins set or reset karma. ``++`` is the storage port's atomic ``increment`` (never a
read-modify-write), so concurrent gifts all count; set and reset are compare-and-set
writes with retry, so they never overwrite a concurrent change of another field.
"""

from __future__ import annotations

import asyncio

from core import commands as c
from core.context import Ports, Settings
from core.errors import InvalidInput, NotFound
from core.events import KarmaChanged, KarmaWasReset, record
from core.models import User
from core.permissions import can_give_karma, can_manage_karma
from core.records import replace as replace_record
from core.results import KarmaReset, KarmaResult
from core.usecases.common import find_user, registered_user, require, update_with_retry
from core.usecases.registry import handles
from core.validation import named_user as _slack_id

MAX_KARMA = 1_000_000
RESET_TO = 1
RESET_PARALLELISM = 16


@handles(c.ViewKarma)
class ViewKarmaHandler:
    """``karma view SLACK_ID``: anyone; ``NotFound`` when the user is not registered."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._settings = settings

    async def __call__(self, cmd: c.ViewKarma) -> KarmaResult:
        user = await registered_user(self._ports.store, _slack_id(cmd.slack_id.strip() or cmd.actor))
        return KarmaResult(user, message=f"{user.slack_id} has {user.karma} karma")


@handles(c.SetKarma)
class SetKarmaHandler:
    """``karma set SLACK_ID AMOUNT``: admins only; ``amount`` an int within ±1,000,000."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._settings = settings

    async def __call__(self, cmd: c.SetKarma) -> KarmaResult:
        store, actor, amount = self._ports.store, cmd.actor, cmd.amount
        require(can_manage_karma(await find_user(store, actor)), "Only admins can set karma")
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise InvalidInput(f"Karma must be a whole number (not {amount!r})")
        if abs(amount) > MAX_KARMA:
            raise InvalidInput(f"Karma must be between -{MAX_KARMA:,} and {MAX_KARMA:,}")
        slack_id = _slack_id(cmd.slack_id)
        await registered_user(store, slack_id)
        old: int | None = None

        def set_karma(user: User) -> User | None:
            nonlocal old
            old = user.karma
            return None if user.karma == amount else replace_record(user, karma=amount)

        try:
            user = await update_with_retry(store, User, slack_id, set_karma)
        except NotFound:  # deleted between the check and the write
            user = await registered_user(store, slack_id)
        else:
            if old is not None and old != amount:
                record(KarmaChanged(slack_id, old, amount, actor))
        return KarmaResult(user, message=f"Set {slack_id}'s karma to {amount}")


@handles(c.ResetKarma)
class ResetKarmaHandler:
    """``karma reset --all``: admins only; every user's karma becomes 1.

    One query lists the users; each is written by compare-and-set from that listing, re-read
    only when it changed meanwhile (users already at 1 are left alone; users deleted meanwhile
    are skipped). ``KarmaReset.count`` is the number of users that
    now have karma 1: every registered user, including those that already had 1.
    """

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._settings = settings

    async def __call__(self, cmd: c.ResetKarma) -> KarmaReset:
        store, actor = self._ports.store, cmd.actor
        require(can_manage_karma(await find_user(store, actor)), "Only admins can reset karma")
        users = await store.query(User)
        gate = asyncio.Semaphore(RESET_PARALLELISM)

        def reset(user: User) -> User | None:
            return None if user.karma == RESET_TO else replace_record(user, karma=RESET_TO)

        written: list[str] = []

        async def reset_one(user: User) -> int:
            async with gate:
                try:
                    await update_with_retry(store, User, user.slack_id, reset, current=user)
                except NotFound:
                    return 0
                written.append(user.slack_id)
                return 1

        done = await asyncio.gather(*(reset_one(u) for u in users if u.karma != RESET_TO))
        unchanged = sum(1 for u in users if u.karma == RESET_TO)
        record(KarmaWasReset(RESET_TO, tuple(sorted(written)), actor))
        return KarmaReset(count=unchanged + sum(done))


@handles(c.GiveKarma)
class GiveKarmaHandler:
    """``@user ++``: anyone, to a registered user other than themselves; +1, atomically.

    The returned user carries the karma the increment produced; its other fields are as
    read just before.
    """

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._settings = settings

    async def __call__(self, cmd: c.GiveKarma) -> KarmaResult:
        actor, slack_id = cmd.actor, _slack_id(cmd.slack_id)
        require(can_give_karma(actor, slack_id), "You cannot give karma to yourself")
        store = self._ports.store
        user = await registered_user(store, slack_id)
        try:
            karma = await store.increment(User, slack_id, "karma", 1)
        except NotFound:  # deleted between the check and the increment
            raise NotFound(f"{slack_id} is not registered yet (they can run `/rocket user add`)") from None
        record(KarmaChanged(slack_id, karma - 1, karma, actor))
        return KarmaResult(
            replace_record(user, karma=karma),
            message=f"Gave {slack_id} one karma; they now have {karma}",
        )
