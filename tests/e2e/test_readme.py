"""Issue 17 must-show 1: the README's shell blocks, run in order on a clean copy, all succeed.

The marking convention (README, "Checking these steps"): every ```` ```sh ```` block runs with
``bash -e`` in the copy's folder; an HTML comment on the line before a block marks it:
``<!-- readme-check: server -->`` (started in the background with ``PORT`` free, waited for on
``/healthz``, stopped at the end) or ``<!-- readme-check: skip (REASON) -->``.

The full run (a fresh ``.venv`` is created by ``make``: minutes) happens with
``ROCKET_CHECK_README=1``, which ``make check-readme`` sets; the parsing tests always run.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.test_newcomer import free_port, listening_addresses

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
BLOCK = re.compile(
    r"(?:^[ \t]*<!--\s*readme-check:\s*(?P<mark>server|skip)(?P<why>[^>]*)-->[ \t]*\n(?:[ \t]*\n)*)?"
    r"^(?P<indent>[ \t]*)```sh[ \t]*\n(?P<code>.*?)^(?P=indent)```[ \t]*$",
    re.M | re.S,
)
STEP_TIMEOUT = 900  # the first `make` creates .venv and installs Rocket
SERVER_TIMEOUT = 300


@dataclass(frozen=True)
class Block:
    line: int
    kind: str  # "run", "server" or "skip"
    code: str
    why: str = ""


def readme_blocks(text: str) -> list[Block]:
    """Every ```` ```sh ```` block of ``text``, in order, with its mark."""
    blocks = []
    for m in BLOCK.finditer(text):
        indent = m["indent"]
        code = "\n".join(line.removeprefix(indent) for line in m["code"].splitlines())
        line = text.count("\n", 0, m.start("indent")) + 1
        blocks.append(Block(line, m["mark"] or "run", code, (m["why"] or "").strip()))
    return blocks


def test_every_sh_block_is_found_and_marked():
    text = README.read_text(encoding="utf-8")
    blocks = readme_blocks(text)
    assert len(blocks) == len(re.findall(r"^[ \t]*```sh[ \t]*$", text, re.M)), "a block was missed"
    for block in blocks:
        if block.kind == "skip":
            assert block.why.startswith("(") and block.why.endswith(")"), f"line {block.line}: say why"
        else:
            assert "docker" not in block.code, f"line {block.line} needs Docker: mark it skip"
    servers = [b for b in blocks if b.kind == "server"]
    assert [b.code.strip() for b in servers] == ["make run"]
    run = "\n".join(b.code for b in blocks if b.kind == "run")
    assert "make manifest URL=https://" in run and "make admin ID=" in run and "rocket exec" in run


def test_the_marks_are_read_as_written():
    text = (
        "<!-- readme-check: skip (needs Docker) -->\n```sh\ndocker ps\n```\n\n"
        "   <!-- readme-check: server -->\n   ```sh\n   make run\n   ```\n"
        "```sh\necho one\necho two\n```\n"
    )
    assert readme_blocks(text) == [
        Block(2, "skip", "docker ps", "(needs Docker)"),
        Block(7, "server", "make run"),
        Block(10, "run", "echo one\necho two"),
    ]


def clean_copy(target: Path) -> Path:
    """The files git would give a fresh clone of this working tree (tracked, plus new files
    not ignored): no .venv, no .env, no database."""
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT,
                            capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def newcomer_env(port: int) -> dict[str, str]:
    """A shell as a newcomer has it: no Rocket settings, and not this test run's venv on PATH."""
    ours = str(Path(sys.executable).parent)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "SLACK_", "GCP_", "AWS_", "DATABASE_URL", "PORT", "ROCKET_",
                                "VIRTUAL_ENV", "PYTEST", "MAKE"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != ours)
    env["PORT"] = str(port)
    return env


@pytest.mark.skipif(os.environ.get("ROCKET_CHECK_README") != "1",
                    reason="the README run creates a fresh .venv: `make check-readme`")
def test_the_readme_steps_work_as_written_on_a_clean_copy(tmp_path):
    clone = clean_copy(tmp_path / "rocket")
    port = free_port()
    env = newcomer_env(port)
    servers: list[tuple[Block, subprocess.Popen[str]]] = []
    try:
        for block in readme_blocks(README.read_text(encoding="utf-8")):
            if block.kind == "skip":
                continue
            if block.kind == "server":
                process = subprocess.Popen(["bash", "-e", "-c", block.code], cwd=clone, env=env, text=True,
                                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                           start_new_session=True)
                servers.append((block, process))
                wait_for(f"http://127.0.0.1:{port}/healthz", process, block)
                assert listening_addresses(port) == {"127.0.0.1"}
                continue
            result = subprocess.run(["bash", "-e", "-c", block.code], cwd=clone, env=env, text=True,
                                    capture_output=True, timeout=STEP_TIMEOUT)
            assert result.returncode == 0, (
                f"README line {block.line}: exit {result.returncode}\n{block.code}\n"
                f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
            )
            assert "Traceback" not in result.stderr, result.stderr
        assert servers, "the README starts no server"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            page = response.read().decode()
        assert "GitHub: off; set GITHUB_APP_ID, GITHUB_KEY, GITHUB_ORG_NAME to turn it on" in page
        assert (clone / "manifest.json").is_file() and (clone / ".venv" / "bin" / "rocket").is_file()
    finally:
        outputs = []
        for _block, process in servers:
            os.killpg(process.pid, signal.SIGINT)  # the process group this test started
            try:
                outputs.append(process.communicate(timeout=30)[0])
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                outputs.append(process.communicate()[0])
    for output in outputs:
        running = [line for line in output.splitlines() if "Running on" in line]
        assert len(running) == 1, output
        assert "Traceback" not in output, output


def wait_for(url: str, process: subprocess.Popen[str], block: Block) -> None:
    deadline = time.monotonic() + SERVER_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"README line {block.line}: the server exited\n{process.communicate()[0]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"README line {block.line}: {url} did not answer within {SERVER_TIMEOUT} s")
