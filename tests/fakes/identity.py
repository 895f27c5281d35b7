"""A stateful in-memory ``ports.identity.GitHubIdentity`` for use-case tests.

``start()`` issues a code that stays pending until the test plays the person:
``approve(user_code, login, user_id)``, ``deny(user_code)`` or ``expire(user_code)``.
``wait_for_login`` blocks (without polling or sleeping) until then, and is cancellable like the
real adapter. ``configured=False`` makes ``start`` raise ``IntegrationUnavailable``;
``fail_start`` / ``fail_wait`` make the next call raise the given error.

Observable state: ``codes`` (every code issued, in order), ``waiting`` (how many waits are in
progress right now: a use-case that cancels its background waits on shutdown leaves 0) and
``finished`` (the outcomes returned, in order). Tests run ``tests/adapters/test_identity_contract.py``
on this fake and on the real adapter, so it answers what the adapter answers.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from core.errors import IntegrationUnavailable, RocketError, UpstreamError
from ports.identity import Denied, DeviceCode, Expired, LoginOutcome, VerifiedLogin


@dataclass
class _Pending:
    code: DeviceCode
    decided: asyncio.Event = field(default_factory=asyncio.Event)
    outcome: LoginOutcome | None = None


class FakeGitHubIdentity:
    def __init__(self, *, configured: bool = True, interval: float = 5, expires_in: float = 900) -> None:
        self.configured = configured
        self.interval = interval
        self.expires_in = expires_in
        self.codes: list[DeviceCode] = []
        self.finished: list[LoginOutcome] = []
        self.waiting = 0
        self.fail_start: RocketError | None = None
        self.fail_wait: RocketError | None = None
        self._pending: dict[str, _Pending] = {}  # device code -> pending state

    # --- the port -------------------------------------------------------------------
    async def start(self) -> DeviceCode:
        if not self.configured:
            raise IntegrationUnavailable("GitHub", "GitHub verification is not configured (GITHUB_CLIENT_ID)")
        if self.fail_start is not None:
            error, self.fail_start = self.fail_start, None
            raise error
        n = len(self.codes) + 1
        code = DeviceCode(
            verification_uri="https://github.com/login/device",
            user_code=f"CODE-{n:04d}",
            device_code=f"device-{n:036d}",
            interval=self.interval,
            expires_in=self.expires_in,
        )
        self.codes.append(code)
        self._pending[code.device_code] = _Pending(code)
        return code

    async def wait_for_login(self, code: DeviceCode) -> LoginOutcome:
        if not self.configured:
            raise IntegrationUnavailable("GitHub", "GitHub verification is not configured (GITHUB_CLIENT_ID)")
        pending = self._pending.get(code.device_code)
        if pending is None:
            raise UpstreamError("GitHub", "the device code is not valid (start the verification again)")
        self.waiting += 1
        try:
            await pending.decided.wait()
        finally:
            self.waiting -= 1
        if self.fail_wait is not None:
            error, self.fail_wait = self.fail_wait, None
            raise error
        assert pending.outcome is not None
        del self._pending[code.device_code]  # a code is redeemed once
        self.finished.append(pending.outcome)
        return pending.outcome

    # --- playing the person -----------------------------------------------------------
    def approve(self, user_code: str, login: str, user_id: str | int = "1") -> None:
        self._decide(user_code, VerifiedLogin(login=login, github_user_id=str(user_id)))

    def deny(self, user_code: str) -> None:
        self._decide(user_code, Denied())

    def expire(self, user_code: str) -> None:
        self._decide(user_code, Expired())

    def _decide(self, user_code: str, outcome: LoginOutcome) -> None:
        pending = next(p for p in self._pending.values() if p.code.user_code == user_code)
        if pending.outcome is None:
            pending.outcome = outcome
            pending.decided.set()
