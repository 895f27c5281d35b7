"""The fuzz tests drive the end-to-end app (tests/e2e/conftest.py's ``http_world``)."""

from tests.e2e.conftest import http_world  # noqa: F401
from tests.support.github_fixtures import github_app_key, github_env, github_standin  # noqa: F401
from tests.support.slack_standin import slack_standin_fixture  # noqa: F401
