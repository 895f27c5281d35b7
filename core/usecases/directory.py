"""``ImportDirectory`` (``rocket db import``, the operator: no permission check): write the
records of a validated export, only those that differ from what is stored.

Importing the same records twice changes nothing; each record is one atomic write (a
compare-and-set on the stored version, retried when another writer changed it meanwhile),
so an interrupted import is completed by running it again. Records ``DirectoryImported``.

Records absent from the store are created in bulk when the store offers ``BulkCreate``
(DynamoDB: BatchWriteItem, 25 items a request, a bounded number in flight): those writes are
not conditional, so a record created by another writer between this batch's ``bulk_retrieve``
and its write is overwritten; an import is an operator's action on a quiet directory.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Generic

from core import commands as c
from core.context import Ports, Settings
from core.errors import Conflict
from core.events import DirectoryImported, record
from core.models import M, key_of, to_dict
from core.results import ImportResult
from core.usecases.common import upsert_with_retry
from core.usecases.registry import handles
from ports.storage import BulkCreate, Store

IMPORT_BATCH = 500


def _batches(records: Sequence[M], size: int) -> Iterable[Sequence[M]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


class _Overwrite(Generic[M]):
    """The change that makes a stored record equal to ``wanted``; ``same`` when it already was."""

    def __init__(self, wanted: M) -> None:
        self.wanted: M = wanted
        self.same = False

    def __call__(self, stored: M) -> M | None:
        self.same = to_dict(stored, with_version=False) == to_dict(self.wanted, with_version=False)
        return None if self.same else dataclasses.replace(self.wanted, version=stored.version)


@handles(c.ImportDirectory)
class ImportDirectoryHandler:
    def __init__(self, ports: Ports, settings: Settings) -> None:
        self.ports = ports

    async def __call__(self, cmd: c.ImportDirectory) -> ImportResult:
        result = ImportResult()
        store = self.ports.store
        for batch in _batches(cmd.users, IMPORT_BATCH):
            await _import_batch(store, batch, result)
        for teams in _batches(cmd.teams, IMPORT_BATCH):
            await _import_batch(store, teams, result)
        for projects in _batches(cmd.projects, IMPORT_BATCH):
            await _import_batch(store, projects, result)
        record(DirectoryImported(result.created, result.updated, result.unchanged, cmd.actor))
        return result


async def _import_batch(store: Store, batch: Sequence[M], result: ImportResult) -> None:
    """Write one batch: the records absent from the store in bulk when the store can
    (``ports.storage.BulkCreate``: DynamoDB's BatchWriteItem), else one create each; then a
    compare-and-set for each record that exists and differs."""
    if not batch:
        return
    model = type(batch[0])
    existing = {key_of(r): r for r in await store.bulk_retrieve(model, [key_of(r) for r in batch])}
    if isinstance(store, BulkCreate):
        absent = [wanted for wanted in batch if key_of(wanted) not in existing]
        if absent:
            await store.create_many(absent)
            result.created += len(absent)
            batch = [wanted for wanted in batch if key_of(wanted) in existing]
    for wanted in batch:
        current = existing.get(key_of(wanted))
        if current is None:
            try:
                await store.store(wanted)
                result.created += 1
                continue
            except Conflict:  # created meanwhile: an update below
                pass
        overwrite = _Overwrite(wanted)
        _, created = await upsert_with_retry(store, model, key_of(wanted), overwrite, current=current,
                                             create=wanted)
        if created:
            result.created += 1
        elif overwrite.same:
            result.unchanged += 1
        else:
            result.updated += 1
