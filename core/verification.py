"""Background GitHub verifications (the device flow's wait), owned by the app, not the request.

``Verifications.begin(slack_id, login)`` asks GitHub for a device code (``ports.identity``) and
returns it at once, so the reply can show ``verification_uri`` and ``user_code``; the wait for
the person's approval (up to the code's ``expires_in``, typically 15 minutes) runs in a task
this object owns:

- One verification per user: beginning a new one cancels that user's previous wait.
- On approval by the claimed login (any case) ``LinkVerifiedGitHub`` goes through the bus (the
  handler invites, adds the default team, stores the link verified and removes someone else's
  unverified link of that login); any other outcome links nothing.
- Either way the user is told by DM (``ports.chat.send_dm``); a DM that fails is logged.
- ``close()`` (the app's shutdown, under ``rocket serve`` and ``rocket socket``) cancels every
  wait and returns once they have ended; nothing keeps polling GitHub.

The user token never reaches this module (the identity port drops it). Standard library and
``core``/``ports`` only.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import TYPE_CHECKING

from core.commands import LinkVerifiedGitHub
from core.errors import IntegrationUnavailable, RocketError

if TYPE_CHECKING:
    from core.bus import MessageBus
    from core.context import Ports
    from ports.identity import DeviceCode, GitHubIdentity

log = logging.getLogger("rocket.verification")


class Verifications:
    """The app's pending device-flow verifications (see the module docstring)."""

    def __init__(self, ports: Ports) -> None:
        self._ports = ports
        self._bus: MessageBus | None = None
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._closed = False

    def bind(self, bus: MessageBus) -> None:
        """The bus that applies an approval (``core.wiring.build_bus`` binds it)."""
        self._bus = bus

    @property
    def identity(self) -> GitHubIdentity | None:
        return self._ports.identity

    @property
    def configured(self) -> bool:
        """True when ``GITHUB_CLIENT_ID`` is set (an identity port is wired)."""
        return self._ports.identity is not None

    @property
    def pending(self) -> frozenset[str]:
        """Slack ids with a wait in progress."""
        return frozenset(u for u, t in self._tasks.items() if not t.done())

    async def begin(self, slack_id: str, login: str) -> DeviceCode:
        """Start verifying that ``slack_id`` controls GitHub ``login``; the code to show.

        Raises what ``GitHubIdentity.start`` raises (``IntegrationUnavailable``,
        ``UpstreamError``) before any task is started, and ``IntegrationUnavailable`` once the
        app is shutting down."""
        identity = self._ports.identity
        if identity is None:
            raise IntegrationUnavailable("GitHub", "GitHub verification is not configured (GITHUB_CLIENT_ID)")
        if self._closed:
            raise IntegrationUnavailable("GitHub", "Rocket is shutting down; try again in a minute")
        code = await identity.start()
        previous = self._tasks.pop(slack_id, None)
        if previous is not None and not previous.done():
            previous.cancel()
        task = asyncio.create_task(self._wait(identity, slack_id, login, code),
                                   name=f"github-verification:{slack_id}")
        self._tasks[slack_id] = task
        task.add_done_callback(functools.partial(self._forget, slack_id))
        return code

    def _forget(self, slack_id: str, task: asyncio.Task[None]) -> None:
        if self._tasks.get(slack_id) is task:
            del self._tasks[slack_id]

    async def _wait(self, identity: GitHubIdentity, slack_id: str, login: str, code: DeviceCode) -> None:
        try:
            outcome = await identity.wait_for_login(code)
        except RocketError as exc:
            await self._dm(slack_id, f"GitHub verification of {login} failed: {exc}. Nothing was linked.")
            return
        from ports.identity import VerifiedLogin  # here: the bus is built without loading it

        if not isinstance(outcome, VerifiedLogin):
            await self._dm(slack_id, f"GitHub verification of {login} did not complete "
                                     f"({outcome.reason}). Nothing was linked.")
            return
        if not outcome.is_login(login):
            await self._dm(slack_id, f"The code was approved by the GitHub account {outcome.login}, "
                                     f"not {login}. Nothing was linked.")
            return
        assert self._bus is not None, "Verifications.bind(bus) was not called"
        try:
            result = await self._bus.handle(
                LinkVerifiedGitHub(slack_id, login=login, github_user_id=outcome.github_user_id))
        except RocketError as exc:
            await self._dm(slack_id, f"GitHub account {login} is yours, but it could not be linked: {exc}")
            return
        except Exception:
            log.exception("linking a verified GitHub account failed")
            await self._dm(slack_id, f"GitHub account {login} is yours, but linking it failed; try again")
            return
        extra = "".join(f"\n{w}" for w in result.warnings)
        await self._dm(slack_id, f"{result.message}{extra}")

    async def _dm(self, slack_id: str, text: str) -> None:
        try:
            await self._ports.chat.send_dm(slack_id, text)
        except Exception as exc:  # the outcome is already stored; a lost DM is not a failure
            log.warning("could not DM %s the verification outcome (%s)", slack_id, type(exc).__name__)

    async def close(self) -> None:
        """Cancel every wait and return when all have ended (idempotent)."""
        self._closed = True
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
