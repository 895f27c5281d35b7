"""Helpers shared by the storage adapters: validation and in-process filtering."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from core.errors import InvalidInput
from core.models import FOLDED_FIELDS, INDEXED_FIELDS, INT_FIELDS, SET_FIELDS, check_field, fold, matches


def check_params(model: type, params: Iterable[tuple[str, Any]]) -> list[tuple[str, Any]]:
    """Validate query params against the model's fields; returns them as a list."""
    checked = list(params)
    for name, _ in checked:
        check_field(model, name)
    return checked


def check_increment(model: type, field_name: str, amount: int) -> None:
    """The arguments of ``increment``: ``InvalidInput`` unless ``field_name`` is an integer field
    of ``model`` other than ``version`` and ``amount`` an integer (not a bool)."""
    check_field(model, field_name)
    if field_name not in INT_FIELDS[model] or field_name == "version":
        raise InvalidInput(f"{model.__name__}.{field_name} is not a counter")
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise InvalidInput(f"increment amount must be an integer, not {amount!r}")


def match_all(obj: Any, params: list[tuple[str, Any]]) -> bool:
    return all(matches(obj, name, value) for name, value in params)


def match_any(obj: Any, params: list[tuple[str, Any]]) -> bool:
    return not params or any(matches(obj, name, value) for name, value in params)


def unique_keys(keys: Iterable[str]) -> list[str]:
    """Keys in first-seen order, without repeats."""
    return list(dict.fromkeys(keys))


def is_set_field(model: type, name: str) -> bool:
    return name in SET_FIELDS[model]


def check_purge_limit(limit: int) -> int:
    """The ``limit`` of ``purge_expired_leases``; ``InvalidInput`` unless a positive integer."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise InvalidInput(f"purge limit must be a positive integer, not {limit!r}")
    return limit


def index_value(model: type, name: str, value: Any) -> str | None:
    """The value an index holds for ``(name, value)``: folded for ``FOLDED_FIELDS``; None when
    the value is not a string (indexed fields hold strings only, so nothing can match)."""
    if not isinstance(value, str):
        return None
    return fold(value) if name in FOLDED_FIELDS[model] else value


def index_entries(obj: Any) -> set[tuple[str, str]]:
    """Every ``(field, indexed value)`` the record ``obj`` is found under (empty values are
    not indexed: no lookup asks for them)."""
    model = type(obj)
    entries: set[tuple[str, str]] = set()
    for name in INDEXED_FIELDS[model]:
        current = obj.__dict__[name]
        values = current if name in SET_FIELDS[model] else (current,)
        for value in values:
            folded = index_value(model, name, value)
            if folded:
                entries.add((name, folded))
    return entries


def index_plan(model: type, params: list[tuple[str, Any]], joiner: str) -> list[tuple[str, Any]] | None:
    """The pairs to read through indexes, or None when the query must scan.

    AND: the first pair on an indexed field (the others filter its records). OR: every pair,
    when all are on indexed fields. Empty params always scan (they ask for everything).
    """
    indexed = INDEXED_FIELDS[model]
    if not params:
        return None
    if joiner == "AND":
        first = next((p for p in params if p[0] in indexed), None)
        return [first] if first is not None else None
    return params if all(name in indexed for name, _ in params) else None
