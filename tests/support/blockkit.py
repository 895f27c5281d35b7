"""One checker of Block Kit's limits, used by every test that looks at a view or message Rocket sends.

``problems(payload)`` lists what breaks a limit ([] when none); ``assert_within_limits(payload)``
fails the test with that list. ``payload`` is a view (``type`` ``home`` or ``modal``) or a
message (``{"text": …, "blocks": […]}``). Limits checked (Slack's reference, "Blocks" and
"Composition objects"):

- blocks: 100 per view, 50 per message; block_id ≤ 255; action_id ≤ 255;
- view: title ≤ 24, submit/close ≤ 24, private_metadata ≤ 3000, callback_id ≤ 255;
- header text ≤ 150; section text ≤ 3000, ≤ 10 fields of ≤ 2000 each; context ≤ 10 elements;
- actions ≤ 25 elements; button text ≤ 75, value ≤ 2000; options ≤ 100 per select and 25 per
  overflow, option text ≤ 75;
- input label ≤ 2000, hint ≤ 2000, plain_text_input max_length ≤ 3000 and initial_value not longer;
- image_url ≤ 3000, alt_text ≤ 2000; a message's ``text`` ≤ 40000.
"""

from __future__ import annotations

from typing import Any


def _text_len(obj: Any) -> int:
    if isinstance(obj, dict):
        return len(str(obj.get("text", "")))
    return len(str(obj or ""))


def _check_text(where: str, obj: Any, limit: int, out: list[str]) -> None:
    if obj is not None and _text_len(obj) > limit:
        out.append(f"{where}: {_text_len(obj)} characters > {limit}")


def _element(where: str, el: dict[str, Any], out: list[str]) -> None:
    kind = el.get("type")
    if len(str(el.get("action_id", ""))) > 255:
        out.append(f"{where}: action_id > 255")
    if kind == "button":
        _check_text(f"{where} button text", el.get("text"), 75, out)
        if len(str(el.get("value", ""))) > 2000:
            out.append(f"{where}: button value > 2000")
    if kind == "overflow" and len(el.get("options") or []) > 25:
        out.append(f"{where}: overflow has {len(el['options'])} options > 25")
    if kind in ("static_select", "multi_static_select", "radio_buttons", "checkboxes"):
        limit = 100 if "select" in str(kind) else 10
        options = el.get("options") or []
        if len(options) > limit:
            out.append(f"{where}: {kind} has {len(options)} options > {limit}")
        for o in options:
            _check_text(f"{where} option", o.get("text"), 75, out)
    if kind == "plain_text_input":
        max_length = el.get("max_length")
        if max_length is not None and max_length > 3000:
            out.append(f"{where}: max_length {max_length} > 3000")
        initial = el.get("initial_value")
        if initial is not None and len(initial) > min(max_length or 3000, 3000):
            out.append(f"{where}: initial_value longer than max_length")
    if kind == "image":
        if len(str(el.get("image_url", ""))) > 3000:
            out.append(f"{where}: image_url > 3000")
        _check_text(f"{where} alt_text", el.get("alt_text"), 2000, out)


def problems(payload: dict[str, Any]) -> list[str]:
    """Every Block Kit limit ``payload`` breaks (see the module docstring)."""
    out: list[str] = []
    blocks = payload.get("blocks") or []
    is_view = payload.get("type") in ("home", "modal")
    limit = 100 if is_view else 50
    if len(blocks) > limit:
        out.append(f"{len(blocks)} blocks > {limit}")
    if is_view:
        for key in ("title", "submit", "close"):
            _check_text(key, payload.get(key), 24, out)
        if len(str(payload.get("private_metadata", ""))) > 3000:
            out.append("private_metadata > 3000")
        if len(str(payload.get("callback_id", ""))) > 255:
            out.append("callback_id > 255")
    else:
        _check_text("message text", payload.get("text"), 40000, out)
    for i, block in enumerate(blocks):
        where = f"block {i} ({block.get('type')})"
        if len(str(block.get("block_id", ""))) > 255:
            out.append(f"{where}: block_id > 255")
        kind = block.get("type")
        if kind == "header":
            _check_text(where, block.get("text"), 150, out)
        elif kind == "section":
            _check_text(where, block.get("text"), 3000, out)
            fields = block.get("fields") or []
            if len(fields) > 10:
                out.append(f"{where}: {len(fields)} fields > 10")
            for f in fields:
                _check_text(f"{where} field", f, 2000, out)
            if isinstance(block.get("accessory"), dict):
                _element(where, block["accessory"], out)
            if block.get("text") is None and not fields:
                out.append(f"{where}: neither text nor fields")
        elif kind == "context":
            elements = block.get("elements") or []
            if len(elements) > 10:
                out.append(f"{where}: {len(elements)} elements > 10")
        elif kind == "actions":
            elements = block.get("elements") or []
            if len(elements) > 25:
                out.append(f"{where}: {len(elements)} elements > 25")
            for el in elements:
                _element(where, el, out)
        elif kind == "input":
            _check_text(f"{where} label", block.get("label"), 2000, out)
            _check_text(f"{where} hint", block.get("hint"), 2000, out)
            if not is_view:
                out.append(f"{where}: input blocks belong in views")
            if isinstance(block.get("element"), dict):
                _element(where, block["element"], out)
    return out


def assert_within_limits(payload: dict[str, Any]) -> dict[str, Any]:
    """Fail with every broken limit; ``payload`` otherwise (so it can be chained)."""
    found = problems(payload)
    assert not found, "Block Kit limits broken:\n" + "\n".join(found)
    return payload
