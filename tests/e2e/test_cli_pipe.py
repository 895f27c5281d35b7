"""Issue 12, finding 10: ``rocket exec … | head`` and ``rocket db export | head`` end quietly.

The reader closes the pipe before (or while) Rocket writes; Rocket must exit 0 without a
BrokenPipeError traceback on stderr.
"""

from __future__ import annotations

import json
import os
import subprocess

from tests.support.cli import ROCKET, rocket


def _env(tmp_path) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "SLACK_", "GCP_", "AWS_", "DATABASE_URL", "PORT"))}
    return {**keep, "DATABASE_URL": f"sqlite:///{tmp_path / 'pipe.db'}"}


def _run_into_closed_pipe(args: list[str], env: dict[str, str], cwd, read: int) -> tuple[int, str]:
    """Run ``rocket ARGS``, read ``read`` bytes of its stdout, then close the pipe (as head does)."""
    proc = subprocess.Popen([ROCKET, *args], env=env, cwd=cwd, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    if read:
        proc.stdout.read(read)
    proc.stdout.close()
    stderr = proc.stderr.read().decode(errors="replace")
    return proc.wait(timeout=60), stderr


def test_db_export_into_head_exits_quietly(tmp_path) -> None:
    env = _env(tmp_path)
    people = [{"slack_id": f"U{i:05d}", "name": f"Person {i}", "bio": "x" * 200} for i in range(1500)]
    source = tmp_path / "many.json"
    source.write_text(json.dumps({"users": people, "teams": [], "projects": []}), encoding="utf-8")
    assert rocket("db", "import", str(source), env={"DATABASE_URL": env["DATABASE_URL"]},
                  cwd=tmp_path).returncode == 0
    code, stderr = _run_into_closed_pipe(["db", "export"], env, tmp_path, read=100)
    assert "BrokenPipeError" not in stderr and "Traceback" not in stderr, stderr
    assert code == 0


def test_exec_into_a_closed_pipe_exits_quietly(tmp_path) -> None:
    env = _env(tmp_path)
    code, stderr = _run_into_closed_pipe(["exec", "--as", "U1", "help"], env, tmp_path, read=0)
    assert "BrokenPipeError" not in stderr and "Traceback" not in stderr, stderr
    assert code == 0
