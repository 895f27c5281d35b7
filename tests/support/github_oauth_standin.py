"""A stateful local stand-in for GitHub's OAuth device flow, for tests that talk real HTTP.

Endpoints (GitHub's wire format, see ``adapters/github/device_flow.py``):

- ``POST /login/device/code`` (``client_id``, form-encoded or JSON): issues a 40-hex
  ``device_code`` and an ``XXXX-XXXX`` ``user_code`` that stay *pending* until the test calls
  ``approve(user_code, login)`` or ``deny(user_code)``. A wrong client id gets
  ``incorrect_client_credentials``; with ``device_flow_enabled = False`` every request gets
  ``device_flow_disabled``.
- ``POST /login/oauth/access_token`` (``client_id``, ``device_code``, ``grant_type``): checks, in
  this order, the grant type (``unsupported_grant_type``), the client id
  (``incorrect_client_credentials``), the code (``incorrect_device_code``; also for a code
  already redeemed), expiry (``expired_token`` once ``expires_in`` seconds have passed on
  ``clock``), the pace (``slow_down`` when this code was polled, or issued, less than its
  interval ago: the code's interval grows by 5 s and the answer names it), then the state
  (``authorization_pending``, ``access_denied``, or a new ``ghu_`` user token for the approved
  login). ``force_slow_down(user_code)`` makes the next poll answer ``slow_down`` anyway, as
  GitHub does under load. Errors are answered with HTTP ``error_status`` (200, as GitHub does).
- ``GET /user`` with ``Authorization: Bearer TOKEN`` (or ``token TOKEN``): that token's account,
  ``{"login", "id", …}``; 401 ``Bad credentials`` otherwise. ``revoke(token)`` kills a token.

Answers are JSON when the request's ``Accept`` names ``application/json`` and form-encoded
otherwise, as GitHub does. ``latency`` delays every answer. ``fail_next(route, status, times,
raw=None)`` answers the next matching requests with ``status`` (and ``raw`` bytes as the body,
e.g. ``b"<html>"`` to test bad JSON).

State, guarded by ``lock``: ``users`` (login -> id), ``grants`` (device code -> ``Grant``),
``tokens`` (token -> login), ``api_versions`` (the ``X-GitHub-Api-Version`` of each
``GET /user``), ``polls`` (``Poll(at, user_code, answer)`` in order) and
``requests`` (``"METHOD /path"``). ``clock`` is injectable (default ``time.monotonic``) so a test
can share a fake clock with the adapter.

Two ways to serve it:

- its own server: ``with GitHubOAuthStandIn() as oauth:`` then ``oauth.url`` is both the OAuth
  URL and the API URL;
- behind the main stand-in: ``oauth.attach(github_standin)`` makes ``github_standin.url`` (the
  API URL, with its prefix) answer ``GET /user`` and the prefix-less base URL
  (``github_standin.oauth_url``-style: ``http://127.0.0.1:PORT``) answer ``/login/…``, and shares
  the main stand-in's ``users`` so ids agree. ``answer()`` is the router both use.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
DOCS = "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow"
_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ0123456789"
DESCRIPTIONS = {
    "authorization_pending": "The authorization request is still pending.",
    "slow_down": "Too many requests have been made in the same timeframe.",
    "expired_token": "The device_code has expired.",
    "access_denied": "The authorization request was denied.",
    "incorrect_device_code": "The device_code provided is not valid.",
    "incorrect_client_credentials": "The client_id and/or client_secret passed are incorrect.",
    "unsupported_grant_type": "The grant type is not supported.",
    "device_flow_disabled": "Device Flow must be explicitly enabled for this App",
}


@dataclass
class Grant:
    """One device code's life: pending -> approved|denied -> redeemed."""

    device_code: str
    user_code: str
    issued_at: float
    expires_in: float
    interval: float
    last_poll: float
    state: str = "pending"  # pending | approved | denied | redeemed
    login: str = ""
    force_slow_down: int = 0


@dataclass
class Poll:
    at: float
    user_code: str
    answer: str  # the error code answered, or "token"


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    payload: bytes = b""

    def write(self, handler: BaseHTTPRequestHandler) -> None:
        """Send this answer on an ``http.server`` handler (used by both servers)."""
        handler.send_response(self.status)
        for name, value in self.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(self.payload)))
        handler.end_headers()
        if self.payload:
            handler.wfile.write(self.payload)


@dataclass
class _Failure:
    route: str
    status: int
    times: int
    raw: bytes | None


class GitHubOAuthStandIn:
    """See the module docstring. Not a mock: codes have state and the pace is enforced."""

    def __init__(
        self,
        client_id: str = "Iv1.standin0client",
        *,
        interval: float = 5,
        expires_in: float = 900,
        clock: Callable[[], float] = time.monotonic,
        verification_uri: str = "https://github.com/login/device",
        error_status: int = 200,
    ) -> None:
        self.client_id = client_id
        self.interval = interval
        self.expires_in = expires_in
        self.clock = clock
        self.verification_uri = verification_uri
        self.error_status = error_status
        self.device_flow_enabled = True
        self.latency = 0.0  # seconds every answer is delayed (outside the lock)
        self.api_versions: list[str] = []  # X-GitHub-Api-Version of each GET /user
        self.lock = threading.RLock()
        self.users: dict[str, int] = {}
        self.grants: dict[str, Grant] = {}
        self.tokens: dict[str, str] = {}
        self.polls: list[Poll] = []
        self.requests: list[str] = []
        self._failures: list[_Failure] = []
        self._next_id = 70000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle (own server)
    def start(self) -> GitHubOAuthStandIn:
        standin = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = -1
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                answer = standin.answer(self.command, self.path, dict(self.headers.items()), raw)
                (answer or standin._json(404, {"message": "Not Found"})).write(self)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="github-oauth-standin",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> GitHubOAuthStandIn:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The base URL of the own server: both ``GITHUB_OAUTH_URL`` and ``GITHUB_API_URL``."""
        assert self._server is not None, "start() the stand-in first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def attach(self, github_standin: Any) -> GitHubOAuthStandIn:
        """Serve behind ``tests.support.github_standin.GitHubStandIn`` (its ``oauth`` hook) and
        share its ``users``. Then the OAuth URL is the main stand-in's URL without its prefix."""
        github_standin.oauth = self
        self.users = github_standin.users
        return self

    # ------------------------------------------------------------------ test helpers
    def add_user(self, login: str, user_id: int | None = None) -> int:
        with self.lock:
            if user_id is None:
                self._next_id += 1
                user_id = self._next_id
            self.users[login] = user_id
            return user_id

    def grant(self, user_code: str | None = None) -> Grant:
        """The grant with that user code (default: the latest issued)."""
        with self.lock:
            if user_code is None:
                return list(self.grants.values())[-1]
            return next(g for g in self.grants.values() if g.user_code == user_code)

    def approve(self, user_code: str, login: str) -> None:
        """Play the person: sign in as ``login`` (created if unknown) and authorize the code."""
        with self.lock:
            if login not in self.users:
                self.add_user(login)
            grant = self.grant(user_code)
            grant.state, grant.login = "approved", login

    def deny(self, user_code: str) -> None:
        with self.lock:
            self.grant(user_code).state = "denied"

    def force_slow_down(self, user_code: str, times: int = 1) -> None:
        with self.lock:
            self.grant(user_code).force_slow_down += times

    def revoke(self, token: str) -> None:
        with self.lock:
            self.tokens.pop(token, None)

    def fail_next(self, route: str, status: int, times: int = 1, raw: bytes | None = None) -> None:
        """Answer the next ``times`` requests whose ``"METHOD /path"`` starts with ``route``."""
        with self.lock:
            self._failures.append(_Failure(route, status, times, raw))

    def poll_times(self, user_code: str | None = None) -> list[float]:
        with self.lock:
            code = user_code or self.grant().user_code
            return [p.at for p in self.polls if p.user_code == code]

    # ------------------------------------------------------------------ the router
    def answer(
        self, method: str, raw_path: str, headers: dict[str, str], raw: bytes, api_prefix: str = ""
    ) -> Answer | None:
        """The answer to a request, or None when the path is not one of this stand-in's routes.

        ``/login/…`` is matched at the root; ``/user`` under ``api_prefix`` (the main stand-in's
        URL prefix, e.g. ``/api/v3``)."""
        path = urlsplit(raw_path).path.rstrip("/") or "/"
        if path in ("/login/device/code", "/login/oauth/access_token") and method == "POST":
            route = path
        elif path == f"{api_prefix.rstrip('/')}/user" and method == "GET":
            route = "/user"
        else:
            return None
        key = f"{method} {route}"
        lower = {k.lower(): v for k, v in headers.items()}
        with self.lock:
            self.requests.append(key)  # on arrival, before any latency
        if self.latency:
            time.sleep(self.latency)
        with self.lock:
            failure = next((f for f in self._failures if key.startswith(f.route)), None)
            if failure is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                if failure.raw is not None:
                    return Answer(failure.status, {"Content-Type": "text/html"}, failure.raw)
                return self._json(failure.status, {"message": "Internal Server Error"})
            if route == "/user":
                self.api_versions.append(lower.get("x-github-api-version", ""))
                return self._user(lower.get("authorization", ""))
            form = self._form(lower.get("content-type", ""), raw)
            wants_json = "json" in lower.get("accept", "")
            if route == "/login/device/code":
                return self._device_code(form, wants_json)
            return self._access_token(form, wants_json)

    # ------------------------------------------------------------------ routes
    def _device_code(self, form: dict[str, str], wants_json: bool) -> Answer:
        if not self.device_flow_enabled:
            return self._oauth_error("device_flow_disabled", wants_json)
        if form.get("client_id") != self.client_id:
            return self._oauth_error("incorrect_client_credentials", wants_json)
        device_code = secrets.token_hex(20)
        user_code = "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(2))
        now = self.clock()
        self.grants[device_code] = Grant(device_code, user_code, now, self.expires_in, self.interval, now)
        body = {
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": self.verification_uri,
            "expires_in": self.expires_in,
            "interval": self.interval,
        }
        return self._encode(200, body, wants_json)

    def _access_token(self, form: dict[str, str], wants_json: bool) -> Answer:
        if not self.device_flow_enabled:
            return self._oauth_error("device_flow_disabled", wants_json)
        if form.get("grant_type") != DEVICE_GRANT:
            return self._oauth_error("unsupported_grant_type", wants_json)
        if form.get("client_id") != self.client_id:
            return self._oauth_error("incorrect_client_credentials", wants_json)
        grant = self.grants.get(form.get("device_code", ""))
        if grant is None or grant.state == "redeemed":
            return self._oauth_error("incorrect_device_code", wants_json)
        now = self.clock()
        too_soon = now - grant.last_poll < grant.interval - 1e-6
        grant.last_poll = now

        def poll(answer: str) -> None:
            self.polls.append(Poll(now, grant.user_code, answer))

        if now >= grant.issued_at + grant.expires_in:
            poll("expired_token")
            return self._oauth_error("expired_token", wants_json)
        if too_soon or grant.force_slow_down:
            grant.force_slow_down = max(grant.force_slow_down - 1, 0)
            grant.interval += 5
            poll("slow_down")
            return self._oauth_error("slow_down", wants_json, interval=grant.interval)
        if grant.state == "pending":
            poll("authorization_pending")
            return self._oauth_error("authorization_pending", wants_json)
        if grant.state == "denied":
            poll("access_denied")
            return self._oauth_error("access_denied", wants_json)
        token = "ghu_" + secrets.token_urlsafe(27)
        self.tokens[token] = grant.login
        grant.state = "redeemed"
        poll("token")
        return self._encode(200, {"access_token": token, "token_type": "bearer", "scope": ""}, wants_json)

    def _user(self, authorization: str) -> Answer:
        scheme, _, credential = authorization.partition(" ")
        login = self.tokens.get(credential) if scheme.lower() in ("bearer", "token") else None
        if login is None or login not in self.users:
            return self._json(401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"})
        uid = self.users[login]
        return self._json(
            200,
            {"login": login, "id": uid, "node_id": f"MDQ6VXNlcj{uid}", "type": "User", "site_admin": False},
        )

    # ------------------------------------------------------------------ encoding
    @staticmethod
    def _form(content_type: str, raw: bytes) -> dict[str, str]:
        text = raw.decode("utf-8", "replace")
        if "json" in content_type:
            try:
                data = json.loads(text)
            except ValueError:
                return {}
            return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}
        return {k: v[0] for k, v in parse_qs(text).items()}

    def _oauth_error(self, error: str, wants_json: bool, **extra: Any) -> Answer:
        body = {"error": error, "error_description": DESCRIPTIONS[error], "error_uri": DOCS, **extra}
        return self._encode(self.error_status, body, wants_json)

    def _encode(self, status: int, body: dict[str, Any], wants_json: bool) -> Answer:
        if wants_json:
            return self._json(status, body)
        payload = urlencode({k: str(v) for k, v in body.items()}).encode()
        return Answer(status, {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}, payload)

    @staticmethod
    def _json(status: int, body: dict[str, Any]) -> Answer:
        return Answer(status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(body).encode())
