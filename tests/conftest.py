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


NO_MONGODB = "MONGODB_TEST_URI"
NO_MONGODB_KEY = "skipped (no MONGODB_TEST_URI)"


def _is_no_mongodb_skip(report: pytest.TestReport) -> bool:
    longrepr = report.longrepr
    return isinstance(longrepr, tuple) and len(longrepr) == 3 and NO_MONGODB in str(longrepr[2])


@pytest.hookimpl(hookwrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, exitstatus, config):  # type: ignore[no-untyped-def]
    """One line for the real-MongoDB runs skipped without ``MONGODB_TEST_URI`` instead of one
    "SKIPPED" line per test; the final count names them ("36 skipped (no MONGODB_TEST_URI)")."""
    skipped = terminalreporter.stats.get("skipped", [])
    mongo = [r for r in skipped if _is_no_mongodb_skip(r)]
    if mongo:
        terminalreporter.stats["skipped"] = [r for r in skipped if not _is_no_mongodb_skip(r)]
        if not terminalreporter.stats["skipped"]:
            del terminalreporter.stats["skipped"]
        terminalreporter.stats[NO_MONGODB_KEY] = mongo
        terminalreporter.write_line(
            f"{len(mongo)} real-MongoDB tests skipped: set {NO_MONGODB} to run them "
            "(README, \"MongoDB in the tests\")"
        )
    yield
