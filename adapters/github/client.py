"""``GitHubApp``: ports.github.GitHub on PyGithub, authenticated as a GitHub App installation.

PyGithub does the authentication: ``Auth.AppAuth`` signs the App JWTs, the organization's
installation is looked up once (``GithubIntegration.get_org_installation``) and
``get_github_for_installation`` returns a client whose ``AppInstallationAuth`` requests an
installation token and requests a new one shortly before it expires.

Every blocking PyGithub call runs in ``asyncio.to_thread``. Transient failures (connection
errors; 500/502/503/504 on idempotent methods: GET, PUT, DELETE) are retried by urllib3 through
PyGithub's ``retry=`` parameter, ``retries`` times with exponential backoff; POSTs (team creation,
invitations, token requests) are retried only when the connection failed before the request was
sent, because a 5xx may hide a write that happened. Failures map to ``core.errors`` as
``adapters.github.errors`` describes.

The client is lazy (``lazy=True``): objects are addressed by URL without being fetched, so each
port operation makes the fewest HTTP calls (adding a team member is one ``PUT``).
"""

from __future__ import annotations

import asyncio
import threading
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import github
from github import Consts, GithubException, GithubIntegration
from urllib3.util.retry import Retry

from adapters.github.auth import GitHubSettings, settings_from_env
from adapters.github.errors import is_unique_name_violation, translate
from core.errors import Conflict, NotFound, RocketError, UpstreamError
from ports.github import GitHubTeam, GitHubUser

T = TypeVar("T")

RETRY_STATUSES = frozenset({500, 502, 503, 504})
RETRY_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})


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


def _team(team: github.Team.Team) -> GitHubTeam:
    return GitHubTeam(id=str(team.id), slug=team.slug, name=team.name)


def _team_id(team_id: str) -> int:
    try:
        return int(team_id)
    except (TypeError, ValueError):
        raise NotFound(f"GitHub has no team with id {team_id!r}") from None


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
    ) -> None:
        """``retries``/``backoff``: bounded retries of transient failures (urllib3 ``backoff_factor``;
        tests pass ``backoff=0``). ``seconds_between_*``: PyGithub's pacing of requests, off by
        default because a slash command makes a handful of calls and must answer within seconds
        (PyGithub's own defaults, 0.25 s and 1 s, suit bulk scripts); a secondary rate limit
        GitHub still imposes is reported as ``RateLimited``."""
        self.settings = settings
        self.org_name = settings.org
        self._integration_kwargs: dict[str, Any] = dict(
            base_url=settings.api_url,
            timeout=timeout,
            per_page=per_page,
            retry=make_retry(retries, backoff),
            seconds_between_requests=seconds_between_requests,
            seconds_between_writes=seconds_between_writes,
            lazy=True,
        )
        self._lock = threading.Lock()
        self._github: github.Github | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str], **options: float | int | None) -> GitHubApp | None:
        """The adapter configured from ``GITHUB_*`` settings; ``None`` when GitHub is not configured.

        Raises ``ValueError`` (one line naming the variable) for a malformed setting. No network
        I/O happens here: the installation is looked up on first use. ``options`` are passed to
        ``__init__`` (``retries``, ``backoff``, ``seconds_between_requests``, …).
        """
        settings = settings_from_env(env)
        if settings is None:
            return None
        return cls(settings, **options)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ plumbing
    def _client(self) -> github.Github:
        """The installation client, created on first use (blocking; call from a worker thread)."""
        with self._lock:
            if self._github is None:
                integration = GithubIntegration(auth=self.settings.app_auth(), **self._integration_kwargs)
                try:
                    installation = integration.get_org_installation(self.org_name)
                except GithubException as exc:
                    if exc.status == 404:
                        raise UpstreamError(
                            "GitHub", f"the GitHub App is not installed on the organization {self.org_name!r}"
                        ) from exc
                    raise
                self._github = integration.get_github_for_installation(installation.id)
            return self._github

    def _org(self) -> github.Organization.Organization:
        """The organization, not fetched (lazy): only its URL is needed."""
        return self._client().get_organization(self.org_name)

    def _user_ref(self, login: str) -> github.NamedUser.NamedUser:
        """A reference to ``login`` that PyGithub can put in a URL without fetching the user."""
        quoted = urllib.parse.quote(login, safe="")
        return github.NamedUser.NamedUser(
            self._client().requester, attributes={"login": login}, url=f"/users/{quoted}", completed=False
        )

    async def _run(self, work: Callable[[], T], not_found: str) -> T:
        """Run blocking PyGithub ``work`` in a thread, translating its failures to ``core.errors``."""

        def guarded() -> T:
            try:
                return work()
            except RocketError:
                raise
            except Exception as exc:
                raise translate(exc, not_found) from exc

        return await asyncio.to_thread(guarded)

    # ------------------------------------------------------------------ the port
    async def ensure_configured(self) -> None:
        """Configured by construction: nothing to check, no request made."""

    async def invite_to_org(self, login: str) -> str:
        """Invite ``login`` unless they are a member or already invited; returns their GitHub id.

        Calls: ``GET /users/{login}``, ``GET /orgs/{org}/memberships/{login}`` (200 when active or
        pending), and ``POST /orgs/{org}/invitations`` only when there is no membership.
        """

        def work() -> str:
            gh = self._client()
            try:
                user = gh.get_user(login)
                user_id = user.id
            except GithubException as exc:
                if exc.status == 404:
                    raise NotFound(f"GitHub has no user {login!r}") from exc
                raise
            try:
                user.get_organization_membership(self.org_name)
                return str(user_id)
            except GithubException as exc:
                if exc.status != 404:
                    raise
            try:
                self._org().invite_user(user=user)
            except GithubException as exc:
                # Invited or joined between our check and the invitation: the goal is reached.
                if not (exc.status == 422 and "already" in str(exc.data).lower()):
                    raise
            return str(user_id)

        return await self._run(work, f"GitHub has no user {login!r}")

    async def team_by_slug(self, slug: str) -> GitHubTeam:
        """``GET /orgs/{org}/teams/{slug}``."""
        return await self._run(
            lambda: _team(self._org().get_team_by_slug(slug)), f"GitHub has no team {slug!r}"
        )

    async def list_teams(self) -> list[GitHubTeam]:
        """``GET /orgs/{org}/teams``, every page."""
        return await self._run(
            lambda: [_team(t) for t in self._org().get_teams()],
            f"GitHub has no organization {self.org_name!r}",
        )

    async def list_team_members(self, team_id: str) -> list[GitHubUser]:
        """``GET /teams/{id}/members``, every page (active members only, as GitHub lists them)."""
        tid = _team_id(team_id)
        return await self._run(
            lambda: [
                GitHubUser(id=str(u.id), login=u.login) for u in self._org().get_team(tid).get_members()
            ],
            f"GitHub has no team with id {team_id}",
        )

    async def create_team(self, slug: str, name: str = "") -> GitHubTeam:
        """``POST /orgs/{org}/teams`` named ``slug`` (GitHub derives the slug from the name; the
        display ``name`` is Rocket's to keep). ``Conflict`` when GitHub says the name is taken."""

        def work() -> GitHubTeam:
            try:
                return _team(self._org().create_team(name=slug, privacy="closed"))
            except GithubException as exc:
                if is_unique_name_violation(exc):
                    raise Conflict(f"GitHub already has a team {slug!r}") from exc
                raise

        return await self._run(work, f"GitHub has no organization {self.org_name!r}")

    async def delete_team(self, team_id: str) -> None:
        """``DELETE /teams/{id}``; a team GitHub no longer has is not an error."""
        tid = _team_id(team_id)

        def work() -> None:
            try:
                self._org().get_team(tid).delete()
            except GithubException as exc:
                if exc.status != 404:
                    raise

        await self._run(work, f"GitHub has no team with id {team_id}")

    async def add_team_member(self, team_id: str, login: str) -> None:
        """``PUT /teams/{id}/memberships/{login}`` (idempotent; a non-member of the org is invited
        by GitHub and stays pending until they accept). ``NotFound`` for a missing team or login."""
        tid = _team_id(team_id)
        await self._run(
            lambda: self._org().get_team(tid).add_membership(self._user_ref(login)),
            f"GitHub has no team with id {team_id} or no user {login!r}",
        )

    async def remove_team_member(self, team_id: str, login: str) -> None:
        """``DELETE /teams/{id}/memberships/{login}``; a membership that is not there is not an error."""
        tid = _team_id(team_id)

        def work() -> None:
            try:
                self._org().get_team(tid).remove_membership(self._user_ref(login))
            except GithubException as exc:
                if exc.status != 404:
                    raise

        await self._run(work, f"GitHub has no team with id {team_id}")
