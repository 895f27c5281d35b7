"""GitHub's OAuth device flow over HTTP (aiohttp): the ``ports.identity.GitHubIdentity`` adapter.

Wire format (GitHub's "Authorizing OAuth apps: device flow", which GitHub Apps share):

- ``POST {oauth_url}/login/device/code`` with ``client_id`` (form-encoded, ``Accept:
  application/json``) answers ``device_code``, ``user_code``, ``verification_uri``,
  ``expires_in`` and ``interval``.
- ``POST {oauth_url}/login/oauth/access_token`` with ``client_id``, ``device_code`` and
  ``grant_type=urn:ietf:params:oauth:grant-type:device_code`` answers ``access_token`` once the
  user approved, else ``{"error": …, "error_description": …}`` (GitHub sends these with HTTP 200;
  a 4xx carrying the same body is read the same way): ``authorization_pending`` (poll again after
  the interval), ``slow_down`` (the interval grows by 5 s; the answer names the new ``interval``),
  ``expired_token``, ``access_denied``, ``incorrect_device_code``, ``device_flow_disabled``,
  ``unsupported_grant_type``, ``incorrect_client_credentials``.
- ``GET {api_url}/user`` with ``Authorization: Bearer TOKEN``, ``Accept:
  application/vnd.github+json`` and ``X-GitHub-Api-Version: 2022-11-28`` answers the account's
  ``login`` and ``id``.

Settings arrive as constructor arguments (``client_id``, ``oauth_url``, ``api_url``); the
adapter reads no environment. ``clock`` (seconds, monotonic) and ``sleep`` are injectable so
tests can run a fifteen-minute wait in milliseconds. Each call opens its own ``ClientSession``
and closes it before returning, also when cancelled, so nothing outlives the awaiting task.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from core.errors import IntegrationUnavailable, UpstreamError
from ports.identity import Denied, DeviceCode, Expired, LoginOutcome, VerifiedLogin

log = logging.getLogger(__name__)

GITHUB = "GitHub"
DEFAULT_OAUTH_URL = "https://github.com"
DEFAULT_API_URL = "https://api.github.com"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
API_VERSION = "2022-11-28"
SLOW_DOWN_STEP = 5.0  # seconds GitHub adds to the interval on each slow_down
DEFAULT_INTERVAL = 5.0  # RFC 8628 3.2: when the answer names no interval
MAX_BODY = 64 * 1024  # no GitHub answer here is near this; a larger one is refused, not buffered
_LOGIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}")
_CODE = re.compile(r"[\x21-\x7e]{1,512}")  # printable ASCII, no spaces: what a code can be

# Error codes of the access-token endpoint that end the wait with an UpstreamError, in words.
_FATAL = {
    "device_flow_disabled": "device flow is not enabled on the GitHub App (enable it in the App's settings)",
    "incorrect_device_code": "the device code is not valid (start the verification again)",
    "incorrect_client_credentials": "the client id is not a GitHub App's client id (check GITHUB_CLIENT_ID)",
    "unsupported_grant_type": "the device-code grant type was not accepted",
}

Sleep = Callable[[float], Awaitable[None]]


class _Transient(Exception):
    """A failure worth one more poll (5xx, lost connection, timeout); carries the message."""


class GitHubDeviceFlow:
    """Verify GitHub logins with the device flow. Contract: ``ports.identity``.

    ``client_id`` empty means "not configured": ``start()`` raises ``IntegrationUnavailable``.
    ``request_timeout`` bounds each HTTP request; ``poll_retries`` is how many transient
    failures in a row (5xx, 429, lost connection, timeout) a wait tolerates before raising
    ``UpstreamError``; ``min_interval`` is a floor under GitHub's interval, so a broken answer
    (``interval: 0``) cannot make Rocket poll in a tight loop.
    """

    def __init__(
        self,
        client_id: str,
        oauth_url: str = DEFAULT_OAUTH_URL,
        api_url: str = DEFAULT_API_URL,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        request_timeout: float = 10.0,
        poll_retries: int = 3,
        min_interval: float = 1.0,
    ) -> None:
        self.client_id = (client_id or "").strip()
        self.oauth_url = oauth_url.rstrip("/")
        self.api_url = api_url.rstrip("/")
        self._clock = clock
        self._sleep = sleep
        self._timeout = aiohttp.ClientTimeout(total=request_timeout)
        self._poll_retries = max(0, poll_retries)
        self._min_interval = max(0.0, min_interval)

    # ------------------------------------------------------------------ the port
    async def start(self) -> DeviceCode:
        """``POST /login/device/code``; see ``ports.identity.GitHubIdentity.start``."""
        if not self.client_id:
            raise IntegrationUnavailable(GITHUB, "GitHub verification is not configured (GITHUB_CLIENT_ID)")
        async with self._session() as session:
            try:
                status, data = await self._post(session, "/login/device/code", {"client_id": self.client_id})
            except _Transient as exc:
                raise UpstreamError(GITHUB, str(exc)) from None
        issued_at = self._clock()
        if status in (401, 404) and data.get("error") not in _FATAL:
            raise UpstreamError(
                GITHUB,
                f"POST /login/device/code answered HTTP {status}: "
                "is GITHUB_CLIENT_ID the GitHub App's client id?",
            )
        if "error" in data:
            raise UpstreamError(GITHUB, self._error_text(data, "/login/device/code"))
        if status >= 400:
            raise UpstreamError(GITHUB, f"POST /login/device/code answered HTTP {status}")
        code = DeviceCode(
            verification_uri=_uri(data.get("verification_uri")),
            user_code=_code(data.get("user_code"), "user_code"),
            device_code=_code(data.get("device_code"), "device_code"),
            interval=_seconds(data.get("interval", DEFAULT_INTERVAL), "interval", minimum=0.0),
            expires_in=_seconds(data.get("expires_in"), "expires_in", minimum=1e-9),
            issued_at=issued_at,
        )
        log.info("GitHub device flow started: user code %s, expires in %ss", code.user_code, code.expires_in)
        return code

    async def wait_for_login(self, code: DeviceCode) -> LoginOutcome:
        """Poll until approved, denied or expired; see ``ports.identity.GitHubIdentity``."""
        if not self.client_id:
            raise IntegrationUnavailable(GITHUB, "GitHub verification is not configured (GITHUB_CLIENT_ID)")
        interval = max(float(code.interval), self._min_interval)
        form = {"client_id": self.client_id, "device_code": code.device_code, "grant_type": DEVICE_GRANT}
        failures = 0
        async with self._session() as session:
            while True:
                if self._clock() + interval > code.deadline:
                    await self._sleep(max(code.deadline - self._clock(), 0.0))
                    log.info("GitHub device flow: code %s expired unapproved", code.user_code)
                    return Expired()
                await self._sleep(interval)
                try:
                    status, data = await self._post(session, "/login/oauth/access_token", form)
                except _Transient as exc:
                    failures += 1
                    if failures > self._poll_retries:
                        raise UpstreamError(GITHUB, f"{exc} ({failures} times in a row)") from None
                    log.warning("GitHub device flow poll failed (%s); polling again", exc)
                    continue
                failures = 0
                error = data.get("error")
                if error is None and status < 400 and "access_token" in data:
                    return await self._who_approved(session, data)
                if error == "authorization_pending":
                    continue
                if error == "slow_down":
                    named = data.get("interval")
                    interval = max(interval + SLOW_DOWN_STEP, _number(named) or 0.0)
                    log.info("GitHub asked to slow down; polling every %ss", interval)
                    continue
                if error == "access_denied":
                    return Denied()
                if error == "expired_token":
                    return Expired()
                if error is None:
                    raise UpstreamError(
                        GITHUB, f"POST /login/oauth/access_token answered HTTP {status} without a token"
                    )
                raise UpstreamError(GITHUB, self._error_text(data, "/login/oauth/access_token"))

    # ------------------------------------------------------------------ HTTP
    def _session(self) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=self._timeout, trust_env=False)

    async def _post(
        self, session: aiohttp.ClientSession, path: str, form: Mapping[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """POST a form to the OAuth host; the status and the JSON object answered.

        5xx, connection failures and timeouts raise ``_Transient``; a body that is not a JSON
        object raises ``UpstreamError``."""
        headers = {"Accept": "application/json"}
        return await self._request(session, "POST", self.oauth_url + path, path, headers, form)

    async def _request(
        self,
        session: aiohttp.ClientSession,
        method: str,
        url: str,
        what: str,
        headers: Mapping[str, str],
        form: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        where = f"{method} {what}"
        try:
            async with session.request(
                method, url, headers=headers, data=form, allow_redirects=False
            ) as resp:
                raw = await resp.content.read(MAX_BODY + 1)
                status = resp.status
        except TimeoutError:
            raise _Transient(f"{where} did not answer within {self._timeout.total:g} s") from None
        except aiohttp.ClientError as exc:
            raise _Transient(f"cannot reach {_host(url)} for {where} ({type(exc).__name__})") from None
        if status >= 500:
            raise _Transient(f"{where} answered HTTP {status} (GitHub unavailable)")
        if status == 429:
            raise _Transient(f"{where} answered HTTP 429 (rate limited)")
        if len(raw) > MAX_BODY:
            raise UpstreamError(GITHUB, f"{where} answered more than {MAX_BODY} bytes")
        try:
            data = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise UpstreamError(
                GITHUB, f"{where} answered HTTP {status} with a body that is not JSON"
            ) from None
        if not isinstance(data, dict):
            raise UpstreamError(GITHUB, f"{where} answered HTTP {status} with JSON that is not an object")
        return status, data

    async def _who_approved(self, session: aiohttp.ClientSession, grant: dict[str, Any]) -> VerifiedLogin:
        """``GET /user`` with the new token; the token goes out of scope when this returns."""
        token = grant.pop("access_token", None)
        if not isinstance(token, str) or not _CODE.fullmatch(token):
            raise UpstreamError(GITHUB, "POST /login/oauth/access_token answered a malformed access token")
        headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
        }
        del token
        try:
            status, data = await self._request(session, "GET", self.api_url + "/user", "/user", headers)
        except _Transient as exc:
            raise UpstreamError(GITHUB, f"{exc}; the approval could not be read, start again") from None
        finally:
            headers.clear()
        if status >= 400:
            message = data.get("message")
            said = f" ({_clean(message)})" if isinstance(message, str) and message else ""
            raise UpstreamError(GITHUB, f"GET /user with the new user token answered HTTP {status}{said}")
        login, user_id = data.get("login"), data.get("id")
        if not isinstance(login, str) or not _LOGIN.fullmatch(login):
            raise UpstreamError(GITHUB, "GET /user answered without a valid login")
        if isinstance(user_id, bool) or not isinstance(user_id, int) or user_id <= 0:
            raise UpstreamError(GITHUB, "GET /user answered without a valid user id")
        log.info("GitHub device flow approved by %s (id %s)", login, user_id)
        return VerifiedLogin(login=login, github_user_id=str(user_id))

    @staticmethod
    def _error_text(data: Mapping[str, Any], path: str) -> str:
        error = data.get("error")
        if isinstance(error, str) and error in _FATAL:
            return _FATAL[error]
        description = data.get("error_description")
        words = _clean(description) if isinstance(description, str) and description else ""
        name = _clean(error) if isinstance(error, str) else "an error"
        return f"POST {path} answered {name}" + (f": {words}" if words else "")


# ---------------------------------------------------------------------- validation helpers
def _clean(text: str, limit: int = 200) -> str:
    """GitHub's words made safe to quote: printable, one line, bounded."""
    kept = "".join(ch if ch.isprintable() else " " for ch in text)
    kept = kept.encode("utf-8", "replace").decode("utf-8")
    return " ".join(kept.split())[:limit]


def _host(url: str) -> str:
    parts = urlsplit(url)
    return parts.hostname or "GitHub"  # never the userinfo part of a configured URL


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _seconds(value: object, name: str, *, minimum: float) -> float:
    number = _number(value)
    if number is None or number < minimum or number > 86400:
        raise UpstreamError(GITHUB, f"POST /login/device/code answered an invalid {name}")
    return number


def _code(value: object, name: str) -> str:
    if not isinstance(value, str) or not _CODE.fullmatch(value):
        raise UpstreamError(GITHUB, f"POST /login/device/code answered an invalid {name}")
    return value


def _uri(value: object) -> str:
    if isinstance(value, str) and len(value) <= 2048 and value.isprintable():
        parts = urlsplit(value)
        if parts.scheme in ("https", "http") and parts.hostname and " " not in value:
            return value
    raise UpstreamError(GITHUB, "POST /login/device/code answered an invalid verification_uri")
