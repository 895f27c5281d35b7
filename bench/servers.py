"""Start and stop the servers under test as subprocesses on 127.0.0.1 free ports."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ROCKET = str(Path(sys.executable).with_name("rocket"))
_DROP = ("GITHUB_", "SLACK_", "GCP_", "AWS_", "DATABASE_URL", "PORT", "GOOGLE_", "ROCKET_")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def clean_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without Rocket settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_DROP)}
    env["PYTHONPATH"] = str(REPO)
    env.update(extra)
    return env


def rocket_cli(args: Sequence[str], env: Mapping[str, str], cwd: Path,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run ``rocket ARGS``; raise with its output when it fails."""
    done = subprocess.run([ROCKET, *args], env=dict(env), cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"rocket {' '.join(args)} failed: {done.stderr[-2000:]}")
    return done


@contextmanager
def serving(argv: Sequence[str], port: int, env: Mapping[str, str], cwd: Path,
            log: Path, ready_path: str = "/healthz", timeout: float = 30,
            stop_seconds: float = 15) -> Iterator[str]:
    """Run ``argv`` (a server on ``port``) until the block ends; yields its base URL. At the end
    it gets SIGTERM, and SIGKILL if it has not exited within ``stop_seconds``."""
    base = f"http://127.0.0.1:{port}"
    with open(log, "wb") as out:
        proc = subprocess.Popen(list(argv), env=dict(env), cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(base + ready_path, timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{argv[0]} did not start: {log.read_text()[-2000:]}") from None
                time.sleep(0.1)
        yield base
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=stop_seconds)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
