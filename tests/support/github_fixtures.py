"""pytest fixtures for the GitHub stand-in: a GitHub App key made at test time and a running stand-in.

Import the fixtures you need into a test module or conftest, e.g.::

    from tests.support import github_fixtures

    github_app_key = github_fixtures.github_app_key
    github_standin = github_fixtures.github_standin
    github_env = github_fixtures.github_env

- ``github_app_key`` (session): a fresh 2048-bit RSA key, as ``AppKey(private_pem, public_pem)``;
  no key is ever committed.
- ``github_standin``: a started ``GitHubStandIn`` for org ``rocket-org`` and App id ``12345``
  that trusts that key; stopped after the test.
- ``github_env``: the environment that configures Rocket's GitHub adapter against the stand-in
  (``GITHUB_APP_ID``, ``GITHUB_KEY`` with newlines written as ``\\n`` as in a ``.env`` file,
  ``GITHUB_ORG_NAME``, ``GITHUB_API_URL``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import pytest

from tests.support.github_standin import GitHubStandIn

APP_ID = "12345"
ORG = "rocket-org"


class AppKey(NamedTuple):
    private_pem: str
    public_pem: str


def make_app_key() -> AppKey:
    """A new RSA key pair in PEM (PKCS#1 private key, as GitHub hands out, and SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return AppKey(private_pem, public_pem)


def escape_key(pem: str) -> str:
    """A PEM written the way the GITHUB_KEY setting allows: newlines as ``\\n``."""
    return pem.strip().replace("\n", "\\n")


@pytest.fixture(scope="session")
def github_app_key() -> AppKey:
    return make_app_key()


@pytest.fixture
def github_standin(github_app_key: AppKey) -> Iterator[GitHubStandIn]:
    with GitHubStandIn(github_app_key.public_pem, app_id=APP_ID, org=ORG) as standin:
        yield standin


@pytest.fixture
def github_env(github_standin: GitHubStandIn, github_app_key: AppKey) -> dict[str, str]:
    return {
        "GITHUB_APP_ID": APP_ID,
        "GITHUB_KEY": escape_key(github_app_key.private_pem),
        "GITHUB_ORG_NAME": ORG,
        "GITHUB_API_URL": github_standin.url,
    }


def github_from_env(env: dict[str, str], **options: object) -> Any:
    """The GitHub adapter as the container builds it: settings from ``env``, then ``from_settings``."""
    from adapters.github import GitHubApp
    from entrypoints.settings import load_settings

    return GitHubApp.from_settings(load_settings(env).github, **options)  # type: ignore[arg-type]
