"""GitHub webhook signature verification (``X-Hub-Signature-256``)."""

from __future__ import annotations

import hashlib
import hmac

PREFIX = "sha256="


def sign_github_body(secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value GitHub sends for ``body``: ``sha256=`` + hex HMAC-SHA256."""
    return PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify_github_signature(secret: str, body: bytes, header: str | None) -> bool:
    """True only when ``header`` is ``sha256=<hex HMAC-SHA256 of the raw body under secret>``.

    A missing header, an empty secret, a legacy ``sha1=`` signature, a signature made with another
    secret or over other bytes are all False. The comparison takes constant time.
    """
    if not secret or not header:
        return False
    header = header.strip()
    if not header.lower().startswith(PREFIX):
        return False
    expected = sign_github_body(secret, body)
    given = PREFIX + header[len(PREFIX) :].lower()
    return hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))
