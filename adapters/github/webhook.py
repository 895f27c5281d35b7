"""GitHub webhook signature verification (``X-Hub-Signature-256``) and body decoding.

GitHub delivers a webhook either as ``application/json`` (the body is the payload) or as
``application/x-www-form-urlencoded`` (the body is ``payload=<URL-encoded JSON>``). Either way
the signature is an HMAC of the raw body bytes as delivered, so it is checked before decoding.
"""

from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs

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


FORM = "application/x-www-form-urlencoded"


def github_webhook_json(body: bytes, mimetype: str | None) -> str:
    """The payload's JSON text from a delivery's raw ``body``.

    A form-encoded delivery (``mimetype`` ``application/x-www-form-urlencoded``) must carry
    exactly one ``payload`` field; anything else is the body itself, decoded as UTF-8. Raises
    ``ValueError`` (``UnicodeDecodeError`` included) for a body that is neither; the caller
    decodes the JSON.
    """
    if (mimetype or "").lower() != FORM:
        return body.decode("utf-8")
    fields = parse_qs(body.decode("ascii"), keep_blank_values=True, strict_parsing=True,
                      encoding="utf-8", errors="strict")
    values = fields.get("payload") or []
    if len(values) != 1:
        raise ValueError("a form-encoded GitHub webhook carries one payload field")
    return values[0]
