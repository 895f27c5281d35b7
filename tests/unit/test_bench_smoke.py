"""Smoke test of the benchmark's load generator against the baseline app (bench/), a few seconds.

The baseline app is served by Hypercorn in this process on a free 127.0.0.1 port; the load
generator sends a handful of signed commands and a small burst. A wrong signing secret must
get 401s, so a generator that stopped signing (or a baseline that stopped verifying) fails.
"""

from __future__ import annotations

import asyncio
import socket

import pytest
from hypercorn.asyncio import serve
from hypercorn.config import Config

from bench.baseline import create_baseline_app
from bench.http_bench import COMMANDS, AuditRound, HttpResults, Round
from bench.load import LevelResult, burst, percentile, run_level
from bench.report import audit_cost_lines, burst_lines, http_table

SECRET = "smoke-test-signing-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def baseline_url():
    config = Config()
    port = free_port()
    config.bind = [f"127.0.0.1:{port}"]
    config.accesslog = None
    stop = asyncio.Event()
    server = asyncio.create_task(serve(create_baseline_app(SECRET), config, shutdown_trigger=stop.wait))
    url = f"http://127.0.0.1:{port}/slack/commands"
    for _ in range(200):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            await asyncio.sleep(0.01)
    try:
        yield url
    finally:
        stop.set()
        await asyncio.wait_for(server, 10)


@pytest.mark.timeout(30)
async def test_load_generator_against_the_baseline(baseline_url):
    view = COMMANDS["user view"]
    level = await run_level(baseline_url, SECRET, view, concurrency=4, count=20, warmup=2, offset=5)
    assert level.count == 20 and level.ok == 20
    assert len(level.latencies) == 20 and all(t > 0 for t in level.latencies)
    assert level.seconds > 0 and level.rps > 0
    assert 0 < level.p(0.5) <= level.p(0.99) <= max(level.latencies)
    assert set(level.replies) == {"ok"}

    wrong = await run_level(baseline_url, "not-the-secret", view, concurrency=2, count=6)
    assert wrong.statuses == [401] * 6

    many = await burst(baseline_url, SECRET, COMMANDS["karma ++"], 10)
    assert many.ok == 10

    results = HttpResults(rounds=[Round("user view", 4, level, level, 0)], burst_baseline=many,
                          burst_rocket=many, karma_before=1, karma_after=11)
    table = http_table(results)
    assert len(table) == 3 and "1.00" in table[2]
    assert "delta 10" in "\n".join(burst_lines(results))

    slower = LevelResult(seconds=level.seconds * 1.25, latencies=level.latencies, statuses=level.statuses)
    results.audit_rounds = [AuditRound("user edit", level, slower, level)]
    [_, line] = audit_cost_lines(results)  # 80% of the unaudited throughput: a 20% cost, over target
    assert "without audit 1.00, with audit 0.80" in line and "NOT MET" in line and "costs 20%" in line


def test_percentile_is_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([], 0.5) == 0.0
