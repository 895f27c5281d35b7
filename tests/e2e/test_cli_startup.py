"""`rocket serve` with a malformed setting stops before serving, with one line naming it."""

from __future__ import annotations

import pytest

from tests.support.cli import rocket


@pytest.mark.parametrize("env, variable", [
    ({"PORT": "abc"}, "PORT"),
    ({"ROCKET_SCHEDULER": "sometimes"}, "ROCKET_SCHEDULER"),
])
def test_serve_with_a_malformed_setting_is_one_line_and_serves_nothing(tmp_path, env, variable):
    result = rocket("serve", "--host", "127.0.0.1", "--workers", "2",
                    env={"DATABASE_URL": "memory://", **env}, cwd=tmp_path, timeout=30)
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"rocket: {variable}"), result.stderr
    assert "serving" not in result.stdout
