"""``GitHubApp``: ports.github.GitHub on PyGithub, authenticated as a GitHub App installation.

PyGithub does the authentication and the transport: ``Auth.AppAuth`` signs the App JWTs, the
organization's installation is looked up once (``GET /orgs/{org}/installation``) and an
``AppInstallationAuth`` requests an installation token and a new one shortly before it expires.

GitHub as it is today (REST API version ``2022-11-28``, api.github.com and GitHub Enterprise
Server alike):

- every request carries ``X-GitHub-Api-Version: 2022-11-28`` and ``Accept:
  application/vnd.github+json``; no preview media type is ever sent (PyGithub's App calls send
  ``machine-man-preview``, so the installation lookup and token requests are made here);
- every team call uses the org-scoped slug routes ``/orgs/{org}/teams/{team_slug}/…``, never the
  deprecated ``/teams/{team_id}/…`` ones. The port names teams by id, so the adapter keeps the
  id -> slug map of every team it has seen (``list_teams``, ``team_by_slug``, ``create_team``)
  and lists the organization's teams once for an id it has not seen (or whose slug changed);
- invitations go through ``PUT /orgs/{org}/memberships/{username}`` (role ``member``), which
  both api.github.com and GHES have (``POST /orgs/{org}/invitations`` does not exist on GHES).

Every blocking PyGithub call runs in ``asyncio.to_thread``. Transient failures (connection
errors; 500/502/503/504 on idempotent methods) are retried by urllib3 through PyGithub's
``retry=`` parameter, ``retries`` times with exponential backoff; POSTs are never replayed after
a 5xx, because a 5xx may hide a write that happened.

Rate limits (``adapters.github.errors``): by default, where a person waits for the answer, a
primary or secondary rate limit is not waited out but reported at once as ``RateLimited`` whose
message says when it lifts ("GitHub's rate limit lifts at HH:MM UTC"). ``patient()`` returns the
same adapter for work nobody waits for (the scheduled refresh): its transport is PyGithub's
``GithubRetry``, which sleeps until ``x-ratelimit-reset`` (primary) or for ``retry-after`` /
a minute (secondary), then retries; the waits are recorded in ``rate_limit_waits``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar

import github
from github import Auth, Consts, GithubException, GithubIntegration
from github.GithubRetry import GithubRetry
from github.InstallationAuthorization import InstallationAuthorization
from github.Requester import Requester
from urllib3.util.retry import Retry

from adapters.github.auth import GitHubSettings, parse_settings
from adapters.github.errors import is_unique_name_violation, translate
from adapters.github.events import WebhookScope
from adapters.github.settings import GitHubAppSettings
from core.errors import Conflict, NotFound, RocketError, UpstreamError
from ports.github import GitHubTeam, GitHubUser, Invitation, OrgMembership

T = TypeVar("T")
log = logging.getLogger(__name__)

API_VERSION = "2022-11-28"
ACCEPT = "application/vnd.github+json"
RETRY_STATUSES = frozenset({500, 502, 503, 504})
RETRY_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
MAX_RATE_LIMIT_WAIT = 3600.0 + 60.0  # a primary limit lifts within the hour


def _headers() -> dict[str, str]:
    return {"Accept": ACCEPT}


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def make_retry(retries: int, backoff: float) -> Retry:
    """The urllib3 retry policy handed to PyGithub (bounded; no sleeping on ``Retry-After``)."""
    return Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,
        backoff_factor=backoff,
        backoff_max=max(backoff * 8, 0.0),
        status_forcelist=RETRY_STATUSES,
        allowed_methods=RETRY_METHODS,
        raise_on_status=False,
        respect_retry_after_header=False,
    )


class WaitingRetry(GithubRetry):
    """PyGithub's ``GithubRetry`` (waits out primary and secondary rate limits), plus:

    - a 429 with ``x-ratelimit-remaining: 0`` and no ``retry-after`` waits until
      ``x-ratelimit-reset`` as a 403 does (``GithubRetry`` only reads 403 bodies);
    - a POST is retried after a rate limit (GitHub did not apply it) but never after a 5xx;
    - every rate-limit wait is appended to ``waits`` (seconds), shared by the copies urllib3 makes.
    """

    def __init__(self, *, waits: list[float] | None = None, **kwargs: Any) -> None:
        self.waits: list[float] = waits if waits is not None else []
        super().__init__(**kwargs)

    def new(self, **kw: Any) -> WaitingRetry:
        kw["waits"] = self.waits
        return super().new(**kw)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() == "POST" and status_code >= 500:
            return False
        return super().is_retry(method, status_code, has_retry_after)

    def increment(  # type: ignore[override]
        self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> Retry:
        headers = getattr(response, "headers", None) or {}
        if (response is not None and response.status == 429 and "Retry-After" not in headers
                and headers.get("X-RateLimit-Remaining") == "0"
                and str(headers.get("X-RateLimit-Reset", "")).isdigit()):
            retry = Retry.increment(self, method, url, response, error, _pool, _stacktrace)
            backoff = max(float(headers["X-RateLimit-Reset"]) - time.time() + 1.0, 0.0)
            if self.max_rate_limit_wait is not None and backoff > self.max_rate_limit_wait:
                raise GithubException(429, {"message": "rate limit lasts longer than Rocket waits"},
                                      dict(headers))
            retry.get_backoff_time = lambda: backoff  # type: ignore[method-assign]
            return retry
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def sleep(self, response: Any = None) -> None:
        started = time.monotonic()
        super().sleep(response)
        if response is not None and response.status in (403, 429):
            self.waits.append(time.monotonic() - started)


def make_waiting_retry(retries: int, backoff: float, waits: list[float],
                       secondary_wait: float = 60.0, max_wait: float = MAX_RATE_LIMIT_WAIT) -> WaitingRetry:
    """The retry policy of ``patient()``: transient failures as ``make_retry``, rate limits waited out."""
    return WaitingRetry(
        waits=waits,
        secondary_rate_wait=secondary_wait,
        max_rate_limit_wait=max_wait,
        total=retries + 4,
        connect=retries,
        read=retries,
        status=retries + 4,
        other=0,
        backoff_factor=backoff,
        backoff_max=max(backoff * 8, 0.0),
        status_forcelist=sorted(RETRY_STATUSES | {429}),
        allowed_methods=RETRY_METHODS | {"POST"},
        raise_on_status=False,
        respect_retry_after_header=True,
    )


class _InstallationAuth(Auth.AppInstallationAuth):
    """PyGithub's installation auth (token cache and refresh), with the token request made
    without PyGithub's obsolete ``machine-man-preview`` media type."""

    def _get_installation_authorization(self) -> InstallationAuthorization:
        headers, data = self.requester.requestJsonAndCheck(
            "POST", f"/app/installations/{self.installation_id}/access_tokens", headers=_headers(), input={}
        )
        return InstallationAuthorization(requester=self.requester, headers=headers, attributes=data)


def _team(data: Mapping[str, Any]) -> GitHubTeam:
    return GitHubTeam(id=str(data["id"]), slug=str(data["slug"]), name=str(data.get("name") or data["slug"]))


def _next_link(headers: Mapping[str, Any]) -> str | None:
    link = next((str(v) for k, v in headers.items() if k.lower() == "link"), "")
    for part in link.split(","):
        url, _, rel = part.partition(";")
        if 'rel="next"' in rel:
            return url.strip().strip("<>")
    return None


class GitHubApp:
    """The GitHub port for one organization, as a GitHub App installed on it."""

    def __init__(
        self,
        settings: GitHubSettings,
        *,
        retries: int = 3,
        backoff: float = 0.5,
        timeout: int = Consts.DEFAULT_TIMEOUT,
        per_page: int = 100,
        seconds_between_requests: float | None = None,
        seconds_between_writes: float | None = None,
        wait_on_rate_limit: bool = False,
        secondary_rate_wait: float = 60.0,
        max_rate_limit_wait: float = MAX_RATE_LIMIT_WAIT,
    ) -> None:
        """``retries``/``backoff``: bounded retries of transient failures (urllib3 ``backoff_factor``;
        tests pass ``backoff=0``). ``seconds_between_*``: PyGithub's pacing of requests, off by
        default because a slash command makes a handful of calls and must answer within seconds.
        ``wait_on_rate_limit``: wait rate limits out (``GithubRetry``, at most
        ``max_rate_limit_wait`` seconds each) instead of raising ``RateLimited``; see ``patient()``."""
        self.settings = settings
        self.org_name = settings.org
        self.per_page = per_page
        self.wait_on_rate_limit = wait_on_rate_limit
        self.rate_limit_waits: list[float] = []
        self._options: dict[str, Any] = dict(
            retries=retries, backoff=backoff, timeout=timeout, per_page=per_page,
            seconds_between_requests=seconds_between_requests, seconds_between_writes=seconds_between_writes,
            secondary_rate_wait=secondary_rate_wait, max_rate_limit_wait=max_rate_limit_wait,
        )
        retry: Retry = (
            make_waiting_retry(
                retries, backoff, self.rate_limit_waits, secondary_rate_wait, max_rate_limit_wait
            )
            if wait_on_rate_limit else make_retry(retries, backoff)
        )
        self._integration_kwargs: dict[str, Any] = dict(
            base_url=settings.api_url,
            timeout=timeout,
            per_page=per_page,
            retry=retry,
            seconds_between_requests=seconds_between_requests,
            seconds_between_writes=seconds_between_writes,
            lazy=True,
            api_version=API_VERSION,
        )
        self._lock = threading.Lock()
        self._requester: Requester | None = None
        self._installation_id = ""
        self._slugs: dict[str, str] = {}

    @classmethod
    def from_settings(
        cls, settings: GitHubAppSettings | None, **options: float | int | None
    ) -> GitHubApp | None:
        """The adapter for these settings; ``None`` when they are ``None`` (GitHub not configured).

        Raises ``ValueError`` (one line naming the variable) for a malformed app id or key. No
        network I/O happens here: the installation is looked up on first use. ``options`` are
        passed to ``__init__`` (``retries``, ``backoff``, ``seconds_between_requests``, …).
        """
        if settings is None:
            return None
        return cls(parse_settings(settings), **options)  # type: ignore[arg-type]

    def patient(self) -> GitHubApp:
        """The same adapter (same settings and options, its own connection) that waits rate
        limits out instead of raising ``RateLimited``: for jobs nobody waits for."""
        if self.wait_on_rate_limit:
            return self
        return GitHubApp(self.settings, **self._options, wait_on_rate_limit=True)

    # ------------------------------------------------------------------ plumbing
    def _req(self) -> Requester:
        """The installation's requester, created on first use (blocking; call from a worker thread)."""
        with self._lock:
            if self._requester is None:
                app_auth = self.settings.app_auth()
                integration = GithubIntegration(auth=app_auth, **self._integration_kwargs)
                app_requester = integration.requester
                try:
                    _, data = app_requester.requestJsonAndCheck(
                        "GET", f"/orgs/{_q(self.org_name)}/installation", headers=_headers()
                    )
                except GithubException as exc:
                    if exc.status == 404:
                        raise UpstreamError(
                            "GitHub", f"the GitHub App is not installed on the organization {self.org_name!r}"
                        ) from exc
                    raise
                auth = _InstallationAuth(app_auth, int(data["id"]), requester=app_requester)
                self._installation_id = str(data["id"])
                self._requester = github.Github(**app_requester.withAuth(auth).kwargs).requester
            return self._requester

    def _call(self, method: str, url: str, body: dict[str, Any] | None = None) -> tuple[dict, Any]:
        return self._req().requestJsonAndCheck(method, url, input=body, headers=_headers())

    def _pages(self, url: str) -> Iterator[Any]:
        """Every item of a paginated listing, following ``Link: rel="next"``."""
        params: dict[str, Any] | None = {"per_page": self.per_page}
        next_url: str | None = url
        while next_url:
            headers, data = self._req().requestJsonAndCheck(
                "GET", next_url, parameters=params, headers=_headers()
            )
            yield from data or []
            next_url, params = _next_link(headers or {}), None

    def _org_path(self) -> str:
        return f"/orgs/{_q(self.org_name)}"

    def _remember(self, team: GitHubTeam) -> GitHubTeam:
        self._slugs[team.id] = team.slug
        return team

    def _list_teams(self) -> list[GitHubTeam]:
        teams = [self._remember(_team(t)) for t in self._pages(f"{self._org_path()}/teams")]
        known = {t.id for t in teams}
        for stale in set(self._slugs) - known:
            self._slugs.pop(stale, None)
        return teams

    def _with_slug(self, team_id: str, work: Callable[[str], T]) -> T:
        """Run ``work(team_slug)`` for the team with GitHub id ``team_id``.

        The slug comes from the map of teams seen; an unknown id, or a 404 for a remembered slug
        (the team was renamed), lists the organization's teams once and tries again. ``NotFound``
        when the organization has no team with that id.
        """
        try:
            int(team_id)
        except (TypeError, ValueError):
            raise NotFound(f"GitHub has no team with id {team_id!r}") from None
        slug = self._slugs.get(team_id)
        missed: GithubException | None = None
        if slug is not None:
            try:
                return work(slug)
            except GithubException as exc:
                if exc.status != 404:
                    raise
                missed = exc
        self._list_teams()
        fresh = self._slugs.get(team_id)
        if fresh is None:
            raise NotFound(f"GitHub has no team with id {team_id}")
        if fresh == slug and missed is not None:  # the team is there: the 404 was about the rest
            raise missed
        return work(fresh)

    def _team_path(self, slug: str) -> str:
        return f"{self._org_path()}/teams/{_q(slug)}"

    async def _run(self, work: Callable[[], T], not_found: str) -> T:
        """Run blocking ``work`` in a thread, translating its failures to ``core.errors``."""

        def guarded() -> T:
            try:
                return work()
            except RocketError:
                raise
            except Exception as exc:
                raise translate(exc, not_found) from exc

        return await asyncio.to_thread(guarded)

    # ------------------------------------------------------------------ the port
    async def installation_id(self) -> str:
        """The App's installation id on the organization (looked up once, on first use)."""
        if not self._installation_id:
            await self._run(self._req, f"the GitHub App is not installed on {self.org_name!r}")
        return self._installation_id

    async def webhook_scope(self) -> WebhookScope:
        """Whose webhooks may change the directory: our organization and installation. When the
        installation cannot be learned (GitHub unreachable) its id is ``""``: a delivery naming
        an installation is then ignored rather than trusted."""
        try:
            installation = await self.installation_id()
        except RocketError as exc:
            log.warning("cannot learn the App's installation id (%s); such webhooks are ignored", exc)
            installation = ""
        return WebhookScope(self.org_name, installation)

    async def ensure_configured(self) -> None:
        """Configured by construction: nothing to check, no request made."""

    async def invite_to_org(self, login: str) -> OrgMembership:
        """Invite ``login`` unless they are a member or already invited; returns their GitHub id
        with the membership state (``pending`` or ``active``).

        Calls: ``GET /users/{login}``, ``GET /orgs/{org}/memberships/{login}`` (200 when active or
        pending) and, only when there is no membership, ``PUT /orgs/{org}/memberships/{login}``
        with role ``member`` (so an org owner is never demoted).
        """

        def work() -> OrgMembership:
            try:
                _, user = self._call("GET", f"/users/{_q(login)}")
            except GithubException as exc:
                if exc.status == 404:
                    raise NotFound(f"GitHub has no user {login!r}") from exc
                raise
            user_id = str(user["id"])
            url = f"{self._org_path()}/memberships/{_q(login)}"
            try:
                _, membership = self._call("GET", url)
            except GithubException as exc:
                if exc.status != 404:
                    raise
                _, membership = self._call("PUT", url, {"role": "member"})
            return OrgMembership(user_id, str((membership or {}).get("state") or "pending"))

        return await self._run(work, f"GitHub has no user {login!r}")

    async def team_by_slug(self, slug: str) -> GitHubTeam:
        """``GET /orgs/{org}/teams/{team_slug}``."""

        def work() -> GitHubTeam:
            _, data = self._call("GET", self._team_path(slug))
            return self._remember(_team(data))

        return await self._run(work, f"GitHub has no team {slug!r}")

    async def list_teams(self) -> list[GitHubTeam]:
        """``GET /orgs/{org}/teams``, every page."""
        return await self._run(self._list_teams, f"GitHub has no organization {self.org_name!r}")

    async def list_team_members(self, team_id: str) -> list[GitHubUser]:
        """``GET /orgs/{org}/teams/{team_slug}/members``, every page (active members only)."""

        def work(slug: str) -> list[GitHubUser]:
            return [
                GitHubUser(id=str(u["id"]), login=str(u["login"]))
                for u in self._pages(f"{self._team_path(slug)}/members")
            ]

        return await self._run(
            lambda: self._with_slug(team_id, work), f"GitHub has no team with id {team_id}"
        )

    async def create_team(self, slug: str, name: str = "") -> GitHubTeam:
        """``POST /orgs/{org}/teams`` named ``slug`` (GitHub derives the slug from the name; the
        display ``name`` is Rocket's to keep). ``Conflict`` when GitHub says the name is taken."""

        def work() -> GitHubTeam:
            try:
                _, data = self._call("POST", f"{self._org_path()}/teams", {"name": slug, "privacy": "closed"})
            except GithubException as exc:
                if is_unique_name_violation(exc):
                    raise Conflict(f"GitHub already has a team {slug!r}") from exc
                raise
            return self._remember(_team(data))

        return await self._run(work, f"GitHub has no organization {self.org_name!r}")

    async def delete_team(self, team_id: str) -> None:
        """``DELETE /orgs/{org}/teams/{team_slug}``; a team GitHub no longer has is not an error."""

        def work() -> None:
            try:
                self._with_slug(team_id, lambda slug: self._call("DELETE", self._team_path(slug)))
            except NotFound:
                return
            except GithubException as exc:
                if exc.status != 404:
                    raise
            self._slugs.pop(team_id, None)

        await self._run(work, f"GitHub has no team with id {team_id}")

    async def add_team_member(self, team_id: str, login: str) -> None:
        """``PUT /orgs/{org}/teams/{team_slug}/memberships/{login}`` (idempotent; a non-member of
        the org is invited by GitHub and stays pending until they accept; an existing member's
        role is left as it is). ``NotFound`` for a missing team or login."""
        await self._run(
            lambda: self._with_slug(
                team_id, lambda slug: self._call("PUT", f"{self._team_path(slug)}/memberships/{_q(login)}")
            ),
            f"GitHub has no team with id {team_id} or no user {login!r}",
        )

    async def remove_team_member(self, team_id: str, login: str) -> None:
        """``DELETE /orgs/{org}/teams/{team_slug}/memberships/{login}``; a membership (or team)
        that is not there is not an error."""

        def work() -> None:
            try:
                self._with_slug(
                    team_id,
                    lambda slug: self._call("DELETE", f"{self._team_path(slug)}/memberships/{_q(login)}"),
                )
            except NotFound:
                return
            except GithubException as exc:
                if exc.status != 404:
                    raise

        await self._run(work, f"GitHub has no team with id {team_id}")

    async def remove_from_org(self, login: str) -> str:
        """Take ``login`` out of the organization, or cancel their pending invitation.

        Calls: ``GET /orgs/{org}/memberships/{login}``; 404 means neither member nor invited
        (``"absent"``). An ``active`` membership: ``DELETE /orgs/{org}/memberships/{login}``
        (``"removed"``). A ``pending`` one: the invitation is found in
        ``GET /orgs/{org}/invitations`` (every page) and cancelled with
        ``DELETE /orgs/{org}/invitations/{invitation_id}`` (``"cancelled"``); an invitation
        already gone by then is ``"absent"``.
        """

        def work() -> str:
            url = f"{self._org_path()}/memberships/{_q(login)}"
            try:
                _, membership = self._call("GET", url)
            except GithubException as exc:
                if exc.status == 404:
                    return "absent"
                raise
            if str((membership or {}).get("state") or "") == "active":
                try:
                    self._call("DELETE", url)
                except GithubException as exc:
                    if exc.status != 404:
                        raise
                    return "absent"
                return "removed"
            wanted = login.casefold()
            for invitation in self._pages(f"{self._org_path()}/invitations"):
                if str(invitation.get("login") or "").casefold() == wanted:
                    try:
                        self._call("DELETE", f"{self._org_path()}/invitations/{int(invitation['id'])}")
                    except GithubException as exc:
                        if exc.status != 404:
                            raise
                        return "absent"
                    return "cancelled"
            return "absent"

        return await self._run(work, f"GitHub has no user {login!r}")

    def _invitation(self, data: Any) -> Invitation:
        return Invitation(id=str(data.get("id") or ""), login=str(data.get("login") or ""),
                          created_at=str(data.get("created_at") or ""),
                          failed_reason=str(data.get("failed_reason") or ""))

    async def pending_invitation(self, login: str) -> Invitation | None:
        """``GET /orgs/{org}/memberships/{login}``; only when it is ``pending``, the invitation
        from ``GET /orgs/{org}/invitations`` (every page). A member costs one request."""

        def work() -> Invitation | None:
            try:
                _, membership = self._call("GET", f"{self._org_path()}/memberships/{_q(login)}")
            except GithubException as exc:
                if exc.status == 404:
                    return None
                raise
            if str((membership or {}).get("state") or "") != "pending":
                return None
            wanted = login.casefold()
            for data in self._pages(f"{self._org_path()}/invitations"):
                if str(data.get("login") or "").casefold() == wanted:
                    return self._invitation(data)
            return None

        return await self._run(work, f"GitHub has no user {login!r}")

    async def expired_invitations(self) -> list[Invitation]:
        """``GET /orgs/{org}/failed_invitations``, every page. GitHub Enterprise Server (an
        ``/api/v3`` base URL) has no such route: there the answer is ``[]`` with no request."""
        if str(getattr(self.settings, "api_url", "") or "").rstrip("/").endswith("/api/v3"):
            return []
        return await self._run(
            lambda: [self._invitation(d) for d in self._pages(f"{self._org_path()}/failed_invitations")],
            f"GitHub has no organization {self.org_name!r}",
        )

    async def is_team_member(self, team_id: str, login: str) -> bool:
        """``GET /orgs/{org}/teams/{team_slug}/memberships/{login}``: 200 (active or pending)
        is True; 404 (no membership, or no such team) is False."""

        def work() -> bool:
            try:
                self._with_slug(
                    team_id,
                    lambda slug: self._call("GET", f"{self._team_path(slug)}/memberships/{_q(login)}"),
                )
            except NotFound:
                return False
            except GithubException as exc:
                if exc.status == 404:
                    return False
                raise
            return True

        return await self._run(work, f"GitHub has no team with id {team_id}")
