"""What the DynamoDB adapter needs from configuration (built by entrypoints/settings.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

DEFAULT_TABLES: dict[str, str] = {"users": "users", "teams": "teams", "projects": "projects",
                                  "leases": "rocket_leases"}


@dataclass(frozen=True)
class DynamoSettings:
    """``AWS_REGION``, ``AWS_ACCESS_KEYID``, ``AWS_SECRET_KEY``, ``AWS_LOCAL`` and the
    ``AWS_*_TABLE`` names (logical name -> table name)."""

    region: str = "us-east-1"
    access_key: str | None = None
    secret_key: SecretStr | None = field(default=None, repr=False)
    local: bool = False
    tables: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_TABLES))
