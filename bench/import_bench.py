"""``rocket db import`` on DynamoDB (moto): one item at a time (before) against BatchWriteItem (after).

Issue 15, must show 5. A generated export of ``USERS`` users is imported into fresh tables of a
moto server (in this process, one request at a time, counting operations) by a child process,
twice:

- ``before``: the code path of commit 5d3f9b2, kept callable here: the store is wrapped so it
  does not offer ``ports.storage.BulkCreate``, so ``ImportDirectory`` creates each record with
  ``store`` (its index items by one BatchWriteItem, then one conditional PutItem), in sequence;
- ``after``: the store as it is (``DynamoStore.create_many``: BatchWriteItem, 25 items a request,
  ``BULK_PARALLEL`` in flight).

The child parses the file like ``rocket db import`` (``loads_strict``, ``import_from`` through the
bus). Wall time is the child's; peak RSS is ``RUSAGE_CHILDREN`` of a small parent whose only
child is the import (see bench/export_bench.py for why). moto's own memory is not counted.

``make bench`` runs it at ``MAKE_BENCH_USERS`` (the one-at-a-time path takes many minutes at 50k);
``python -m bench.import_bench [--users 50000]`` gives the issue's figure.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.models import User, to_dict

USERS = 50_000
MAKE_BENCH_USERS = 2_000  # make bench: the one-at-a-time path costs ~10-20 ms a user on moto

_MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code)\n"
)


@dataclass
class ImportRun:
    path: str  # "before" (one at a time) or "after" (BatchWriteItem)
    users: int
    seconds: float
    peak_mb: float
    summary: str
    wire: Counter[str]


class _OneAtATime:
    """A store without ``create_many``: ``ImportDirectory`` takes the old, per-record path."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        if name == "create_many":
            raise AttributeError(name)
        return getattr(self._inner, name)


async def _child(path: str, endpoint: str, prefix: str, one_at_a_time: bool) -> str:
    from adapters.dynamo import DynamoStore
    from entrypoints.dbio import import_from, loads_strict
    from tests.fakes.ports import store_bus

    data = loads_strict(Path(path).read_text(encoding="utf-8"))
    tables = {t: f"{prefix}_{t}" for t in ("users", "teams", "projects", "leases")}
    store = await DynamoStore.open(endpoint_url=endpoint, region="us-east-1", access_key="testing",
                                   secret_key="testing", tables=tables)
    try:
        target: Any = _OneAtATime(store) if one_at_a_time else store
        return str(await import_from(store_bus(target), data))
    finally:
        await store.close()


def _export_file(workdir: Path, users: int) -> Path:
    data = {"users": [to_dict(User(slack_id=f"UI{i:06d}", name=f"Imported user {i}",
                                   email=f"user{i}@example.org", github=f"gh-user-{i}",
                                   github_user_id=str(200000 + i), bio="x" * 80), with_version=False)
                      for i in range(users)]}
    source = workdir / f"import-{users}.json"
    source.write_text(json.dumps(data))
    return source


def run_import(workdir: Path, users: int = MAKE_BENCH_USERS, paths: tuple[str, ...] = ("before", "after")
               ) -> list[ImportRun]:
    from bench.requests_bench import _moto
    from bench.servers import clean_env

    source = _export_file(workdir, users)

    async def main() -> list[ImportRun]:
        runs = []
        async with _moto() as (endpoint, counter):
            for path in paths:
                before = Counter(counter.seen)
                cmd = [sys.executable, "-c", _MEASURE, sys.executable, "-m", "bench.import_bench", "--child",
                       str(source), endpoint, uuid.uuid4().hex[:8], path]
                started = time.perf_counter()
                done = await asyncio.to_thread(subprocess.run, cmd, env=clean_env({}), capture_output=True,
                                               text=True, timeout=3600, check=False)
                seconds = time.perf_counter() - started
                if done.returncode != 0:
                    raise RuntimeError(f"import ({path}) failed: {done.stderr[-2000:]}")
                *lines, peak = done.stdout.split("\n")[:-1]
                summary = lines[-1] if lines else ""
                runs.append(ImportRun(path, users, seconds, int(peak) * 1024 / 1e6, summary,
                                      Counter(counter.seen) - before))
        return runs

    return asyncio.run(main())


def import_lines(runs: list[ImportRun]) -> list[str]:
    out = [f"rocket db import on DynamoDB (moto, one request at a time), {runs[0].users:,} users; "
           "wall time and peak RSS of the importing process"]
    for run in runs:
        wire = " ".join(f"{k}={v}" for k, v in sorted(run.wire.items()) if k != "DescribeTable")
        out.append(f"  {run.path:<6} {run.seconds:8.1f} s  peak {run.peak_mb:6.0f} MB  "
                   f"({run.summary}; {wire})")
    by = {r.path: r for r in runs}
    if "before" in by and "after" in by and by["after"].seconds:
        out.append(f"  speed-up {by['before'].seconds / by['after'].seconds:.1f}x; requests "
                   f"{sum(by['before'].wire.values()):,} -> {sum(by['after'].wire.values()):,}")
    return out


if __name__ == "__main__":
    import tempfile

    if sys.argv[1:2] == ["--child"]:
        file, url, table_prefix, which = sys.argv[2:6]
        print(asyncio.run(_child(file, url, table_prefix, which == "before")), flush=True)
        sys.exit(0)
    count = int(sys.argv[sys.argv.index("--users") + 1]) if "--users" in sys.argv else USERS
    only = tuple(a for a in ("before", "after") if f"--{a}" in sys.argv) or ("before", "after")
    with tempfile.TemporaryDirectory(prefix="rocket-import-bench-") as tmp:
        print("\n".join(import_lines(run_import(Path(tmp), count, only))), flush=True)
