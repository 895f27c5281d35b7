"""``@record``: a lighter ``@dataclass`` for the many small classes of commands, results and
events (start-up cost, issue 17).

``@dataclass`` writes the source of each method and ``exec``-s it, per class: 43 frozen
command classes cost ~31 ms at import, more than the rest of ``rocket exec`` together. A
record's methods are built once here, as closures over the class's field names, with no
``exec``; what a class declares is exactly what ``@dataclass`` accepts for the same class.

Contract (each point is what ``@dataclass`` / ``@dataclass(frozen=True)`` does, and
tests/unit/test_records.py compares the two side by side):

- Fields are the class's annotated attributes (a ``ClassVar`` is not one), after those of its
  record bases, in declaration order; a default is a plain value or ``dataclasses.field(...)``
  with ``default`` or ``default_factory`` (no other option of ``field`` is accepted). A mutable
  default (list, dict, set) and a field without a default after one with are ``TypeError`` /
  ``ValueError`` at class creation, as for a dataclass.
- ``__init__`` takes the fields positionally or by keyword, with the same ``TypeError`` for a
  missing, unexpected or repeated argument; the instance's ``__dict__`` holds the fields in
  declaration order (``vars(record)`` reads as a dataclass's).
- ``__repr__`` is ``Name(field=value!r, …)``; ``__eq__`` compares the fields of two instances
  of exactly the same class (else ``NotImplemented``); ``__match_args__`` names the fields.
- ``frozen`` (the default): assigning or deleting any attribute raises
  ``dataclasses.FrozenInstanceError``, and instances hash by their fields. ``frozen=False``:
  attributes can be assigned, and instances are unhashable (``__hash__`` is None), as for a
  dataclass with ``eq=True``. Frozen and non-frozen records do not inherit from each other.
- A method the class defines itself (``__repr__``, ``__eq__``, ``__str__``, properties, …) is
  kept, as ``@dataclass`` keeps it.
- ``dataclasses.is_dataclass``, ``fields``, ``replace`` and ``asdict`` work on records: each
  record has ``__dataclass_fields__`` of real ``dataclasses.Field`` objects.

``typing.dataclass_transform`` tells type checkers that ``@record`` makes a dataclass-like
class, frozen unless ``frozen=False`` is given, with ``dataclasses.field`` as field specifier.
"""

from __future__ import annotations

import dataclasses
import typing
from collections.abc import Callable
from typing import Any, TypeVar, dataclass_transform, overload

_T = TypeVar("_T")
_MISSING: Any = dataclasses.MISSING
_REQUIRED: Any = object()  # markers of a field's value before __init__ fills it
_FACTORY: Any = object()
# How a field of a dataclass is marked in ``Field._field_type`` (dataclasses' own sentinel; the
# only private name used, so ``dataclasses.fields`` and ``replace`` see a record's fields).
_FIELD = dataclasses._FIELD  # type: ignore[attr-defined]


class _Params:
    """A record's ``__dataclass_params__``: the options ``@dataclass`` would have been given
    (``@dataclass`` reads ``frozen`` on a base, to check that a dataclass deriving from a
    record is frozen alike)."""

    __slots__ = ("frozen",)
    init = repr = eq = match_args = True
    order = unsafe_hash = kw_only = slots = weakref_slot = False

    def __init__(self, frozen: bool) -> None:
        self.frozen = frozen

    def __repr__(self) -> str:
        return f"_Params(init=True, repr=True, eq=True, order=False, unsafe_hash=False, frozen={self.frozen})"


_PARAMS = {True: _Params(True), False: _Params(False)}


def _is_classvar(annotation: object) -> bool:
    if isinstance(annotation, str):
        return annotation.startswith(("ClassVar", "typing.ClassVar"))
    return getattr(annotation, "__origin__", annotation) is typing.ClassVar


def _fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    """The fields of ``cls``: its record bases' first, then its own annotations, as for a
    dataclass (a field redeclared keeps its place)."""
    fields: dict[str, dataclasses.Field[Any]] = {}
    for base in cls.__mro__[-1:0:-1]:
        fields.update(getattr(base, "__dataclass_fields__", {}))
    for name, annotation in cls.__dict__.get("__annotations__", {}).items():
        if _is_classvar(annotation):
            continue
        default = cls.__dict__.get(name, _MISSING)
        if isinstance(default, dataclasses.Field):
            spec = default
            unsupported = (not spec.init or not spec.repr or spec.compare is not True or spec.hash is not None
                           or spec.kw_only not in (_MISSING, False))
            if unsupported:
                raise TypeError(f"{cls.__qualname__}.{name}: @record accepts field(default=…) or "
                                "field(default_factory=…) only")
            if spec.default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, spec.default)
        else:
            spec = dataclasses.field(default=default)
        if spec.default is not _MISSING and type(spec.default).__hash__ is None:
            raise ValueError(f"mutable default {type(spec.default)} for field {name} is not allowed: "
                             "use default_factory")
        spec.name, spec.type = name, annotation
        spec._field_type = _FIELD  # type: ignore[attr-defined]
        fields[name] = spec
    return fields


def _check_order(cls: type, fields: dict[str, dataclasses.Field[Any]]) -> None:
    seen_default = False
    for spec in fields.values():
        has_default = spec.default is not _MISSING or spec.default_factory is not _MISSING
        if seen_default and not has_default:
            raise TypeError(f"non-default argument {spec.name!r} follows default argument")
        seen_default = seen_default or has_default


def _listed(names: list[str]) -> str:
    """``'a'``, ``'a' and 'b'``, ``'a', 'b', and 'c'``: as Python's own missing-argument error."""
    quoted = [repr(n) for n in names]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]


def _make_init(cls: type, fields: dict[str, dataclasses.Field[Any]]) -> Callable[..., None]:
    names = tuple(fields)
    known = frozenset(names)
    count = len(names)
    defaults = {n: f.default for n, f in fields.items() if f.default is not _MISSING}
    factories: dict[str, Callable[[], Any]] = {
        n: f.default_factory for n, f in fields.items()  # type: ignore[misc]  # not MISSING here
        if f.default_factory is not _MISSING}
    qualname = f"{cls.__qualname__}.__init__()"
    least = 1 + sum(1 for n in names if n not in defaults and n not in factories)  # self too
    takes = (f"{count + 1} positional argument{'s' if count else ''}" if least == count + 1
             else f"from {least} to {count + 1} positional arguments")

    # Every field in order, holding its default or a marker: an instance's values start as a
    # copy of this, then the arguments replace entries (a dict keeps each key's position).
    template = {n: defaults.get(n, _FACTORY if n in factories else _REQUIRED) for n in names}
    unset = tuple(n for n, v in template.items() if v is _FACTORY or v is _REQUIRED)

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        values = template.copy()
        if args:
            if len(args) > count:
                raise TypeError(f"{qualname} takes {takes} but {len(args) + 1} were given")
            values.update(zip(names, args, strict=False))  # fewer args than fields: the rest stay
        if kwargs:
            if not known.issuperset(kwargs):
                unexpected = next(k for k in kwargs if k not in known)
                raise TypeError(f"{qualname} got an unexpected keyword argument {unexpected!r}")
            if args:
                repeated = next((k for k in names[:len(args)] if k in kwargs), None)
                if repeated is not None:
                    raise TypeError(f"{qualname} got multiple values for argument {repeated!r}")
            values.update(kwargs)
        if unset:
            missing = []
            for name in unset:
                value = values[name]
                if value is _FACTORY:
                    values[name] = factories[name]()
                elif value is _REQUIRED:
                    missing.append(name)
            if missing:
                raise TypeError(f"{qualname} missing {len(missing)} required positional "
                                f"argument{'s' if len(missing) > 1 else ''}: {_listed(missing)}")
        self.__dict__.update(values)

    __init__.__qualname__ = f"{cls.__qualname__}.__init__"
    return __init__


def _make_methods(cls: type, fields: dict[str, dataclasses.Field[Any]], frozen: bool) -> dict[str, Any]:
    names = tuple(fields)
    known = frozenset(names)

    def __repr__(self: Any) -> str:
        inner = ", ".join(f"{name}={self.__dict__[name]!r}" for name in names)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self: Any, other: object) -> bool:
        if other.__class__ is self.__class__:
            mine, theirs = self.__dict__, other.__dict__
            return tuple(mine[n] for n in names) == tuple(theirs[n] for n in names)
        return NotImplemented

    methods: dict[str, Any] = {"__init__": _make_init(cls, fields), "__repr__": __repr__, "__eq__": __eq__}
    owner: type[Any] = cls  # for super(): a subclass that is no record may set its own attributes
    if frozen:
        def __setattr__(self: Any, name: str, value: object) -> None:
            if type(self) is cls or name in known:
                raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
            super(owner, self).__setattr__(name, value)

        def __delattr__(self: Any, name: str) -> None:
            if type(self) is cls or name in known:
                raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
            super(owner, self).__delattr__(name)

        def __hash__(self: Any) -> int:
            values = self.__dict__
            return hash(tuple(values[n] for n in names))

        methods.update(__setattr__=__setattr__, __delattr__=__delattr__, __hash__=__hash__)
    for method in methods.values():
        method.__qualname__ = f"{cls.__qualname__}.{method.__name__}"
    return methods


def _build(cls: type[_T], frozen: bool) -> type[_T]:
    for base in cls.__mro__[1:]:
        params = base.__dict__.get("__dataclass_params__")  # a record's or a dataclass's
        if params is not None and params.frozen != frozen:
            raise TypeError("cannot inherit frozen dataclass from a non-frozen one" if frozen
                            else "cannot inherit non-frozen dataclass from a frozen one")
    fields = _fields(cls)
    _check_order(cls, fields)
    own = cls.__dict__
    if frozen and ("__setattr__" in own or "__delattr__" in own):
        raise TypeError(f"cannot overwrite __setattr__ or __delattr__ in frozen record {cls.__qualname__}")
    # dataclasses' rule: a __hash__ the class sets itself is kept (Python's implicit None, set
    # when the class defines __eq__ alone, is not one).
    class_hash = own.get("__hash__", _MISSING)
    explicit_hash = not (class_hash is _MISSING or (class_hash is None and "__eq__" in own))
    for name, method in _make_methods(cls, fields, frozen).items():
        if (not explicit_hash) if name == "__hash__" else name not in own:
            setattr(cls, name, method)
    if not frozen and not explicit_hash:
        cls.__hash__ = None  # type: ignore[assignment]  # eq without frozen: unhashable, as a dataclass
    cls.__dataclass_fields__ = fields  # type: ignore[attr-defined]
    cls.__dataclass_params__ = _PARAMS[frozen]  # type: ignore[attr-defined]
    setattr(cls, "__match_args__", tuple(fields))  # noqa: B010 - mypy refuses the plain assignment
    return cls


@overload
def record(cls: type[_T], /) -> type[_T]: ...


@overload
def record(*, frozen: bool = True) -> Callable[[type[_T]], type[_T]]: ...


@dataclass_transform(frozen_default=True, field_specifiers=(dataclasses.field, dataclasses.Field))
def record(cls: type[_T] | None = None, /, *, frozen: bool = True) -> Any:
    """Make ``cls`` a record (see the module's contract): ``@record`` (frozen) or
    ``@record(frozen=False)``."""
    if cls is None:
        return lambda c: _build(c, frozen)
    return _build(cls, frozen)
