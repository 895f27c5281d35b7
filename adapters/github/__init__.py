"""GitHub adapter: ``GitHubApp`` (ports.github.GitHub on PyGithub with GitHub App auth) and
webhook signature verification."""

from adapters.github.client import GitHubApp
from adapters.github.webhook import verify_github_signature

__all__ = ["GitHubApp", "verify_github_signature"]
