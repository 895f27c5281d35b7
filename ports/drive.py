"""The Drive port: folder sharing that follows team membership.

Implementations raise ``IntegrationUnavailable("Google Drive")`` when not configured and
``UpstreamError("Google Drive", …)`` when Drive refuses.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Protocol


@dataclass
class SyncResult:
    added: set[str] = field(default_factory=set)
    removed: set[str] = field(default_factory=set)


class Drive(Protocol):
    async def sync_folder(self, folder_id: str, emails: Collection[str]) -> SyncResult:
        """Share the folder (writer) with exactly ``emails`` among the people Rocket shared it with.

        Adds a permission for each email that lacks one, removes permissions Rocket created
        for emails not in ``emails``, and leaves permissions Rocket did not create untouched.
        Returns what it added and removed. Emails compare case-insensitively.
        """
        ...
