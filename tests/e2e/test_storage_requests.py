"""Storage requests per command, as ``make bench`` counts them (bench/requests_bench.py).

On DynamoDB every port call is exactly one request on the wire (the adapter adds no GetItem
of its own); ``user view`` is one read and ``++`` one read plus one update on every backend;
a ``user edit`` makes exactly one conditional write.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from bench.requests_bench import _count_backend

WIRE = {"retrieve": "GetItem", "store": "PutItem", "increment": "UpdateItem"}


@pytest.mark.parametrize("backend", ["sqlite", "dynamodb"])
async def test_requests_per_command(backend: str, tmp_path: Path) -> None:
    counts = {c.command: c for c in await _count_backend(backend, tmp_path)}
    assert all(c.replied and c.steady for c in counts.values()), counts
    assert counts["user view"].calls == Counter(retrieve=1)
    assert counts["karma ++"].calls == Counter(retrieve=1, increment=1)
    edit = counts["user edit"].calls
    assert edit["store"] == 1 and set(edit) == {"retrieve", "store"}
    if backend == "dynamodb":
        for c in counts.values():
            assert c.wire == Counter({WIRE[m]: n for m, n in c.calls.items()}), (c.command, c.wire)
