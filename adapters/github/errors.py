"""How PyGithub and transport failures become ``core.errors``.

- 404 -> ``NotFound`` (with a message the caller words for the thing looked up);
- 429, or 403 with ``X-RateLimit-Remaining: 0`` or GitHub's rate-limit message -> ``RateLimited``
  with ``reset_at`` from ``X-RateLimit-Reset`` (else ``Retry-After`` seconds from now);
- 401 and other 403s, 422 and other 4xx -> ``UpstreamError("GitHub", …)`` quoting GitHub's message;
- 5xx (after the transport's bounded retries) and connection failures ->
  ``UpstreamError("GitHub", "unavailable …")``.

``is_unique_name_violation`` recognizes GitHub's 422 for a team name that already exists, which
``create_team`` turns into ``Conflict``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import requests
from github import GithubException

from core.errors import NotFound, RateLimited, RocketError, UpstreamError

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


def is_rate_limit(exc: GithubException) -> bool:
    if exc.status == 429:
        return True
    if exc.status != 403:
        return False
    if _header(exc.headers, "X-RateLimit-Remaining") == "0":
        return True
    message = github_message(exc).lower()
    return "rate limit" in message


def reset_time(exc: GithubException) -> float | None:
    """When the rate limit lifts, as a Unix time, if GitHub said."""
    reset = _header(exc.headers, "X-RateLimit-Reset")
    if reset and reset.strip().isdigit():
        return float(reset)
    retry_after = _header(exc.headers, "Retry-After")
    if retry_after and retry_after.strip().isdigit():
        return time.time() + float(retry_after)
    return None


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
            return RateLimited(GITHUB, reset_time(exc))
        if status == 401:
            return UpstreamError(GITHUB, f"authentication failed (HTTP 401: {github_message(exc)})")
        if status == 403:
            return UpstreamError(GITHUB, f"forbidden (HTTP 403: {github_message(exc)})")
        if status >= 500:
            return UpstreamError(
                GITHUB, f"unavailable (HTTP {status}: {github_message(exc)}); try again shortly"
            )
        return UpstreamError(GITHUB, f"HTTP {status}: {github_message(exc)}")
    if isinstance(exc, requests.RequestException):
        return UpstreamError(
            GITHUB, f"unavailable (cannot reach GitHub: {type(exc).__name__}); try again shortly"
        )
    return UpstreamError(GITHUB, f"unexpected failure ({type(exc).__name__}: {exc})")
