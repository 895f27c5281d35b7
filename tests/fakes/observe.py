"""Tools to watch the fake world in use-case tests.

- ``snapshot(world)``: everything a command could change (every stored record with its
  version, GitHub's, Drive's and Slack's state), for "a refused command changes nothing".
- ``YieldingStore``: wraps a store so every call first yields to the event loop, making
  concurrent use-cases interleave between their reads and writes as on a networked
  database; counts the ``Conflict``s raised (lost compare-and-set races).
"""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from core.errors import Conflict
from core.models import MODELS, key_of, to_dict
from tests.fakes.ports import FakeWorld


async def snapshot(world: FakeWorld) -> dict[str, Any]:
    stored = {m.__name__: {key_of(r): to_dict(r) for r in await world.store.query(m)} for m in MODELS}
    gh = world.github
    return copy.deepcopy(
        {
            "store": stored,
            "github": (gh.users, gh.org_members, gh.teams, gh.team_members),
            "drive": (world.drive.shared, world.drive.foreign),
            "slack": (world.chat.dms, world.chat.posts),
        }
    )


class YieldingStore:
    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.conflicts = 0

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            await asyncio.sleep(0)
            try:
                return await method(*args, **kwargs)
            except Conflict:
                self.conflicts += 1
                raise

        return call
