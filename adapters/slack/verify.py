"""Inbound Slack: request signature verification on slack-sdk's ``SignatureVerifier``.

Contract: ``SlackRequestVerifier(secret).is_valid(body, headers)`` is ``True`` only when
``X-Slack-Signature`` is ``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{raw body}`` under the
signing secret and ``X-Slack-Request-Timestamp`` is within 5 minutes of the clock. Missing or
malformed headers, a body that is not UTF-8, a stale or future timestamp, a wrong secret or a
tampered body all give ``False``; it never raises for a bad request.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, cast

from slack_sdk.signature import Clock as SdkClock
from slack_sdk.signature import SignatureVerifier

from ports.clock import Clock, SystemClock


class HeaderSource(Protocol):
    """Request headers: a mapping, or a framework's headers object with ``items()``."""

    def items(self) -> Iterable[tuple[str, str]]: ...


TIMESTAMP_HEADER = "X-Slack-Request-Timestamp"
SIGNATURE_HEADER = "X-Slack-Signature"


class SlackRequestVerifier:
    """Checks that a request came from Slack (header names compare case-insensitively)."""

    def __init__(self, signing_secret: str, clock: Clock | None = None) -> None:
        """``signing_secret`` must be non-empty (``ValueError`` otherwise); ``clock`` defaults
        to the wall clock."""
        self._verifier = SignatureVerifier(signing_secret, clock=cast(SdkClock, clock or SystemClock()))

    def is_valid(self, body: bytes | str, headers: HeaderSource) -> bool:
        """Whether ``body`` (the raw request body) with these headers is a fresh, signed Slack request."""
        normalized = {str(k).lower(): v for k, v in headers.items()}
        timestamp = normalized.get(TIMESTAMP_HEADER.lower())
        signature = normalized.get(SIGNATURE_HEADER.lower())
        if not timestamp or not signature or not timestamp.strip().isdigit():
            return False
        try:
            return self._verifier.is_valid(body=body, timestamp=timestamp.strip(), signature=signature)
        except (ValueError, UnicodeDecodeError):
            return False

    def sign(self, body: bytes | str, timestamp: int) -> dict[str, str]:
        """The headers Slack would send with ``body`` at ``timestamp`` (for tests and tools)."""
        signature = self._verifier.generate_signature(timestamp=str(timestamp), body=body)
        return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: signature or ""}
