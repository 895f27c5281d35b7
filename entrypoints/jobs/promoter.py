"""The random channel promoter: once a week, advertise a random public channel.

Picks one of ``chat.list_public_channels()`` (the port returns only public, unarchived
channels), never the announcement channel itself, and posts "Check out #name…" to
``settings.announcement_channel`` (``SLACK_ANNOUNCEMENT_CHANNEL``, an id or a name). With no
announcement channel configured, or no other channel, it posts nothing and says so.
The choice comes from an injected ``random.Random`` so it can be reproduced.
"""

from __future__ import annotations

import random

from apscheduler.triggers.cron import CronTrigger

from core.context import Ports, Settings
from ports.chat import Channel


def is_channel(channel: Channel, ref: str) -> bool:
    """True when ``ref`` (an id, ``#name`` or ``name``) names ``channel``."""
    ref = ref.strip()
    return ref == channel.id or ref.lstrip("#").lower() == channel.name.lower()


def promotion_text(channel: Channel) -> str:
    """The post; Slack shows ``<#ID|name>`` as a clickable ``#name``."""
    return f"Check out <#{channel.id}|{channel.name}>! This week's featured channel: come say hi."


class RandomChannelPromoter:
    name = "random-channel-promoter"
    trigger = CronTrigger(day_of_week="mon", hour=17, minute=0, timezone="UTC")
    lease_seconds = 3600.0

    def __init__(self, ports: Ports, settings: Settings, rng: random.Random | None = None) -> None:
        self.ports = ports
        self.settings = settings
        self.rng = rng if rng is not None else random.Random()

    async def run(self) -> str:
        target = self.settings.announcement_channel.strip()
        if not target:
            return "no announcement channel configured (SLACK_ANNOUNCEMENT_CHANNEL); nothing posted"
        channels = await self.ports.chat.list_public_channels()
        candidates = sorted((c for c in channels if not is_channel(c, target)), key=lambda c: c.id)
        if not candidates:
            return f"no public channel other than {target} to promote; nothing posted"
        pick = self.rng.choice(candidates)
        await self.ports.chat.post_to_channel(target, promotion_text(pick))
        return f"promoted #{pick.name} ({pick.id}) in {target}"
