"""What a scheduled job is.

A job is built by a factory from the ports and settings (``JobFactory``; a class whose
``__init__(ports, settings)`` is one) and is then run by ``runner.LeasedRunner`` each time
its trigger fires. Triggers must fire at the same instants in every process (use
``CronTrigger``, or an ``IntervalTrigger`` with a fixed ``start_date``): the lease that makes
a run happen once is keyed by the scheduled fire time.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from apscheduler.triggers.base import BaseTrigger

from core.context import Ports, Settings


class Job(Protocol):
    """One scheduled job.

    - ``name``: unique among the registered jobs; part of the lease key and the log lines.
    - ``trigger``: an APScheduler trigger (e.g. ``CronTrigger(..., timezone="UTC")``).
    - ``lease_seconds``: how long a run may take; another worker may run the same trigger
      only after the lease expired (a crashed holder). Must exceed the scheduler's
      misfire grace time.
    - ``run()``: do the work once and return a one-line summary. May raise: the runner logs
      the error with the job name and the scheduler keeps going.
    """

    name: str
    trigger: BaseTrigger
    lease_seconds: float

    async def run(self) -> str: ...


JobFactory = Callable[[Ports, Settings], Job]
