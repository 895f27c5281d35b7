"""The load generator: Slack-signed ``/rocket`` commands over aiohttp.

``run_level(url, secret, command, concurrency, count)`` sends ``count`` requests with at most
``concurrency`` in flight (``concurrency`` keep-alive connections), each signed at send time;
``burst(url, secret, command, n)`` opens ``n`` connections and sends ``n`` requests at once.
``command(i)`` gives the ``(user_id, text)`` of request ``i``. Both return a ``LevelResult``
(per-request latency and status; wall time of the whole level).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import aiohttp
from slack_sdk.signature import SignatureVerifier

Command = Callable[[int], tuple[str, str]]
FORM = "application/x-www-form-urlencoded"


def command_form(user: str, text: str) -> str:
    """A slash-command form body as Slack sends it."""
    return urlencode({"token": "x", "team_id": "T1", "channel_id": "C1", "user_id": user,
                      "user_name": user, "command": "/rocket", "text": text, "response_url": ""})


def signed_headers(verifier: SignatureVerifier, body: str) -> dict[str, str]:
    """Slack's signature headers for ``body``, timestamped now."""
    ts = str(int(time.time()))
    return {"X-Slack-Request-Timestamp": ts, "Content-Type": FORM,
            "X-Slack-Signature": verifier.generate_signature(timestamp=ts, body=body) or ""}


def percentile(values: list[float], q: float) -> float:
    """The ``q``-quantile (0..1) by nearest rank; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q * len(ordered))))
    return ordered[rank - 1]


@dataclass
class LevelResult:
    """What one level (or burst) measured; latencies in seconds."""

    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    replies: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statuses)

    @property
    def ok(self) -> int:
        return sum(1 for s in self.statuses if s == 200)

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def p(self, q: float) -> float:
        return percentile(self.latencies, q)

    def merge(self, other: LevelResult) -> None:
        """Add ``other``'s requests and time to this result."""
        self.seconds += other.seconds
        self.latencies += other.latencies
        self.statuses += other.statuses
        self.replies += other.replies


async def _send(session: aiohttp.ClientSession, url: str, verifier: SignatureVerifier,
                user: str, text: str, result: LevelResult) -> None:
    body = command_form(user, text)
    started = time.perf_counter()
    try:
        async with session.post(url, data=body, headers=signed_headers(verifier, body)) as response:
            payload = await response.json() if response.status == 200 else {}
            status = response.status
    except (aiohttp.ClientError, TimeoutError):
        payload, status = {}, 0
    result.latencies.append(time.perf_counter() - started)
    result.statuses.append(status)
    result.replies.append(str(payload.get("text", "")) if isinstance(payload, dict) else "")


def _session(connections: int, timeout: float) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(limit=connections, force_close=False)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=timeout))


async def run_level(url: str, secret: str, command: Command, concurrency: int, count: int,
                    warmup: int = 0, timeout: float = 30, offset: int = 0) -> LevelResult:
    """``count`` requests ``command(offset)`` … ``command(offset + count - 1)``, ``concurrency``
    at a time, after ``warmup`` unmeasured ones."""
    verifier = SignatureVerifier(secret)
    result = LevelResult()
    async with _session(concurrency, timeout) as session:
        if warmup:
            scratch = LevelResult()
            await asyncio.gather(*(_send(session, url, verifier, *command(-1 - i), scratch)
                                   for i in range(warmup)))
        counter = iter(range(offset, offset + count))

        async def worker() -> None:
            for i in counter:
                await _send(session, url, verifier, *command(i), result)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        result.seconds = time.perf_counter() - started
    return result


async def burst(url: str, secret: str, command: Command, n: int, timeout: float = 60) -> LevelResult:
    """``n`` requests sent at once, each on its own connection."""
    verifier = SignatureVerifier(secret)
    result = LevelResult()
    async with _session(n, timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(_send(session, url, verifier, *command(i), result) for i in range(n)))
        result.seconds = time.perf_counter() - started
    return result
