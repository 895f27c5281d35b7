"""A DynamoDB-compatible server that indexes, for the scale bench: dynalite (npm, LevelDB).

moto answers every ``Query`` by walking its whole table, so it cannot show whether a command's
latency grows with the directory; dynalite keeps items in LevelDB ordered by key, so a Query
reads one partition, as DynamoDB does. ``dynalite_server()`` starts it in memory on a free
127.0.0.1 port and yields its URL. It needs Node.js: the package is installed once with npm
into ``~/.cache/rocket-bench/dynalite`` (``ROCKET_BENCH_DYNALITE`` names an existing
``dynalite`` executable instead). ``available()`` says whether it can run here.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

VERSION = "4.0.0"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "rocket-bench" / "dynalite"


def _executable() -> Path | None:
    named = os.environ.get("ROCKET_BENCH_DYNALITE")
    if named:
        return Path(named)
    installed = CACHE / "node_modules" / ".bin" / "dynalite"
    if installed.exists():
        return installed
    if not (shutil.which("npm") and shutil.which("node")):
        return None
    CACHE.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["npm", "install", "--prefix", str(CACHE), "--no-audit", "--no-fund",
                           f"dynalite@{VERSION}"], capture_output=True, text=True, timeout=300, check=False)
    return installed if done.returncode == 0 and installed.exists() else None


def available() -> bool:
    """Whether dynalite is installed or installable (Node.js and npm on PATH)."""
    return _executable() is not None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def dynalite_server() -> Iterator[str]:
    """An in-memory dynalite on 127.0.0.1 until the block ends; yields its endpoint URL."""
    exe = _executable()
    if exe is None:
        raise RuntimeError("dynalite needs Node.js and npm (or ROCKET_BENCH_DYNALITE)")
    port = _free_port()
    proc = subprocess.Popen([str(exe), "--host", "127.0.0.1", "--port", str(port), "--createTableMs", "0",
                             "--deleteTableMs", "0", "--updateTableMs", "0"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("dynalite did not start") from None
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
