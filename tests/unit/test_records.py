"""``core.records.record`` behaves as ``@dataclass`` / ``@dataclass(frozen=True)`` for the classes
Rocket declares with it (commands, results, events): each check builds the same class both ways
and compares what the two do."""

from __future__ import annotations

import copy
import dataclasses
import pickle
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pytest

from core import commands as c
from core import events as ev
from core import results as r
from core.records import record


def twins(frozen: bool = True) -> tuple[type, type]:
    """The same class declared as a dataclass and as a record."""

    def declare(decorate: Any) -> type:
        class Sample:
            """A sample."""

            kind: ClassVar[str] = "sample"  # not a field
            actor: str
            count: int = 0
            tags: list[str] = field(default_factory=list)
            note: str | None = None

            def describe(self) -> str:
                return f"{self.actor}:{self.count}"

        return decorate(Sample)  # type: ignore[no-any-return]

    return (declare(dataclass(frozen=frozen)), declare(record(frozen=frozen)))


@pytest.mark.parametrize("frozen", [True, False])
def test_construction_defaults_repr_and_fields_match_dataclass(frozen: bool) -> None:
    for args, kwargs in [(("U1",), {}), (("U1", 3), {"note": "n"}), ((), {"actor": "U2", "tags": ["a"]}),
                         (("U1", 2, ["x"], "y"), {})]:
        made = [cls(*args, **kwargs) for cls in twins(frozen)]
        dc, rec = made
        assert vars(dc) == vars(rec) and list(vars(dc)) == list(vars(rec))  # same fields, same order
        assert repr(dc) == repr(rec)
        assert rec.describe() == dc.describe()
    dc_cls, rec_cls = twins(frozen)
    assert [f.name for f in dataclasses.fields(rec_cls)] == [f.name for f in dataclasses.fields(dc_cls)] \
        == ["actor", "count", "tags", "note"]
    assert rec_cls.__match_args__ == dc_cls.__match_args__
    assert rec_cls.kind == "sample" and "kind" not in vars(rec_cls("U1"))
    assert rec_cls("U1").tags is not rec_cls("U1").tags  # a fresh list each time


def assert_bad_calls_fail_alike(dc_cls: type, rec_cls: type) -> None:
    """Missing, extra, repeated and unknown arguments: the record's TypeError is the dataclass's."""
    for args, kwargs in [((), {}), (("U1", 1, [], None, "extra"), {}), (("U1",), {"actor": "U2"}),
                         (("U1",), {"colour": "red"})]:
        with pytest.raises(TypeError) as expected:
            dc_cls(*args, **kwargs)
        with pytest.raises(TypeError) as got:
            rec_cls(*args, **kwargs)
        # the same sentence, the class name aside (a dataclass's __init__ is named __create_fn__…)
        assert str(got.value).split("() ", 1)[1] == str(expected.value).split("() ", 1)[1]


@pytest.mark.parametrize("frozen", [True, False])
def test_bad_arguments_fail_as_for_a_dataclass(frozen: bool) -> None:
    assert_bad_calls_fail_alike(*twins(frozen))


def test_missing_arguments_are_listed_as_python_lists_them() -> None:
    @record
    class Three:
        a: str
        b: str
        c: str

    with pytest.raises(TypeError, match=r"missing 3 required positional arguments: 'a', 'b', and 'c'"):
        Three()  # type: ignore[call-arg]
    with pytest.raises(TypeError, match=r"missing 2 required positional arguments: 'b' and 'c'"):
        Three("x")  # type: ignore[call-arg]


def test_equality_and_hashing_follow_the_fields() -> None:
    dc_cls, rec_cls = twins(frozen=True)
    a, b, other = rec_cls("U1", 1, ("t",)), rec_cls("U1", 1, ("t",)), rec_cls("U1", 2, ())
    assert a == b and hash(a) == hash(b) and a != other
    assert {a, b, other} == {a, other}
    assert hash(a) == hash(dc_cls("U1", 1, ("t",)))  # the hash of the fields' tuple, as a dataclass's
    assert a != dc_cls("U1", 1, ("t",))  # another class is never equal (NotImplemented both ways)
    assert a.__eq__(object()) is NotImplemented
    mutable = twins(frozen=False)[1]
    assert mutable("U1") == mutable("U1") and mutable.__hash__ is None
    with pytest.raises(TypeError, match="unhashable"):
        hash(mutable("U1"))


def test_a_frozen_record_refuses_assignment_and_deletion() -> None:
    rec = twins(frozen=True)[1]("U1")
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'actor'"):
        rec.actor = "U2"
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'other'"):
        rec.other = 1
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot delete field 'actor'"):
        del rec.actor
    with pytest.raises(AttributeError):  # FrozenInstanceError is an AttributeError, as before
        rec.count = 3
    assert rec.actor == "U1" and rec.count == 0
    mutable = twins(frozen=False)[1]("U1")
    mutable.count = 5
    mutable.tags.append("x")
    assert (mutable.count, mutable.tags) == (5, ["x"])


def test_dataclass_functions_work_on_records() -> None:
    _, rec_cls = twins(frozen=True)
    rec = rec_cls("U1", 2, ("t",), "n")
    assert dataclasses.is_dataclass(rec) and dataclasses.is_dataclass(rec_cls)
    assert dataclasses.replace(rec, count=3) == rec_cls("U1", 3, ("t",), "n")
    assert dataclasses.asdict(rec) == {"actor": "U1", "count": 2, "tags": ("t",), "note": "n"}
    assert dataclasses.astuple(rec) == ("U1", 2, ("t",), "n")
    assert copy.deepcopy(rec) == rec
    assert pickle.loads(pickle.dumps(c.AddUser("U1", True))) == c.AddUser("U1", True)


def test_inheritance_puts_the_base_fields_first_and_keeps_methods_of_the_class() -> None:
    @record
    class Base:
        actor: str

    @record
    class Child(Base):
        team: str
        page: int = 1

        def __repr__(self) -> str:
            return "custom"

    assert [f.name for f in dataclasses.fields(Child)] == ["actor", "team", "page"]
    child = Child("U1", "t")
    assert (child.actor, child.team, child.page) == ("U1", "t", 1) and repr(child) == "custom"
    assert Child("U1", "t") == Child(actor="U1", team="t") != Base("U1")
    with pytest.raises(TypeError, match="non-frozen"):
        @record(frozen=False)
        class Thawed(Base):
            more: str = ""


def test_a_declaration_a_dataclass_refuses_is_refused() -> None:
    with pytest.raises(ValueError, match="mutable default"):
        @record
        class Listy:
            items: list[str] = []  # noqa: RUF012

    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):
        @record
        class Order:
            a: str = ""
            b: str  # type: ignore[misc]

    with pytest.raises(TypeError, match="default_factory"):
        @record
        class Hidden:
            a: str = field(default="", repr=False)

    with pytest.raises(TypeError, match="__setattr__"):
        @record
        class Settable:
            a: str

            def __setattr__(self, name: str, value: object) -> None: ...


def test_an_explicit_hash_is_kept() -> None:
    @record
    class Hashed:
        a: str

        def __hash__(self) -> int:
            return 7

    assert hash(Hashed("x")) == 7


def test_rockets_commands_results_and_events_are_records() -> None:
    command = c.ListTeams("U1")
    assert (command.actor, command.page) == ("U1", 1) and command == c.ListTeams(actor="U1", page=1)
    assert repr(command) == "ListTeams(actor='U1', page=1)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        command.page = 2  # type: ignore[misc]
    event = ev.TeamCreated("1", "robots", actor="U1")
    assert vars(event) == {"team_id": "1", "slug": "robots", "actor": "U1", "via": "rocket"}
    assert hash(event) == hash(ev.TeamCreated("1", "robots", "U1"))
    listing = r.TeamList([])
    listing.warnings.append("late")
    assert listing == r.TeamList([], 1, ["late"]) and r.TeamList([]).warnings == []
    assert str(r.ImportResult(1, 2, 3)) == "1 created, 2 updated, 3 unchanged"  # its own __str__ kept
    assert r.RefreshPlan().empty and r.RefreshPlan(removed=[("t", "m")]).removals == 1  # properties kept


def test_a_dataclass_may_derive_from_a_record_as_from_a_dataclass() -> None:
    @dataclass(frozen=True)
    class Said(ev.Event):
        text: str
        actor: str = ""

    said = Said("hi")
    assert isinstance(said, ev.Event) and said == Said("hi") and hash(said) == hash(Said("hi"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        said.text = "bye"  # type: ignore[misc]
    with pytest.raises(TypeError, match="cannot inherit non-frozen dataclass from a frozen one"):
        @dataclass
        class Loud(ev.Event):
            text: str


def test_a_plain_subclass_of_a_record_behaves_as_a_plain_subclass_of_a_dataclass() -> None:
    dc_base, rec_base = twins(frozen=True)

    made = []
    for base in (dc_base, rec_base):
        class Plain(base):  # type: ignore[valid-type,misc]
            pass

        plain = Plain("U1", 2)
        plain.extra = "allowed"  # not a field, not the dataclass itself: set as usual
        with pytest.raises(dataclasses.FrozenInstanceError):
            plain.count = 3
        made.append((repr(plain), vars(plain), plain == Plain("U1", 2), hash(Plain("U1", 2, ()))))
    assert made[0][1:] == made[1][1:] and made[0][0].endswith(made[1][0].split("Plain", 1)[1])


def test_records_share_their_methods_and_make_their_fields_on_first_use() -> None:
    assert ev.TeamCreated.__eq__ is ev.Event.__eq__ and c.ListTeams.__repr__ is c.AddUser.__repr__

    @record
    class Base:
        a: str

    @record
    class Child(Base):
        b: int = 2

    # no __init__ is compiled at import: each class compiles its own at its COMPILE_AFTER-th instance
    from core.records import COMPILE_AFTER

    assert vars(Base)["__init__"] is vars(Child)["__init__"]
    assert Child("x") == Child("x", 2) and vars(Child("x", 3)) == {"a": "x", "b": 3}
    assert vars(Base)["__init__"] is vars(Child)["__init__"]  # the shared one still
    for n in range(COMPILE_AFTER):
        assert vars(Child("x", n)) == {"a": "x", "b": n}
    assert vars(Base)["__init__"] is not vars(Child)["__init__"]  # Child's own, Base's still lazy
    assert all(Base(f"y{n}").a == f"y{n}" for n in range(COMPILE_AFTER))
    assert Base.__init__.__qualname__.endswith("Base.__init__")
    with pytest.raises(TypeError, match=r"Child.__init__\(\) missing 1 required positional argument: 'a'"):
        Child()  # type: ignore[call-arg]
    fields = dataclasses.fields(c.ListTeams)
    assert [(f.name, f.default) for f in fields] == [("actor", dataclasses.MISSING), ("page", 1)]
    assert dataclasses.fields(c.ListTeams) == fields  # made once
    with pytest.raises(TypeError, match=r"ListTeams.__init__\(\) takes from 2 to 3 positional"):
        c.ListTeams("U1", 2, 3)  # type: ignore[call-arg]


@pytest.mark.parametrize("frozen", [True, False])
def test_instances_before_and_after_the_compiled_init_are_the_same_as_a_dataclasss(frozen: bool) -> None:
    """The shared ``__init__`` (the first ``COMPILE_AFTER`` instances) and the compiled one give
    what the dataclass gives, for every way of calling; bad calls fail as Python's own."""
    from core.records import COMPILE_AFTER

    dc, rec = twins(frozen)
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        (("a",), {}), (("a", 2), {}), (("a", 2, ["t"], "n"), {}), ((), {"actor": "b", "note": "x"}),
        (("a",), {"tags": ["u"], "count": 3}),
    ]
    for round_ in range(COMPILE_AFTER // len(calls) + 2):  # across the switch to the compiled one
        for args, kwargs in calls:
            made, want = rec(*args, **kwargs), dc(*args, **kwargs)
            assert vars(made) == vars(want) and list(vars(made)) == list(vars(want)), round_
            assert repr(made).replace("Sample", "") == repr(want).replace("Sample", "")
        assert rec("a").tags is not rec("a").tags  # a factory per instance, on both paths
        assert_bad_calls_fail_alike(dc, rec)
    assert "__init__" in rec.__dict__ and rec.__init__.__qualname__.endswith("Sample.__init__")


@pytest.mark.parametrize("frozen", [True, False])
def test_replace_gives_what_dataclasses_replace_gives(frozen: bool) -> None:
    """``core.records.replace`` makes the instance ``dataclasses.replace`` makes (fields, their
    order, the class), before and after the compiled ``__init__``, and leaves the original as
    it was; a name that is not a field is dataclasses' own TypeError."""
    from core.records import COMPILE_AFTER, replace

    dc, rec = twins(frozen)
    for round_ in range(COMPILE_AFTER + 2):
        original, twin = rec("a", 2, ["t"]), dc("a", 2, ["t"])
        for changes in ({}, {"count": 5}, {"note": "n", "actor": "b"}, {"tags": []}):
            made, want = replace(original, **changes), dataclasses.replace(twin, **changes)
            assert type(made) is rec and made is not original, round_
            assert list(vars(made).items()) == list(vars(want).items())
        assert vars(original) == {"actor": "a", "count": 2, "tags": ["t"], "note": None}
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'"):
        replace(rec("a"), colour="red")
    if not frozen:  # a field deleted and set again: dataclasses.replace's order all the same
        moved, twin = rec("a", 1), dc("a", 1)
        del moved.count, twin.count
        moved.count = twin.count = 7
        assert list(vars(replace(moved, note="x")).items()) == \
            list(vars(dataclasses.replace(twin, note="x")).items())


def test_replace_leaves_a_class_with_its_own_init_to_dataclasses_replace() -> None:
    """A record whose ``__init__`` computes something (as ``AuditEntry`` does) is built again,
    and so is an instance of a plain subclass or of a dataclass."""
    from core.records import replace

    @record
    class Doubled:
        n: int
        twice: int = 0

        def __init__(self, n: int, twice: int = 0) -> None:
            self.__dict__.update(n=n, twice=2 * n)

    assert replace(Doubled(1), n=4).twice == 8

    _, rec = twins(False)

    class Plain(rec):  # type: ignore[misc, valid-type]
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.count += 100

    assert replace(Plain("a"), actor="b").count == 200
    dc, _ = twins(True)
    assert replace(dc("a"), count=3) == dc("a", 3)


def test_replace_of_a_user_is_a_user_equal_to_dataclasses_replace() -> None:
    from core.models import Permissions, User
    from core.records import replace

    user = User(slack_id="U1", name="Ann", permission_level=Permissions.team_lead)
    made = replace(user, name="Bea", version=3)
    assert made == dataclasses.replace(user, name="Bea", version=3)
    assert list(vars(made)) == list(vars(user)) and user.name == "Ann"
