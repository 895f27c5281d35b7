"""``BodyRoutes``: the routes that take a request body, served as plain ASGI in front of Quart.

Slack's three routes and GitHub's webhook are each ``(body, headers) -> Answer``: they need
the raw body and three or four headers, nothing of a web framework. Quart's per-request
machinery (a receiver task and a handler task joined by ``asyncio.wait``, the app and request
contexts, werkzeug routing and ``Headers``, the response pipeline) cost 0.78M instructions of
a `user edit`'s 2.98M in process, more than all of Rocket's storage work. So ``BodyRoutes``
wraps the Quart app's ``asgi_app`` (Quart's documented place for ASGI middleware): a request
to one of its paths is answered here, every other request (``GET /``, ``/healthz``,
``/metrics``, lifespan) goes to Quart unchanged.

The contract of every answer given here:

- the body is read whole before the route runs: within ``BODY_SECONDS`` (else 408), at most
  ``MAX_BODY_BYTES`` announced or sent (else 413), and while fewer than ``MAX_PENDING_BODIES``
  bodies slower than ``GRACE_SECONDS`` are being read (else 503); these three answers close
  the connection (``Connection: close``);
- a client that leaves before its body is complete gets nothing, and no route runs;
- a method other than POST gets 405 with ``Allow: POST``;
- a route that raises ``StorageUnavailable`` gives 503 (Slack and GitHub retry later), any
  other exception 500 without details (logged with its traceback);
- every answer carries ``X-Rocket-Worker`` (the process id: which worker answered) and a
  ``Content-Length``.

Header names reach a route lower-cased (``headers["x-slack-signature"]``); a header sent twice
keeps its first value.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

from core.errors import StorageUnavailable
from entrypoints.deadlines import Deadlines

log = logging.getLogger("rocket.http")

MAX_BODY_BYTES = 512 * 1024
BODY_SECONDS = 10
"""A request body must arrive completely within this many seconds (else 408, connection closed)."""
GRACE_SECONDS = 1.0
"""A body complete within this long never counts against ``MAX_PENDING_BODIES``."""
MAX_PENDING_BODIES = 32
"""Bodies slower than ``GRACE_SECONDS``: at most this many are being received at once per
process; more get 503 at once (so slow clients hold at most MAX_PENDING_BODIES × MAX_BODY_BYTES of memory)."""

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]  # Quart's asgi_app, typed with asgiref's scopes


class Answer(NamedTuple):
    """What a route answers: status, body text, content type, and extra headers."""

    status: int
    body: str
    content_type: str = "application/json"
    headers: tuple[tuple[str, str], ...] = ()


def json_answer(body: Mapping[str, Any], status: int = 200,
                headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    return Answer(status, json.dumps(body), headers=headers)


def refuse(route: str, why: str, status: int = 401,
           headers: tuple[tuple[str, str], ...] = ()) -> Answer:
    """The answer to a refused request, ``{"ok": false, "error": why}``, logged as one JSON line."""
    log.info(json.dumps({"kind": "refused", "route": route, "status": status, "why": why}))
    return json_answer({"ok": False, "error": why}, status, headers)


Route = Callable[[bytes, Mapping[str, str]], Awaitable[Answer]]


class Refused(Exception):
    """A body that cannot be read: too large, too slow, or one slow body too many."""

    def __init__(self, status: int, why: str) -> None:
        super().__init__(why)
        self.status, self.why = status, why


class ClientLeft(Exception):
    """The client disconnected before its body was complete."""


class _Body:
    """The chunks of one request body received so far (kept across a timed-out wait)."""

    __slots__ = ("chunks", "receive", "size")

    def __init__(self, receive: Receive) -> None:
        self.receive = receive
        self.chunks: list[bytes] = []
        self.size = 0

    async def rest(self) -> bytes:
        while True:
            message = await self.receive()
            if message["type"] != "http.request":  # http.disconnect
                raise ClientLeft
            chunk = message.get("body", b"")
            if chunk:
                self.size += len(chunk)
                if self.size > MAX_BODY_BYTES:
                    raise Refused(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
                self.chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(self.chunks)


class BodyRoutes:
    """ASGI: ``routes`` (path → route) answered here, everything else by ``app``."""

    def __init__(self, app: ASGIApp, routes: Mapping[str, Route], worker: str) -> None:
        self._app = app
        self._routes = dict(routes)
        self._worker = worker.encode("latin-1")
        self._pending = 0  # bodies slower than GRACE_SECONDS being read now (one loop per process)
        self._grace = Deadlines()

    async def __call__(self, scope: Any, receive: Receive, send: Send) -> None:
        route = self._routes.get(_path(scope)) if scope["type"] == "http" else None
        if route is None:
            await self._app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name.decode("latin-1").lower(), value.decode("latin-1"))
        if scope["method"] != "POST":
            await self._send(send, json_answer({"ok": False, "error": "this route takes POST only"}, 405,
                                               (("allow", "POST"),)))
            return
        try:
            body = await self._read(receive, headers.get("content-length", ""))
        except ClientLeft:
            return
        except Refused as refused:
            await self._send(send, refuse(_path(scope), refused.why, refused.status,
                                          (("connection", "close"),)))
            return
        await self._send(send, await self._answer(route, scope, body, headers))

    async def _answer(self, route: Route, scope: dict[str, Any], body: bytes,
                      headers: Mapping[str, str]) -> Answer:
        try:
            return await route(body, headers)
        except StorageUnavailable as e:
            log.warning(json.dumps({"kind": "storage_unavailable", "path": _path(scope),
                                    "error": str(e)[:200]}))
            return json_answer({"ok": False, "error": str(e)}, 503)
        except Exception:
            log.exception("request to %s failed", _path(scope)[:200])
            return json_answer({"ok": False, "error": "internal error"}, 500)

    async def _read(self, receive: Receive, announced: str) -> bytes:
        """The whole body (see the module docstring for its bounds)."""
        if announced.isdigit() and int(announced) > MAX_BODY_BYTES:
            raise Refused(413, f"the body is larger than {MAX_BODY_BYTES} bytes")
        body = _Body(receive)
        whole = await self._within_grace(body)
        if whole is not None:
            return whole
        # a slow body: it counts against the cap while it keeps arriving
        if self._pending >= MAX_PENDING_BODIES:
            raise Refused(503, "too many requests are still sending their bodies; try again")
        self._pending += 1
        try:
            async with asyncio.timeout(BODY_SECONDS - GRACE_SECONDS):
                return await body.rest()
        except TimeoutError:
            raise Refused(408, f"the body did not arrive within {BODY_SECONDS} seconds") from None
        finally:
            self._pending -= 1

    async def _within_grace(self, body: _Body) -> bytes | None:
        """The body if it is complete within ``GRACE_SECONDS``, else None. The common body is
        complete on arrival; a wait the grace period interrupts (it cancels this task: one
        ``Deadlines`` timer for every body being read) loses nothing, the chunks already
        received stay in ``body``."""
        task = asyncio.current_task()
        assert task is not None
        expired = False

        def expire() -> None:
            nonlocal expired
            expired = True
            task.cancel()

        key = self._grace.add(GRACE_SECONDS, expire)
        try:
            return await body.rest()
        except asyncio.CancelledError:
            if expired and task.uncancel() == 0:  # the grace period's cancellation alone
                return None
            raise
        finally:
            self._grace.discard(key)

    async def _send(self, send: Send, answer: Answer) -> None:
        data = answer.body.encode()
        headers = [(b"content-type", answer.content_type.encode("latin-1")),
                   (b"content-length", str(len(data)).encode()), (b"x-rocket-worker", self._worker)]
        headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": data, "more_body": False})


def _path(scope: Mapping[str, Any]) -> str:
    """The request's path below the app's root path (as Quart reads it)."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root):] or "/"
    return path
