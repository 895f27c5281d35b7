"""The HTTP rounds: the same signed commands against ``rocket serve`` and the baseline.

Rocket runs on a fresh SQLite file holding ``USERS`` registered users (imported with
``rocket db import`` before it starts), with the GitHub and Slack stand-ins configured and
``ROCKET_SCHEDULER=off``. Each command runs at each concurrency level on both servers, in
two halves (baseline, Rocket, baseline, Rocket), then 200 simultaneous ``++`` on one user;
the target's karma is read from the database before and after the burst.

The audit rounds (issue 14, must show 6): ``user edit`` and ``++`` at c=32 against the
baseline, ``rocket serve`` and the same app without its audit trail (``bench.unaudited``, on a
copy of the database), interleaved in halves, so "ratio with audit" and "ratio without" come
from the same minute of the same machine.
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from adapters.sqlite.store import SqliteStore
from bench.load import Command, LevelResult, burst, run_level
from bench.servers import ROCKET, clean_env, free_port, rocket_cli, serving
from core.models import User, to_dict

SECRET = "bench-slack-signing-secret"
USERS = 1000
TARGET = "UTARGET"
LEVELS = (1, 8, 32)
REQUESTS = 1000
BURST = 200


def user_id(i: int) -> str:
    return f"UB{i % USERS:05d}"


COMMANDS: dict[str, Command] = {
    "user view": lambda i: (user_id(i), "user view"),
    "user edit": lambda i: (user_id(i), f'user edit --name "Bench {i}"'),
    "karma ++": lambda i: (user_id(i), f"<@{TARGET}|target> ++"),
}
EXPECT = {"user view": "UB", "user edit": "UB", "karma ++": f"Gave {TARGET} one karma"}


@dataclass
class Round:
    command: str
    concurrency: int
    baseline: LevelResult
    rocket: LevelResult
    bad_replies: int  # Rocket replies that do not say the command worked


AUDIT_COMMANDS = ("user edit", "karma ++")
AUDIT_LEVEL = 32


@dataclass
class AuditRound:
    command: str
    baseline: LevelResult
    audited: LevelResult
    unaudited: LevelResult


@dataclass
class HttpResults:
    rounds: list[Round] = field(default_factory=list)
    burst_baseline: LevelResult = field(default_factory=LevelResult)
    burst_rocket: LevelResult = field(default_factory=LevelResult)
    karma_before: int = 0
    karma_after: int = 0
    burst_bad_replies: int = 0
    audit_rounds: list[AuditRound] = field(default_factory=list)


def write_users(path: Path) -> None:
    users = [User(slack_id=user_id(i), name=f"Bench user {i}") for i in range(USERS)]
    users.append(User(slack_id=TARGET, name="Target"))
    path.write_text(json.dumps({"users": [to_dict(u, with_version=False) for u in users]}))


def _bad(command: str, result: LevelResult) -> int:
    return sum(1 for r in result.replies if EXPECT[command] not in r)


async def _karma(db: Path) -> int:
    store = await SqliteStore.open(str(db))
    try:
        return (await store.retrieve(User, TARGET)).karma
    finally:
        await store.close()


async def _rounds(base: str, rocket: str, results: HttpResults, db: Path) -> None:
    for command, make in COMMANDS.items():
        for level in LEVELS:
            runs = [LevelResult(), LevelResult()]
            for half in range(2):  # B R B R: background load hits both alike
                for run, url in zip(runs, (base, rocket), strict=True):
                    run.merge(await run_level(url + "/slack/commands", SECRET, make, level, REQUESTS // 2,
                                              warmup=2 * level, offset=half * REQUESTS))
            results.rounds.append(Round(command, level, runs[0], runs[1], _bad(command, runs[1])))
            print(f"  {command:<10} c={level:<3} done", file=sys.stderr, flush=True)
    give = COMMANDS["karma ++"]
    results.burst_baseline = await burst(base + "/slack/commands", SECRET, give, BURST)
    results.karma_before = await _karma(db)
    results.burst_rocket = await burst(rocket + "/slack/commands", SECRET, give, BURST)
    results.karma_after = await _karma(db)
    results.burst_bad_replies = _bad("karma ++", results.burst_rocket)


async def _audit_rounds(base: str, audited: str, unaudited: str, results: HttpResults) -> None:
    for command in AUDIT_COMMANDS:
        make = COMMANDS[command]
        runs = [LevelResult(), LevelResult(), LevelResult()]
        for half in range(2):
            for run, url in zip(runs, (base, audited, unaudited), strict=True):
                run.merge(await run_level(url + "/slack/commands", SECRET, make, AUDIT_LEVEL, REQUESTS // 2,
                                          warmup=2 * AUDIT_LEVEL, offset=(2 + half) * REQUESTS))
        results.audit_rounds.append(AuditRound(command, *runs))
        print(f"  audit {command:<10} done", file=sys.stderr, flush=True)


def run_http(workdir: Path, integration_env: dict[str, str]) -> HttpResults:
    """Import the users, serve both apps, run every round; returns the measurements."""
    db = workdir / "rocket.db"
    env = clean_env({"DATABASE_URL": f"sqlite:///{db}", "SLACK_SIGNING_SECRET": SECRET,
                     "ROCKET_SCHEDULER": "off", "BENCH_SLACK_SECRET": SECRET, **integration_env})
    users_file = workdir / "users.json"
    write_users(users_file)
    rocket_cli(["db", "import", str(users_file)], env, workdir)
    results = HttpResults()
    rocket_port, base_port = free_port(), free_port()
    rocket_argv = [ROCKET, "serve", "--host", "127.0.0.1", "--port", str(rocket_port)]
    base_argv = [sys.executable, "-m", "bench.baseline", "--port", str(base_port)]
    with serving(rocket_argv, rocket_port, env, workdir, workdir / "rocket.log") as rocket, \
            serving(base_argv, base_port, env, workdir, workdir / "baseline.log") as base:
        asyncio.run(_rounds(base, rocket, results, db))
    bare_db = workdir / "unaudited.db"
    bare_env = {**env, "DATABASE_URL": f"sqlite:///{bare_db}"}
    rocket_cli(["db", "import", str(users_file)], bare_env, workdir)
    bare_port = free_port()
    bare_argv = [sys.executable, "-m", "bench.unaudited", "--port", str(bare_port)]
    with serving(rocket_argv, rocket_port, env, workdir, workdir / "rocket2.log") as rocket, \
            serving(base_argv, base_port, env, workdir, workdir / "baseline2.log") as base, \
            serving(bare_argv, bare_port, bare_env, workdir, workdir / "unaudited.log") as bare:
        asyncio.run(_audit_rounds(base, rocket, bare, results))
    return results
