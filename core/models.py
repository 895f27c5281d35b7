"""Domain models: the records of the team directory.

Fields are exactly those of the contract's export format, plus ``version`` for optimistic
concurrency: 0 means "never stored"; storage bumps it on every write.
"""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any, ClassVar, TypeVar

from core.permissions import Permissions
from core.records import record
from core.records import replace as replace_record


@record(frozen=False)  # a mutable dataclass, without @dataclass's import cost (issue 17)
class User:
    """A Slack user in the directory, keyed by ``slack_id``."""

    TABLE: ClassVar[str] = "users"
    KEY: ClassVar[str] = "slack_id"

    slack_id: str
    name: str = ""
    email: str = ""
    github: str = ""
    github_user_id: str = ""
    major: str = ""
    position: str = ""
    bio: str = ""
    image_url: str = ""
    permission_level: Permissions = Permissions.member
    karma: int = 1
    #: False only for a GitHub link that nobody vouched for (self-set without the device flow):
    #: such a link gives no rank (promotion) and no team-lead rights. True for a link proven by
    #: the device flow or set by an admin, and by default: a record or import file without the
    #: field was vouched for by the operator (CONTRACT.md "GitHub identity"). Every code path
    #: that sets ``github_user_id`` sets this field explicitly.
    github_verified: bool = True
    version: int = 0

    @property
    def key(self) -> str:
        return self.slack_id

    @property
    def verified_github_id(self) -> str:
        """``github_user_id`` when the link is verified, else ``""`` (what rank may follow)."""
        return self.github_user_id if self.github_verified and self.github_user_id else ""


@record(frozen=False)  # a mutable dataclass, without @dataclass's import cost (issue 17)
class Team:
    """A GitHub team mirrored in the directory, keyed by ``github_team_id``.

    ``members`` and ``team_leads`` hold GitHub user ids.
    """

    TABLE: ClassVar[str] = "teams"
    KEY: ClassVar[str] = "github_team_id"

    github_team_id: str
    github_team_name: str = ""
    display_name: str = ""
    platform: str = ""
    team_leads: set[str] = field(default_factory=set)
    members: set[str] = field(default_factory=set)
    folder: str = ""
    version: int = 0

    @property
    def key(self) -> str:
        return self.github_team_id

    # Membership arithmetic: each returns the changed team, or None when nothing changes
    # (the shape ``update_with_retry`` expects of a change).
    def with_member(self, github_id: str) -> Team | None:
        """``github_id`` added to the members."""
        if github_id in self.members:
            return None
        return replace_record(self, members=self.members | {github_id})

    def without_member(self, github_id: str) -> Team | None:
        """``github_id`` removed from the members and the leads."""
        if github_id not in self.members and github_id not in self.team_leads:
            return None
        return replace_record(self, members=self.members - {github_id},
                              team_leads=self.team_leads - {github_id})

    def with_lead(self, github_id: str) -> Team | None:
        """``github_id`` a lead (and so a member)."""
        if github_id in self.members and github_id in self.team_leads:
            return None
        return replace_record(self, members=self.members | {github_id},
                              team_leads=self.team_leads | {github_id})

    def without_lead(self, github_id: str) -> Team | None:
        """``github_id`` no longer a lead (still a member)."""
        if github_id not in self.team_leads:
            return None
        return replace_record(self, team_leads=self.team_leads - {github_id})


@record(frozen=False)  # a mutable dataclass, without @dataclass's import cost (issue 17)
class Project:
    """A set of repositories assigned to (at most) one team, keyed by ``project_id``."""

    TABLE: ClassVar[str] = "projects"
    KEY: ClassVar[str] = "project_id"

    project_id: str
    github_team_id: str = ""
    github_urls: set[str] = field(default_factory=set)
    display_name: str = ""
    short_description: str = ""
    long_description: str = ""
    tags: set[str] = field(default_factory=set)
    website_url: str = ""
    medium_url: str = ""
    appstore_url: str = ""
    playstore_url: str = ""
    version: int = 0

    @property
    def key(self) -> str:
        return self.project_id


Model = User | Team | Project
M = TypeVar("M", User, Team, Project)
MODELS: tuple[type[Model], ...] = (User, Team, Project)
SET_FIELDS: dict[type, frozenset[str]] = {
    User: frozenset(),
    Team: frozenset({"team_leads", "members"}),
    Project: frozenset({"github_urls", "tags"}),
}
BOOL_FIELDS: dict[type, frozenset[str]] = {
    User: frozenset({"github_verified"}),
    Team: frozenset(),
    Project: frozenset(),
}
# Fields every backend serves through an index (``query``/``query_or`` on them never scan):
# a pair on one of these costs one index read plus the matching records, whatever the size
# of the table. See ports/storage.py for the cost of each query.
INDEXED_FIELDS: dict[type, frozenset[str]] = {
    User: frozenset({"github_user_id", "github", "email"}),
    Team: frozenset({"github_team_name", "members", "team_leads"}),
    Project: frozenset({"github_team_id", "github_urls"}),
}
# Fields matched case-insensitively (ASCII case folding, as GitHub compares logins and team
# slugs): ``query(User, [("github", "OctoCat")])`` finds ``octocat``. Stored as written;
# every backend indexes the folded value.
FOLDED_FIELDS: dict[type, frozenset[str]] = {
    User: frozenset({"github"}),
    Team: frozenset({"github_team_name"}),
    Project: frozenset(),
}
_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


def fold(value: str) -> str:
    """The folded form of a GitHub login or team slug: ASCII letters lower-cased, nothing
    else changed (the same as SQLite's ``lower()``, so every backend folds alike)."""
    return value.translate(_ASCII_LOWER)


INT_FIELDS: dict[type, frozenset[str]] = {
    User: frozenset({"karma", "version"}),
    Team: frozenset({"version"}),
    Project: frozenset({"version"}),
}


def key_of(obj: Model) -> str:
    """The primary key value of a record."""
    return obj.key


_FIELD_NAMES: dict[tuple[type, bool], tuple[str, ...]] = {}


def _field_names(model: type, with_version: bool) -> tuple[str, ...]:
    """A model's field names, computed once per model (``from_dict`` runs 50,000 times a scan)."""
    names = _FIELD_NAMES.get((model, with_version))
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(model) if with_version or f.name != "version")
        _FIELD_NAMES[(model, with_version)] = names
    return names


def field_names(model: type, *, with_version: bool = True) -> list[str]:
    return list(_field_names(model, with_version))


def to_dict(obj: Model, *, with_version: bool = True) -> dict[str, Any]:
    """Plain JSON-ready dict: sets become sorted lists, the permission a string."""
    out: dict[str, Any] = {}
    sets = SET_FIELDS[type(obj)]
    for name in _field_names(type(obj), with_version):
        value = obj.__dict__[name]
        if name in sets:
            value = sorted(value)
        elif isinstance(value, Permissions):
            value = value.value
        out[name] = value
    return out


def from_dict(model: type[M], data: dict[str, Any]) -> M:
    """Build a record from a dict (as stored or exported); unknown keys are ignored.

    Raises ``ValueError`` for a missing key or a value of the wrong kind. A missing field takes
    the model's default (so a user without ``github_verified`` is verified).
    """
    key = model.KEY
    if not isinstance(data.get(key), str) or not data[key]:
        raise ValueError(f"{model.__name__} needs a non-empty string {key!r}")
    kwargs: dict[str, Any] = {}
    sets = SET_FIELDS[model]
    ints = INT_FIELDS[model]
    bools = BOOL_FIELDS[model]
    for name in _field_names(model, True):
        if name not in data or data[name] is None:
            continue
        value = data[name]
        if name in bools:
            if not isinstance(value, bool):
                raise ValueError(f"{model.__name__}.{name} must be true or false")
        elif name in sets:
            if isinstance(value, str) or not hasattr(value, "__iter__"):
                raise ValueError(f"{model.__name__}.{name} must be a list of strings")
            value = {str(v) for v in value}
        elif name in ints:
            if isinstance(value, bool):
                raise ValueError(f"{model.__name__}.{name} must be an integer")
            value = int(value)
        elif name == "permission_level":
            value = Permissions(value)
        else:
            value = str(value)
        kwargs[name] = value
    return model(**kwargs)


def matches(obj: Model, field_name: str, value: Any) -> bool:
    """The query rule: equality (case-folded for ``FOLDED_FIELDS``), or membership for
    set-valued fields."""
    current = obj.__dict__[field_name]
    if field_name in SET_FIELDS[type(obj)]:
        return value in current
    if isinstance(current, Permissions):
        return current.value == str(value)
    if field_name in FOLDED_FIELDS[type(obj)] and isinstance(value, str):
        return fold(current) == fold(value)
    return bool(current == value)


def check_field(model: type, field_name: str) -> None:
    """Raise ``InvalidInput`` when ``field_name`` is not a field of ``model``."""
    from core.errors import InvalidInput

    if field_name not in field_names(model):
        raise InvalidInput(f"{model.__name__} has no field {field_name!r}")
