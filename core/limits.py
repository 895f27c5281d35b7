"""Field length bounds: one definition of what a valid record is, whatever the backend.

Without bounds in the core, backends disagreed: a 500 KB bio imported on SQLite and failed on
DynamoDB (whose items are at most 400 KB). Every text field has a maximum length in characters,
every set field a maximum number of items and a maximum length per item, and the bounds are
sized so that the largest record they allow fits every backend: ``worst_case_bytes(model)``
(every character 4 bytes in UTF-8, plus attribute names) stays under
``DYNAMODB_ITEM_BYTES`` with room to spare (``HEADROOM``). Identifier fields that are ASCII by
nature (GitHub ids, Slack ids) must be ASCII, so they count one byte a character.

Where input enters (the use-cases' validation, ``rocket db import``), ``check_fields`` and
``violation`` apply the bounds: over a bound is ``InvalidInput`` / one line naming the field.

Standard library and ``core`` only.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from enum import Enum
from typing import Any

from core.errors import InvalidInput
from core.models import SET_FIELDS, Project, Team, User

DYNAMODB_ITEM_BYTES = 400 * 1024
HEADROOM = 0.75  # the worst-case record uses at most this share of the smallest item limit
URL = 2048

#: Maximum length in characters of each text field, and of each item of each set field.
TEXT: dict[type, dict[str, int]] = {
    User: {
        "slack_id": 64, "name": 100, "email": 254, "github": 39, "github_user_id": 20,
        "major": 100, "position": 100, "bio": 500, "image_url": URL, "permission_level": 16,
    },
    Team: {
        "github_team_id": 20, "github_team_name": 255, "display_name": 255, "platform": 100,
        "folder": 200, "team_leads": 20, "members": 20,
    },
    Project: {
        "project_id": 64, "github_team_id": 20, "github_urls": 500, "display_name": 255,
        "short_description": 500, "long_description": 10_000, "tags": 50, "website_url": URL,
        "medium_url": URL, "appstore_url": URL, "playstore_url": URL,
    },
}

#: Maximum number of items of each set field.
ITEMS: dict[type, dict[str, int]] = {
    User: {},
    Team: {"team_leads": 1_000, "members": 10_000},
    Project: {"github_urls": 20, "tags": 50},
}

#: Fields whose characters must all be ASCII (identifiers), counted one byte each.
ASCII: dict[type, frozenset[str]] = {
    User: frozenset({"slack_id", "github_user_id", "github", "permission_level"}),
    Team: frozenset({"github_team_id", "team_leads", "members"}),
    Project: frozenset({"github_team_id"}),
}

_LABELS = {
    "slack_id": "Slack id", "github": "GitHub username", "github_user_id": "GitHub user id",
    "image_url": "Image URL", "permission_level": "Permission", "github_team_id": "GitHub team id",
    "github_team_name": "GitHub team name", "display_name": "Name", "team_leads": "Team leads",
    "github_urls": "GitHub URLs", "website_url": "Website URL", "medium_url": "Medium URL",
    "appstore_url": "App Store URL", "playstore_url": "Play Store URL", "folder": "Drive folder",
}


def label(field: str) -> str:
    """The field as people read it (``bio`` -> ``Bio``, ``image_url`` -> ``Image URL``)."""
    return _LABELS.get(field) or field.replace("_", " ").capitalize()


def worst_case_bytes(model: type) -> int:
    """The size of the largest record the bounds allow, as UTF-8 text plus attribute names
    (DynamoDB counts both), with every non-ASCII field at 4 bytes a character."""
    total = 0
    sets = SET_FIELDS[model]
    for name, limit in TEXT[model].items():
        per_char = 1 if name in ASCII[model] else 4
        count = ITEMS[model].get(name, 1) if name in sets else 1
        total += len(name) + count * limit * per_char
    total += sum(len(f.name) + 8 for f in dataclasses.fields(model) if f.name not in TEXT[model])
    return total


def _problem(model: type, field: str, value: Any) -> str | None:
    limit = TEXT[model].get(field)
    if limit is None:
        return None
    values: Iterable[Any] = value if field in SET_FIELDS[model] else [value]
    if field in SET_FIELDS[model]:
        most = ITEMS[model][field]
        if len(value) > most:
            return f"{label(field)} has {len(value):,} entries (at most {most:,})"
    for item in values:
        text = item.value if isinstance(item, Enum) else item  # an enum (permission) by its value
        if not isinstance(text, str):
            continue
        if len(text) > limit:
            return f"{label(field)} is too long ({len(text):,} characters; at most {limit:,})"
        if field in ASCII[model] and not text.isascii():
            return f"{label(field)} must be plain ASCII (letters, digits and punctuation), got {text[:40]!r}"
    return None


def check_fields(model: type, **values: Any) -> None:
    """``InvalidInput`` naming the first of ``values`` (field=value of ``model``) over its bound;
    ``None`` values (not being changed) are skipped."""
    for field, value in values.items():
        if value is None:
            continue
        problem = _problem(model, field, value)
        if problem:
            raise InvalidInput(problem)


def violation(record: Any) -> str | None:
    """The first bound ``record`` (a ``User``, ``Team`` or ``Project``) breaks, as one line; else None."""
    model = type(record)
    for field in TEXT[model]:
        problem = _problem(model, field, record.__dict__[field])
        if problem:
            return problem
    return None
