"""core/audit.py: entries, times, the JSON-lines format, cursors and query validation."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.audit import (
    JSON_KEYS,
    AuditEntry,
    AuditQuery,
    audit_time,
    decode_cursor,
    encode_cursor,
    format_audit_lines,
    retention_cutoff,
)
from core.errors import InvalidInput


def entry(**over) -> AuditEntry:
    fields = dict(id="k1", time="2026-12-01T10:00:00Z", actor="U1", action="team add",
                  target="team:backend", changes=[("members", [], ["U2"])], users=["U2"],
                  teams=["backend"])
    fields.update(over)
    return AuditEntry(**fields)


@pytest.mark.parametrize("given, want", [
    ("2026-12-01T10:00:00Z", "2026-12-01T10:00:00.000000Z"),
    ("2026-12-01T10:00:00.123456Z", "2026-12-01T10:00:00.123456Z"),
    ("2026-12-01T11:30:00+01:30", "2026-12-01T10:00:00.000000Z"),
    ("2026-12-01", "2026-12-01T00:00:00.000000Z"),
    ("2026-12-01T10:00:00", "2026-12-01T10:00:00.000000Z"),
    (" 2026-12-01T10:00:00.5z ", "2026-12-01T10:00:00.500000Z"),
    (datetime(2026, 12, 1, 5, tzinfo=timezone(timedelta(hours=-5))), "2026-12-01T10:00:00.000000Z"),
])
def test_times_are_normalised_to_one_sortable_utc_form(given, want):
    assert audit_time(given) == want
    assert len(audit_time(given)) == 27


@pytest.mark.parametrize("bad", ["", "yesterday", "2026-13-01", "2026-12-01T25:00Z", None, 5, "9" * 80])
def test_bad_times_are_invalid_input(bad):
    with pytest.raises(InvalidInput):
        audit_time(bad)


def test_string_order_is_time_order():
    times = [datetime(2026, 1, 1, tzinfo=UTC) + timedelta(microseconds=m) for m in (0, 1, 10, 999_999, 10**7)]
    assert sorted(audit_time(t) for t in times) == [audit_time(t) for t in times]


def test_entry_normalises_and_freezes_its_fields():
    e = entry(time="2026-12-01T11:00:00+01:00", users=["U2", "U2", "U3"],
              changes=[{"field": "tags", "old": ["a"], "new": {"k": [1]}}])
    assert e.time == "2026-12-01T10:00:00.000000Z"
    assert e.users == ("U2", "U3")
    assert e.changes == (("tags", ("a",), {"k": (1,)}),)
    assert e.day == "2026-12-01" and e.cursor == (e.time, "k1")
    with pytest.raises(AttributeError):
        e.actor = "U9"  # type: ignore[misc]


@pytest.mark.parametrize("over", [
    {"id": ""}, {"id": "x" * 201}, {"actor": " "}, {"action": None}, {"target": "a\nb"},
    {"time": "later"}, {"changes": "members"}, {"changes": [("a", 1)]}, {"changes": [("a", object(), 1)]},
    {"changes": [("a", float("nan"), 1)]}, {"changes": [("a", {1: 2}, 1)]}, {"users": "U1"},
    {"users": [""]}, {"teams": [5]},
    {"users": [f"U{i}" for i in range(40)], "teams": [f"t{i}" for i in range(30)]},
    {"changes": [("f", 1, 2)] * 101}, {"changes": [("bio", "", "é" * 25_000)]},
])
def test_bad_entries_are_invalid_input(over):
    with pytest.raises(InvalidInput):
        entry(**over)


def test_to_json_has_exactly_the_contract_keys_and_reads_back():
    e = entry(changes=[("name", None, 'Zoë "Q" 🚀'), ("karma", 1, 2)])
    line = e.to_json()
    data = json.loads(line)
    assert list(data) == list(JSON_KEYS)
    assert data["changes"] == [{"field": "name", "old": None, "new": 'Zoë "Q" 🚀'},
                               {"field": "karma", "old": 1, "new": 2}]
    back = AuditEntry.from_json(line)
    assert (back.time, back.actor, back.action, back.target, back.changes) == \
        (e.time, e.actor, e.action, e.target, e.changes)
    assert AuditEntry.from_json(line).id == back.id  # a content id: stable
    assert AuditEntry.from_dict(e.to_dict()) == e


@pytest.mark.parametrize("line", ["", "[]", "{", '{"time": "2026-01-01"}', "null"])
def test_bad_lines_are_invalid_input(line):
    with pytest.raises(InvalidInput):
        AuditEntry.from_json(line)


def test_format_audit_lines_is_one_json_object_per_line():
    entries = [entry(id="a"), entry(id="b", actor="github")]
    out = format_audit_lines(entries)
    assert out.endswith("\n") and out.count("\n") == 2
    assert [json.loads(line)["actor"] for line in out.splitlines()] == ["U1", "github"]
    assert format_audit_lines([]) == ""


def test_cursors_round_trip_as_strings_and_pairs():
    e = entry(id="with space #and hash")
    assert decode_cursor(encode_cursor(e.cursor)) == e.cursor
    assert decode_cursor(("2026-12-01T10:00:00Z", "x")) == ("2026-12-01T10:00:00.000000Z", "x")
    for bad in ("nospace", ("a", "b"), ("2026-12-01", ""), 5, ("2026-12-01",)):
        with pytest.raises(InvalidInput):
            decode_cursor(bad)  # type: ignore[arg-type]


def test_query_bounds_and_matching():
    q = AuditQuery.build(since="2026-12-01", until="2026-12-02", user="U2",
                         before=("2026-12-01T12:00:00Z", "m"))
    assert q.upper == ("2026-12-01T12:00:00.000000Z", "m")
    assert q.matches(entry(time="2026-12-01T12:00:00Z", id="l"))
    assert not q.matches(entry(time="2026-12-01T12:00:00Z", id="m"))
    assert not q.matches(entry(time="2026-12-01T10:00:00Z", users=["U3"]))
    assert AuditQuery.build(since="2026-12-02", until="2026-12-02").empty
    assert not AuditQuery.build(since="2026-12-01", until="2026-12-02").empty
    for bad in ({"limit": 0}, {"limit": 1001}, {"limit": 2.0}, {"limit": False}, {"team": ""}):
        with pytest.raises(InvalidInput):
            AuditQuery.build(**bad)


def test_retention_cutoff_keeps_that_many_days():
    now = datetime(2026, 12, 1, 10, tzinfo=UTC)
    assert retention_cutoff(400, now) == "2025-10-27T10:00:00.000000Z"
    assert retention_cutoff(1, now) == "2026-11-30T10:00:00.000000Z"
    for bad in (0, -1, "400", 1.5, True):
        with pytest.raises(InvalidInput):
            retention_cutoff(bad, now)  # type: ignore[arg-type]


def test_now_time_is_the_canonical_form_of_the_current_utc_time() -> None:
    from datetime import UTC, datetime

    from core.audit import audit_time, now_time

    before = datetime.now(UTC)
    stamp = now_time()
    after = datetime.now(UTC)
    assert audit_time(stamp) == stamp and stamp.endswith("Z") and len(stamp) == 27
    assert before <= datetime.fromisoformat(stamp[:-1] + "+00:00") <= after


class _Str(str):
    """A str subclass: checked on the slow path, same verdict."""


@given(text=st.one_of(st.text(max_size=600), st.text(alphabet=" \t\u00a0\u2003\n\x00\x7fa", max_size=8),
                      st.builds(_Str, st.text(max_size=20)), st.integers(), st.none()),
       value=st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
                       st.text(max_size=30), st.lists(st.integers(), max_size=3),
                       st.tuples(st.text(max_size=3))))
def test_the_fast_checks_give_the_verdict_of_the_full_ones(text: object, value: object) -> None:
    """Texts, tags and change values take a fast path in the common case; every input gets the
    verdict of the plain rules: a non-empty, non-blank str of at most 500 characters without
    control characters; a change value JSON can carry exactly (lists kept as tuples)."""
    def ok_text(t: object) -> bool:
        return isinstance(t, str) and bool(t.strip()) and len(t) <= 500 and not any(
            ord(ch) < 32 or ord(ch) == 127 for ch in t)

    def ok_value(v: object) -> bool:
        if isinstance(v, float):
            return v == v and v not in (float("inf"), float("-inf"))
        return not isinstance(v, list | tuple) or all(ok_value(x) for x in v)

    want = ok_text(text) and ok_value(value)
    try:
        entry = AuditEntry(id="k:1", time="2026-12-01T10:00:00.000000Z", actor=text, action="user edit",
                           target=text, changes=((text, None, value),), users=(text,))
    except InvalidInput:
        assert not want
    else:
        assert want
        assert entry.actor == text and entry.users == (text,)
        assert entry.changes[0][2] == (tuple(value) if isinstance(value, list | tuple) else value)


def _clean(t: str) -> bool:
    return bool(t.strip()) and not any(ord(c) < 32 or ord(c) == 127 for c in t)


@given(text=st.text(max_size=40).filter(_clean),
       value=st.one_of(st.none(), st.booleans(), st.integers(),
                       st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=30),
                       st.lists(st.one_of(st.integers(), st.text(max_size=5)), max_size=3),
                       st.dictionaries(st.text(max_size=5), st.integers(), max_size=2)))
def test_the_stored_json_is_the_encoders_text_of_to_dict(text: str, value: object) -> None:
    """``doc_json`` is written from a template; it is exactly ``json.dumps(to_dict())`` (non-ASCII
    kept), whatever the texts and change values."""
    entry = AuditEntry(id=text, time="2026-12-01T10:00:00Z", actor=text, action=text, target=text,
                       changes=((text, value, None), ("n", 1, True)), users=(text, "U2"), teams=(text,))
    assert entry.doc_json == json.dumps(entry.to_dict(), ensure_ascii=False)
    assert AuditEntry.from_dict(json.loads(entry.doc_json)) == entry


# the last microsecond of year 9999 less 9, so the repeats (+3) stay within datetime's range
@given(st.lists(st.integers(min_value=0, max_value=253_402_300_799_999_990), min_size=1, max_size=6),
       st.integers(min_value=0, max_value=3))
def test_now_time_formats_as_isoformat_for_any_time_in_any_order(micros: list[int], repeat: int) -> None:
    """The once-a-second cache never lends one second's text to another: times far apart,
    in the same second, and the same time again all format as ``isoformat`` does."""
    from datetime import UTC, datetime, timedelta

    from core.audit import _stamp

    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for m in [*micros, *(micros[-1] + d for d in range(repeat)), micros[0]]:
        expected = (epoch + timedelta(microseconds=m)).isoformat(timespec="microseconds")[:26] + "Z"
        assert _stamp(m) == expected


def test_random_ids_are_unique_well_formed_and_sort_in_time_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ids made later sort later (the unique index on ids grows at its end), ids made in the same
    microsecond still differ, and every id has derived_id's form."""
    import re

    import core.audit
    from core.audit import derived_id, random_id

    clock = iter([1_700_000_000_000_000_000 + 1000 * step for step in (0, 0, 0, 1, 2, 2, 10**9)])
    monkeypatch.setattr(core.audit.time, "time_ns", lambda: next(clock))
    ids = [random_id() for _ in range(7)]
    assert all(re.fullmatch(r"k:[0-9a-f]{40}", i) for i in ids)
    assert re.fullmatch(r"k:[0-9a-f]{40}", derived_id("key", 0))
    assert ids[0][:15] == ids[1][:15] == ids[2][:15] == f"k:{1_700_000_000_000_000:013x}"
    assert len(set(ids)) == 7
    assert [i[:15] for i in sorted(ids)] == [i[:15] for i in ids]  # in creation order, by time
    distinct = [ids[3], ids[4], ids[6]]  # one id each at three later microseconds
    assert sorted(distinct) == distinct and ids[2] < ids[3]


def test_random_ids_of_one_process_do_not_repeat() -> None:
    from core.audit import random_id

    ids = [random_id() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
