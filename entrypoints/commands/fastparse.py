"""A verified fast path past argparse for plain option lines (issue 19: every write parses one).

``parse_options(parser, words)`` returns the ``argparse.Namespace`` that
``argparse.ArgumentParser.parse_known_args(parser, words)`` would return (its extra words then
being ``[]``), or None when the line is not one it is sure about; the caller then runs argparse
as before, so every error and help text stays argparse's own.

It applies only when every word is either an exact option string of a ``store`` action
(``nargs`` None) followed by a value word that does not start with ``-``, or an exact option
string of a ``store_true`` / ``store_false`` action, and the parser has no positional, no
mutually exclusive group, ``-`` as its only prefix character, no ``fromfile_prefix_chars``, and
a class that keeps argparse's own parsing methods. It gives up (None) on anything else: ``--``,
``--opt=value``, abbreviations, ``-h``, a missing value, a value like ``-1`` or ``-x``, a type
function that raises, a value outside ``choices``, a missing required option, other actions.

argparse's semantics, step by step: the namespace starts with each action's default (the first
action's, per ``dest``) and then the parser's ``set_defaults`` values; each value goes through
``type`` and is checked against ``choices``; the last repeat wins; an option not given whose
default is a string gets ``type(default)`` at the end. When it gives up after a type function
ran, argparse runs that function again: the grammar's type functions are pure.

What it derives from a parser (a ``_Plan``) is kept on the parser and derived again when the
parser gains an action or its ``set_defaults`` values change (compared with ``==``); an action
changed in place after the first parse is not seen (the grammar builds each parser once, then
only parses).

tests/unit/commands/test_fast_parse.py checks it against argparse on generated lines.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

ENABLED = True  # tests turn it off to compare with plain argparse

_PLAN = "_rocket_fast_plan"  # the parser attribute that keeps its _Plan
_FLAGS = (argparse._StoreTrueAction, argparse._StoreFalseAction)
_CHOICES = (list, tuple, set, frozenset)  # containers whose `in` is plain membership
# The methods parse_known_args goes through: a subclass that overrides one parses differently.
_PARSING = (
    "_parse_known_args", "_parse_optional", "_get_values", "_get_value", "_check_value",
    "_match_argument", "_match_arguments_partial", "_get_nargs_pattern", "_registry_get",
    "_get_positional_actions", "_read_args_from_files", "_get_option_tuples",
)
_NAMESPACE_NAMES = frozenset(dir(argparse.Namespace))  # what hasattr finds on an empty Namespace
_FAILED = object()  # what _convert returns when the type function raised


class _Option(NamedTuple):
    """What one option string does: a flag sets ``const``, a store converts its value word."""

    action: argparse.Action
    dest: str
    flag: bool
    const: Any
    convert: Callable[[str], Any]


class _Plan(NamedTuple):
    """What ``parse_options`` needs of a parser, derived from its actions once."""

    actions: int  # len(parser._actions) when derived: another action means derive again
    defaults: dict[str, Any]  # parser._defaults when derived: another set_defaults value, too
    usable: bool  # False: the parser has a feature the fast path leaves to argparse
    options: dict[str, _Option]  # option string -> its plain action (store, store_true/false)
    start: dict[str, Any]  # the namespace parse_known_args starts from, as a dict
    required: frozenset[argparse.Action]
    late: tuple[tuple[argparse.Action, str, Any], ...]  # (action, string default, type): see the end


def parse_options(parser: argparse.ArgumentParser, words: Sequence[str]) -> argparse.Namespace | None:
    """What argparse's ``parse_known_args(words)`` returns for ``parser`` (with no extra words),
    or None when the line is not a plain option line (see the module's docstring)."""
    if not ENABLED or not isinstance(words, list | tuple):
        return None
    plan = _plan(parser)
    if not plan.usable:
        return None
    taken = _options(plan, words)
    if taken is None:
        return None
    values = dict(plan.start)
    for option, value in taken:
        if not _take(option, value, values):
            return None
    if plan.late or plan.required:
        given = {option.action for option, _ in taken}
        if not plan.required <= given or not _convert_defaults(plan, given, values):
            return None
    namespace = argparse.Namespace.__new__(argparse.Namespace)  # its __init__ only sets kwargs
    namespace.__dict__ = values  # no dest is a Namespace attribute (_start): as setattr would
    return namespace


def _plan(parser: argparse.ArgumentParser) -> _Plan:
    # getattr, not vars(parser): materializing an instance's __dict__ makes every later attribute
    # lookup on it generic (3.11), argparse's own included (+8k instructions a parse)
    plan: _Plan | None = getattr(parser, _PLAN, None)
    if plan is None or plan.actions != len(parser._actions) or plan.defaults != parser._defaults:
        plan = _derive(parser)
        setattr(parser, _PLAN, plan)
    return plan


def _derive(parser: argparse.ArgumentParser) -> _Plan:
    start = _start(parser)
    usable = start is not None and _plain_parser(parser)
    options = {  # the map argparse itself reads an option word through
        string: option
        for string, action in parser._option_string_actions.items()
        if (option := _option(parser, action)) is not None
    }
    dests = {*(start or {}), *(option.dest for option in options.values())}  # all values can hold
    late = tuple(
        (action, action.default, parser._registry_get("type", action.type, action.type))
        for action in parser._actions
        if not action.required and isinstance(action.default, str) and action.dest in dests
    )
    required = frozenset(action for action in parser._actions if action.required)
    return _Plan(len(parser._actions), dict(parser._defaults), usable, options if usable else {}, start or {},
                 required, late)


def _plain_parser(parser: argparse.ArgumentParser) -> bool:
    """No feature that changes how the words of a plain option line are read."""
    cls = type(parser)
    return (
        all(getattr(cls, name, None) is getattr(argparse.ArgumentParser, name, None) for name in _PARSING)
        and parser.prefix_chars == "-"
        and parser.fromfile_prefix_chars is None
        and not parser._mutually_exclusive_groups
        and all(action.option_strings for action in parser._actions)  # no positional
    )


def _start(parser: argparse.ArgumentParser) -> dict[str, Any] | None:
    """The namespace ``parse_known_args`` starts from, as a dict (action defaults, then
    ``set_defaults``); None if a ``dest`` names an attribute of ``Namespace``: ``hasattr``
    would find it there, so a dict would not mirror the namespace."""
    values: dict[str, Any] = {}
    for action in parser._actions:
        dest = action.dest
        if dest is not argparse.SUPPRESS and dest not in values and action.default is not argparse.SUPPRESS:
            if dest in _NAMESPACE_NAMES:
                return None
            values[dest] = action.default
    for dest, default in parser._defaults.items():
        if dest not in values:
            if dest in _NAMESPACE_NAMES:
                return None
            values[dest] = default
    return values


def _option(parser: argparse.ArgumentParser, action: argparse.Action) -> _Option | None:
    """The action as an ``_Option`` if it is plain: exactly ``store`` with ``nargs`` None and a
    callable type, or exactly ``store_true`` / ``store_false``; not deprecated (3.13 warns)."""
    if action.dest in _NAMESPACE_NAMES or getattr(action, "deprecated", False):
        return None
    if type(action) in _FLAGS:
        return _Option(action, action.dest, True, action.const, _identity)
    convert = parser._registry_get("type", action.type, action.type)
    if type(action) is argparse._StoreAction and action.nargs is None and callable(convert):
        return _Option(action, action.dest, False, None, convert)
    return None


def _identity(value: str) -> str:
    return value


def _options(plan: _Plan, words: Sequence[str]) -> list[tuple[_Option, str]] | None:
    """Each option word's ``_Option`` with its value word (``""`` for a flag), in order; None
    unless every word is an exact option string of a plain action, each store with its value."""
    taken: list[tuple[_Option, str]] = []
    index, end = 0, len(words)
    while index < end:
        word = words[index]
        option = plan.options.get(word) if isinstance(word, str) else None
        if option is None:
            return None
        if option.flag:
            taken.append((option, ""))
            index += 1
            continue
        value = words[index + 1] if index + 1 < end else None
        if not isinstance(value, str) or value.startswith("-"):  # -1, -x, --, - have their own rules
            return None
        taken.append((option, value))
        index += 2
    return taken


def _take(option: _Option, value: str, values: dict[str, Any]) -> bool:
    """Apply one option as argparse's ``take_action`` does; False if argparse would fail."""
    if option.flag:
        values[option.dest] = option.const
        return True
    converted = _convert(option.convert, value)
    if converted is _FAILED or not _in_choices(option.action, converted):
        return False
    if converted is not argparse.SUPPRESS:  # argparse takes no action for a SUPPRESS value
        values[option.dest] = converted
    return True


def _convert(convert: Callable[[str], Any], value: str) -> Any:
    """``convert(value)`` as argparse's ``_get_value`` calls it, or ``_FAILED`` if that raised."""
    try:
        return convert(value)
    except Exception:
        return _FAILED


def _in_choices(action: argparse.Action, value: Any) -> bool:
    choices = action.choices
    if choices is None:
        return True
    if not isinstance(choices, _CHOICES):
        return False  # a string or a custom container: leave the membership test to argparse
    try:
        return value in choices
    except Exception:
        return False


def _convert_defaults(plan: _Plan, given: set[argparse.Action], values: dict[str, Any]) -> bool:
    """argparse's last step: an option not given whose string default is still in the
    namespace (the very object) gets ``type(default)`` instead. False if that raised."""
    for action, default, convert in plan.late:
        dest = action.dest
        if action not in given and dest in values and values[dest] is default:
            converted = _convert(convert, default) if callable(convert) else _FAILED
            if converted is _FAILED:
                return False
            values[dest] = converted
    return True
