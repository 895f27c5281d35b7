"""What the Slack adapters need from configuration (built by entrypoints/settings.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

DEFAULT_API_URL = "https://slack.com/api/"


@dataclass(frozen=True)
class SlackSettings:
    """``SLACK_API_TOKEN`` (bot token; empty: Slack is off) and ``SLACK_API_URL`` (already checked
    to be an http(s) URL)."""

    token: SecretStr = field(default_factory=lambda: SecretStr(""), repr=False)
    api_url: str = DEFAULT_API_URL

    @property
    def base_url(self) -> str:
        """``api_url`` with the trailing slash slack-sdk expects."""
        url = self.api_url.strip() or DEFAULT_API_URL
        return url if url.endswith("/") else url + "/"
