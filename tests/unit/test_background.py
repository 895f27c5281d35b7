"""``core.background.in_background``: CPU work runs off the event loop's thread, at a lower
priority where the OS sets it per thread (Linux), and its exceptions reach the caller."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from core.background import NICENESS, in_background


def where() -> tuple[int, int]:
    tid = threading.get_native_id()
    return tid, os.getpriority(os.PRIO_PROCESS, tid)


async def test_work_runs_in_another_thread_at_a_lower_priority() -> None:
    loop_tid, loop_nice = where()
    tid, nice = await in_background(where)
    assert tid != loop_tid
    if sys.platform.startswith("linux"):
        assert nice >= NICENESS and nice >= loop_nice
        assert os.getpriority(os.PRIO_PROCESS, loop_tid) == loop_nice  # the loop's thread is untouched


async def test_an_exception_reaches_the_caller() -> None:
    def boom(x: int) -> int:
        raise ValueError(f"bad {x}")

    with pytest.raises(ValueError, match="bad 3"):
        await in_background(boom, 3)
