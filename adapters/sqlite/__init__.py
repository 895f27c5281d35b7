"""SQLite storage (``sqlite:///path``): one file, shareable by several processes (WAL)."""

from adapters.sqlite.store import SqliteStore

__all__ = ["SqliteStore"]
