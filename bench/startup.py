"""Start-up cost (issue 17): wall time of ``python -c pass``, ``rocket --help`` and
``rocket exec --as U "help"``, for this checkout and, given ``--before DIR`` (or
``ROCKET_BENCH_BEFORE``), for another checkout with its own ``.venv`` (e.g. the code before:
``git worktree add ../wt-before d7fe717 --detach``, then ``make .venv/.installed`` there).

``python -m bench.startup [--before DIR] [--runs N]`` prints one table; each figure is the
median of N runs (default 11) after one warm-up run, in a temporary directory (no ``.env``) with
no integration configured, on the default backend (SQLite, ``rocket.db`` in that directory),
with Python's bytecode cache on (see ``_env``).

The target: each command at most 2x ``python -c pass`` plus the command's own work. "The work"
is measured too, as the smallest program doing what ``rocket exec`` must do: open a SQLite file
with aiosqlite under asyncio and read one row (``WORK_SCRIPT``); its cost beyond the bare
interpreter is ``work - python -c pass``, so the target is ``python -c pass + work`` (the
interpreter once, twice its start-up allowed, plus the work). ``rocket exec --as U "team list"``
shows a command that goes through the bus (the help needs no handlers).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

WORK_SCRIPT = (
    "import asyncio, aiosqlite\n"
    "async def main():\n"
    "    async with aiosqlite.connect('work.db') as db:\n"
    "        await db.execute('CREATE TABLE IF NOT EXISTS users (slack_id TEXT PRIMARY KEY, doc TEXT)')\n"
    "        async with db.execute('SELECT doc FROM users WHERE slack_id = ?', ('U0BENCH',)) as rows:\n"
    "            await rows.fetchone()\n"
    "asyncio.run(main())\n"
)
PASS = "python -c pass"
HELP = "rocket --help"
EXEC_HELP = 'rocket exec --as U "help"'
EXEC_LIST = 'rocket exec --as U "team list"'
WORK = "work: SQLite open + 1 read"
CASES = (
    (PASS, ["{python}", "-c", "pass"]),
    (HELP, ["{rocket}", "--help"]),
    (EXEC_HELP, ["{rocket}", "exec", "--as", "U0BENCH", "help"]),
    (EXEC_LIST, ["{rocket}", "exec", "--as", "U0BENCH", "team", "list"]),
    (WORK, ["{python}", "-c", WORK_SCRIPT]),
)
TARGETED = (HELP, EXEC_HELP, EXEC_LIST)  # the commands the target applies to
HERE = Path(sys.executable).parent


@dataclass(frozen=True)
class Timing:
    label: str
    case: str
    median_ms: float
    best_ms: float


def _env() -> dict[str, str]:
    """No integration, the default database (``sqlite:///rocket.db`` in the working directory),
    and Python's default bytecode cache: ``PYTHONDONTWRITEBYTECODE`` (set in some CI and
    container shells) is dropped, so the warm-up round writes ``__pycache__`` as an operator's
    first run does, instead of every run compiling the checkout's modules again."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "SLACK_", "GCP_", "AWS_", "DATABASE_URL", "PORT", "ROCKET_",
                                "PYTHONDONTWRITEBYTECODE"))}
    env["ROCKET_SCHEDULER"] = "off"
    return env


def _once(argv: list[str], cwd: str, env: dict[str, str]) -> float:
    """Wall time of one run of ``argv`` in milliseconds; a failing run raises."""
    started = time.perf_counter()
    subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                   check=True, timeout=60)
    return (time.perf_counter() - started) * 1000


def time_case(argv: list[str], runs: int, cwd: str) -> tuple[float, float]:
    """(median, best) wall time of ``argv`` in milliseconds; a failing run raises."""
    env = _env()
    _once(argv, cwd, env)  # the first run warms the file cache
    samples = [_once(argv, cwd, env) for _ in range(runs)]
    return statistics.median(samples), min(samples)


def run_startup(bins: dict[str, Path], runs: int = 11) -> list[Timing]:
    """Timings for each labelled ``bin`` directory (holding ``python`` and ``rocket``), each
    checkout in its own empty directory (its own ``rocket.db``). The runs are interleaved (one
    of every command of every checkout per round), so a change of the machine's load during
    the bench weighs on every figure alike."""
    env = _env()
    with tempfile.TemporaryDirectory(prefix="rocket-startup-") as tmp:
        jobs = []
        for label, bin_dir in bins.items():
            cwd = Path(tmp) / label
            cwd.mkdir()
            for case, template in CASES:
                argv = [a.format(python=bin_dir / "python", rocket=bin_dir / "rocket") for a in template]
                jobs.append((label, case, argv, str(cwd)))
        samples: dict[tuple[str, str], list[float]] = {(label, case): [] for label, case, _, _ in jobs}
        for round_ in range(runs + 1):
            for label, case, argv, cwd in jobs:
                ms = _once(argv, cwd, env)
                if round_:  # the first round warms the file cache and creates rocket.db
                    samples[label, case].append(ms)
    return [Timing(label, case, statistics.median(ms), min(ms)) for (label, case), ms in samples.items()]


def startup_lines(timings: list[Timing]) -> list[str]:
    """The table: one row per command, one column per checkout, each figure with its ratio to
    ``python -c pass`` of the same checkout."""
    labels = list(dict.fromkeys(t.label for t in timings))
    bare = {t.label: t.median_ms for t in timings if t.case == CASES[0][0]}
    lines = [f"start-up wall time, median ms of each run (ratio to {PASS}); load average after: {_load()}",
             f"  {'':<32}" + "".join(f"{label:>16}" for label in labels)]
    for case, _ in CASES:
        cells = []
        for label in labels:
            [t] = [t for t in timings if t.label == label and t.case == case]
            ratio = "" if case == PASS else f" ({t.median_ms / bare[label]:.1f}x)"
            cells.append(f"{t.median_ms:.0f}{ratio}")
        lines.append(f"  {case:<32}" + "".join(f"{cell:>16}" for cell in cells))
    return lines + target_lines(timings)


def target_lines(timings: list[Timing]) -> list[str]:
    """Per checkout: the target (``python -c pass`` + the work) and whether each command meets it."""
    lines = []
    for label in dict.fromkeys(t.label for t in timings):
        of = {t.case: t.median_ms for t in timings if t.label == label}
        if PASS not in of or WORK not in of:
            continue
        target = of[PASS] + of[WORK]
        verdicts = ", ".join(f"{case} {of[case]:.0f} {'met' if of[case] <= target else 'NOT met'}"
                             for case in TARGETED if case in of)
        lines.append(f"  {label}: target 2x {PASS} + the work ({of[WORK] - of[PASS]:.0f}) = {target:.0f} ms: "
                     f"{verdicts}")
    return lines


def count_instructions(bins: dict[str, Path]) -> dict[tuple[str, str], int]:
    """Instructions of one run of each command of each checkout, counted by callgrind (after a
    plain warm-up run, in a fresh empty directory per checkout): the same figure on every run,
    whatever the machine's load, where the wall times above move by several milliseconds."""
    from bench.instructions import collected

    env = _env()
    counts: dict[tuple[str, str], int] = {}
    with tempfile.TemporaryDirectory(prefix="rocket-startup-ir-") as tmp:
        for label, bin_dir in bins.items():
            cwd = Path(tmp) / label
            cwd.mkdir()
            for case, template in CASES:
                argv = [a.format(python=bin_dir / "python", rocket=bin_dir / "rocket") for a in template]
                _once(argv, str(cwd), env)
                counted = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *argv]
                done = subprocess.run(counted, env=env, cwd=cwd, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE, text=True, check=True, timeout=600)
                counts[label, case] = collected(done.stderr)
    return counts


def instruction_lines(counts: dict[tuple[str, str], int]) -> list[str]:
    """The instruction counts, one row per command, and the same target as the wall times'."""
    labels = list(dict.fromkeys(label for label, _ in counts))
    lines = ["start-up instructions (callgrind, one run each; millions)",
             f"  {'':<32}" + "".join(f"{label:>16}" for label in labels)]
    for case, _ in CASES:
        lines.append(f"  {case:<32}" + "".join(f"{counts[label, case] / 1e6:>16.1f}" for label in labels))
    for label in labels:
        target = counts[label, PASS] + counts[label, WORK]
        verdicts = ", ".join(
            f"{case} {counts[label, case] / 1e6:.1f}M {'met' if counts[label, case] <= target else 'NOT met'}"
            for case in TARGETED)
        lines.append(f"  {label}: target {PASS} + the work = {target / 1e6:.1f}M: {verdicts}")
    return lines


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


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
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--instructions", action="store_true",
                        help="also count each command's instructions with callgrind (needs valgrind)")
    args = parser.parse_args(argv)
    print(f"load average before the runs: {_load()} ({os.cpu_count()} CPUs)", flush=True)
    bins = bins_to_compare(args.before)
    print("\n".join(startup_lines(run_startup(bins, args.runs))), flush=True)
    if args.instructions:
        if shutil.which("valgrind") is None:
            print("start-up instructions: valgrind is not installed (apt-get install valgrind); skipped")
        else:
            print("\n".join(instruction_lines(count_instructions(bins))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
