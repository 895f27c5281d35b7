"""``rocket db export`` / ``rocket db import``: the contract's JSON format.

Export writes every user, team and project (sets as sorted lists, no ``version``).
Import validates the whole file before writing anything (field lengths bounded by
``core.limits``, so every backend accepts exactly the same records), then writes only records that
differ from what is stored, so importing the same file twice changes nothing; each
record is one atomic write, so an interrupted import is completed by running it again.
The file is parsed and validated here; the records are written by ``ImportDirectory`` through
the bus (``core.usecases.directory``).
"""

from __future__ import annotations

import json
import os
import tempfile
from typing import IO, Any

from core.bus import MessageBus
from core.commands import ImportDirectory
from core.limits import violation
from core.models import INT_FIELDS, SET_FIELDS, Project, Team, User, field_names, from_dict, key_of, to_dict
from core.results import ImportResult
from core.validation import bad_text_in
from ports.storage import Store

SECTIONS: tuple[tuple[str, type], ...] = (("users", User), ("teams", Team), ("projects", Project))


class ImportFileError(ValueError):
    """The file is not in the export format; nothing was imported."""


ImportSummary = ImportResult


async def export_to(store: Store, out: IO[str]) -> int:
    """Write the export JSON to ``out``, one record per line; returns the record count."""
    count = 0
    out.write("{")
    for index, (section, model) in enumerate(SECTIONS):
        records = sorted(await store.query(model), key=key_of)
        out.write(("," if index else "") + f'\n"{section}": [')
        for i, record in enumerate(records):
            line = json.dumps(to_dict(record, with_version=False), ensure_ascii=False)
            try:
                line.encode("utf-8")
            except UnicodeEncodeError:  # stored before input was checked: still exportable, escaped
                line = json.dumps(to_dict(record, with_version=False), ensure_ascii=True)
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
            problem = bad_text_in(item) or _wrong_type(model, item)
            if problem:
                raise ImportFileError(f"{section}[{i}]: {problem}")
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


def _wrong_type(model: type, item: dict[str, Any]) -> str | None:
    """The first field of ``item`` whose JSON type is not the export format's (no coercion:
    ``{"a": 1}`` is no name, ``7.9`` no karma, ``"3"`` no karma either); None when all fit.
    A missing or null field is left to ``from_dict`` (it takes the default)."""
    sets, ints = SET_FIELDS[model], INT_FIELDS[model]
    for name in field_names(model, with_version=False):
        value = item.get(name)
        if value is None:
            continue
        if name in sets:
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                return f"{name} must be a list of strings"
        elif name in ints:
            if isinstance(value, bool) or not isinstance(value, int):
                return f"{name} must be a whole number (not {json.dumps(value)[:40]})"
        elif name == "github_verified":
            continue  # checked below, whether or not the model has the field yet
        elif not isinstance(value, str):
            return f"{name} must be a string"
    verified = item.get("github_verified")
    if model is User and verified is not None and not isinstance(verified, bool):
        return "github_verified must be true or false"
    return None


def loads_strict(text: str) -> Any:
    """``json.loads`` that refuses what Python's parser lets through silently: duplicate keys
    in an object, ``NaN``/``Infinity``, and numbers too large for a float (``1e400``).
    Raises ``ImportFileError`` naming the problem."""

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for k, v in items:
            if k in seen:
                raise ImportFileError(f"the key {json.dumps(k)[:60]} appears twice in one object")
            seen[k] = v
        return seen

    def constant(name: str) -> Any:
        raise ImportFileError(f"{name} is not a number in an export")

    def real(literal: str) -> float:
        value = float(literal)
        if value in (float("inf"), float("-inf")):
            raise ImportFileError(f"the number {literal[:40]} is too large")
        return value

    return json.loads(text, object_pairs_hook=pairs, parse_constant=constant, parse_float=real)


async def import_from(bus: MessageBus, data: Any, actor: str = "") -> ImportSummary:
    """Load a decoded export through the bus (``ImportDirectory``); see the module docstring
    for guarantees. ``ImportFileError`` before anything is written when the file is bad."""
    parsed = parse_export(data)
    return await bus.handle(ImportDirectory(actor, users=tuple(parsed[User]), teams=tuple(parsed[Team]),
                                            projects=tuple(parsed[Project])))
