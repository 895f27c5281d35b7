"""GitHub App authentication from ``adapters.github.settings.GitHubAppSettings``.

``GITHUB_APP_ID``, ``GITHUB_KEY`` and ``GITHUB_ORG_NAME`` switch the integration on (the settings
object is ``None`` otherwise: GitHub is off). ``GITHUB_API_URL`` (default
``https://api.github.com``) points at GitHub Enterprise Server or a local stand-in.

``GITHUB_KEY`` is the App's PEM private key; in it a literal ``\\n`` stands for a newline and
``\\-`` for ``-`` (so the key fits on one line of a ``.env`` file). A setting that is present but
malformed raises ``ValueError`` with a one-line message naming the variable.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import jwt
import jwt.algorithms
from github import Auth, Consts

from adapters.github.settings import DEFAULT_API_URL, GitHubAppSettings

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


def parse_settings(app: GitHubAppSettings) -> GitHubSettings:
    """The App's settings with the key decoded and parsed; ``ValueError`` (one line naming the
    variable, no key material) when the app id or key is malformed."""
    app_id = app.app_id.strip()
    if any(c.isspace() for c in app_id):
        raise ValueError("GITHUB_APP_ID must be the App's id (a number) or client id")
    pem = decode_key(app.key.get_secret_value())
    key = load_key(pem)
    return GitHubSettings(
        app_id=app_id, private_key=pem, org=app.org.strip(), api_url=app.api_url.strip().rstrip("/"),
        _signing_key=key,
    )
