"""GitHub's REST endpoints, as GitHub's own OpenAPI descriptions list them (vendored data).

``github_rest_paths.json`` beside this module holds, for api.github.com and for one GitHub
Enterprise Server version, every operation as ``"METHOD /path/{template}" -> deprecated``
(True when the description marks the operation ``deprecated``). Nothing else is kept.

How it was made (data only, no code copied)::

    cd "$(mktemp -d)" && npm pack @octokit/openapi && tar xzf octokit-openapi-*.tgz
    python -m tests.support.github_openapi package  # from the repository root; rewrites the JSON

The regeneration reads ``package/package.json`` (version) and
``package/generated/{api.github.com,ghes-3.19}.json`` (their ``paths``).

``match(path)`` finds the description's template for a concrete request path (a ``{name}``
segment matches one non-empty path segment), so a test can check every request a stand-in
recorded: ``check(method, path)`` says "unknown", "deprecated" or "" (fine) per description.
"""

from __future__ import annotations

import json
import re
import sys
from functools import cache
from pathlib import Path

DATA = Path(__file__).with_name("github_rest_paths.json")
DESCRIPTIONS = ("api.github.com", "ghes-3.19")
METHODS = ("get", "put", "post", "patch", "delete", "head", "options")


@cache
def load() -> dict:
    """The vendored file: ``{"source": ..., "descriptions": {name: {"METHOD /tpl": deprecated}}}``."""
    return json.loads(DATA.read_text(encoding="utf-8"))


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts))


@cache
def _index(description: str) -> list[tuple[str, re.Pattern[str], str, bool]]:
    ops = load()["descriptions"][description]
    rows = []
    for key, deprecated in ops.items():
        method, template = key.split(" ", 1)
        rows.append((method, _pattern(template), template, deprecated))
    # Literal segments win over templated ones ("/orgs/{org}/teams" before "/orgs/{org}/{x}").
    rows.sort(key=lambda r: r[2].count("{"))
    return rows


def check(description: str, method: str, path: str) -> str:
    """``""`` when ``method path`` is a documented, non-deprecated operation of ``description``;
    ``"deprecated: TEMPLATE"`` or ``"unknown"`` otherwise."""
    for op_method, pattern, template, deprecated in _index(description):
        if op_method == method.upper() and pattern.fullmatch(path):
            return f"deprecated: {template}" if deprecated else ""
    return "unknown"


def _regenerate(package_dir: Path) -> None:
    version = json.loads((package_dir / "package.json").read_text())["version"]
    out: dict = {"source": f"@octokit/openapi {version} (npm), generated/*.json paths", "descriptions": {}}
    for name in DESCRIPTIONS:
        spec = json.loads((package_dir / "generated" / f"{name}.json").read_text())
        ops = {}
        for template, item in sorted(spec["paths"].items()):
            for method in METHODS:
                if method in item:
                    ops[f"{method.upper()} {template}"] = bool(item[method].get("deprecated", False))
        out["descriptions"][name] = ops
    DATA.write_text(json.dumps(out, indent=0, sort_keys=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    _regenerate(Path(sys.argv[1]))
