"""Issue 17 finding 5: quiet, informative test and install output."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SAMPLE = '''
import pytest

@pytest.mark.parametrize("n", range(4))
def test_real_mongodb(n):
    pytest.skip("MONGODB_TEST_URI is not set: no real MongoDB server to test against")

def test_other_skip():
    pytest.skip("something else entirely")

def test_passes():
    assert True
'''


def test_skipped_real_mongodb_runs_are_one_summary_line(tmp_path):
    sample = tmp_path / "test_sample.py"
    sample.write_text(SAMPLE)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-ra", "-p", "tests.conftest", "-p", "no:cacheprovider",
         str(sample)],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert not [line for line in out.splitlines() if line.startswith("SKIPPED") and "MONGODB" in line], out
    assert out.count("4 real-MongoDB tests skipped: set MONGODB_TEST_URI to run them") == 1, out
    assert re.search(r"SKIPPED \[1\] .*something else entirely", out), out  # other skips still listed
    assert "1 passed, 1 skipped, 4 skipped (no MONGODB_TEST_URI)" in out, out


def test_make_installs_quietly():
    makefile = (ROOT / "Makefile").read_text()
    installs = [line for line in makefile.splitlines() if "pip install" in line or "$(PIP)" in line]
    assert installs and all("$(PIP)" in line for line in installs if "\t" in line), installs
    [pip] = [line for line in makefile.splitlines() if line.startswith("PIP ")]
    assert "-q -q" in pip and "PIP_DISABLE_PIP_VERSION_CHECK=1" in pip
