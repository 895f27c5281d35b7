"""The served app freezes its start-up objects out of the garbage collector's full passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import gc
import entrypoints.asgi
frozen = gc.get_freeze_count()
tracked = len(gc.get_objects())
print(frozen, tracked)
"""


def test_importing_the_asgi_app_freezes_start_up_objects(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "SLACK_", "GCP_", "GOOGLE_", "AWS_", "DATABASE_URL"))}
    env.update(PYTHONPATH=str(ROOT), DATABASE_URL="memory://", ROCKET_SCHEDULER="off")
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60, check=True)
    frozen, tracked = map(int, done.stdout.split())
    assert frozen > 10_000  # the modules and app built at import
    assert tracked < frozen / 5  # what a full collection still walks
