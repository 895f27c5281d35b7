"""Issue 17 must-show 3: the start-up bench prints `rocket --help` and `rocket exec --as U "help"`
beside `python -c pass`, for each checkout measured."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bench.startup import (
    CASES,
    HERE,
    WORK,
    Timing,
    bins_to_compare,
    count_instructions,
    instruction_lines,
    run_startup,
    startup_lines,
)


def test_the_table_has_every_command_for_every_checkout_with_ratios():
    # per checkout: python -c pass, --help, exec help, exec team list, the work
    figures = {"before": (50.0, 500.0, 1000.0, 1100.0, 90.0), "now": (40.0, 70.0, 120.0, 150.0, 90.0)}
    timings = [Timing(label, case, ms, ms) for label, values in figures.items()
               for (case, _), ms in zip(CASES, values, strict=True)]
    lines = startup_lines(timings)
    assert "load average" in lines[0]
    assert "before" in lines[1] and "now" in lines[1]
    assert "python -c pass" in lines[2] and lines[2].split()[-2:] == ["50", "40"]
    assert "rocket --help" in lines[3] and "500 (10.0x)" in lines[3] and "70 (1.8x)" in lines[3]
    assert 'rocket exec --as U "help"' in lines[4] and "1000 (20.0x)" in lines[4] and "120 (3.0x)" in lines[4]
    assert WORK in lines[6]
    # the target is python -c pass + the work: 140 before, 130 now
    [before] = [line for line in lines if line.strip().startswith("before: target")]
    [now] = [line for line in lines if line.strip().startswith("now: target")]
    assert "= 140 ms" in before and "rocket --help 500 NOT met" in before
    assert "= 130 ms" in now and "rocket --help 70 met" in now and '"help" 120 met' in now
    assert '"team list" 150 NOT met' in now


def test_a_real_run_measures_this_checkout(tmp_path):
    timings = run_startup({"now": HERE}, runs=1)
    assert [t.case for t in timings] == [case for case, _ in CASES]
    assert all(t.median_ms > 0 for t in timings)


def test_before_is_measured_only_when_that_checkout_has_its_venv(tmp_path):
    assert list(bins_to_compare(str(tmp_path))) == ["now"]
    bin_dir = tmp_path / ".venv" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "rocket").write_text("")
    assert bins_to_compare(str(tmp_path)) == {"before": Path(bin_dir), "now": HERE}


def test_the_instruction_table_applies_the_same_target() -> None:
    # per checkout: python -c pass, --help, exec help, exec team list, the work
    values = (90e6, 120e6, 340e6, 370e6, 275e6)
    counts = {("now", case): int(n) for (case, _), n in zip(CASES, values, strict=True)}
    lines = instruction_lines(counts)
    assert "instructions" in lines[0] and "now" in lines[1]
    assert lines[4].split()[-1] == "340.0"
    [verdict] = [line for line in lines if "target" in line]
    assert "= 365.0M" in verdict and "rocket --help 120.0M met" in verdict
    assert '"help" 340.0M met' in verdict and '"team list" 370.0M NOT met' in verdict


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="counting instructions needs valgrind")
def test_instructions_are_counted_for_every_command() -> None:
    counts = count_instructions({"now": HERE})
    assert sorted(case for _, case in counts) == sorted(case for case, _ in CASES)
    assert counts["now", CASES[0][0]] < counts["now", WORK]  # python -c pass does less than the work
