"""``finished_within``: the slash command's inline budget (entrypoints/handlers.py)."""

from __future__ import annotations

import asyncio

import pytest

from entrypoints import handlers
from entrypoints.handlers import finished_within


async def _sleep_then(seconds: float, value: str) -> str:
    await asyncio.sleep(seconds)
    return value


async def test_a_quick_task_is_done_within_the_budget() -> None:
    task = asyncio.create_task(_sleep_then(0, "quick"))
    assert await finished_within(task, 5)
    assert task.result() == "quick"


async def test_a_slow_task_is_not_done_and_goes_on_uncancelled() -> None:
    task = asyncio.create_task(_sleep_then(0.2, "slow"))
    assert not await finished_within(task, 0.01)
    assert not task.cancelled()
    assert await task == "slow"  # it finishes after the budget ran out


async def test_a_task_already_done_needs_no_wait() -> None:
    task = asyncio.create_task(_sleep_then(0, "done"))
    await task
    assert await finished_within(task, 0)


async def test_a_quick_task_leaves_no_deadline_or_callback_behind() -> None:
    task = asyncio.create_task(_sleep_then(0, "x"))
    assert await finished_within(task, 60)
    assert len(handlers._BUDGETS) == 0
    assert not task._callbacks  # type: ignore[attr-defined]


async def test_a_failing_task_counts_as_done_and_keeps_its_error() -> None:
    async def fail() -> None:
        raise ValueError("boom")

    task = asyncio.create_task(fail())
    assert await finished_within(task, 1)
    with pytest.raises(ValueError):
        task.result()
