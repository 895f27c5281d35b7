"""Printing: the HTTP table, the burst, refresh and export figures, and issue 7's targets."""

from __future__ import annotations

from bench.export_bench import ExportRun
from bench.http_bench import AUDIT_LEVEL, BURST, REQUESTS, HttpResults
from bench.load import LevelResult
from bench.refresh_bench import RefreshRun
from bench.requests_bench import EXPECTED, CommandCount, dynamo_edit_requests


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "-"


def http_table(http: HttpResults) -> list[str]:
    lines = [f"HTTP, {REQUESTS} requests per level (ratio = Rocket / baseline; latency in ms)",
             f"{'command':<10} {'conc':>4} | {'base rps':>8} {'rocket rps':>10} {'ratio':>5} | "
             f"{'base p50':>8} {'rkt p50':>8} | {'base p99':>8} {'rkt p99':>8} {'ratio':>6} | "
             f"{'rkt non-200':>11} {'bad reply':>9}"]
    for r in http.rounds:
        b, k = r.baseline, r.rocket
        lines.append(
            f"{r.command:<10} {r.concurrency:>4} | {b.rps:>8.0f} {k.rps:>10.0f} {_ratio(k.rps, b.rps):>5} | "
            f"{_ms(b.p(0.5)):>8} {_ms(k.p(0.5)):>8} | {_ms(b.p(0.99)):>8} {_ms(k.p(0.99)):>8} "
            f"{_ratio(k.p(0.99), b.p(0.99)):>6} | {k.count - k.ok:>11} {r.bad_replies:>9}")
    return lines


def _burst_line(name: str, b: LevelResult) -> str:
    return (f"  {name:<8}: {b.ok}/{b.count} acknowledged with 200 in {b.seconds:.2f} s; "
            f"p50 {_ms(b.p(0.5))} ms, p99 {_ms(b.p(0.99))} ms, max {_ms(max(b.latencies, default=0))} ms")


def burst_lines(http: HttpResults) -> list[str]:
    delta = http.karma_after - http.karma_before
    return [f"Burst: {BURST} simultaneous '<@UTARGET> ++', one connection each",
            _burst_line("baseline", http.burst_baseline), _burst_line("rocket", http.burst_rocket),
            f"  karma of UTARGET: {http.karma_before} -> {http.karma_after}, delta {delta} "
            f"(expected {BURST}: {'zero lost updates' if delta == BURST else 'UPDATES LOST'}); "
            f"replies not saying 'Gave UTARGET one karma': {http.burst_bad_replies}"]


def audit_cost_lines(http: HttpResults) -> list[str]:
    """Issue 14, must show 6: what the audit trail costs over HTTP, as ratios to the baseline."""
    lines = [f"Audit cost over HTTP at c={AUDIT_LEVEL} ({REQUESTS} requests each; ratio = server / baseline "
             "in the same interleaved round; without = bench.unaudited, the same app minus the audit trail)"]
    for r in http.audit_rounds:
        base = r.baseline.rps
        with_audit = r.audited.rps / base if base else 0.0
        without = r.unaudited.rps / base if base else 0.0
        cost = 1 - with_audit / without if without else 0.0
        lines.append(f"  {r.command:<10} baseline {base:6.0f}/s | ratio without audit {without:.2f}, "
                     f"with audit {with_audit:.2f} (p99 {_ms(r.unaudited.p(0.99))} / "
                     f"{_ms(r.audited.p(0.99))} ms) | "
                     f"{_met(cost <= 0.10)} audit costs {cost:.0%} of the throughput (target <= 10%)")
    return lines


def refresh_lines(runs: list[RefreshRun]) -> list[str]:
    lines = ["Team refresh (RefreshTeams via the bus, GitHubApp adapter -> GitHub stand-in, SQLite store)",
             f"{'teams x members':<16} {'run':<8} {'seconds':>7} {'GitHub reqs':>11} {'store reads':>11} "
             f"{'store writes':>12} {'created':>7} {'updated':>7} {'stored':>6}"]
    for i, r in enumerate(runs):
        lines.append(f"{f'{r.teams} x {r.members}':<16} {'first' if i % 2 == 0 else 'again':<8} "
                     f"{r.seconds:>7.2f} {r.github_calls:>11} {r.storage_reads:>11} {r.storage_writes:>12} "
                     f"{r.created:>7} {r.updated:>7} {r.stored_teams:>6}")
    return lines


def export_lines(e: ExportRun) -> list[str]:
    return [f"Export: rocket db import of {e.users} users {e.import_seconds:.2f} s; "
            f"rocket db export -o FILE {e.export_seconds:.2f} s, {e.exported_users} users, "
            f"{e.exported_bytes / 1e6:.1f} MB written",
            f"  peak RSS of the export process (getrusage(RUSAGE_CHILDREN).ru_maxrss): {e.peak_mb:.1f} MB; "
            f"same command on an empty database: {e.empty_peak_mb:.1f} MB"]


def _met(ok: bool) -> str:
    return "MET    " if ok else "NOT MET"


def targets(http: HttpResults, refresh: list[RefreshRun], export: ExportRun) -> list[str]:
    at32 = {r.command: r for r in http.rounds if r.concurrency == 32}
    view = at32["user view"]
    ratio = view.rocket.rps / view.baseline.rps if view.baseline.rps else 0.0
    p99s = {c: r.rocket.p(0.99) for c, r in at32.items()}
    b = http.burst_rocket
    delta = http.karma_after - http.karma_before
    big = [r for r in refresh if r.teams == 200 and r.members == 25]
    first = big[0] if big else refresh[0]
    first_runs = refresh[0::2]
    calls = [r.storage_reads + r.storage_writes for r in first_runs]
    return [
        "Issue 7 targets",
        f"  {_met(ratio >= 0.60)} user view throughput at c=32 >= 60% of baseline: {ratio:.0%}",
        f"  {_met(all(p < 0.1 for p in p99s.values()))} p99 < 100 ms at c=32: "
        + ", ".join(f"{c} {_ms(p)} ms" for c, p in p99s.items()),
        f"  {_met(b.ok == BURST == b.count and b.p(0.99) < 0.5 and delta == BURST)} burst of {BURST} "
        f"acknowledged with p99 < 500 ms and karma +{BURST}: {b.ok}/{b.count} ok, p99 {_ms(b.p(0.99))} ms, "
        f"karma +{delta}",
        f"  {_met(first.github_calls <= 210)} team refresh {first.teams} x {first.members} <= 210 GitHub "
        f"requests: {first.github_calls}",
        f"  {_met(len(set(calls)) == 1)} storage calls not growing with members: "
        + ", ".join(f"{r.teams} x {r.members}: {c}" for r, c in zip(first_runs, calls, strict=True)),
        f"  {_met(export.peak_mb < 200)} export of {export.users} users < 200 MB peak: "
        f"{export.peak_mb:.1f} MB",
    ]


def targets_19(http: HttpResults, counts: list[CommandCount]) -> list[str]:
    """Issue 19: writes as fast as reads (ratios against the baseline of the same run)."""
    at32 = {r.command: r for r in http.rounds if r.concurrency == 32}
    lines = ["Issue 19 targets"]
    for command in ("user edit", "karma ++"):
        r = at32[command]
        ratio = r.rocket.rps / r.baseline.rps if r.baseline.rps else 0.0
        p99 = r.rocket.p(0.99)
        lines.append(f"  {_met(ratio >= 0.70)} {command} throughput at c=32 >= 70% of baseline: {ratio:.0%} "
                     f"(baseline p99 {_ms(r.baseline.p(0.99))} ms)")
        lines.append(f"  {_met(p99 < 0.1)} {command} p99 < 100 ms at c=32: {_ms(p99)} ms")
    delta = http.karma_after - http.karma_before
    lines.append(f"  {_met(delta == BURST)} burst of {BURST} '++' adds exactly {BURST}: +{delta}")
    over = [f"{c.command} on {c.backend} {c.reads}+{c.writes}" for c in counts
            if (c.reads, c.writes) != EXPECTED[c.command] or not c.steady or not c.replied]
    lines.append(f"  {_met(bool(counts) and not over)} storage requests per command on every backend "
                 "(view 1, edit 1+1, ++ 1+1): " + (", ".join(over) if over else "all as expected"))
    edit = dynamo_edit_requests(counts)
    lines.append(f"  {_met(edit == 2)} DynamoDB (moto) requests per user edit = 2: {edit}")
    return lines
