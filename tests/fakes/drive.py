"""A stateful in-memory Google Drive implementing ports.drive.Drive.

``shared[folder]`` holds the emails Rocket shared each folder with; ``foreign[folder]``
holds permissions somebody else created, which a sync must leave alone.
"""

from __future__ import annotations

from collections.abc import Collection

from ports.drive import SyncResult


class FakeDrive:
    def __init__(self) -> None:
        self.shared: dict[str, set[str]] = {}
        self.foreign: dict[str, set[str]] = {}
        self.fail_on: dict[str, Exception] = {}
        self.syncs = 0

    async def sync_folder(self, folder_id: str, emails: Collection[str]) -> SyncResult:
        self.syncs += 1
        if "sync_folder" in self.fail_on:
            raise self.fail_on["sync_folder"]
        wanted = {e.lower() for e in emails if e}
        have = self.shared.setdefault(folder_id, set())
        result = SyncResult(added=wanted - have, removed=have - wanted)
        self.shared[folder_id] = wanted
        return result
