"""The value checks of Rocket's settings, in the standard library only.

:class:`entrypoints.settings.RocketSettings` (pydantic) validates through these functions, and the
CLI's fast path (:mod:`entrypoints.quick`) runs the same ones without importing pydantic. Each
takes the raw value and returns the value to keep, or raises ``ValueError`` with a reason that
never repeats a URL (it may carry a password).
"""

from __future__ import annotations

from urllib.parse import urlsplit

DEFAULT_PORT = 5000
RESERVED_PATHS = ("/slack/", "/healthz", "/metrics")


class ConfigError(ValueError):
    """A setting is present but malformed; the message is one line naming the variable.

    (Defined here, re-exported by ``entrypoints.settings`` and ``entrypoints.config``, so the
    CLI can recognise it without importing pydantic.)"""


def http_url(value: str) -> str:
    """The one URL check: an http(s) URL with a host, no query or fragment. The value is never
    echoed (it may carry a password)."""
    value = value.strip()
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a malformed port
    except ValueError:
        raise ValueError("is not an http(s) URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError("is not an http(s) URL (e.g. https://host/path)")
    return value


def optional_http_url(value: str) -> str:
    """``""`` for a blank value, else :func:`http_url`."""
    return http_url(value) if value.strip() else ""


def on_off(value: str) -> str:
    """``"on"`` or ``"off"`` from on/off, true/false, yes/no, 1/0 (any case)."""
    lowered = value.strip().lower()
    if lowered in ("on", "true", "yes", "1"):
        return "on"
    if lowered in ("off", "false", "no", "0"):
        return "off"
    raise ValueError(f"{value.strip()[:20]!r} is not on or off")


def port(value: str) -> str:
    """A port number 1-65535 as text (blank: the default port)."""
    value = value.strip() or str(DEFAULT_PORT)
    if not value.isdigit() or not 1 <= int(value) <= 65535:
        raise ValueError(f"{value[:20]!r} is not a port number (1-65535)")
    return value


def webhook_path(value: str) -> str:
    """A path starting with ``/`` that no other route uses, with no ``<>?#`` or whitespace."""
    if (not value.startswith("/") or value.startswith(RESERVED_PATHS)
            or any(c in value for c in "<>?#") or any(c.isspace() for c in value)):
        # "<" would be read as a Quart route variable, and every delivery would answer 500
        raise ValueError(f"{value[:80]!r} must be a free path starting with /")
    return value


def app_token(value: str) -> str:
    """A Slack app-level token (``xapp-…``) stripped, or ``""``."""
    token = value.strip()
    if token and not token.startswith("xapp-"):
        raise ValueError("an app-level token starts with xapp-")
    return token
