"""``rocket db import`` of a record over a field bound (a 500 KB bio, core/limits.py): the same
one line and nothing imported, on SQLite and on DynamoDB (moto's server over HTTP), where
before the bounds SQLite took it and DynamoDB failed with "outcome unknown"."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.e2e.test_cli_db import export
from tests.support.cli import rocket
from tests.support.moto_server import moto_endpoint  # noqa: F401  (session fixture)

OVERLONG = {
    "users": [{"slack_id": "U1", "name": "Fine"}, {"slack_id": "UBIG", "name": "Big", "bio": "x" * 500_000}],
    "teams": [{"github_team_id": "1", "github_team_name": "ok"}],
    "projects": [],
}


def backend_env(backend: str, tmp_path, request) -> dict[str, str]:
    if backend == "sqlite":
        return {"DATABASE_URL": f"sqlite:///{tmp_path / 'r.db'}"}
    host = request.getfixturevalue("moto_endpoint").removeprefix("http://")
    prefix = uuid.uuid4().hex[:8]
    return {
        "DATABASE_URL": f"dynamodb://{host}",
        "AWS_ACCESS_KEYID": "testing",
        "AWS_SECRET_KEY": "testing",
        "AWS_REGION": "us-east-1",
        **{f"AWS_{t.upper()}_TABLE": f"{prefix}_{t}" for t in ("users", "teams", "projects", "leases")},
    }


@pytest.mark.parametrize("backend", ["sqlite", "dynamodb"])
def test_overlong_record_is_one_line_and_nothing_imported(tmp_path, request, backend: str) -> None:
    env = backend_env(backend, tmp_path, request)
    src = tmp_path / "big.json"
    src.write_text(json.dumps(OVERLONG), encoding="utf-8")
    result = rocket("db", "import", str(src), env=env, cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert line.endswith(
        "users[1] ('UBIG'): Bio is too long (500,000 characters; at most 500); nothing was imported"
    ), line
    assert export(env, tmp_path) == {"users": [], "teams": [], "projects": []}
