"""Instructions per request, counted by Valgrind's callgrind: a cost figure without the noise.

The HTTP rounds of ``make bench`` move by ±25% between runs on a shared 2-core VM (steal time,
other processes), so a claim such as "within 10%" needs many interleaved runs. This bench counts
the instructions the process executes instead, which the rest of the machine does not move. A
read (``user view``) gives the same count to 0.2% run after run; a write moves by up to 3% (over
HTTP, ``karma ++``: 2.859M, 2.938M, 2.944M, 2.945M in four runs of one commit), because how many
concurrent writes share a SQLite batch (adapters/sqlite/writer.py) depends on timing. String
hashing is seeded alike in every run (``PYTHONHASHSEED=0``), and in-process the inline budget is
lifted and every reply checked, so no request is counted on the "Working on it…" path (under
callgrind 32 requests in flight can take longer than the 2 s budget).

What is counted: one Python process serves ``/rocket`` commands to an app in-process through
ASGI (no Hypercorn, no sockets: those are the same for every app and are left out), 32 at a
time, with Slack-signed bodies as the HTTP bench sends them, on a SQLite file holding the HTTP
bench's 1,000 users. Each figure is ``(Ir(400 requests) - Ir(100 requests)) / 300``: start-up,
imports and the warm-up cancel out. The apps:

- ``baseline``: the bare Quart app of ``bench.baseline`` (verifies the signature, answers "ok");
- ``rocket``: ``entrypoints.asgi:app``, what ``rocket serve`` serves;
- ``unaudited``: the same minus the audit trail (``bench.unaudited``), for the audit's share;
- with ``--before DIR``: ``rocket`` of another checkout with its own ``.venv`` (e.g. d7fe717).

``--http``: the same figures over HTTP, as ``make bench`` serves them: each app is a real server
process (``rocket serve``; ``python -m bench.baseline`` / ``bench.unaudited``) run under callgrind,
and this process sends it the same signed commands through ``bench.load`` (aiohttp, 32 at a time).
Only the server's instructions are counted, Hypercorn and h11 included, the client's not: the
figure req/s would follow on a server that is the bottleneck, without the noise.

``python -m bench.instructions [--http] [--before DIR] [--commands "user view" ...]`` (``make
bench-instructions``, which runs both modes) needs ``valgrind`` on PATH (Debian: ``apt-get
install valgrind``); each
pair of runs takes about a minute and a half, two run at a time. Without valgrind it says so
and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SMALL, LARGE = 100, 400  # requests per run; the figure is the difference per request
CONCURRENCY = 32
SECRET = "bench-slack-signing-secret"
COMMANDS = ("user view", "user edit", "karma ++")
AUDITED = ("user edit", "karma ++")
_COLLECTED = re.compile(r"Collected : (\d+)")


@dataclass(frozen=True)
class Job:
    """One figure to measure: ``app`` of the checkout at ``root`` serving ``command``."""

    label: str  # the row's name: "baseline", "rocket", "unaudited", "before"
    app: str  # "baseline", "rocket" or "unaudited"
    command: str
    root: Path
    http: bool = False  # served by a server process over HTTP (else in-process through ASGI)


def collected(valgrind_output: str) -> int:
    """The instruction count callgrind reports at exit (``Collected : N``)."""
    match = _COLLECTED.search(valgrind_output)
    if match is None:
        raise RuntimeError(f"callgrind printed no count: {valgrind_output[-500:]!r}")
    return int(match.group(1))


def per_request(small: int, large: int) -> float:
    """Instructions per request from the counts of the SMALL- and LARGE-request runs."""
    return (large - small) / (LARGE - SMALL)


def _count(job: Job, requests: int) -> int:
    if job.http:
        return collected(serve_and_load(job, requests, ["valgrind", "--tool=callgrind",
                                                        "--callgrind-out-file=/dev/null"]))
    python = job.root / ".venv" / "bin" / "python"
    with tempfile.TemporaryDirectory(prefix="rocket-ir-") as tmp:
        done = subprocess.run(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/callgrind.out", str(python),
             __file__, "--drive", job.app, job.command, str(requests)],
            cwd=job.root, env=_env(job.root), capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{job.label} {job.command}: exit {done.returncode}: {done.stderr[-800:]}")
    return collected(done.stderr)


def _env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GITHUB_", "SLACK_", "GCP_", "GOOGLE_", "AWS_", "DATABASE_URL", "ROCKET_"))}
    env["PYTHONPATH"] = str(root)
    env["PYTHONHASHSEED"] = "0"  # the same dict and set layouts, so the same count, run after run
    return env


def server_argv(job: Job, port: int) -> list[str]:
    """The server of ``job`` on 127.0.0.1:``port``, from its checkout's ``.venv``."""
    bin_dir = job.root / ".venv" / "bin"
    if job.app == "rocket":
        return [str(bin_dir / "rocket"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    return [str(bin_dir / "python"), "-m", f"bench.{job.app}", "--port", str(port)]


def serve_and_load(job: Job, requests: int, wrapper: list[str], start_seconds: float = 900) -> str:
    """Start ``job``'s server under ``wrapper`` (callgrind; ``[]`` in tests) on the HTTP bench's
    1,000 users, send it ``requests`` signed commands 32 at a time, stop it (SIGTERM: a clean
    exit, so callgrind writes its count) and return what the server printed. Raises unless
    every command got its expected answer."""
    from bench.http_bench import COMMANDS as MAKE
    from bench.http_bench import EXPECT, write_users
    from bench.load import run_level
    from bench.servers import free_port, serving

    with tempfile.TemporaryDirectory(prefix="rocket-ir-http-") as tmp:
        work = Path(tmp)
        env = {**_env(job.root), "DATABASE_URL": f"sqlite:///{work / 'rocket.db'}",
               "SLACK_SIGNING_SECRET": SECRET, "BENCH_SLACK_SECRET": SECRET, "ROCKET_SCHEDULER": "off"}
        if job.app != "baseline":
            write_users(work / "users.json")
            rocket = str(job.root / ".venv" / "bin" / "rocket")
            subprocess.run([rocket, "db", "import", str(work / "users.json")],
                           env=env, cwd=work, check=True, capture_output=True, timeout=300)
        port, log = free_port(), work / "server.log"
        # under callgrind: slow to start, and to exit (SIGTERM: a clean exit writes the count)
        with serving([*wrapper, *server_argv(job, port)], port, env, work, log, timeout=start_seconds,
                     stop_seconds=600) as base:
            load = run_level(f"{base}/slack/commands", SECRET, MAKE[job.command], CONCURRENCY, requests,
                             timeout=300)
            result = asyncio.run(load)
        output = log.read_text(errors="replace")
    problem = wrong_answers(result, requests, "ok" if job.app == "baseline" else EXPECT[job.command])
    if problem:
        raise RuntimeError(f"{job.label} {job.command} over HTTP: {problem}: {output[-800:]}")
    return output


def wrong_answers(result: Any, requests: int, expected: str) -> str:
    """What is wrong with a load run's answers ("" when all ``requests`` got 200 and a reply text
    containing ``expected``): a count of commands not served is no cost figure."""
    right = sum(1 for status, reply in zip(result.statuses, result.replies, strict=True)
                if status == 200 and expected in reply)
    return "" if right == requests == len(result.statuses) else \
        f"{right} of {requests} answered as expected ({expected!r})"


def measure(job: Job) -> float:
    """Instructions per request of ``job`` (two callgrind runs, one after the other)."""
    return per_request(_count(job, SMALL), _count(job, LARGE))


def jobs(commands: tuple[str, ...], here: Path, before: Path | None, http: bool = False) -> Iterator[Job]:
    yield Job("baseline", "baseline", commands[0], here, http)  # it answers every text alike
    for command in commands:
        yield Job("rocket", "rocket", command, here, http)
        if command in AUDITED:
            yield Job("unaudited", "unaudited", command, here, http)
        if before is not None:
            yield Job("before", "rocket", command, before, http)


def report(figures: dict[Job, float], commands: tuple[str, ...]) -> list[str]:
    """The table: instructions per request, each with its ratio to the baseline; then the audit's
    share and the change against the checkout before."""
    base = next(v for job, v in figures.items() if job.label == "baseline")
    of = {(job.label, job.command): v for job, v in figures.items()}
    http = any(job.http for job in figures)
    where = "server process over HTTP, Hypercorn included" if http else "in-process ASGI"
    lines = [f"instructions per request (callgrind, {where}, c={CONCURRENCY}; "
             f"ratio = baseline / app, as req/s would be)",
             f"  baseline (bare Quart, signature only): {base / 1e6:.3f}M"]
    for command in commands:
        row = f"  {command:<10}"
        for label in ("rocket", "unaudited", "before"):
            value = of.get((label, command))
            if value is not None:
                row += f" | {label} {value / 1e6:.3f}M ({base / value:.2f})"
        audited, unaudited, before = (of.get((k, command)) for k in ("rocket", "unaudited", "before"))
        if audited and unaudited:
            row += f" | audit adds {100 * (audited - unaudited) / unaudited:.1f}%"
        if audited and before:
            row += f" | vs before {100 * (audited - before) / before:+.1f}%"
        lines.append(row)
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.instructions")
    parser.add_argument("--before", type=Path, default=None, help="another checkout with its own .venv")
    parser.add_argument("--commands", nargs="+", default=list(COMMANDS), choices=COMMANDS)
    parser.add_argument("--http", action="store_true", help="count a server process over HTTP instead")
    args = parser.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("bench.instructions: valgrind is not installed (apt-get install valgrind); skipped")
        return 0
    here = Path(__file__).resolve().parent.parent
    todo = list(jobs(tuple(args.commands), here, args.before.resolve() if args.before else None, args.http))
    with ThreadPoolExecutor(max_workers=2) as pool:
        figures = dict(zip(todo, pool.map(measure, todo), strict=True))
    print("\n".join(report(figures, tuple(args.commands))))
    return 0


# --- the driver: runs inside callgrind, in the measured checkout (its own imports) ------------


def drive(app_name: str, command: str, requests: int) -> None:
    """Serve ``requests`` of ``command`` to ``app_name`` in-process, CONCURRENCY at a time."""
    import logging

    sys.path.insert(0, os.getcwd())  # the measured checkout, not this file's
    from slack_sdk.signature import SignatureVerifier

    from bench.http_bench import COMMANDS as MAKE
    from bench.http_bench import EXPECT, write_users
    from bench.load import command_form, signed_headers

    tmp = Path(tempfile.mkdtemp(prefix="rocket-ir-db-"))
    write_users(tmp / "users.json")
    os.environ.update(DATABASE_URL=f"sqlite:///{tmp / 'rocket.db'}", SLACK_SIGNING_SECRET=SECRET,
                      BENCH_SLACK_SECRET=SECRET, ROCKET_SCHEDULER="off")
    subprocess.run([str(Path(sys.executable).with_name("rocket")), "db", "import", str(tmp / "users.json")],
                   check=True, capture_output=True, cwd=tmp)
    # Under callgrind a request takes ~50x longer; 32 in flight could pass the 2 s inline budget
    # and be counted on the "Working on it…" path instead of the command's own.
    import entrypoints.handlers
    entrypoints.handlers.INLINE_SECONDS = 3600.0
    if app_name == "baseline":
        from bench.baseline import create_baseline_app
        app = create_baseline_app(SECRET)
    elif app_name == "unaudited":
        from bench.unaudited import app
    else:
        from entrypoints.asgi import app
    logging.disable(logging.CRITICAL)
    asgi: Any = app  # driven with plain dicts, as a server would
    verifier = SignatureVerifier(SECRET)
    make = MAKE[command]
    expected = "ok" if app_name == "baseline" else EXPECT[command]

    async def call(i: int) -> None:
        user, text = make(i)
        body = command_form(user, text)
        headers = [(k.lower().encode(), v.encode()) for k, v in signed_headers(verifier, body).items()]
        raw = body.encode()
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/slack/commands", "raw_path": b"/slack/commands",
                 "query_string": b"", "root_path": "", "client": ("127.0.0.1", 1),
                 "server": ("127.0.0.1", 2), "extensions": {},
                 "headers": headers + [(b"content-length", str(len(raw)).encode()), (b"host", b"x")]}
        sent, finished = [False], asyncio.Event()

        async def receive() -> dict[str, object]:
            if not sent[0]:
                sent[0] = True
                return {"type": "http.request", "body": raw, "more_body": False}
            await finished.wait()
            return {"type": "http.disconnect"}

        statuses: list[int] = []
        bodies: list[bytes] = []

        async def send(message: dict[str, object]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(int(message["status"]))  # type: ignore[call-overload]
            elif message["type"] == "http.response.body":
                bodies.append(message.get("body", b""))  # type: ignore[arg-type]

        await asgi(scope, receive, send)
        finished.set()
        reply = b"".join(bodies).decode(errors="replace")
        if statuses != [200] or expected not in reply:
            raise RuntimeError(f"{command} answered {statuses}: {reply[:200]!r} (expected {expected!r})")

    async def run() -> None:
        started: asyncio.Queue[object] = asyncio.Queue()
        await started.put({"type": "lifespan.startup"})
        events: asyncio.Queue[object] = asyncio.Queue()
        lifespan = asyncio.create_task(asgi({"type": "lifespan", "asgi": {"version": "3.0"}},
                                           started.get, events.put))
        await events.get()
        numbers = iter(range(requests))

        async def worker() -> None:
            for i in numbers:
                await call(i)

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        lifespan.cancel()

    try:
        asyncio.run(run())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--drive":
        drive(sys.argv[2], sys.argv[3], int(sys.argv[4]))
        sys.exit(0)
    sys.exit(main())
