"""bench.instructions: the figures it derives from callgrind's counts, and its in-process driver."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.instructions import LARGE, SMALL, Job, collected, per_request, report

ROOT = Path(__file__).resolve().parents[2]


def test_the_count_is_read_from_callgrinds_exit_lines() -> None:
    out = ("==123== Events    : Ir\n==123== Collected : 4159368113\n==123==\n"
           "==123== I   refs:      4,159,368,113\n")
    assert collected(out) == 4_159_368_113
    with pytest.raises(RuntimeError, match="no count"):
        collected("==123== valgrind: failed to start tool\n")


def test_per_request_is_the_difference_of_the_two_runs() -> None:
    small, large = 5_000_000_000, 5_000_000_000 + (LARGE - SMALL) * 2_500_000
    assert per_request(small, large) == 2_500_000


def test_the_report_gives_ratios_the_audit_share_and_the_change_against_before() -> None:
    here, old = Path("/here"), Path("/old")
    figures = {Job("baseline", "baseline", "user edit", here): 1_000_000.0,
               Job("rocket", "rocket", "user edit", here): 2_200_000.0,
               Job("unaudited", "unaudited", "user edit", here): 2_000_000.0,
               Job("before", "rocket", "user edit", old): 1_600_000.0}
    [head, base, row] = report(figures, ("user edit",))
    assert "instructions per request" in head and "1.000M" in base
    assert "rocket 2.200M (0.45)" in row and "unaudited 2.000M (0.50)" in row
    assert "before 1.600M (0.62)" in row
    assert "audit adds 10.0%" in row and "vs before +37.5%" in row


def test_the_driver_serves_signed_commands_in_process_and_checks_each_answer(tmp_path: Path) -> None:
    """Without valgrind: a few requests of each app; a non-200 answer would make it exit non-zero."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DATABASE_URL", "ROCKET_"))}
    env["PYTHONPATH"] = str(ROOT)
    for app, command in (("rocket", "user edit"), ("unaudited", "karma ++"), ("baseline", "user view")):
        argv = [sys.executable, str(ROOT / "bench" / "instructions.py"), "--drive", app, command, "3"]
        done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize(("app", "command"), [("rocket", "user edit"), ("unaudited", "karma ++"),
                                              ("baseline", "user view")])
def test_the_http_mode_serves_a_real_server_and_checks_every_answer(app: str, command: str) -> None:
    """Without valgrind (an empty wrapper): the server of each app gets 5 signed commands over
    HTTP, each answered as expected, and exits cleanly when stopped."""
    from bench.instructions import serve_and_load

    output = serve_and_load(Job(app, app, command, ROOT, http=True), 5, [], start_seconds=60)
    assert "Traceback" not in output



def test_a_load_run_counts_only_when_every_command_got_its_answer() -> None:
    from bench.instructions import wrong_answers
    from bench.load import LevelResult

    good = LevelResult(statuses=[200, 200], replies=["Gave UT one karma", "Gave UT one karma"])
    assert wrong_answers(good, 2, "Gave UT") == ""
    failed = LevelResult(statuses=[200, 503], replies=["Gave UT", ""])
    wrong = LevelResult(statuses=[200, 200], replies=["Gave UT", "Sorry"])
    assert "1 of 2" in wrong_answers(failed, 2, "Gave UT")
    assert "1 of 2" in wrong_answers(wrong, 2, "Gave UT")
    assert "0 of 2" in wrong_answers(LevelResult(), 2, "Gave UT")
