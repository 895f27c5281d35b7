"""Run the installed ``rocket`` console script as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROCKET = str(Path(sys.executable).with_name("rocket"))


def rocket(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``rocket ARGS`` with ``env`` added to a clean copy of the environment."""
    full_env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GITHUB_", "SLACK_", "GCP_", "AWS_", "DATABASE_URL", "PORT"))
    }
    full_env.update(env or {})
    return subprocess.run(
        [ROCKET, *args], env=full_env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )
