"""How PyGithub and transport failures become ``core.errors``.

- 404 -> ``NotFound`` (with a message the caller words for the thing looked up);
- 429, or 403 with ``X-RateLimit-Remaining: 0``, ``Retry-After`` or GitHub's rate-limit message ->
  ``GitHubRateLimited`` (a ``RateLimited``) whose ``reset_at`` is, as GitHub documents it,
  ``Retry-After`` seconds from now when given (secondary limits), else ``X-RateLimit-Reset`` when
  no requests remain (primary), else a minute from now; its message says "GitHub's rate limit
  lifts at HH:MM UTC";
- 401 and other 403s, 422 and other 4xx -> ``UpstreamError("GitHub", …)`` quoting GitHub's message;
- 5xx (after the transport's bounded retries) and connection failures ->
  ``UpstreamUnreachable("GitHub", …)``: "GitHub could not be reached (…); nothing was changed".

``is_unique_name_violation`` recognizes GitHub's 422 for a team name that already exists, which
``create_team`` turns into ``Conflict``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests
from github import GithubException

from core.errors import NotFound, RateLimited, RocketError, UpstreamError, UpstreamUnreachable

GITHUB = "GitHub"


def _header(headers: Mapping[str, Any] | None, name: str) -> str | None:
    for key, value in (headers or {}).items():
        if key.lower() == name.lower():
            return str(value)
    return None


def github_message(exc: GithubException) -> str:
    """GitHub's ``message`` plus any ``errors[].message``/``code``, on one line."""
    data = exc.data if isinstance(exc.data, dict) else {}
    parts = [str(data.get("message") or exc.message or f"HTTP {exc.status}")]
    for error in data.get("errors") or []:
        if isinstance(error, dict):
            detail = error.get("message") or error.get("code")
            if detail:
                parts.append(str(detail))
        elif error:
            parts.append(str(error))
    return ": ".join(parts).replace("\n", " ")


SECONDARY_DEFAULT_WAIT = 60.0  # GitHub: with neither header, wait at least a minute


class GitHubRateLimited(RateLimited):
    """GitHub rate-limited Rocket; the message says when the limit lifts (UTC, to the minute,
    rounded up so that trying again at that time works)."""

    def __init__(self, reset_at: float | None) -> None:
        super().__init__(GITHUB, reset_at)
        if reset_at:
            lifts = datetime.fromtimestamp(reset_at + 59, UTC).strftime("%H:%M")
            self.message = f"GitHub's rate limit lifts at {lifts} UTC; try again then"
        else:
            self.message = "GitHub is rate-limiting Rocket; try again in a few minutes"


def is_rate_limit(exc: GithubException) -> bool:
    if exc.status == 429:
        return True
    if exc.status != 403:
        return False
    if _header(exc.headers, "X-RateLimit-Remaining") == "0" or _header(exc.headers, "Retry-After"):
        return True
    message = github_message(exc).lower()
    return "rate limit" in message


def reset_time(exc: GithubException, now: float | None = None) -> float:
    """When the rate limit lifts, as a Unix time: ``Retry-After`` seconds from now, else
    ``X-RateLimit-Reset`` when ``X-RateLimit-Remaining`` is 0 (or no remaining count is given),
    else a minute from now."""
    now = time.time() if now is None else now
    retry_after = (_header(exc.headers, "Retry-After") or "").strip()
    if retry_after.isdigit():
        return now + float(retry_after)
    reset = (_header(exc.headers, "X-RateLimit-Reset") or "").strip()
    remaining = _header(exc.headers, "X-RateLimit-Remaining")
    if reset.isdigit() and remaining in (None, "0"):
        return float(reset)
    return now + SECONDARY_DEFAULT_WAIT


def is_unique_name_violation(exc: GithubException) -> bool:
    """GitHub's answer to creating a team whose name (hence slug) is taken."""
    if exc.status != 422:
        return False
    text = github_message(exc).lower()
    return "must be unique" in text or "already exists" in text or "already_exists" in text


def translate(exc: BaseException, not_found: str) -> RocketError:
    """The ``core.errors`` exception for a PyGithub or ``requests`` failure."""
    if isinstance(exc, GithubException):
        status = exc.status
        if status == 404:
            return NotFound(not_found)
        if is_rate_limit(exc):
            return GitHubRateLimited(reset_time(exc))
        if status == 401:
            return UpstreamError(GITHUB, f"authentication failed (HTTP 401: {github_message(exc)})")
        if status == 403:
            return UpstreamError(GITHUB, f"forbidden (HTTP 403: {github_message(exc)})")
        if status >= 500:
            return UpstreamUnreachable(GITHUB, f"it answered HTTP {status}: {github_message(exc)}")
        return UpstreamError(GITHUB, f"HTTP {status}: {github_message(exc)}")
    if isinstance(exc, requests.RequestException):
        return UpstreamUnreachable(GITHUB, type(exc).__name__)
    return UpstreamError(GITHUB, f"unexpected failure ({type(exc).__name__}: {exc})")
