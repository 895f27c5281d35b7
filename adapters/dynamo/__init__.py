"""DynamoDB storage (``dynamodb://`` and ``dynamodb://HOST:PORT``) through aioboto3.

Registry entry (see entrypoints/storage.py): ``SCHEMES``, ``check_url`` and ``open_store``;
``open_store`` reads ``settings.aws`` (an ``adapters.dynamo.settings.DynamoSettings``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from adapters.dynamo.settings import DynamoSettings
    from adapters.dynamo.store import DynamoStore

SCHEMES = ("dynamodb",)
__all__ = ["SCHEMES", "DynamoSettings", "DynamoStore", "check_url", "open_store"]


def check_url(url: str) -> None:
    """``ValueError`` unless ``dynamodb://`` or ``dynamodb://HOST:PORT``."""
    host = url.partition("://")[2].rstrip("/")
    if host:
        try:
            port = urlsplit(f"http://{host}").port
        except ValueError as e:
            raise ValueError(f"bad DynamoDB endpoint ({e})") from None
        if port is None:
            raise ValueError("a DynamoDB endpoint is dynamodb://HOST:PORT")


async def open_store(url: str, settings: Any) -> DynamoStore:
    """Open (creating missing tables) with ``settings.aws``."""
    from adapters.dynamo.store import DynamoStore

    return await DynamoStore.from_settings(url, settings.aws)


def __getattr__(name: str) -> Any:  # aioboto3 and pydantic are imported on first use (start-up stays light)
    if name == "DynamoStore":
        from adapters.dynamo.store import DynamoStore

        return DynamoStore
    if name == "DynamoSettings":
        from adapters.dynamo.settings import DynamoSettings

        return DynamoSettings
    raise AttributeError(name)
