"""The GitHub identity port: prove that a Slack user controls a GitHub login.

It is GitHub's OAuth device flow in domain words. ``start()`` asks GitHub for a code the person
types at ``verification_uri``; ``wait_for_login(code)`` waits (polling GitHub at the interval it
asks for) until the person approves, denies or lets the code expire, and on approval answers
which GitHub account approved it. The caller compares that login with the one claimed
(``VerifiedLogin.is_login``); the port decides nothing about links or rank.

Errors (``core.errors``), the same for every implementation:

- ``IntegrationUnavailable("GitHub")``: verification is not configured (no client id); raised by
  ``start()`` before any request.
- ``UpstreamError("GitHub", …)``: GitHub refused or failed (device flow not enabled on the App,
  an unknown client id, an invalid device code, an HTTP failure or an answer that is not what
  GitHub documents). The message is written for a person and never contains a token.

A denied or expired code is an *outcome* (``Denied``, ``Expired``), not an error: it is what the
person chose or let happen, and the caller tells them so.

The user token obtained on approval is used for one ``GET /user`` and then dropped: it is never
returned, stored, logged or put in an error message. ``DeviceCode.device_code`` can be exchanged
for that token by anyone holding the App's (public) client id until it expires, so it is left out
of ``repr`` and must not be logged either.

How a use-case runs it (``user edit --github LOGIN`` for oneself, with a client id configured):
``code = await identity.start()`` and reply at once with ``code.verification_uri`` and
``code.user_code``; hand ``wait_for_login(code)`` to a background task owned by the app (not by
the request: it outlives the reply by up to ``expires_in``), cancelled on shutdown; when it
returns, re-read the user, and only if ``outcome.is_login(LOGIN)`` store the link verified with
``outcome.github_user_id``; DM the person the outcome either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class DeviceCode:
    """A pending verification, as GitHub issued it.

    ``verification_uri`` and ``user_code`` are shown to the person; ``device_code`` is the
    secret the implementation polls with. ``interval`` is the minimum number of seconds between
    polls and ``expires_in`` the code's lifetime in seconds, both as GitHub sent them;
    ``issued_at`` is the implementation's own clock reading when GitHub answered (the deadline is
    ``issued_at + expires_in`` on that clock, so only hand a code to the instance that issued it).
    """

    verification_uri: str
    user_code: str
    device_code: str = field(repr=False)
    interval: float
    expires_in: float
    issued_at: float = 0.0

    @property
    def deadline(self) -> float:
        """When the code stops working, on the issuing implementation's clock."""
        return self.issued_at + self.expires_in


@dataclass(frozen=True)
class VerifiedLogin:
    """GitHub says this account approved the code: its ``login`` (as GitHub spells it) and its
    numeric user id (as a string, the way ``User.github_user_id`` stores it)."""

    login: str
    github_user_id: str

    def is_login(self, claimed: str) -> bool:
        """True when ``claimed`` names this account (GitHub logins compare case-insensitively)."""
        return self.login.casefold() == claimed.strip().casefold()


@dataclass(frozen=True)
class Denied:
    """The person refused the authorization on GitHub."""

    reason: str = "the authorization was denied on GitHub"


@dataclass(frozen=True)
class Expired:
    """The code expired before anyone approved it."""

    reason: str = "the code expired before it was approved"


LoginOutcome = VerifiedLogin | Denied | Expired


class GitHubIdentity(Protocol):
    """Verify GitHub logins with the device flow. See the module docstring for the errors."""

    async def start(self) -> DeviceCode:
        """Ask GitHub for a new device code (one request). Raises ``IntegrationUnavailable`` when
        not configured and ``UpstreamError`` when GitHub refuses or fails."""
        ...

    async def wait_for_login(self, code: DeviceCode) -> LoginOutcome:
        """Poll GitHub until ``code`` is approved, denied or expired and return the outcome.

        Guarantees: never polls sooner than ``code.interval`` seconds after the previous poll (or
        after issuance); on GitHub's ``slow_down`` the interval grows by 5 seconds (or to the
        interval GitHub names, whichever is larger) for the rest of the wait; returns ``Expired``
        at the latest at ``code.deadline`` without polling past it; cancelling the awaiting task
        ends it at once (``CancelledError`` propagates, every connection is closed, nothing keeps
        running). On approval it reads the approving account with the user token, then drops the
        token. Brief transient failures (5xx, a lost connection) while polling are retried at the
        interval a bounded number of times, then raised as ``UpstreamError``.
        """
        ...
