"""core/ imports only core, ports and the standard library; ports/ only core and ports."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ALLOWED = {"core": {"core", "ports"}, "ports": {"core", "ports"}}


def imported_roots(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def violations(layer: str) -> list[str]:
    allowed = ALLOWED[layer] | set(sys.stdlib_module_names) | {"__future__"}
    bad = []
    for path in sorted((ROOT / layer).rglob("*.py")):
        for lineno, name in imported_roots(path):
            if name.split(".")[0] not in allowed:
                bad.append(f"{path.relative_to(ROOT)}:{lineno} imports {name}")
    return bad


def test_core_imports_only_core_ports_and_stdlib():
    assert violations("core") == []


def test_ports_import_only_core_and_ports():
    assert violations("ports") == []


def test_the_check_catches_a_forbidden_import(tmp_path, monkeypatch):
    layer = tmp_path / "core"
    layer.mkdir()
    (layer / "bad.py").write_text("import quart\nfrom adapters.memory import MemoryStore\nimport json\n")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert violations("core") == ["core/bad.py:1 imports quart", "core/bad.py:2 imports adapters.memory"]
