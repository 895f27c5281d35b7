"""In-process storage: nothing kept after exit. For tests and embedding."""

from adapters.memory.store import MemoryStore

__all__ = ["MemoryStore"]
