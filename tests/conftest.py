"""Session-wide checks: the tests use the team's shared folder (contract and fixtures)."""

from __future__ import annotations

import pytest

from tests.support.fixtures import SHARED, SHARED_DIR


def pytest_sessionstart(session: pytest.Session) -> None:
    if not SHARED.is_dir():
        pytest.exit(
            f"the tests need the shared folder with CONTRACT.md and fixtures/ at {SHARED_DIR} "
            "(../shared beside the repository); set ROCKET_SHARED_DIR to its path",
            returncode=4,
        )
