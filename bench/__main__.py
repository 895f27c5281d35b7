"""``python -m bench`` (``make bench``): every measurement of issues 7 and 19 in one bounded run.

Prints the machine and versions, the HTTP table (Rocket vs the baseline, with the load
average around it: judge by the ratios of one run, not by absolute figures on a busy
machine), the burst, storage requests per command on every backend, team refresh, export
figures, and whether each target of issues 7 and 19 is met. Runs on 127.0.0.1 only.
Issue 15's sections follow: scale (1k -> 50k users), ``user view`` p99 during back-to-back
``export emails`` at 50k users, and ``rocket db import`` on DynamoDB (moto) before/after at
2,000 users (``python -m bench.import_bench`` for the 50,000 of the issue: many minutes).
"""

from __future__ import annotations

import importlib.metadata
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

from bench.export_bench import run_export
from bench.http_bench import run_http
from bench.import_bench import MAKE_BENCH_USERS, import_lines, run_import
from bench.interference_bench import interference_lines, run_interference
from bench.refresh_bench import github_env, run_refresh
from bench.report import (
    audit_cost_lines,
    burst_lines,
    export_lines,
    http_table,
    refresh_lines,
    targets,
    targets_19,
)
from bench.requests_bench import requests_lines, run_requests
from bench.scale_bench import run_scale, scale_lines
from bench.startup import bins_to_compare, count_instructions, instruction_lines, run_startup, startup_lines
from tests.support.github_fixtures import APP_ID, ORG, make_app_key
from tests.support.github_standin import GitHubStandIn
from tests.support.slack_standin import SlackStandIn

REFRESH_CASES = ((200, 5), (200, 25))


def header() -> list[str]:
    versions = ", ".join(f"{p} {importlib.metadata.version(p)}"
                         for p in ("hypercorn", "quart", "aiohttp", "slack-sdk", "PyGithub", "aiosqlite"))
    return [f"os.cpu_count() = {os.cpu_count()}; Python {platform.python_version()} "
            f"({platform.python_implementation()}) on {platform.system()} {platform.machine()}",
            f"versions: {versions}", f"load average before the run: {_load()}"]


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    started = time.perf_counter()
    print("\n".join(header()), flush=True)
    bins = bins_to_compare(None)
    print("\n" + "\n".join(startup_lines(run_startup(bins))), flush=True)
    if shutil.which("valgrind") is not None:  # the same target, counted without the noise
        print("\n".join(instruction_lines(count_instructions(bins))), flush=True)
    key = make_app_key()
    with tempfile.TemporaryDirectory(prefix="rocket-bench-") as tmp:
        workdir = Path(tmp)
        load_before = _load()
        with GitHubStandIn(key.public_pem, app_id=APP_ID, org=ORG) as github, SlackStandIn() as slack:
            http = run_http(workdir, {**github_env(github, key), **slack.env()})
        print(f"\nload average before / after the HTTP rounds: {load_before} / {_load()}")
        tables = http_table(http) + [""] + burst_lines(http) + [""] + audit_cost_lines(http)
        print("\n".join(tables), flush=True)
        counts = run_requests(workdir)
        print("\n" + "\n".join(requests_lines(counts)), flush=True)
        refresh = run_refresh(workdir, key, REFRESH_CASES)
        print("\n" + "\n".join(refresh_lines(refresh)), flush=True)
        export = run_export(workdir)
        print("\n" + "\n".join(export_lines(export)), flush=True)
        print("\n" + "\n".join(scale_lines(run_scale(workdir))), flush=True)
        print("\n" + "\n".join(interference_lines(run_interference(workdir))), flush=True)
        print("\n" + "\n".join(import_lines(run_import(workdir, MAKE_BENCH_USERS))), flush=True)
    print("\n" + "\n".join(targets(http, refresh, export)))
    print("\n" + "\n".join(targets_19(http, counts)))
    print(f"\nbench finished in {time.perf_counter() - started:.0f} s; load average now {_load()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
