"""What the Google Drive adapter needs from configuration (built by entrypoints/settings.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr


@dataclass(frozen=True)
class DriveSettings:
    """``GCP_SERVICE_ACCOUNT_CREDENTIALS`` (service-account JSON), ``GCP_SERVICE_ACCOUNT_SUBJECT``
    (act for that user when set) and ``GOOGLE_API_URL`` (a stand-in's API root; empty: Google's)."""

    credentials: SecretStr = field(repr=False)
    subject: str = ""
    api_url: str = ""
