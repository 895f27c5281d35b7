"""A stateful local stand-in for the GitHub REST API, for tests that talk real HTTP.

It runs a ``ThreadingHTTPServer`` on 127.0.0.1 (a free port) in a background thread and speaks
enough of GitHub's REST API for a GitHub App installed on one organization:

- App authentication: ``GET /orgs/{org}/installation`` and
  ``POST /app/installations/{id}/access_tokens`` require ``Authorization: Bearer <JWT>``, an
  RS256 JWT signed with the App's private key (checked with PyJWT against ``public_key``:
  signature, ``iss`` equal to ``app_id``, ``iat``/``exp`` present and at most 10 minutes apart).
  Each token request issues a fresh installation token that lives ``token_ttl`` seconds.
- Every other route requires ``Authorization: token <installation token>`` (``Bearer`` is accepted
  too, as GitHub does); an unknown or expired token gets 401 ``Bad credentials``.
- Users (``GET /users/{login}``), org membership (``GET /orgs/{org}/members/{login}``,
  ``GET``/``PUT /orgs/{org}/memberships/{login}``; the PUT invites a non-member), invitations
  (``GET``/``POST /orgs/{org}/invitations``, not in GHES mode), teams (``GET``/``POST
  /orgs/{org}/teams``, ``GET``/``DELETE /orgs/{org}/teams/{slug}``) and team memberships
  (``GET /orgs/{org}/teams/{slug}/members``, ``PUT``/``DELETE
  /orgs/{org}/teams/{slug}/memberships/{login}``), with GitHub's JSON shapes, ``Link``
  pagination (``per_page``, ``page``) and GitHub's error bodies (404 ``Not Found``, 422
  ``Validation Failed`` with ``errors``).

It is strict, so that a client speaking yesterday's GitHub fails here as it would there:

- every request must carry ``X-GitHub-Api-Version: 2022-11-28`` (else 400);
- an ``Accept`` naming a preview media type (``…-preview``) is refused with 415;
- every request is checked against GitHub's OpenAPI description (``tests.support.github_openapi``:
  api.github.com, or GHES 3.19 with ``ghes=True``): an unknown or deprecated operation (the
  legacy ``/teams/{team_id}/…`` routes; ``POST /orgs/{org}/invitations`` on GHES) gets 404.
  Refusals are listed in ``refused`` (``("METHOD /path", why)``), here and in the process-wide
  ``REFUSED``; every request any stand-in answered is in the process-wide ``RECORDED``
  (``(description, "METHOD /path")``), for a test that walks them all.

``ghes=True`` is GitHub Enterprise Server: the base URL ends in ``/api/v3`` and the description
is GHES's. Rate limits: ``rate_limit(after, lifts_in, kind=…, status=…)`` answers every request
after the next ``after`` with a primary limit (``x-ratelimit-remaining: 0`` and
``x-ratelimit-reset``) or a secondary one (403/429 with ``retry-after``) until it lifts;
``rate_limited`` counts those answers.

Like GitHub, inviting a user (or adding a non-member to a team) leaves them *pending*: they are
not org members and are not listed as team members until they accept; call
``accept_invitation(login)`` to play the user's part, or construct with ``auto_accept=True``.

State is public and guarded by ``lock``: ``users`` (login -> id), ``org_members`` (logins),
``invitations`` (login -> invitation id), ``teams`` (id -> ``{"id","slug","name","description",
"privacy"}``), ``memberships`` (team id -> {login -> "active"|"pending"}), ``tokens`` (token ->
expiry Unix time) and ``tokens_issued`` (in order). ``requests`` is the log of
``"METHOD /path"`` strings (path without the URL prefix or query) answered, ``count(prefix)`` counts
them; ``fail_next(route_prefix, status, times)`` makes the next requests that match fail;
``latency`` delays every answer. ``rejected`` lists the 401s and injected failures.

Use it as a context manager or with ``start()``/``stop()``; ``url`` is the base URL to hand to
the client (it includes ``prefix``, e.g. ``/api/v3`` for a GitHub Enterprise-shaped URL).
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt

from tests.support import github_openapi

API_VERSION = "2022-11-28"
RECORDED: list[tuple[str, str]] = []  # (OpenAPI description, "METHOD /path") of every request answered
REFUSED: list[tuple[str, str]] = []  # ("METHOD /path", why) refused by any stand-in for being off-spec

DOCS = "https://docs.github.com/rest"
SECONDARY_RATE_LIMIT = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
JWT_MAX_LIFETIME = 600  # GitHub refuses App JWTs that live longer than 10 minutes


def iso(ts: float) -> str:
    """A Unix time as GitHub writes it: ``2024-01-02T03:04:05Z``."""
    return datetime.fromtimestamp(int(ts), UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def slugify(name: str) -> str:
    """GitHub's team slug for a name: lower case, runs of other characters become ``-``."""
    return re.sub(r"[^a-z0-9_]+", "-", name.lower()).strip("-")


class HttpError(Exception):
    """Raised by a route handler to answer with ``status`` and a GitHub-shaped error body."""

    def __init__(self, status: int, message: str, errors: list[dict] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message, "documentation_url": DOCS, "status": str(status)}
        if errors:
            self.body["errors"] = errors


@dataclass
class Failure:
    """An injected failure: the next ``times`` requests matching ``route_prefix`` get ``status``."""

    route_prefix: str
    status: int
    times: int
    rate_limited: bool
    reset_at: int
    message: str | None

    def matches(self, method: str, path: str) -> bool:
        if self.route_prefix.startswith("/"):
            return path.startswith(self.route_prefix)
        return f"{method} {path}".startswith(self.route_prefix)


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[..., Response]


class GitHubStandIn:
    """See the module docstring. Not a mock: it keeps state and enforces authentication."""

    def __init__(
        self,
        public_key: str | bytes,
        app_id: str = "12345",
        org: str = "rocket-org",
        *,
        installation_id: int = 4242,
        prefix: str | None = None,
        auto_accept: bool = False,
        ghes: bool = False,
        token_ttl: float = 3600.0,
        record: bool = True,
    ) -> None:
        self.public_key = public_key
        self.app_id = str(app_id)
        self.org = org
        self.org_id = 900001
        self.installation_id = installation_id
        self.ghes = ghes
        self.record = record  # False: keep this stand-in's requests out of RECORDED / REFUSED
        self.description = "ghes-3.19" if ghes else "api.github.com"
        self.prefix = ("/api/v3" if ghes else "") if prefix is None else prefix.rstrip("/")
        self.auto_accept = auto_accept
        self.token_ttl = token_ttl
        self.latency = 0.0  # seconds every answer is delayed (outside the lock), to show calls don't block

        self.lock = threading.RLock()
        self.users: dict[str, int] = {}
        self.org_members: set[str] = set()
        self.invitations: dict[str, int] = {}
        self.invited_at: dict[str, float] = {}  # login -> when invited (default: now)
        self.failed_invitations: list[dict[str, Any]] = []  # GET /orgs/{org}/failed_invitations
        self.roles: dict[str, str] = {}  # login -> org role set through PUT /orgs/{org}/memberships
        self.teams: dict[int, dict[str, Any]] = {}
        self.memberships: dict[int, dict[str, str]] = {}
        self.tokens: dict[str, float] = {}
        self.tokens_issued: list[str] = []
        self.requests: list[str] = []
        self.rejected: list[tuple[str, int]] = []  # ("METHOD /path", status) for 401s and injected failures
        self._failures: list[Failure] = []
        self.refused: list[tuple[str, str]] = []
        self.rate_limited = 0
        self._limit: dict[str, Any] | None = None
        self._next_id = 5000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes: list[tuple[str, re.Pattern[str], Handler, str]] = []
        self._build_routes()
        self.oauth: Any = None  # device-flow hook: a GitHubOAuthStandIn set by its attach()

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> GitHubStandIn:
        standin = self

        class RequestHandler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = -1  # one write per response (flushed after each request), no Nagle stalls
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                # Device-flow hook (tests/support/github_oauth_standin.py, GitHubOAuthStandIn.attach):
                # its /login/... routes and GET {prefix}/user are answered by the attached router.
                if standin.oauth is not None:
                    answer = standin.oauth.answer(
                        self.command, self.path, dict(self.headers.items()), raw, api_prefix=standin.prefix
                    )
                    if answer is not None:
                        answer.write(self)
                        return
                if standin.latency:
                    time.sleep(standin.latency)
                response = standin._dispatch(self.command, self.path, dict(self.headers.items()), raw)
                payload = b"" if response.body is None else json.dumps(response.body).encode()
                self.send_response(response.status)
                headers = {**standin._rate_headers(), **response.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                if payload:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if payload:
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), RequestHandler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="github-standin",
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

    def __enter__(self) -> GitHubStandIn:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the stand-in first"
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        """The base URL to configure as ``GITHUB_API_URL``."""
        return f"http://127.0.0.1:{self.port}{self.prefix}"

    # ------------------------------------------------------------------ test helpers
    def add_user(self, login: str, user_id: int | None = None, *, org_member: bool = False) -> int:
        """Make ``login`` exist on GitHub (optionally already an org member); returns its id."""
        with self.lock:
            self.users[login] = user_id if user_id is not None else self._new_id()
            if org_member:
                self.org_members.add(login)
            return self.users[login]

    def add_team(
        self, slug: str, name: str | None = None, members: Iterable[str] = (), team_id: int | None = None
    ) -> int:
        """Create a team directly (members become org members and active team members)."""
        with self.lock:
            tid = team_id if team_id is not None else self._new_id()
            self.teams[tid] = {
                "id": tid,
                "slug": slug,
                "name": name or slug,
                "description": "",
                "privacy": "closed",
            }
            self.memberships[tid] = {}
            for login in members:
                if login not in self.users:
                    self.add_user(login)
                self.org_members.add(login)
                self.memberships[tid][login] = "active"
            return tid

    def team_id(self, slug: str) -> int:
        with self.lock:
            return next(t["id"] for t in self.teams.values() if t["slug"] == slug)

    def active_members(self, team_id: int) -> set[str]:
        with self.lock:
            return {login for login, state in self.memberships.get(team_id, {}).items() if state == "active"}

    def accept_invitation(self, login: str) -> None:
        """Play the invited user: they join the org and their pending team memberships become active."""
        with self.lock:
            self.invitations.pop(login, None)
            self.org_members.add(login)
            for members in self.memberships.values():
                if members.get(login) == "pending":
                    members[login] = "active"

    def expire_tokens(self) -> None:
        """Every installation token issued so far stops working (as if its hour had passed)."""
        with self.lock:
            for token in self.tokens:
                self.tokens[token] = time.time() - 1

    def fail_next(
        self,
        route_prefix: str,
        status: int,
        times: int = 1,
        *,
        rate_limited: bool | None = None,
        reset_at: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests matching ``route_prefix`` with ``status``.

        ``route_prefix`` is a path prefix (``"/orgs/acme/teams"``, any method) or a method and
        path prefix (``"POST /orgs/acme/teams"``). A 429, or a 403 with ``rate_limited=True``, is
        a rate-limit answer: ``X-RateLimit-Remaining: 0`` and ``X-RateLimit-Reset: reset_at``
        (default one minute from now) with GitHub's rate-limit message.
        """
        with self.lock:
            self._failures.append(
                Failure(
                    route_prefix,
                    status,
                    times,
                    rate_limited if rate_limited is not None else status == 429,
                    reset_at if reset_at is not None else int(time.time()) + 60,
                    message,
                )
            )

    def rate_limit(
        self, after: int = 0, lifts_in: float = 2.0, *, kind: str = "primary", status: int = 403
    ) -> None:
        """After the next ``after`` requests, answer every request with a rate limit until
        ``lifts_in`` seconds after the first refusal.

        ``kind="primary"``: ``status`` (403 or 429) with ``x-ratelimit-remaining: 0``,
        ``x-ratelimit-reset`` (the Unix second it lifts) and GitHub's "API rate limit exceeded"
        message. ``kind="secondary"``: ``status`` with ``retry-after`` (whole seconds until it
        lifts) and GitHub's secondary-limit message.
        """
        assert kind in ("primary", "secondary") and status in (403, 429)
        with self.lock:
            self._limit = {
                "after": after, "lifts_in": lifts_in, "kind": kind, "status": status, "until": None
            }

    def _rate_limit_answer(self) -> Response | None:
        """The rate-limit response for this request, if the limit is in force (lock held)."""
        limit = self._limit
        if limit is None:
            return None
        if limit["until"] is None:
            if limit["after"] > 0:
                limit["after"] -= 1
                return None
            # The primary limit lifts at a whole second, as x-ratelimit-reset says.
            limit["until"] = float(int(time.time() + limit["lifts_in"]) + 1)
        now = time.time()
        if now >= limit["until"]:
            self._limit = None
            return None
        self.rate_limited += 1
        if limit["kind"] == "primary":
            headers = {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Used": "5000",
                "X-RateLimit-Reset": str(int(limit["until"])),
                "X-RateLimit-Resource": "core",
            }
            message = f"API rate limit exceeded for installation ID {self.installation_id}."
        else:
            headers = {"Retry-After": str(max(int(limit["until"] - now + 0.999), 1))}
            message = SECONDARY_RATE_LIMIT
        return Response(limit["status"], HttpError(limit["status"], message).body, headers)

    def _refuse(self, key: str, status: int, why: str) -> Response:
        self.refused.append((key, why))
        if self.record:
            REFUSED.append((key, why))
        return Response(status, HttpError(status, why).body)

    def count(self, route_prefix: str = "") -> int:
        """How many requests matching ``route_prefix`` (as in ``fail_next``) were answered."""
        with self.lock:
            if route_prefix.startswith("/"):
                return sum(1 for r in self.requests if r.split(" ", 1)[1].startswith(route_prefix))
            return sum(1 for r in self.requests if r.startswith(route_prefix))

    # ------------------------------------------------------------------ JSON shapes
    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _base(self) -> str:
        return self.url

    def _simple_user(self, login: str) -> dict[str, Any]:
        base, uid = self._base(), self.users[login]
        return {
            "login": login,
            "id": uid,
            "node_id": f"MDQ6VXNlcj{uid}",
            "avatar_url": f"https://avatars.example.test/u/{uid}?v=4",
            "gravatar_id": "",
            "url": f"{base}/users/{login}",
            "html_url": f"https://github.example.test/{login}",
            "organizations_url": f"{base}/users/{login}/orgs",
            "repos_url": f"{base}/users/{login}/repos",
            "type": "User",
            "site_admin": False,
        }

    def _org_json(self) -> dict[str, Any]:
        base = self._base()
        return {
            "login": self.org,
            "id": self.org_id,
            "node_id": f"MDEyOk9yZ2FuaXphdGlvbj{self.org_id}",
            "url": f"{base}/orgs/{self.org}",
            "repos_url": f"{base}/orgs/{self.org}/repos",
            "members_url": f"{base}/orgs/{self.org}/members{{/member}}",
            "public_members_url": f"{base}/orgs/{self.org}/public_members{{/member}}",
            "avatar_url": f"https://avatars.example.test/u/{self.org_id}?v=4",
            "description": "A stand-in organization",
            "type": "Organization",
        }

    def _team_json(self, team: dict[str, Any], full: bool = False) -> dict[str, Any]:
        base, tid = self._base(), team["id"]
        data = {
            "id": tid,
            "node_id": f"MDQ6VGVhbT{tid}",
            "url": f"{base}/teams/{tid}",
            "html_url": f"https://github.example.test/orgs/{self.org}/teams/{team['slug']}",
            "name": team["name"],
            "slug": team["slug"],
            "description": team["description"],
            "privacy": team["privacy"],
            "notification_setting": "notifications_enabled",
            "permission": "pull",
            "members_url": f"{base}/teams/{tid}/members{{/member}}",
            "repositories_url": f"{base}/teams/{tid}/repos",
            "parent": None,
        }
        if full:
            data["members_count"] = len(self.active_members(tid))
            data["repos_count"] = 0
            data["created_at"] = data["updated_at"] = iso(time.time())
            data["organization"] = self._org_json()
        return data

    def _rate_headers(self) -> dict[str, str]:
        if self._limit is not None and self._limit["until"] is not None:
            return {"X-GitHub-Request-Id": secrets.token_hex(8).upper()}
        return {
            "X-RateLimit-Limit": "5000",
            "X-RateLimit-Remaining": "4999",
            "X-RateLimit-Reset": str(int(time.time()) + 3600),
            "X-RateLimit-Used": "1",
            "X-RateLimit-Resource": "core",
            "X-GitHub-Request-Id": secrets.token_hex(8).upper(),
        }

    def _paginate(self, path: str, query: dict[str, list[str]], items: list[Any]) -> Response:
        per_page = min(int(query.get("per_page", ["30"])[0]), 100)
        page = max(int(query.get("page", ["1"])[0]), 1)
        chunk = items[(page - 1) * per_page : page * per_page]
        last = max((len(items) + per_page - 1) // per_page, 1)
        links = []
        if page < last:
            links.append(f'<{self._base()}{path}?per_page={per_page}&page={page + 1}>; rel="next"')
            links.append(f'<{self._base()}{path}?per_page={per_page}&page={last}>; rel="last"')
        if page > 1:
            links.append(f'<{self._base()}{path}?per_page={per_page}&page=1>; rel="first"')
            links.append(f'<{self._base()}{path}?per_page={per_page}&page={page - 1}>; rel="prev"')
        return Response(200, chunk, {"Link": ", ".join(links)} if links else {})

    # ------------------------------------------------------------------ dispatch
    def _build_routes(self) -> None:
        org = re.escape(self.org)
        seg = r"([^/]+)"
        table: list[tuple[str, str, Handler, str]] = [
            ("GET", rf"/orgs/{org}/installation", self._get_installation, "app"),
            ("POST", r"/app/installations/(\d+)/access_tokens", self._create_token, "app"),
            ("GET", rf"/users/{seg}", self._get_user, "token"),
            ("GET", rf"/orgs/{org}", self._get_org, "token"),
            ("GET", rf"/orgs/{org}/members/{seg}", self._check_member, "token"),
            ("GET", rf"/orgs/{org}/memberships/{seg}", self._get_org_membership, "token"),
            ("PUT", rf"/orgs/{org}/memberships/{seg}", self._put_org_membership, "token"),
            ("DELETE", rf"/orgs/{org}/memberships/{seg}", self._delete_org_membership, "token"),
            ("GET", rf"/orgs/{org}/invitations", self._list_invitations, "token"),
            ("DELETE", rf"/orgs/{org}/invitations/(\d+)", self._cancel_invitation, "token"),
            ("GET", rf"/orgs/{org}/failed_invitations", self._list_failed_invitations, "token"),
            ("POST", rf"/orgs/{org}/invitations", self._invite, "token"),
            ("GET", rf"/orgs/{org}/teams", self._list_teams, "token"),
            ("POST", rf"/orgs/{org}/teams", self._create_team, "token"),
            ("GET", rf"/orgs/{org}/teams/{seg}", self._get_team_by_slug, "token"),
            ("DELETE", rf"/orgs/{org}/teams/{seg}", self._delete_team_by_slug, "token"),
            ("GET", rf"/orgs/{org}/teams/{seg}/members", self._list_members, "token"),
            ("GET", rf"/orgs/{org}/teams/{seg}/memberships/{seg}", self._get_membership, "token"),
            ("PUT", rf"/orgs/{org}/teams/{seg}/memberships/{seg}", self._add_membership, "token"),
            ("DELETE", rf"/orgs/{org}/teams/{seg}/memberships/{seg}", self._remove_membership, "token"),
        ]
        self._routes = [(m, re.compile(p + r"/?"), h, a) for m, p, h, a in table]

    def _dispatch(self, method: str, raw_path: str, headers: dict[str, str], raw: bytes) -> Response:
        parts = urlsplit(raw_path)
        path = parts.path
        if self.prefix:
            if not path.startswith(self.prefix + "/"):
                return self._error(404, "Not Found")
            path = path[len(self.prefix) :]
        query = parse_qs(parts.query)
        key = f"{method} {path}"
        with self.lock:
            self.requests.append(key)
            if self.record:
                RECORDED.append((self.description, key))
            version = next((v for k, v in headers.items() if k.lower() == "x-github-api-version"), None)
            if version != API_VERSION:
                return self._refuse(key, 400, f"X-GitHub-Api-Version must be {API_VERSION} (got {version!r})")
            accept = next((v for k, v in headers.items() if k.lower() == "accept"), "")
            if "-preview" in accept:
                return self._refuse(key, 415, f"preview media type refused: {accept}")
            verdict = github_openapi.check(self.description, method, path)
            if verdict:
                return self._refuse(key, 404, f"{verdict} operation in {self.description}")
            limited = self._rate_limit_answer()
            if limited is not None:
                return limited
            failure = next((f for f in self._failures if f.matches(method, path)), None)
            if failure is not None:
                failure.times -= 1
                if failure.times <= 0:
                    self._failures.remove(failure)
                self.rejected.append((key, failure.status))
                return self._failure_response(failure)
            for route_method, pattern, handler, auth in self._routes:
                match = pattern.fullmatch(path)
                if match is None or route_method != method:
                    continue
                try:
                    self._authenticate(auth, headers)
                    body = json.loads(raw) if raw else {}
                    return handler(*match.groups(), body=body, query=query, path=path)
                except HttpError as exc:
                    if exc.status == 401:
                        self.rejected.append((key, 401))
                    return Response(exc.status, exc.body)
            return self._error(404, "Not Found")

    def _error(self, status: int, message: str) -> Response:
        return Response(status, HttpError(status, message).body)

    def _failure_response(self, failure: Failure) -> Response:
        if failure.rate_limited:
            message = failure.message or (
                f"API rate limit exceeded for installation ID {self.installation_id}."
                if failure.status == 403
                else SECONDARY_RATE_LIMIT
            )
            headers = {
                "X-RateLimit-Limit": "5000",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Used": "5000",
                "X-RateLimit-Reset": str(failure.reset_at),
            }
            return Response(failure.status, HttpError(failure.status, message).body, headers)
        default = {
            403: "Resource not accessible by integration",
            500: "Internal Server Error",
            502: "Server Error",
            503: "Service Unavailable",
        }
        message = failure.message or default.get(failure.status, "Error")
        return Response(failure.status, HttpError(failure.status, message).body)

    def _authenticate(self, kind: str, headers: dict[str, str]) -> None:
        value = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        scheme, _, credential = value.partition(" ")
        if kind == "app":
            if scheme.lower() != "bearer" or not credential:
                raise HttpError(401, "A JSON web token could not be decoded")
            try:
                claims = jwt.decode(
                    credential,
                    self.public_key,
                    algorithms=["RS256"],
                    options={"require": ["iat", "exp", "iss"]},
                    leeway=60,
                )
            except jwt.PyJWTError as exc:
                raise HttpError(401, f"A JSON web token could not be decoded ({type(exc).__name__})") from exc
            if str(claims["iss"]) != self.app_id:
                raise HttpError(401, "Integration not found")
            if int(claims["exp"]) - int(claims["iat"]) > JWT_MAX_LIFETIME:
                raise HttpError(401, "'Expiration time' claim ('exp') is too far in the future")
            return
        if scheme.lower() not in ("token", "bearer") or not credential:
            raise HttpError(401, "Requires authentication")
        expires = self.tokens.get(credential)
        if expires is None or expires <= time.time():
            raise HttpError(401, "Bad credentials")

    # ------------------------------------------------------------------ App routes
    def _get_installation(self, *, body: Any, query: Any, path: str) -> Response:
        base = self._base()
        iid = self.installation_id
        return Response(
            200,
            {
                "id": iid,
                "account": {
                    "login": self.org,
                    "id": self.org_id,
                    "type": "Organization",
                    "url": f"{base}/orgs/{self.org}",
                },
                "repository_selection": "all",
                "access_tokens_url": f"{base}/app/installations/{iid}/access_tokens",
                "repositories_url": f"{base}/installation/repositories",
                "html_url": f"https://github.example.test/organizations/{self.org}/settings/installations/{iid}",
                "app_id": int(self.app_id) if self.app_id.isdigit() else 0,
                "app_slug": "rocket",
                "target_id": self.org_id,
                "target_type": "Organization",
                "permissions": {"members": "write", "metadata": "read"},
                "events": ["organization", "team", "membership"],
                "created_at": iso(time.time() - 86400),
                "updated_at": iso(time.time() - 86400),
                "single_file_name": None,
                "suspended_at": None,
            },
        )

    def _create_token(self, installation_id: str, *, body: Any, query: Any, path: str) -> Response:
        if int(installation_id) != self.installation_id:
            raise HttpError(404, "Not Found")
        token = "ghs_" + secrets.token_urlsafe(27)
        expires = time.time() + self.token_ttl
        self.tokens[token] = expires
        self.tokens_issued.append(token)
        return Response(
            201,
            {
                "token": token,
                "expires_at": iso(expires),
                "permissions": {"members": "write", "metadata": "read"},
                "repository_selection": "all",
            },
        )

    # ------------------------------------------------------------------ users and org
    def _user_or_404(self, login: str) -> str:
        found = next((u for u in self.users if u.lower() == login.lower()), None)
        if found is None:
            raise HttpError(404, "Not Found")
        return found

    def _get_user(self, login: str, *, body: Any, query: Any, path: str) -> Response:
        login = self._user_or_404(login)
        data = self._simple_user(login)
        data.update({"name": None, "company": None, "blog": "", "location": None, "email": None, "bio": None})
        data.update(
            {"public_repos": 0, "followers": 0, "following": 0, "created_at": iso(time.time() - 864000)}
        )
        return Response(200, data)

    def _get_org(self, *, body: Any, query: Any, path: str) -> Response:
        return Response(200, self._org_json())

    def _check_member(self, login: str, *, body: Any, query: Any, path: str) -> Response:
        if login in self.org_members:
            return Response(204)
        raise HttpError(404, "User does not exist or is not a member of the organization")

    def _get_org_membership(self, login: str, *, body: Any, query: Any, path: str) -> Response:
        login = self._user_or_404(login)
        if login not in self.org_members and login not in self.invitations:
            raise HttpError(404, "Not Found")
        return self._membership_json(login)

    def _put_org_membership(self, login: str, *, body: Any, query: Any, path: str) -> Response:
        """Set a user's org membership: a non-member is invited (pending until they accept)."""
        login = self._user_or_404(login)
        role = str(body.get("role") or "member")
        if role not in ("member", "admin"):
            raise HttpError(
                422, "Validation Failed", [{"resource": "Membership", "code": "invalid", "field": "role"}]
            )
        self.roles[login] = role
        if login not in self.org_members and login not in self.invitations:
            self.invitations[login] = self._new_id()
            if self.auto_accept:
                self.accept_invitation(login)
        return self._membership_json(login)

    def _delete_org_membership(self, login: str, *, body: Any, query: Any, path: str) -> Response:
        """Remove a member from the org (and every team), or cancel their invitation."""
        login = self._user_or_404(login)
        if login not in self.org_members and login not in self.invitations:
            raise HttpError(404, "Not Found")
        self.org_members.discard(login)
        self.invitations.pop(login, None)
        for members in self.memberships.values():
            members.pop(login, None)
        return Response(204)

    def expire_invitation(self, login: str) -> None:
        """Play GitHub's 7-day expiry: the invitation moves to the failed invitations."""
        with self.lock:
            data = self._invitation_json(login)
            data.update(failed_at=iso(time.time()), failed_reason="Invitation expired")
            self.failed_invitations.append(data)
            del self.invitations[login]
            for members in self.memberships.values():
                if members.get(login) == "pending":
                    del members[login]

    def _list_failed_invitations(self, *, body: Any, query: Any, path: str) -> Response:
        return self._paginate(path, query, list(self.failed_invitations))

    def _cancel_invitation(self, invitation_id: str, *, body: Any, query: Any, path: str) -> Response:
        """``DELETE /orgs/{org}/invitations/{invitation_id}``: GitHub's invitation id, not a user id."""
        login = next((u for u, iid in self.invitations.items() if iid == int(invitation_id)), None)
        if login is None:
            raise HttpError(404, "Not Found")
        del self.invitations[login]
        for members in self.memberships.values():
            if members.get(login) == "pending":
                del members[login]
        return Response(204)

    def _membership_json(self, login: str) -> Response:
        state = "active" if login in self.org_members else "pending"
        base = self._base()
        return Response(
            200,
            {
                "url": f"{base}/orgs/{self.org}/memberships/{login}",
                "state": state,
                "role": self.roles.get(login, "member"),
                "organization_url": f"{base}/orgs/{self.org}",
                "organization": self._org_json(),
                "user": self._simple_user(login),
            },
        )

    def _invitation_json(self, login: str) -> dict[str, Any]:
        iid = self.invitations[login]
        return {
            "id": iid,
            "login": login,
            "node_id": f"MDIyOk9yZ2FuaXphdGlvbkludml0YXRpb24{iid}",
            "email": None,
            "role": "direct_member",
            "created_at": iso(self.invited_at.get(login, time.time())),
            "failed_at": None,
            "failed_reason": None,
            "inviter": {"login": "rocket[bot]", "id": 1, "type": "Bot"},
            "team_count": 0,
            "invitation_teams_url": f"{self._base()}/organizations/{self.org_id}/invitations/{iid}/teams",
            "invitation_source": "member",
        }

    def _list_invitations(self, *, body: Any, query: Any, path: str) -> Response:
        return self._paginate(
            path, query, [self._invitation_json(login) for login in sorted(self.invitations)]
        )

    def _invite(self, *, body: Any, query: Any, path: str) -> Response:
        invitee_id = body.get("invitee_id")
        login = next((u for u, uid in self.users.items() if uid == invitee_id), None)
        if login is None:
            raise HttpError(
                422,
                "Validation Failed",
                [{"resource": "OrganizationInvitation", "code": "invalid", "field": "invitee_id"}],
            )
        if login in self.org_members or login in self.invitations:
            raise HttpError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "OrganizationInvitation",
                        "code": "unprocessable",
                        "field": "data",
                        "message": "Invitee is already a part of this organization",
                    }
                ],
            )
        self.invitations[login] = self._new_id()
        data = self._invitation_json(login)
        if self.auto_accept:
            self.accept_invitation(login)
        return Response(201, data)

    # ------------------------------------------------------------------ teams
    def _slug_or_404(self, slug: str) -> dict[str, Any]:
        team = next((t for t in self.teams.values() if t["slug"] == slug), None)
        if team is None:
            raise HttpError(404, "Not Found")
        return team

    def _list_teams(self, *, body: Any, query: Any, path: str) -> Response:
        teams = [self._team_json(t) for t in sorted(self.teams.values(), key=lambda t: t["id"])]
        return self._paginate(path, query, teams)

    def _create_team(self, *, body: Any, query: Any, path: str) -> Response:
        name = str(body.get("name") or "")
        if not name:
            raise HttpError(
                422, "Validation Failed", [{"resource": "Team", "code": "missing_field", "field": "name"}]
            )
        slug = slugify(name)
        if any(t["slug"] == slug or t["name"].lower() == name.lower() for t in self.teams.values()):
            raise HttpError(
                422,
                "Validation Failed",
                [
                    {
                        "resource": "Team",
                        "code": "unprocessable",
                        "field": "data",
                        "message": "Name must be unique for this org",
                    }
                ],
            )
        tid = self._new_id()
        self.teams[tid] = {
            "id": tid,
            "slug": slug,
            "name": name,
            "description": str(body.get("description") or ""),
            "privacy": str(body.get("privacy") or "secret"),
        }
        self.memberships[tid] = {}
        return Response(201, self._team_json(self.teams[tid], full=True))

    def _get_team_by_slug(self, slug: str, *, body: Any, query: Any, path: str) -> Response:
        return Response(200, self._team_json(self._slug_or_404(slug), full=True))

    def _drop_team(self, team: dict[str, Any]) -> Response:
        del self.teams[team["id"]]
        self.memberships.pop(team["id"], None)
        return Response(204)

    def _delete_team_by_slug(self, slug: str, *, body: Any, query: Any, path: str) -> Response:
        return self._drop_team(self._slug_or_404(slug))

    def _list_members(self, slug: str, *, body: Any, query: Any, path: str) -> Response:
        team = self._slug_or_404(slug)
        members = sorted(self.active_members(team["id"]), key=lambda login: self.users[login])
        return self._paginate(path, query, [self._simple_user(login) for login in members])

    def _add_membership(self, slug: str, login: str, *, body: Any, query: Any, path: str) -> Response:
        team = self._slug_or_404(slug)
        login = self._user_or_404(login)
        members = self.memberships[team["id"]]
        if login in self.org_members or self.auto_accept:
            self.org_members.add(login)
            members[login] = "active"
        elif members.get(login) != "active":
            members[login] = "pending"
            self.invitations.setdefault(login, self._new_id())
        return Response(
            200,
            {
                "url": f"{self._base()}/orgs/{self.org}/teams/{team['slug']}/memberships/{login}",
                "role": str(body.get("role") or "member"),
                "state": members[login],
            },
        )

    def _get_membership(self, slug: str, login: str, *, body: Any, query: Any, path: str) -> Response:
        team = self._slug_or_404(slug)
        login = self._user_or_404(login)
        state = self.memberships[team["id"]].get(login)
        if state is None:
            raise HttpError(404, "Not Found")
        url = f"{self._base()}/orgs/{self.org}/teams/{team['slug']}/memberships/{login}"
        return Response(200, {"url": url, "role": "member", "state": state})

    def _remove_membership(self, slug: str, login: str, *, body: Any, query: Any, path: str) -> Response:
        team = self._slug_or_404(slug)
        members = self.memberships[team["id"]]
        if login not in members:
            raise HttpError(404, "Not Found")
        del members[login]
        return Response(204)
