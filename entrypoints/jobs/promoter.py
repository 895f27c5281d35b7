"""The random channel promoter: once a week, ``FeatureRandomChannel(scheduled=True)``
through the bus (the handler, ``core.usecases.channels``, states the rule).

``rng`` (a ``random.Random``) makes the choice reproducible; the job then registers a
handler using it on its bus.
"""

from __future__ import annotations

import random

from apscheduler.triggers.cron import CronTrigger

from core.bus import MessageBus
from core.commands import FeatureRandomChannel
from core.context import Ports, Settings
from core.usecases.channels import FeatureRandomChannelHandler, is_channel, promotion_text
from core.wiring import build_bus

__all__ = ["RandomChannelPromoter", "is_channel", "promotion_text"]


class RandomChannelPromoter:
    name = "random-channel-promoter"
    trigger = CronTrigger(day_of_week="mon", hour=17, minute=0, timezone="UTC")
    lease_seconds = 3600.0

    def __init__(self, ports: Ports, settings: Settings, rng: random.Random | None = None,
                 bus: MessageBus | None = None) -> None:
        self.bus = bus if bus is not None else build_bus(ports, settings)
        if rng is not None:
            self.bus.register(FeatureRandomChannel, FeatureRandomChannelHandler(ports, settings, rng))

    async def run(self) -> str:
        return (await self.bus.handle(FeatureRandomChannel(actor="", scheduled=True))).message
