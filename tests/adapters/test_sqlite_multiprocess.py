"""SqliteStore shared by two OS processes: increments must not be lost across processes."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from adapters.sqlite import SqliteStore
from core.models import User

ROOT = Path(__file__).resolve().parents[2]
N = 100

# Each worker signals it is ready, waits for the "go" file (so both run at once), then
# does N increments on its own connection to the shared file.
WORKER = """
import asyncio, os, sys, time
from adapters.sqlite import SqliteStore
from core.models import User

async def main(db, ready, go, n):
    store = await SqliteStore.open(db)
    open(ready, "w").close()
    deadline = time.monotonic() + 20
    while not os.path.exists(go) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    for _ in range(n):
        await store.increment(User, "U1", "karma", 1)
    await store.close()

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


async def test_two_processes_increment_the_same_record(tmp_path: Path) -> None:
    db = str(tmp_path / "shared.db")
    store = await SqliteStore.open(db)
    await store.store(User("U1", karma=0))
    go = tmp_path / "go"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable, "-c", WORKER, db, str(tmp_path / f"ready{i}"), str(go), str(N),
            cwd=ROOT, env=env, stderr=asyncio.subprocess.PIPE,
        )
        for i in range(2)
    ]
    try:
        async with asyncio.timeout(30):
            while not all((tmp_path / f"ready{i}").exists() for i in range(2)):
                if any(p.returncode is not None for p in procs):
                    break
                await asyncio.sleep(0.01)
            go.touch()
            results = [await p.communicate() for p in procs]
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
                await p.wait()
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0, err.decode()
    got = await store.retrieve(User, "U1")
    await store.close()
    assert got.karma == 2 * N
    assert got.version == 1 + 2 * N
