"""CPU-heavy work off the event loop, at a lower priority than the loop's own thread.

``await in_background(fn, *args)`` runs ``fn(*args)`` in one of ``WORKERS`` threads kept for
such work (building an export's CSV, decoding a scan of 50,000 records), never on the event
loop. Where the OS allows (Linux: ``nice`` is per thread) those threads run at ``NICENESS``,
so when the machine is busy the scheduler gives the event loop's thread (which answers other
requests) the CPU first. The work itself should let the GIL go now and then (``time.sleep(0)``
every few hundred items) so the loop's thread does not wait the whole switch interval.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
WORKERS = 2
NICENESS = 10

_pool: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def _lower_priority() -> None:
    """Make the calling thread nicer (Linux: per thread; elsewhere it may be per process, so
    only where ``threading.get_native_id`` names a thread the OS can set alone)."""
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        os.setpriority(os.PRIO_PROCESS, tid, max(NICENESS, os.getpriority(os.PRIO_PROCESS, tid)))
    except OSError:
        pass  # not permitted: run at normal priority


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(WORKERS, thread_name_prefix="rocket-background",
                                       initializer=_lower_priority)
        return _pool


async def in_background(fn: Callable[..., T], *args: object) -> T:
    """``fn(*args)`` in a low-priority worker thread; its result (or its exception)."""
    return await asyncio.get_running_loop().run_in_executor(_executor(), fn, *args)
