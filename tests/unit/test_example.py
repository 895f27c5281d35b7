"""examples/embed_directory.py runs on its own (a subprocess with .venv's python) and prints the
directory it built through the use-cases: teams sorted by slug, members by name, leads marked."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "embed_directory.py"
LINE = re.compile(r"^  - (?P<name>.+) <(?P<slack>U\w+)> github:(?P<login>\S+)(?P<lead> \(lead\))?$")


def run_example(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SLACK_", "GCP_", "AWS_"))}
    env.pop("DATABASE_URL", None)
    return subprocess.run([sys.executable, str(EXAMPLE)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=60, check=False)


def parse(stdout: str) -> dict[str, list[tuple[str, str, str, bool]]]:
    directory: dict[str, list[tuple[str, str, str, bool]]] = {}
    team = None
    for line in stdout.splitlines():
        member = LINE.match(line)
        if member:
            assert team is not None, f"a member before any team: {line!r}"
            directory[team].append((member["name"], member["slack"], member["login"], bool(member["lead"])))
        else:
            assert not line.startswith(" "), f"unexpected line {line!r}"
            team = line
            directory[team] = []
    return directory


def test_example_prints_the_team_directory(tmp_path):
    result = run_example(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert parse(result.stdout) == {
        "Compilers (compilers)": [
            ("Ada Lovelace", "U0ADA", "ada", True),  # the admin who created it leads it
            ("Grace Hopper", "U0GRACE", "grace", False),
        ],
        "Orbital Mechanics (orbits)": [
            ("Alan Turing", "U0ALAN", "alan", False),
            ("Katherine Johnson", "U0KATH", "kath", True),  # created with --lead
        ],
    }
    assert list(tmp_path.iterdir()) == []  # the memory store wrote nothing (no rocket.db)


def test_example_uses_only_library_code_and_in_file_stand_ins():
    source = EXAMPLE.read_text(encoding="utf-8")
    imported = set(re.findall(r"^(?:from|import) (\w+)", source, re.MULTILINE))
    assert imported <= {"__future__", "asyncio", "adapters", "core", "entrypoints", "ports"}, imported
