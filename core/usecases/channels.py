"""``FeatureRandomChannel``: advertise one random public channel in the announcement channel.

Picks one of ``chat.list_public_channels()`` (the port returns only public, unarchived
channels), never the announcement channel itself, and posts "Check out #name…" to
``settings.announcement_channel`` (an id or a name). With no announcement channel
configured, or no other channel, it posts nothing and says so. The choice comes from the
handler's ``random.Random`` so it can be reproduced. Admins only, unless ``scheduled``.
Records ``ChannelFeatured``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from core import commands as c
from core.context import Ports, Settings
from core.events import ChannelFeatured, record
from core.permissions import is_admin
from core.results import ChannelFeature
from core.usecases.common import find_user, require
from core.usecases.registry import handles

if TYPE_CHECKING:  # annotations only (start-up: the bus is built by every CLI command)
    import random

    from ports.chat import Channel


def is_channel(channel: Channel, ref: str) -> bool:
    """True when ``ref`` (an id, ``#name`` or ``name``) names ``channel``."""
    ref = ref.strip()
    return ref == channel.id or ref.lstrip("#").lower() == channel.name.lower()


def promotion_text(channel: Channel) -> str:
    """The post; Slack shows ``<#ID|name>`` as a clickable ``#name``."""
    return f"Check out <#{channel.id}|{channel.name}>! This week's featured channel: come say hi."


@handles(c.FeatureRandomChannel)
class FeatureRandomChannelHandler:
    def __init__(self, ports: Ports, settings: Settings, rng: random.Random | None = None) -> None:
        self.ports = ports
        self.settings = settings
        self.rng = rng  # None: a random.Random() made on first use (`random` costs ~1.5 ms to import)

    async def __call__(self, cmd: c.FeatureRandomChannel) -> ChannelFeature:
        if not cmd.scheduled:
            actor = await find_user(self.ports.store, cmd.actor)
            require(is_admin(actor), "Only admins can feature a channel")
        target = self.settings.announcement_channel.strip()
        if not target:
            return ChannelFeature(None, "no announcement channel configured (SLACK_ANNOUNCEMENT_CHANNEL); "
                                        "nothing posted")
        channels = await self.ports.chat.list_public_channels()
        candidates = sorted((ch for ch in channels if not is_channel(ch, target)), key=lambda ch: ch.id)
        if not candidates:
            return ChannelFeature(None, f"no public channel other than {target} to promote; nothing posted")
        if self.rng is None:
            import random  # here, not at import: the bus is built by every `rocket exec` (issue 17)

            self.rng = random.Random()
        pick = self.rng.choice(candidates)
        await self.ports.chat.post_to_channel(target, promotion_text(pick))
        record(ChannelFeatured(pick.id, pick.name, target, cmd.actor))
        return ChannelFeature(pick, f"promoted #{pick.name} ({pick.id}) in {target}")
