"""``BodyRoutes`` (entrypoints/body_routes.py): the body-taking routes answered in front of Quart.

Driven with ASGI messages directly, as Hypercorn sends them: bodies in chunks, a client that
leaves, bodies too large, methods other than POST, routes that fail. The slow-body bounds are
tested against a real server in tests/e2e/test_slow_clients.py.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import pytest

from core.errors import StorageUnavailable
from entrypoints.body_routes import MAX_BODY_BYTES, Answer, BodyRoutes


class Exchange:
    """One request's ASGI side: the messages the client sends, and what the app sent back."""

    def __init__(self, *messages: dict[str, Any]) -> None:
        self.incoming = list(messages)
        self.sent: list[dict[str, Any]] = []

    async def receive(self) -> dict[str, Any]:
        if not self.incoming:
            await asyncio.sleep(3600)  # a client that sends nothing more
        return self.incoming.pop(0)

    async def send(self, message: dict[str, Any]) -> None:
        self.sent.append(message)

    @property
    def status(self) -> int:
        return int(self.sent[0]["status"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.decode(): v.decode() for k, v in self.sent[0]["headers"]}

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.sent[1:])


def scope(path: str = "/in", method: str = "POST", headers: Mapping[str, str] | None = None,
          root_path: str = "") -> dict[str, Any]:
    raw = [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    return {"type": "http", "method": method, "path": path, "root_path": root_path, "headers": raw}


class Recorder:
    """A route that records what it was given and answers with its size."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.calls: list[tuple[bytes, dict[str, str]]] = []
        self.fail = fail

    async def __call__(self, body: bytes, headers: Mapping[str, str]) -> Answer:
        self.calls.append((body, dict(headers)))
        if self.fail is not None:
            raise self.fail
        return Answer(200, json.dumps({"size": len(body)}), headers=(("x-extra", "1"),))


class Behind:
    """The app behind (Quart's place): records the scopes it got."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        self.paths.append(scope["path"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def body(data: bytes, more: bool = False) -> dict[str, Any]:
    return {"type": "http.request", "body": data, "more_body": more}


async def test_a_chunked_body_reaches_the_route_whole_with_lower_cased_headers() -> None:
    route, behind = Recorder(), Behind()
    app = BodyRoutes(behind, {"/in": route}, "4242")
    ex = Exchange(body(b"a=1&", more=True), body(b"", more=True), body(b"b=2"))
    await app(scope(headers={"Content-Type": "text/plain", "X-Twice": "first"} | {"x-twice": "second"}),
              ex.receive, ex.send)
    assert route.calls == [(b"a=1&b=2", {"content-type": "text/plain", "x-twice": "first"})]
    assert ex.status == 200 and json.loads(ex.body) == {"size": 7}
    assert ex.headers["x-rocket-worker"] == "4242" and ex.headers["x-extra"] == "1"
    assert ex.headers["content-length"] == str(len(ex.body)) and behind.paths == []


async def test_other_paths_and_other_scopes_go_to_the_app_behind() -> None:
    route, behind = Recorder(), Behind()
    app = BodyRoutes(behind, {"/in": route}, "1")
    for s in (scope("/healthz", "GET"), scope("/in/", "POST"), {"type": "lifespan", "path": "/in"}):
        ex = Exchange()
        await app(s, ex.receive, ex.send)
        assert ex.status == 204
    assert behind.paths == ["/healthz", "/in/", "/in"] and route.calls == []


async def test_the_root_path_is_taken_off_before_matching() -> None:
    route = Recorder()
    app = BodyRoutes(Behind(), {"/in": route}, "1")
    ex = Exchange(body(b"x"))
    await app(scope("/rocket/in", root_path="/rocket"), ex.receive, ex.send)
    assert ex.status == 200 and route.calls[0][0] == b"x"


async def test_a_method_other_than_post_gets_405_and_runs_nothing() -> None:
    route = Recorder()
    app = BodyRoutes(Behind(), {"/in": route}, "1")
    ex = Exchange(body(b""))
    await app(scope(method="GET"), ex.receive, ex.send)
    assert ex.status == 405 and ex.headers["allow"] == "POST" and route.calls == []
    assert json.loads(ex.body)["ok"] is False


@pytest.mark.parametrize("announce", [True, False])
async def test_a_body_over_the_cap_gets_413_and_closes_without_running_the_route(announce: bool) -> None:
    route = Recorder()
    app = BodyRoutes(Behind(), {"/in": route}, "1")
    chunk = b"x" * (MAX_BODY_BYTES // 2 + 1)
    headers = {"content-length": str(2 * len(chunk))} if announce else {}
    ex = Exchange(body(chunk, more=True), body(chunk, more=True), body(b""))
    await app(scope(headers=headers), ex.receive, ex.send)
    assert ex.status == 413 and ex.headers["connection"] == "close" and route.calls == []
    if announce:
        assert len(ex.incoming) == 3  # refused on the announced length, nothing read


async def test_a_body_of_exactly_the_cap_is_accepted() -> None:
    route = Recorder()
    app = BodyRoutes(Behind(), {"/in": route}, "1")
    ex = Exchange(body(b"y" * MAX_BODY_BYTES))
    await app(scope(headers={"content-length": str(MAX_BODY_BYTES)}), ex.receive, ex.send)
    assert ex.status == 200 and json.loads(ex.body) == {"size": MAX_BODY_BYTES}


async def test_a_client_that_leaves_mid_body_gets_nothing_and_runs_nothing() -> None:
    route = Recorder()
    app = BodyRoutes(Behind(), {"/in": route}, "1")
    ex = Exchange(body(b"half", more=True), {"type": "http.disconnect"})
    await app(scope(), ex.receive, ex.send)
    assert ex.sent == [] and route.calls == []


async def test_a_slow_body_past_the_cap_of_pending_bodies_gets_503(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("entrypoints.body_routes.GRACE_SECONDS", 0.01)
    monkeypatch.setattr("entrypoints.body_routes.BODY_SECONDS", 0.05)
    monkeypatch.setattr("entrypoints.body_routes.MAX_PENDING_BODIES", 1)
    route = Recorder()
    app = BodyRoutes(Behind(), {"/in": route}, "1")
    slow, second = Exchange(body(b"a", more=True)), Exchange(body(b"b", more=True))
    first = asyncio.create_task(app(scope(), slow.receive, slow.send))
    await asyncio.sleep(0.02)  # the first is past its grace period: it holds the one slot
    await app(scope(), second.receive, second.send)
    await first
    assert second.status == 503 and second.headers["connection"] == "close"
    assert slow.status == 408 and slow.headers["connection"] == "close" and route.calls == []


@pytest.mark.parametrize(("error", "status"), [(StorageUnavailable("db down"), 503), (KeyError("bug"), 500)])
async def test_a_failing_route_answers_503_or_500_without_its_details(error: Exception, status: int) -> None:
    app = BodyRoutes(Behind(), {"/in": Recorder(fail=error)}, "1")
    ex = Exchange(body(b"{}"))
    await app(scope(), ex.receive, ex.send)
    assert ex.status == status and ex.headers["x-rocket-worker"] == "1"
    answer = json.loads(ex.body)
    assert answer["ok"] is False and ("bug" not in answer["error"])


async def test_a_body_sent_in_pieces_within_the_grace_period_is_read_whole(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("entrypoints.body_routes.GRACE_SECONDS", 0.05)
    arrived = asyncio.Event()

    class Later(Exchange):
        async def receive(self) -> dict[str, Any]:
            if len(self.incoming) == 1:
                await arrived.wait()
            return self.incoming.pop(0)

    route = Recorder()
    app = BodyRoutes(Behind(), {"/in": route}, "1")
    ex = Later(body(b"ab", more=True), body(b"cd"))
    served = asyncio.create_task(app(scope(), ex.receive, ex.send))
    await asyncio.sleep(0.01)
    arrived.set()
    await served
    assert ex.status == 200 and json.loads(ex.body) == {"size": 4}


class Stalled(Exchange):
    """A client that sends its first chunk and then nothing (waiting without a timer of its own)."""

    async def receive(self) -> dict[str, Any]:
        if not self.incoming:
            await asyncio.Event().wait()
        return self.incoming.pop(0)


async def test_the_grace_period_is_one_timer_for_every_body_being_read(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Twenty bodies waiting at once add one timer to the loop, not twenty (a timer each cost
    ~40k instructions a request); each is still cancelled at its own deadline."""
    monkeypatch.setattr("entrypoints.body_routes.GRACE_SECONDS", 0.02)
    monkeypatch.setattr("entrypoints.body_routes.BODY_SECONDS", 0.04)
    loop = asyncio.get_running_loop()
    app = BodyRoutes(Behind(), {"/in": Recorder()}, "1")
    before = len(loop._scheduled)  # type: ignore[attr-defined]
    exchanges = [Stalled(body(b"a", more=True)) for _ in range(20)]
    tasks = [asyncio.create_task(app(scope(), ex.receive, ex.send)) for ex in exchanges]
    await asyncio.sleep(0)
    assert len(loop._scheduled) - before == 1  # type: ignore[attr-defined]
    await asyncio.gather(*tasks)
    assert [ex.status for ex in exchanges] == [408] * 20


async def test_a_read_cancelled_from_outside_stays_cancelled() -> None:
    """Only the grace period's own cancellation turns into the slow-body path: a request
    cancelled by the server (shutdown, the client gone) is not answered."""
    app = BodyRoutes(Behind(), {"/in": Recorder()}, "1")
    ex = Exchange(body(b"a", more=True))
    task = asyncio.create_task(app(scope(), ex.receive, ex.send))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert ex.sent == []
