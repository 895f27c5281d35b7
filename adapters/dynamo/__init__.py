"""DynamoDB storage (``dynamodb://`` and ``dynamodb://HOST:PORT``) through aioboto3."""

from adapters.dynamo.store import DynamoStore

__all__ = ["DynamoStore"]
