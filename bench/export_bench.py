"""``rocket db export`` of 10,000 users: wall time and the export process's peak memory.

The users are loaded with ``rocket db import`` of a generated file first. Peak memory is
``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` (Linux: KiB) taken in a small Python parent
whose only child is the export process, so no other process is counted. The same is measured
for an export of an empty database, to show what the process costs before it reads a record.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from bench.servers import ROCKET, clean_env, rocket_cli
from core.models import User, to_dict

USERS = 10_000


@dataclass
class ExportRun:
    users: int
    import_seconds: float
    export_seconds: float
    peak_mb: float
    empty_peak_mb: float
    exported_users: int
    exported_bytes: int


# A small parent for the export: RUSAGE_CHILDREN's ru_maxrss is the largest of its waited-for
# children, and a child's figure includes the image it was forked from, so the bench process
# (large) must not fork the export itself.
_MEASURE = (
    "import resource, subprocess, sys\n"
    "code = subprocess.run(sys.argv[1:]).returncode\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(code)\n"
)


def _export(env: dict[str, str], cwd: Path, out: Path) -> tuple[float, float]:
    """Run ``rocket db export -o OUT``; (wall seconds, peak RSS in MB of 10^6 bytes) of that process."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _MEASURE, ROCKET, "db", "export", "-o", str(out)], env=env,
                          cwd=cwd, capture_output=True, text=True, timeout=240, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"rocket db export failed: {done.stderr[-2000:]}")
    return seconds, int(done.stdout.split()[-1]) * 1024 / 1e6


def run_export(workdir: Path, users: int = USERS) -> ExportRun:
    data = {"users": [to_dict(User(slack_id=f"UX{i:06d}", name=f"Exported user {i}",
                                   email=f"user{i}@example.org", github=f"gh-user-{i}",
                                   github_user_id=str(100000 + i), bio="x" * 80), with_version=False)
                      for i in range(users)]}
    source = workdir / "export-source.json"
    source.write_text(json.dumps(data))
    empty_env = clean_env({"DATABASE_URL": f"sqlite:///{workdir / 'empty.db'}"})
    _, empty_peak = _export(empty_env, workdir, workdir / "empty.json")
    env = clean_env({"DATABASE_URL": f"sqlite:///{workdir / 'export.db'}"})
    started = time.perf_counter()
    rocket_cli(["db", "import", str(source)], env, workdir, timeout=240)
    import_seconds = time.perf_counter() - started
    out = workdir / "export.json"
    seconds, peak = _export(env, workdir, out)
    exported = len(json.loads(out.read_text())["users"])
    return ExportRun(users, import_seconds, seconds, peak, empty_peak, exported, out.stat().st_size)
