"""``Deadlines`` (entrypoints/deadlines.py): many deadlines, one timer."""

from __future__ import annotations

import asyncio
import functools

from entrypoints.deadlines import Deadlines


def _timers() -> int:
    return len(asyncio.get_running_loop()._scheduled)  # type: ignore[attr-defined]


async def test_each_callback_runs_once_at_its_own_deadline_and_not_before() -> None:
    deadlines, ran = Deadlines(), []
    loop = asyncio.get_running_loop()
    start = loop.time()
    deadlines.add(0.03, lambda: ran.append(("late", loop.time() - start)))
    deadlines.add(0.01, lambda: ran.append(("early", loop.time() - start)))
    await asyncio.sleep(0.005)
    assert ran == []
    await asyncio.sleep(0.06)
    assert [name for name, _ in ran] == ["early", "late"]
    assert ran[0][1] >= 0.009 and ran[1][1] >= 0.029
    assert len(deadlines) == 0


async def test_a_discarded_deadline_never_runs() -> None:
    deadlines, ran = Deadlines(), []
    key = deadlines.add(0.01, lambda: ran.append("no"))
    deadlines.add(0.02, lambda: ran.append("yes"))
    deadlines.discard(key)
    await asyncio.sleep(0.04)
    assert ran == ["yes"]


async def test_a_hundred_deadlines_set_one_timer() -> None:
    deadlines, ran = Deadlines(), list[int]()
    before = _timers()
    for i in range(100):
        deadlines.add(0.01, functools.partial(ran.append, i))
    assert _timers() - before == 1
    await asyncio.sleep(0.03)
    assert ran == list(range(100))


async def test_a_callback_may_add_a_deadline() -> None:
    deadlines, ran = Deadlines(), []

    def first() -> None:
        ran.append(1)
        deadlines.add(0.01, lambda: ran.append(2))

    deadlines.add(0.01, first)
    await asyncio.sleep(0.05)
    assert ran == [1, 2]


def test_each_loop_keeps_its_own_deadlines_and_a_closed_loops_are_dropped() -> None:
    """Two loops at once (two threads) each get their callbacks on their own loop; a loop that
    closed with a deadline pending leaves nothing behind once another loop adds one."""
    import threading

    deadlines, ran = Deadlines(), []

    async def one(name: str, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadlines.add(seconds, lambda: ran.append((name, asyncio.get_running_loop() is loop)))
        await asyncio.sleep(seconds + 0.03)

    closed: list[asyncio.AbstractEventLoop] = []

    async def abandoned() -> None:
        closed.append(asyncio.get_running_loop())
        deadlines.add(10, lambda: ran.append(("abandoned", True)))

    asyncio.run(abandoned())
    thread = threading.Thread(target=asyncio.run, args=(one("thread", 0.02),))
    thread.start()
    asyncio.run(one("main", 0.01))
    thread.join()
    assert sorted(ran) == [("main", True), ("thread", True)]
    assert len(deadlines) == 0 and closed[0] not in deadlines._loops
