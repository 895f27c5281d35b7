"""Start-up cost (issue 17): wall time of ``python -c pass``, ``rocket --help`` and
``rocket exec --as U "help"``, for this checkout and, given ``--before DIR`` (or
``ROCKET_BENCH_BEFORE``), for another checkout with its own ``.venv`` (e.g. the code before).

``python -m bench.startup [--before DIR] [--runs N]`` prints one table; each figure is the
median of N runs (default 7) after one warm-up run, in a temporary directory (no ``.env``)
with no integration configured and ``DATABASE_URL=memory://``. The target: each command at
most 2x ``python -c pass`` plus the command's own work.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

CASES = (
    ("python -c pass", ["{python}", "-c", "pass"]),
    ("rocket --help", ["{rocket}", "--help"]),
    ('rocket exec --as U "help"', ["{rocket}", "exec", "--as", "U0BENCH", "help"]),
)
HERE = Path(sys.executable).parent


@dataclass(frozen=True)
class Timing:
    label: str
    case: str
    median_ms: float
    best_ms: float


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "SLACK_", "GCP_", "AWS_", "DATABASE_URL", "PORT"))}
    env.update({"DATABASE_URL": "memory://", "ROCKET_SCHEDULER": "off"})
    return env


def time_case(argv: list[str], runs: int, cwd: str) -> tuple[float, float]:
    """(median, best) wall time of ``argv`` in milliseconds; a failing run raises."""
    env = _env()
    samples = []
    for i in range(runs + 1):
        started = time.perf_counter()
        subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       check=True, timeout=60)
        if i:  # the first run warms the file cache
            samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), min(samples)


def run_startup(bins: dict[str, Path], runs: int = 7) -> list[Timing]:
    """Timings for each labelled ``bin`` directory (holding ``python`` and ``rocket``)."""
    timings = []
    with tempfile.TemporaryDirectory(prefix="rocket-startup-") as cwd:
        for label, bin_dir in bins.items():
            for case, template in CASES:
                argv = [a.format(python=bin_dir / "python", rocket=bin_dir / "rocket") for a in template]
                median, best = time_case(argv, runs, cwd)
                timings.append(Timing(label, case, median, best))
    return timings


def startup_lines(timings: list[Timing]) -> list[str]:
    """The table: one row per command, one column per checkout, each figure with its ratio to
    ``python -c pass`` of the same checkout."""
    labels = list(dict.fromkeys(t.label for t in timings))
    bare = {t.label: t.median_ms for t in timings if t.case == CASES[0][0]}
    lines = ["start-up wall time, median ms (ratio to python -c pass)",
             f"  {'':<28}" + "".join(f"{label:>16}" for label in labels)]
    for case, _ in CASES:
        cells = []
        for label in labels:
            [t] = [t for t in timings if t.label == label and t.case == case]
            ratio = "" if case == CASES[0][0] else f" ({t.median_ms / bare[label]:.1f}x)"
            cells.append(f"{t.median_ms:.0f}{ratio}")
        lines.append(f"  {case:<28}" + "".join(f"{cell:>16}" for cell in cells))
    return lines


def bins_to_compare(before: str | None) -> dict[str, Path]:
    bins = {"now": HERE}
    before = before or os.environ.get("ROCKET_BENCH_BEFORE")
    if before:
        bin_dir = Path(before) / ".venv" / "bin"
        if (bin_dir / "rocket").exists():
            bins = {"before": bin_dir, **bins}
        else:
            print(f"(no {bin_dir / 'rocket'}: create that checkout's venv to compare)", file=sys.stderr)
    return bins


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup")
    parser.add_argument("--before", help="another checkout (with its .venv) to measure beside this one")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args(argv)
    print("\n".join(startup_lines(run_startup(bins_to_compare(args.before), args.runs))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
