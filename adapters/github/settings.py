"""What the GitHub adapter needs from configuration (built by entrypoints/settings.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True)
class GitHubAppSettings:
    """``GITHUB_APP_ID``, ``GITHUB_KEY`` (PEM, with ``\\n`` and ``\\-`` escapes allowed),
    ``GITHUB_ORG_NAME`` and ``GITHUB_API_URL`` (already checked to be an http(s) URL)."""

    app_id: str
    key: SecretStr = field(repr=False)
    org: str
    api_url: str = DEFAULT_API_URL
