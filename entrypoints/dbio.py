"""``rocket db export`` / ``rocket db import``: the contract's JSON format.

Export writes every user, team and project (sets as sorted lists, no ``version``).
Import validates the whole file before writing anything (field lengths bounded by
``core.limits``, so every backend accepts exactly the same records), then writes only records that
differ from what is stored, so importing the same file twice changes nothing; each
record is one atomic write, so an interrupted import is completed by running it again.
"""

from __future__ import annotations

import dataclasses
import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import IO, Any

from core.errors import Conflict
from core.limits import violation
from core.models import Project, Team, User, from_dict, key_of, to_dict
from ports.storage import Store

SECTIONS: tuple[tuple[str, type], ...] = (("users", User), ("teams", Team), ("projects", Project))
IMPORT_BATCH = 500


class ImportFileError(ValueError):
    """The file is not in the export format; nothing was imported."""


@dataclass
class ImportSummary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


async def export_to(store: Store, out: IO[str]) -> int:
    """Write the export JSON to ``out``, one record per line; returns the record count."""
    count = 0
    out.write("{")
    for index, (section, model) in enumerate(SECTIONS):
        records = sorted(await store.query(model), key=key_of)
        out.write(("," if index else "") + f'\n"{section}": [')
        for i, record in enumerate(records):
            line = json.dumps(to_dict(record, with_version=False), ensure_ascii=False)
            out.write(("," if i else "") + "\n  " + line)
        out.write("\n]")
        count += len(records)
    out.write("\n}\n")
    return count


async def export_to_file(store: Store, path: str | os.PathLike[str]) -> int:
    """Write the export to ``path`` atomically: a temporary file beside it, renamed over it
    once complete. If the export fails part-way, ``path`` is left as it was (an earlier
    export is not truncated) and the temporary file is removed. The file is created readable
    and writable by its owner only: it holds email addresses."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".rocket-export-", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            count = await export_to(store, out)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return count


def parse_export(data: Any) -> dict[type, list[Any]]:
    """Validate a decoded export; raises ``ImportFileError`` naming the first bad record."""
    if not isinstance(data, dict):
        raise ImportFileError("the file must hold a JSON object with users, teams and projects")
    unknown = set(data) - {name for name, _ in SECTIONS}
    if unknown:
        raise ImportFileError(f"unknown section(s): {', '.join(sorted(unknown))}")
    parsed: dict[type, list[Any]] = {}
    for section, model in SECTIONS:
        items = data.get(section, [])
        if not isinstance(items, list):
            raise ImportFileError(f"{section} must be a list")
        records = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                raise ImportFileError(f"{section}[{i}] must be an object")
            try:
                record = from_dict(model, {**item, "version": 0})
            except (ValueError, TypeError) as e:
                raise ImportFileError(f"{section}[{i}]: {e}") from None
            problem = violation(record)  # core/limits.py: the same bounds on every backend
            if problem:
                raise ImportFileError(f"{section}[{i}] ({key_of(record)[:64]!r}): {problem}")
            records.append(record)
        keys = [key_of(r) for r in records]
        if len(set(keys)) != len(keys):
            raise ImportFileError(f"{section} has the same key twice")
        parsed[model] = records
    return parsed


async def _import_batch(store: Store, model: type, batch: list[Any], summary: ImportSummary) -> None:
    existing = {key_of(r): r for r in await store.bulk_retrieve(model, [key_of(r) for r in batch])}
    for record in batch:
        current = existing.get(key_of(record))
        if current is None:
            try:
                await store.store(record)
                summary.created += 1
                continue
            except Conflict:  # created meanwhile: fall through to an update
                current = await store.retrieve(model, key_of(record))
        await _overwrite(store, record, current, summary)


async def _overwrite(store: Store, record: Any, current: Any, summary: ImportSummary) -> None:
    for _ in range(8):
        if to_dict(current, with_version=False) == to_dict(record, with_version=False):
            summary.unchanged += 1
            return
        try:
            await store.store(dataclasses.replace(record, version=current.version))
            summary.updated += 1
            return
        except Conflict:
            current = await store.retrieve(type(record), key_of(record))
    raise Conflict(f"{type(record).__name__} {key_of(record)} kept changing during the import")


def _batches(records: list[Any], size: int) -> Iterable[list[Any]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


async def import_from(store: Store, data: Any) -> ImportSummary:
    """Load a decoded export into ``store``; see the module docstring for guarantees."""
    parsed = parse_export(data)
    summary = ImportSummary()
    for _, model in SECTIONS:
        for batch in _batches(parsed[model], IMPORT_BATCH):
            await _import_batch(store, model, batch, summary)
    return summary
