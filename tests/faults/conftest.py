"""Fixtures for the fault-injection tests: the GitHub and Slack stand-ins (see tests/support)."""

from tests.support.github_fixtures import github_app_key, github_env, github_standin  # noqa: F401
from tests.support.slack_standin import slack_standin_fixture  # noqa: F401
