"""Issue 17, the first ten minutes: each finding as a test (README steps: tests/e2e/test_readme.py).

- 2: ``rocket serve`` (what ``make run`` runs) listens on 127.0.0.1 only, and prints one
  "Running on" line;
- 3: ``GET /`` names the variables that turn each off integration on, and for one that is on
  whether its last call worked, never a secret;
- 4: ``rocket slack-manifest`` without ``--url`` is one clear line;
- 6: ``rocket --help`` imports none of the heavy parts (pydantic, dependency_injector, asyncio,
  the adapters), and ``rocket exec`` not the web app, Hypercorn or the integrations' clients.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from entrypoints.config import load_config
from entrypoints.container import make_container, resolved_ports
from entrypoints.http import create_app
from tests.e2e.conftest import rocket_env
from tests.support.cli import ROCKET, rocket

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def non_loopback_ipv4() -> str | None:
    """An IPv4 address of this machine that is not 127.x, if it has one."""
    candidates: set[str] = set()
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent: this only picks the outgoing interface
            candidates.add(s.getsockname()[0])
    except OSError:
        pass
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
        candidates.update(str(info[4][0]) for info in infos)
    except OSError:
        pass
    return next((a for a in sorted(candidates) if not a.startswith("127.") and a != "0.0.0.0"), None)


def listening_addresses(port: int) -> set[str]:
    """The local IPv4 addresses listening on ``port`` (from /proc/net/tcp, Linux)."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        address, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            found.add(socket.inet_ntoa(bytes.fromhex(address)[::-1]))
    return found


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "SLACK_", "GCP_", "AWS_", "DATABASE_URL", "PORT"))}
    return {**env, **extra}


def wait_healthy(url: str, process: subprocess.Popen[str], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the server exited: {process.communicate()[0]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within {seconds} s")


def test_make_run_is_rocket_serve_without_a_host():
    recipe = re.search(r"^run:.*\n\t(.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert recipe and recipe[1].split() == ["$(BIN)/rocket", "serve"]


def test_rocket_serve_listens_on_loopback_only_and_says_running_on_once(tmp_path):
    port = free_port()
    process = subprocess.Popen(
        [ROCKET, "serve"], cwd=tmp_path, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        env=clean_env(DATABASE_URL="memory://", ROCKET_SCHEDULER="off", PORT=str(port)),
        start_new_session=True,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/healthz", process)
        other = non_loopback_ipv4()
        if other is not None:
            with socket.socket() as s, pytest.raises(OSError):  # refused: nothing listens there
                s.settimeout(3)
                s.connect((other, port))
        assert listening_addresses(port) == {"127.0.0.1"}
    finally:
        os.killpg(process.pid, signal.SIGINT)
        output = process.communicate(timeout=30)[0]
    running = [line for line in output.splitlines() if "Running on" in line]
    assert len(running) == 1 and f"http://127.0.0.1:{port}" in running[0], output


def test_slack_manifest_without_url_is_one_clear_line(tmp_path):
    result = rocket("slack-manifest", cwd=tmp_path, timeout=30)
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("rocket: --url is missing")
    assert "https://" in lines[0] and "--socket" in lines[0]
    assert "None" not in lines[0]


async def status_page(app) -> str:
    async with app.test_app() as test_app:
        return (await (await test_app.test_client().get("/")).get_data()).decode()


async def test_status_page_names_the_variables_that_turn_each_integration_on(tmp_path):
    env = {"DATABASE_URL": "memory://", "ROCKET_SCHEDULER": "off", "GITHUB_ORG_NAME": "acme"}
    page = await status_page(create_app(make_container(load_config(env))))
    assert "GitHub: off; set GITHUB_APP_ID, GITHUB_KEY to turn it on" in page  # the org is already set
    assert "Slack: off; set SLACK_API_TOKEN, SLACK_SIGNING_SECRET to turn it on" in page
    assert "Google Drive: off; set GCP_SERVICE_ACCOUNT_CREDENTIALS to turn it on" in page


async def test_status_page_says_whether_the_last_call_worked_and_no_secret(
    tmp_path, github_env, github_standin, slack_standin
):
    env = rocket_env(tmp_path, github_env, slack_standin)
    container = make_container(load_config(env))
    app = create_app(container)
    async with app.test_app() as test_app:
        client = test_app.test_client()

        async def page() -> str:
            return (await (await client.get("/")).get_data()).decode()

        assert "GitHub: on, no call yet" in await page()
        github = (await resolved_ports(container)).github
        await github.list_teams()
        assert re.search(r"GitHub: on, last call worked \(\d\d:\d\d:\d\d UTC\)", await page())
        github_standin.fail_next("GET /orgs", 502, times=50)
        with pytest.raises(Exception, match="could not be reached"):
            await github.list_teams()
        text = await page()
        failed = r"GitHub: on, last call failed \(\d\d:\d\d:\d\d UTC\): GitHub could not be reached"
        assert re.search(failed, text)
        assert "Slack: on, no call yet" in text
        for name, value in env.items():
            if any(word in name for word in ("KEY", "SECRET", "TOKEN")) and len(value) > 8:
                assert value not in text and value.replace("\n", "\\n") not in text, name


HEAVY_FOR_HELP = ("asyncio", "pydantic", "pydantic_settings", "dependency_injector", "entrypoints.settings",
                  "core.commands", "quart", "hypercorn", "github", "slack_sdk", "googleapiclient", "aiohttp")
# exec without integrations takes the fast path (entrypoints/quick.py): no settings library, no
# container, no web stack, no clients (tests/e2e/test_exec_fast_path.py checks it on SQLite too).
HEAVY_FOR_EXEC = ("pydantic", "pydantic_settings", "dependency_injector", "werkzeug", "yaml", "quart",
                  "hypercorn", "slack_bolt", "slack_sdk", "github", "googleapiclient", "aiohttp", "aioboto3",
                  "pymongo")


def imported_after(argv: list[str], tmp_path: Path) -> set[str]:
    """The top-level modules imported by ``rocket ARGV`` (run in a fresh interpreter)."""
    script = (
        "import sys\n"
        "from entrypoints.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('MODULES', ' '.join(sorted(sys.modules)), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
                            env=clean_env(DATABASE_URL="memory://", ROCKET_SCHEDULER="off"), timeout=60)
    [line] = [line for line in result.stderr.splitlines() if line.startswith("MODULES ")]
    return set(line.split()[1:])


def test_rocket_help_imports_none_of_the_heavy_parts(tmp_path):
    modules = imported_after(["--help"], tmp_path)
    assert "argparse" in modules and "entrypoints.cli" in modules  # the measure works
    assert sorted(m for m in HEAVY_FOR_HELP if m in modules) == []


def test_rocket_exec_imports_only_what_its_command_uses(tmp_path):
    modules = imported_after(["exec", "--as", "U1", "help"], tmp_path)
    assert "entrypoints.commands.dispatch" in modules  # it ran the command
    assert sorted(m for m in HEAVY_FOR_EXEC if m in modules) == []
