"""``@record``: a lighter ``@dataclass`` for the many small classes of commands, results and
events (start-up cost, issue 17).

``@dataclass`` writes the source of each method and ``exec``-s it, per class: 43 frozen
command classes cost ~31 ms at import, more than the rest of ``rocket exec`` together. Records
share one set of methods, written once here, which read the class's ``__record__`` (its field
names and defaults); a class's own ``__init__`` is compiled when its ``COMPILE_AFTER``-th
instance is made (as ``@dataclass`` writes it, so a class in use builds instances as fast as a
dataclass, and a short process pays for no compiling: the first instances are made by a shared
``__init__``), and its ``dataclasses.Field`` objects when first asked for.
What a class declares is exactly what ``@dataclass`` accepts for the same class.

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
  record has ``__dataclass_fields__`` of real ``dataclasses.Field`` objects (and
  ``__dataclass_params__``), so a dataclass may also derive from a record.

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
_REQUIRED: Any = object()  # markers in _Spec.template: a field without a default, one with a factory
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


# One declared field: (annotation, default, default factory, the ``field(...)`` it was declared
# with or None); ``_MISSING`` where there is none.
_Declared = tuple[Any, Any, Any, "dataclasses.Field[Any] | None"]


class _Spec:
    """A record class's fields and how ``__init__`` fills them: ``cls.__record__``, read by the
    methods every record shares (one set of functions for all) and by ``_compiled_init``.
    ``owner`` is the record class it describes."""

    __slots__ = ("owner", "declared", "names", "known", "template", "factories", "_fields", "uses",
                 "compiled")

    def __init__(self, owner: type[Any], declared: dict[str, _Declared]) -> None:
        self.owner: type[Any] = owner
        self.declared = declared
        self.names = tuple(declared)
        self.known = frozenset(declared)
        # Every field in order, holding its default or a marker (required, or made by a factory).
        self.template: dict[str, Any] = {}
        self.factories: dict[str, Callable[[], Any]] = {}
        for name, (_, default, factory, _given) in declared.items():
            if default is not _MISSING:
                self.template[name] = default
                continue
            if factory is not _MISSING:
                self.factories[name] = factory
            self.template[name] = _REQUIRED if factory is _MISSING else _FACTORY
        self._fields: dict[str, dataclasses.Field[Any]] | None = None
        self.uses = 0  # instances made so far by the shared __init__ (see _lazy_init)
        self.compiled: Callable[..., None] | None = None  # the owner's own __init__, once compiled

    def fields(self) -> dict[str, dataclasses.Field[Any]]:
        """``__dataclass_fields__``: a ``dataclasses.Field`` per field, made on first use."""
        if self._fields is None:
            fields = {}
            for name, (annotation, default, _, declared) in self.declared.items():
                if declared is None:  # a plain default (a declared field(...) is named already)
                    declared = dataclasses.field(default=default)
                    declared.name, declared.type = name, annotation
                    declared._field_type = _FIELD
                fields[name] = declared
            self._fields = fields
        return self._fields


class _LazyFields:
    """A record's ``__dataclass_fields__``, built when first read (``dataclasses.fields``,
    ``replace``, ``is_dataclass``, a dataclass deriving from the record): few records are ever
    asked, and the ``Field`` objects are a third of a record's cost."""

    __slots__ = ("spec",)

    def __init__(self, spec: _Spec) -> None:
        self.spec = spec

    def __get__(self, instance: object, owner: type | None = None) -> dict[str, dataclasses.Field[Any]]:
        return self.spec.fields()


def _declared(cls: type) -> dict[str, _Declared]:
    """The fields of ``cls``: its bases' first (records and dataclasses), then its own
    annotations, as for a dataclass (a field redeclared keeps its place)."""
    declared: dict[str, _Declared] = {}
    for base in cls.__mro__[-1:0:-1]:
        spec = base.__dict__.get("__record__")
        if spec is not None:
            declared.update(spec.declared)
        elif "__dataclass_fields__" in base.__dict__:  # a real dataclass
            for f in base.__dict__["__dataclass_fields__"].values():
                if f._field_type is _FIELD:
                    declared[f.name] = (f.type, f.default, f.default_factory, f)
    own = cls.__dict__
    for name, annotation in own.get("__annotations__", {}).items():
        if "ClassVar" in annotation if type(annotation) is str else _is_classvar(annotation):
            if type(annotation) is not str or _is_classvar(annotation):
                continue
        default = own.get(name, _MISSING)
        factory: Any = _MISSING
        given: dataclasses.Field[Any] | None = None
        if isinstance(default, dataclasses.Field):
            given = default
            unsupported = (not given.init or not given.repr or given.compare is not True
                           or given.hash is not None or given.kw_only not in (_MISSING, False))
            if unsupported:
                raise TypeError(f"{cls.__qualname__}.{name}: @record accepts field(default=…) or "
                                "field(default_factory=…) only")
            default, factory = given.default, given.default_factory
            given.name, given.type = name, annotation
            given._field_type = _FIELD  # type: ignore[attr-defined]
            if default is _MISSING:
                delattr(cls, name)
            else:
                setattr(cls, name, default)
        if default is not _MISSING and type(default).__hash__ is None:
            raise ValueError(f"mutable default {type(default)} for field {name} is not allowed: "
                             "use default_factory")
        declared[name] = (annotation, default, factory, given)
    return declared


def _check_order(declared: dict[str, _Declared]) -> None:
    seen_default = False
    for name, (_, default, factory, _given) in declared.items():
        has_default = default is not _MISSING or factory is not _MISSING
        if seen_default and not has_default:
            raise TypeError(f"non-default argument {name!r} follows default argument")
        seen_default = seen_default or has_default


# --- the methods every record shares (each reads ``type(self).__record__``) -----------------


def _spec(record: Any) -> _Spec:
    spec: _Spec = type(record).__record__
    return spec


COMPILE_AFTER = 16
"""Instances of a record class made by the shared ``__init__`` before the class gets one of its
own: compiling costs ~200 µs, which a short process (``rocket exec``, a few instances of each
class) never repays, and a class in use in a server repays after a few hundred instances."""


def _lazy_init(self: Any, *args: Any, **kwargs: Any) -> None:
    """A record class's ``__init__`` until its ``COMPILE_AFTER``-th instance: the shared one,
    which binds the arguments itself; then the class gets one of its own, compiled once as
    ``@dataclass`` writes it (an instance of a class in use costs what a dataclass's does). An
    irregular call (a missing, unexpected or repeated argument) always goes to the compiled one,
    so its ``TypeError`` is Python's own."""
    spec: _Spec = type(self).__record__
    spec.uses += 1
    if spec.uses < COMPILE_AFTER:
        values = _bound(spec, args, kwargs)
        if values is not None:
            self.__dict__.update(values)
            return
    owner = spec.owner
    if owner.__dict__.get("__init__") is _lazy_init:
        spec.compiled = owner.__init__ = _compiled_init(spec)
    owner.__init__(self, *args, **kwargs)


def _bound(spec: _Spec, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The fields of a regular call, in declaration order (defaults and factories applied, as the
    compiled ``__init__`` does); None for a call the compiled one would refuse."""
    names = spec.names
    if len(args) > len(names):
        return None
    given = dict(zip(names, args, strict=False))  # args may be fewer than the fields
    for name, value in kwargs.items():
        if name not in spec.known or name in given:
            return None
        given[name] = value
    values: dict[str, Any] = {}
    template = spec.template
    for name in names:
        if name in given:
            values[name] = given[name]
            continue
        default = template[name]
        if default is _REQUIRED:
            return None
        values[name] = spec.factories[name]() if default is _FACTORY else default
    return values


def _compiled_init(spec: _Spec) -> Callable[..., None]:
    """``__init__`` for ``spec.owner``: its fields as parameters (defaults as declared, a factory's
    field defaulting to a marker), stored into the instance's ``__dict__`` in declaration order.
    Python's own argument errors name it ``Owner.__init__()``, as for a dataclass."""
    scope: dict[str, Any] = {"_FACTORY": _FACTORY}
    params, lines = ["__record_self__"], ["    __record_dict__ = __record_self__.__dict__"]
    for name in spec.names:
        value = spec.template[name]
        if value is _REQUIRED:
            params.append(name)
            lines.append(f"    __record_dict__[{name!r}] = {name}")
        elif value is _FACTORY:
            scope[f"_factory_{name}"] = spec.factories[name]
            params.append(f"{name}=_FACTORY")
            made = f"_factory_{name}() if {name} is _FACTORY else {name}"
            lines.append(f"    __record_dict__[{name!r}] = {made}")
        else:
            scope[f"_default_{name}"] = value
            params.append(f"{name}=_default_{name}")
            lines.append(f"    __record_dict__[{name!r}] = {name}")
    exec(f"def __init__({', '.join(params)}) -> None:\n" + "\n".join(lines), scope)  # noqa: S102
    init: Callable[..., None] = scope["__init__"]
    init.__qualname__ = f"{spec.owner.__qualname__}.__init__"
    init.__module__ = spec.owner.__module__
    return init


def __repr__(self: Any) -> str:
    values = self.__dict__
    inner = ", ".join(f"{name}={values[name]!r}" for name in type(self).__record__.names)
    return f"{type(self).__qualname__}({inner})"


def __eq__(self: Any, other: object) -> bool:
    if other.__class__ is self.__class__:
        mine, theirs = self.__dict__, other.__dict__
        names = _spec(self).names
        return tuple(mine[n] for n in names) == tuple(theirs[n] for n in names)
    return NotImplemented


def __hash__(self: Any) -> int:
    values = self.__dict__
    return hash(tuple(values[n] for n in type(self).__record__.names))


def __setattr__(self: Any, name: str, value: object) -> None:  # frozen records
    spec: _Spec = type(self).__record__
    if type(self) is spec.owner or name in spec.known:
        raise dataclasses.FrozenInstanceError(f"cannot assign to field {name!r}")
    super(spec.owner, self).__setattr__(name, value)  # a subclass that is no record


def __delattr__(self: Any, name: str) -> None:  # frozen records
    spec: _Spec = type(self).__record__
    if type(self) is spec.owner or name in spec.known:
        raise dataclasses.FrozenInstanceError(f"cannot delete field {name!r}")
    super(spec.owner, self).__delattr__(name)


_METHODS = {"__repr__": __repr__, "__eq__": __eq__}
_FROZEN_METHODS = {"__setattr__": __setattr__, "__delattr__": __delattr__}
_HASH = __hash__
del __repr__, __eq__, __hash__, __setattr__, __delattr__  # not this module's own


def _build(cls: type[_T], frozen: bool) -> type[_T]:
    for base in cls.__mro__[1:]:
        params = base.__dict__.get("__dataclass_params__")  # a record's or a dataclass's
        if params is not None and params.frozen != frozen:
            raise TypeError("cannot inherit frozen dataclass from a non-frozen one" if frozen
                            else "cannot inherit non-frozen dataclass from a frozen one")
    declared = _declared(cls)
    _check_order(declared)
    own = cls.__dict__
    if frozen and ("__setattr__" in own or "__delattr__" in own):
        raise TypeError(f"cannot overwrite __setattr__ or __delattr__ in frozen record {cls.__qualname__}")
    spec = _Spec(cls, declared)
    cls.__record__ = spec  # type: ignore[attr-defined]
    # A method the class defines is kept; one inherited from a record base is already ours.
    for name, method in (_METHODS | _FROZEN_METHODS if frozen else _METHODS).items():
        if name not in own and getattr(cls, name, None) is not method:
            setattr(cls, name, method)
    if "__init__" not in own:  # each record class compiles its own on first use
        cls.__init__ = _lazy_init  # type: ignore[method-assign]
    # dataclasses' rule: a __hash__ the class sets itself is kept (Python's implicit None, set
    # when the class defines __eq__ alone, is not one); else frozen hashes, mutable is unhashable.
    class_hash = own.get("__hash__", _MISSING)
    if class_hash is _MISSING or (class_hash is None and "__eq__" in own):
        wanted = _HASH if frozen else None
        if class_hash is not wanted or getattr(cls, "__hash__", None) is not wanted:
            cls.__hash__ = wanted  # type: ignore[assignment]
    cls.__dataclass_fields__ = _LazyFields(spec)  # type: ignore[attr-defined]
    cls.__dataclass_params__ = _PARAMS[frozen]  # type: ignore[attr-defined]
    setattr(cls, "__match_args__", spec.names)  # noqa: B010 - mypy refuses the plain assignment
    return cls


def replace(obj: _T, /, **changes: Any) -> _T:
    """``dataclasses.replace(obj, **changes)``: a new instance with ``changes`` applied to a copy
    of ``obj``'s fields, and ``obj`` unchanged.

    For an instance of a record class whose ``__init__`` is the record's own, without calling
    that ``__init__`` again: the new instance's ``__dict__`` is what it would store, every field
    in declaration order (``dataclasses.replace`` reads ``fields()`` and binds every field as a
    keyword on each call: ~45k instructions for a ``User``, twice in every profile edit). Any
    other object (a class with an ``__init__`` of its own, a subclass that is no record, a
    dataclass), or a name that is not a field, goes to ``dataclasses.replace`` (its TypeError).
    """
    cls = type(obj)
    spec: _Spec | None = cls.__dict__.get("__record__")
    if spec is None or not changes.keys() <= spec.known:
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    init = cls.__dict__.get("__init__")
    current = obj.__dict__
    if (init is not _lazy_init and init is not spec.compiled) or tuple(current) != spec.names:
        return dataclasses.replace(obj, **changes)  # type: ignore[type-var]
    new = object.__new__(cls)
    fields = new.__dict__
    fields.update(current)  # every field, in declaration order (checked above)
    fields.update(changes)
    return new


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
