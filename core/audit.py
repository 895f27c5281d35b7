"""Audit entries: what changed, when, by whom (standard library only).

An ``AuditEntry`` is immutable and validated on creation (``InvalidInput`` otherwise), so
every backend stores the same well-formed values:

- ``id``: the change's idempotency key. Appending an entry whose id is already stored
  stores nothing (the first one wins), so a retried change leaves one entry.
- ``time``: UTC, ISO 8601, always in the fixed-width form ``2026-12-01T10:00:00.123456Z``
  (``audit_time`` normalises any ISO 8601 string or aware datetime to it), so the string
  order is the time order and backends sort and compare the strings.
- ``actor``: a Slack id, ``github`` (webhooks), ``job:NAME`` or ``cli``.
- ``action``: e.g. ``team add``; ``target``: e.g. ``team:backend`` or ``user:U1``.
- ``changes``: ``(field, old, new)`` triples with JSON-safe values (None, bool, int,
  float, str, and lists/dicts of those).
- ``users`` / ``teams``: the Slack ids and team slugs the entry is about; the per-user and
  per-team queries find the entry through them.

Entries are ordered newest first by ``(time, id)`` descending; a page cursor is the
``(time, id)`` of the last entry of the previous page (``cursor_of``), or its string form
(``encode_cursor`` / ``decode_cursor``).
"""

from __future__ import annotations

import contextvars
import functools
import json
import json.encoder
import math
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from core.errors import InvalidInput
from core.records import record

TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
TIME_LENGTH = len("2026-12-01T10:00:00.123456Z")
MAX_ID = 200  # characters in an id
MAX_TEXT = 500  # characters in actor, action, target, a user id or a team slug
MAX_TAGS = 64  # users + teams of one entry (DynamoDB writes one index item per tag)
MAX_CHANGES = 100
MAX_ENTRY_BYTES = 50_000  # UTF-8 JSON of to_dict (DynamoDB copies it into up to 66 items, 4 MB a transaction)
MAX_LIMIT = 1000  # entries per query page
DEFAULT_LIMIT = 20
JSON_KEYS = ("time", "actor", "action", "target", "changes")

Change = tuple[str, Any, Any]
Cursor = tuple[str, str]


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_CANONICAL = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_PLAIN = frozenset({str, int, bool, type(None)})  # exact types a change value keeps as it is


def audit_time(value: str | datetime) -> str:
    """``value`` as the fixed-width UTC form ``YYYY-MM-DDTHH:MM:SS.ffffffZ``.

    Accepts an aware datetime or an ISO 8601 string (``Z`` or an offset; a naive value or a
    bare date is taken as UTC). Anything else raises ``InvalidInput``.
    """
    if isinstance(value, str) and len(value) == TIME_LENGTH and _CANONICAL.fullmatch(value):
        try:  # already in the form (the common case): only check it is a real time
            datetime.fromisoformat(value[:-1])
            return value
        except ValueError:
            raise InvalidInput(f"not an ISO 8601 time: {value!r}") from None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        text = value.strip()
        if not text or len(text) > 64:
            raise InvalidInput(f"not an ISO 8601 time: {value!r}")
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1] in "zZ" else text)
        except ValueError:
            raise InvalidInput(f"not an ISO 8601 time: {value!r}") from None
    else:
        raise InvalidInput(f"not an ISO 8601 time: {value!r}")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC).strftime(TIME_FORMAT)
    except (OverflowError, ValueError):
        raise InvalidInput(f"time out of range: {value!r}") from None


_SECOND: tuple[int, str] = (-1, "")  # the last second now_time formatted, and its text


def now_time() -> str:
    """The current UTC time in the audit form. The text of the second is formatted once per
    second (``isoformat`` with ``timespec`` cost 3 µs a call, this 0.9 µs)."""
    return _stamp(time.time_ns() // 1000)


def _stamp(micros: int) -> str:
    """``micros`` (microseconds since the epoch, UTC) in the audit form."""
    global _SECOND
    second, micro = divmod(micros, 1_000_000)
    cached = _SECOND
    if cached[0] != second:
        cached = _SECOND = (second, time.strftime("%Y-%m-%dT%H:%M:%S.", time.gmtime(second)))
    return f"{cached[1]}{micro:06d}Z"


def retention_cutoff(days: int, now: datetime | None = None) -> str:
    """The ``purge`` cutoff that keeps ``days`` days (``ROCKET_AUDIT_DAYS``) before ``now``."""
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 100_000:
        raise InvalidInput(f"audit retention must be a whole number of days, not {days!r}")
    return audit_time((now or datetime.now(UTC)) - timedelta(days=days))


def _text(name: str, value: Any, limit: int = MAX_TEXT) -> str:
    if type(value) is str and len(value) <= limit and not value.isspace() and value \
            and not _CONTROL.search(value):
        return value  # the common case, checked in one expression
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"audit {name} must be a non-empty string, not {value!r}")
    if len(value) > limit:
        raise InvalidInput(f"audit {name} is longer than {limit} characters")
    if _CONTROL.search(value):
        raise InvalidInput(f"audit {name} contains control characters")
    return value


def _json_safe(value: Any, depth: int = 0) -> Any:
    """``value`` with tuples as lists; ``InvalidInput`` unless JSON can carry it exactly."""
    if type(value) in _PLAIN:
        return value
    if depth > 10:
        raise InvalidInput("audit change values are nested too deeply")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(f"audit change value {value!r} is not JSON-safe")
        return value
    if isinstance(value, list | tuple):
        return [_json_safe(v, depth + 1) for v in value]
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise InvalidInput("audit change mappings need string keys")
        return {k: _json_safe(v, depth + 1) for k, v in value.items()}
    raise InvalidInput(f"audit change value {value!r} is not JSON-safe")


def _frozen(value: Any) -> Any:
    """A JSON-safe value with lists as tuples, so the entry stays hashable-ish and immutable."""
    if type(value) in _PLAIN:
        return value
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


def _thawed(value: Any) -> Any:
    if type(value) in _PLAIN:
        return value
    if isinstance(value, tuple):
        return [_thawed(v) for v in value]
    if isinstance(value, dict):
        return {k: _thawed(v) for k, v in value.items()}
    return value


def _tags(name: str, values: Any) -> tuple[str, ...]:
    if type(values) is tuple:
        if not values:
            return values
        if len(values) == 1:  # the common case: one user or one team, checked in one expression
            v = values[0]
            if type(v) is str and 0 < len(v) <= MAX_TEXT and not v.isspace() and not _CONTROL.search(v):
                return values
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise InvalidInput(f"audit {name} must be a list of strings")
    return tuple(dict.fromkeys([_text(name, v) for v in values]))


_ENCODER = json.JSONEncoder(ensure_ascii=False)


_quote = json.encoder.encode_basestring  # a str as a JSON string, non-ASCII kept (C)


def _value_json(value: Any) -> str:
    """``_ENCODER.encode(value)`` for a change value; str, int, bool and None without the encoder."""
    kind = type(value)
    if kind is str:
        return _quote(value)
    if kind is int:
        return int.__repr__(value)
    if value is None:
        return "null"
    if kind is bool:
        return "true" if value else "false"
    return _ENCODER.encode(value)  # lists and floats: rare in a change


def strings_json(values: tuple[str, ...]) -> str:
    """``json.dumps(list(values), ensure_ascii=False)`` for a tuple of str, the same text, without
    the encoder ``json.dumps`` builds for every call with an option."""
    return "[" + ", ".join([_quote(v) for v in values]) + "]" if values else "[]"


def _doc_json(id: str, time: str, actor: str, action: str, target: str,  # noqa: A002
              changes: list[Change], users: tuple[str, ...], teams: tuple[str, ...]) -> str:
    """``_ENCODER.encode(entry.to_dict())`` of an entry of these checked fields, the same text, written
    from a template (the encoder's per-object work cost more than the rest of an entry's checks)."""
    q = _quote
    parts = ", ".join([f'{{"field": {q(f)}, "old": {_value_json(old)}, "new": {_value_json(new)}}}'
                       for f, old, new in changes])
    return (f'{{"id": {q(id)}, "time": {q(time)}, "actor": {q(actor)}, "action": {q(action)}, '
            f'"target": {q(target)}, "changes": [{parts}], "users": {strings_json(users)}, '
            f'"teams": {strings_json(teams)}}}')


@record
class AuditEntry:
    """One recorded change; see the module docstring for each field.

    ``AuditEntry(id, time, actor, action, target, changes=(), users=(), teams=())`` checks and
    normalises every field (``InvalidInput`` otherwise). Texts, a single tag and plain change
    values take a fast path (one expression for the four texts); anything else the full checks,
    with the same verdict (tests/unit/test_audit_entry.py).
    """

    id: str
    time: str
    actor: str
    action: str
    target: str
    changes: tuple[Change, ...] = ()
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()

    def __init__(self, id: str, time: str, actor: str, action: str, target: str,  # noqa: A002
                 changes: Iterable[Any] = (), users: Iterable[str] = (), teams: Iterable[str] = ()) -> None:
        if not (type(id) is str and type(actor) is str and type(action) is str and type(target) is str
                and 0 < len(id) <= MAX_ID and 0 < len(actor) <= MAX_TEXT and 0 < len(action) <= MAX_TEXT
                and 0 < len(target) <= MAX_TEXT and not id.isspace() and not actor.isspace()
                and not action.isspace() and not target.isspace()
                and not _CONTROL.search(id + actor + action + target)):
            id = _text("id", id, MAX_ID)
            actor = _text("actor", actor)
            action = _text("action", action)
            target = _text("target", target)
        time = audit_time(time)
        if type(changes) is not tuple and (isinstance(changes, (str, bytes))
                                           or not isinstance(changes, Iterable)):
            raise InvalidInput("audit changes must be a list of (field, old, new)")
        triples: list[Change] = []
        for change in changes:
            if type(change) is tuple and len(change) == 3 and type(change[0]) is str \
                    and type(change[1]) in _PLAIN and type(change[2]) in _PLAIN:
                triples.append((_text("change field", change[0]), change[1], change[2]))
                continue  # the common case: a field and two plain values
            if isinstance(change, Mapping):
                change = (change.get("field"), change.get("old"), change.get("new"))
            if isinstance(change, str) or not isinstance(change, Iterable):
                raise InvalidInput("each audit change is (field, old, new)")
            parts = tuple(change)
            if len(parts) != 3:
                raise InvalidInput("each audit change is (field, old, new)")
            name = _text("change field", parts[0])
            triples.append((name, _frozen(_json_safe(parts[1])), _frozen(_json_safe(parts[2]))))
        if len(triples) > MAX_CHANGES:
            raise InvalidInput(f"an audit entry holds at most {MAX_CHANGES} changes")
        users = _tags("users", users)
        teams = _tags("teams", teams)
        if len(users) + len(teams) > MAX_TAGS:
            raise InvalidInput(f"an audit entry is about at most {MAX_TAGS} users and teams")
        # to_dict's JSON, written straight from the checked values
        doc = _doc_json(id, time, actor, action, target, triples, users, teams)
        if len(doc) > MAX_ENTRY_BYTES or len(doc.encode()) > MAX_ENTRY_BYTES:
            raise InvalidInput(f"an audit entry is at most {MAX_ENTRY_BYTES} bytes of JSON")
        self.__dict__.update(id=id, time=time, actor=actor, action=action, target=target,
                             changes=tuple(triples), users=users, teams=teams, _doc=doc)

    @property
    def doc_json(self) -> str:
        """``to_dict()`` as JSON (non-ASCII kept), computed once when the entry was checked."""
        doc: str = self.__dict__["_doc"]
        return doc

    @property
    def day(self) -> str:
        """The UTC date ``YYYY-MM-DD`` of ``time``."""
        return self.time[:10]

    @property
    def cursor(self) -> Cursor:
        """``(time, id)``: pass as ``before`` to get the entries after this one."""
        return (self.time, self.id)

    def to_dict(self) -> dict[str, Any]:
        """Every field, JSON-safe (the storage form; ``from_dict`` reads it back)."""
        return {
            "id": self.id,
            "time": self.time,
            "actor": self.actor,
            "action": self.action,
            "target": self.target,
            "changes": [
                {"field": f, "old": _thawed(old), "new": _thawed(new)} for f, old, new in self.changes
            ],
            "users": list(self.users),
            "teams": list(self.teams),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> AuditEntry:
        """An entry from ``to_dict``'s form; ``InvalidInput`` when a field is missing or bad.

        Without ``id`` (a line of ``rocket audit``), the id is derived from the content
        (``content_id``), so reading the same line twice gives the same entry.
        """
        if not isinstance(data, Mapping):
            raise InvalidInput("an audit entry is a JSON object")
        missing = [k for k in JSON_KEYS if k not in data]
        if missing:
            raise InvalidInput(f"audit entry lacks {', '.join(missing)}")
        entry_id = data.get("id") or content_id(data)
        return cls(
            id=entry_id,
            time=data["time"],
            actor=data["actor"],
            action=data["action"],
            target=data["target"],
            changes=tuple(data["changes"]) if isinstance(data["changes"], list) else data["changes"],
            users=tuple(data.get("users") or ()),
            teams=tuple(data.get("teams") or ()),
        )

    def to_json(self) -> str:
        """One ``rocket audit`` line: a JSON object with the keys ``time``, ``actor``,
        ``action``, ``target``, ``changes`` (a list of ``{"field", "old", "new"}``)."""
        full = self.to_dict()
        return json.dumps({k: full[k] for k in JSON_KEYS}, ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_json(cls, line: str) -> AuditEntry:
        """An entry from a ``to_json`` line (or a JSON ``to_dict``); ``InvalidInput`` if bad."""
        try:
            data = json.loads(line)
        except (TypeError, ValueError):
            raise InvalidInput("an audit line must be one JSON object") from None
        return cls.from_dict(data)


def content_id(data: Mapping[str, Any]) -> str:
    """A stable id for an entry that has none: a hash of its five JSON keys."""
    import hashlib  # here, not at import: OpenSSL's hashlib costs ~4 ms of every CLI start

    body = json.dumps({k: data.get(k) for k in JSON_KEYS}, sort_keys=True, default=str)
    return "sha256:" + hashlib.sha256(body.encode()).hexdigest()[:32]


def format_audit_lines(entries: Iterable[AuditEntry]) -> str:
    """The ``rocket audit`` output: one ``to_json`` line per entry, newline-terminated."""
    return "".join(entry.to_json() + "\n" for entry in entries)


def encode_cursor(cursor: Cursor) -> str:
    """A cursor as one opaque string (``time`` has a fixed width and no spaces)."""
    return f"{cursor[0]} {cursor[1]}"


def decode_cursor(value: str | Cursor) -> Cursor:
    """A ``(time, id)`` cursor from ``encode_cursor``'s string or a pair; ``InvalidInput`` else."""
    if isinstance(value, str):
        time_part, sep, id_part = value.partition(" ")
        if not sep:
            raise InvalidInput("not an audit page cursor")
        pair: Any = (time_part, id_part)
    else:
        pair = value
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        raise InvalidInput("an audit cursor is (time, id)")
    return (audit_time(pair[0]), _text("cursor id", pair[1], MAX_ID))


@record
class AuditQuery:
    """Validated ``AuditLog.query`` arguments (every backend builds one first).

    ``since`` is inclusive, ``until`` exclusive, ``before`` a cursor: only entries strictly
    older than it in ``(time, id)`` order. ``limit`` is 1..``MAX_LIMIT``.
    """

    since: str | None = None
    until: str | None = None
    actor: str | None = None
    user: str | None = None
    team: str | None = None
    limit: int = DEFAULT_LIMIT
    before: Cursor | None = None

    @classmethod
    def build(
        cls,
        *,
        since: str | datetime | None = None,
        until: str | datetime | None = None,
        actor: str | None = None,
        user: str | None = None,
        team: str | None = None,
        limit: int = DEFAULT_LIMIT,
        before: str | Cursor | None = None,
    ) -> AuditQuery:
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}, not {limit!r}")
        return cls(
            since=None if since is None else audit_time(since),
            until=None if until is None else audit_time(until),
            actor=None if actor is None else _text("actor", actor),
            user=None if user is None else _text("user", user),
            team=None if team is None else _text("team", team),
            limit=limit,
            before=None if before is None else decode_cursor(before),
        )

    @property
    def upper(self) -> Cursor | None:
        """The exclusive upper bound in ``(time, id)`` order from ``until`` and ``before``."""
        bounds = []
        if self.until is not None:
            bounds.append((self.until, ""))  # no id sorts below "": every entry at ``until`` is out
        if self.before is not None:
            bounds.append(self.before)
        return min(bounds) if bounds else None

    def matches(self, entry: AuditEntry) -> bool:
        """True when ``entry`` passes every filter (the reference rule for all backends)."""
        upper = self.upper
        return (
            (self.since is None or entry.time >= self.since)
            and (upper is None or entry.cursor < upper)
            and (self.actor is None or entry.actor == self.actor)
            and (self.user is None or self.user in entry.users)
            and (self.team is None or self.team in entry.teams)
        )

    @property
    def empty(self) -> bool:
        """True when no entry can match (``since`` at or after the upper bound)."""
        upper = self.upper
        return self.since is not None and upper is not None and upper <= (self.since, "")


def check_entries(entries: Iterable[AuditEntry]) -> list[AuditEntry]:
    """``entries`` as a list; ``InvalidInput`` unless each is an ``AuditEntry``."""
    if isinstance(entries, AuditEntry):
        entries = [entries]
    out = list(entries)
    for entry in out:
        if not isinstance(entry, AuditEntry):
            raise InvalidInput(f"not an audit entry: {entry!r}")
    return out


def check_purge(older_than: str | datetime, limit: int) -> tuple[str, int]:
    """``purge``'s arguments normalised; ``InvalidInput`` for a bad time or limit."""
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise InvalidInput(f"purge limit must be a positive integer, not {limit!r}")
    return audit_time(older_than), limit


# --- who is acting, and the change's idempotency key (set by the entry points) ----------------


@record(frozen=False)
class AuditScope:
    """Set by an entry point around the commands it runs (``audit_scope``).

    ``actor`` overrides the command's actor in entries (``cli``, ``job:NAME``); "" keeps it.
    ``key`` is the idempotency key of what is being applied (a GitHub delivery id, a job's
    lease name); with it, entry ids are derived from it, so the same delivery or fire time
    applied twice writes each entry once. ``handles`` counts the commands run in the scope.
    """

    actor: str = ""
    key: str = ""
    handles: int = 0


_scope: contextvars.ContextVar[AuditScope | None] = contextvars.ContextVar("rocket_audit_scope",
                                                                          default=None)


@contextmanager
def audit_scope(actor: str = "", key: str = "") -> Iterator[AuditScope]:
    """Within the block, audit entries name ``actor`` and derive their ids from ``key``."""
    scope = AuditScope(actor, key)
    token = _scope.set(scope)
    try:
        yield scope
    finally:
        _scope.reset(token)


def current_scope() -> AuditScope | None:
    """The innermost ``audit_scope`` (None outside every one)."""
    return _scope.get()


def derived_id(key: str, *parts: object) -> str:
    """A deterministic entry id from an idempotency key and positions (same inputs, same id)."""
    body = "|".join([key, *(str(p) for p in parts)])
    digest: str = _sha256()(body.encode()).hexdigest()
    return "k:" + digest[:40]


def random_id() -> str:
    """A fresh entry id of ``derived_id``'s form (``k:`` and 40 hex digits) for a change without
    an idempotency key: 13 hex digits of the current time in microseconds (until 2112), then 27
    of the OS's random source (108 bits). Ids made later sort later, so the unique index on ids
    grows at its end instead of at a random page per entry (appends in batches of nine to a
    file of 20,000 entries: 4.2 WAL pages an entry instead of 5.3)."""
    return f"k:{time.time_ns() // 1000:013x}{os.urandom(14).hex()[:27]}"


@functools.cache
def _sha256() -> Any:
    import hashlib  # on first use, not at import: OpenSSL's hashlib costs ~4 ms of every CLI start

    return hashlib.sha256
