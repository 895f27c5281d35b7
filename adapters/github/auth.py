"""GitHub App settings read from the environment.

``GITHUB_APP_ID``, ``GITHUB_KEY`` and ``GITHUB_ORG_NAME`` switch the integration on; when any of
them is absent or empty, ``settings_from_env`` returns ``None`` (GitHub is off). ``GITHUB_API_URL``
(default ``https://api.github.com``) points at GitHub Enterprise Server or a local stand-in.

``GITHUB_KEY`` is the App's PEM private key; in it a literal ``\\n`` stands for a newline and
``\\-`` for ``-`` (so the key fits on one line of a ``.env`` file). A setting that is present but
malformed raises ``ValueError`` with a one-line message naming the variable.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import jwt
import jwt.algorithms
from github import Auth, Consts

DEFAULT_API_URL = "https://api.github.com"
REQUIRED = ("GITHUB_APP_ID", "GITHUB_KEY", "GITHUB_ORG_NAME")

_ESCAPE = re.compile(r"\\([n\-])")


@dataclass(frozen=True)
class GitHubSettings:
    app_id: str
    private_key: str = field(repr=False)
    org: str
    api_url: str = DEFAULT_API_URL
    _signing_key: Any = field(default=None, repr=False, compare=False)

    def app_auth(self) -> Auth.AppAuth:
        """PyGithub's App authentication: it builds and signs the App JWTs (and, per installation,
        fetches and refreshes tokens). Signing goes through ``sign_func`` with the key parsed once."""
        key = self._signing_key if self._signing_key is not None else load_key(self.private_key)

        def sign(payload: dict) -> str:
            return jwt.encode(payload, key=key, algorithm=Consts.DEFAULT_JWT_ALGORITHM)

        return Auth.AppAuth(self.app_id, sign_func=sign)


def decode_key(raw: str) -> str:
    """Undo the escapes allowed in ``GITHUB_KEY``: ``\\n`` -> newline, ``\\-`` -> ``-``."""
    text = _ESCAPE.sub(lambda m: "\n" if m.group(1) == "n" else "-", raw.strip())
    text = text.replace("\r\n", "\n").strip()
    return text + "\n"


def load_key(pem: str) -> Any:
    """The private key parsed by PyJWT, checked by signing a throw-away App JWT the way PyGithub
    will; ``ValueError`` naming GITHUB_KEY (one line, no key material) if it cannot."""
    if "-----BEGIN" not in pem or "PRIVATE KEY-----" not in pem:
        raise ValueError("GITHUB_KEY is not a PEM private key (expected -----BEGIN RSA PRIVATE KEY-----)")
    try:
        key: Any = jwt.algorithms.RSAAlgorithm(jwt.algorithms.RSAAlgorithm.SHA256).prepare_key(pem)
        jwt.encode({"iss": "check"}, key=key, algorithm=Consts.DEFAULT_JWT_ALGORITHM)
    except Exception as exc:  # cryptography / PyJWT raise several types for a bad key
        raise ValueError(
            f"GITHUB_KEY is not a usable RSA private key in PEM form ({type(exc).__name__}); "
            "write newlines as \\n"
        ) from None
    return key


def check_api_url(url: str) -> str:
    """The base URL without a trailing slash; ``ValueError`` naming GITHUB_API_URL if malformed."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ValueError(f"GITHUB_API_URL must be an http(s) URL such as {DEFAULT_API_URL}, got {url!r}")
    return url.strip().rstrip("/")


def settings_from_env(env: Mapping[str, str]) -> GitHubSettings | None:
    """The GitHub App settings, ``None`` when not configured; ``ValueError`` when malformed."""
    values = {name: (env.get(name) or "").strip() for name in REQUIRED}
    if not all(values.values()):
        return None
    app_id = values["GITHUB_APP_ID"]
    if any(c.isspace() for c in app_id):
        raise ValueError(f"GITHUB_APP_ID must be the App's id (a number) or client id, got {app_id!r}")
    pem = decode_key(values["GITHUB_KEY"])
    key = load_key(pem)
    api_url = check_api_url(env.get("GITHUB_API_URL") or DEFAULT_API_URL)
    return GitHubSettings(
        app_id=app_id, private_key=pem, org=values["GITHUB_ORG_NAME"], api_url=api_url, _signing_key=key
    )
