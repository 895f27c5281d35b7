"""X-Hub-Signature-256 verification and body decoding (adapters.github.webhook)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from adapters.github.webhook import github_webhook_json, sign_github_body, verify_github_signature
from tests.support.fixtures import SHARED

FIXTURE = SHARED / "github" / "ping.with-organization.payload.json"
SECRET = "webhook-secret-for-tests"


@pytest.fixture
def body() -> bytes:
    return FIXTURE.read_bytes()


def test_githubs_documented_example_verifies() -> None:
    # The example from GitHub's "Validating webhook deliveries" page.
    header = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert verify_github_signature("It's a Secret to Everybody", b"Hello, World!", header)
    assert sign_github_body("It's a Secret to Everybody", b"Hello, World!") == header


def test_valid_signature(body: bytes) -> None:
    header = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert verify_github_signature(SECRET, body, header)


def test_wrong_secret(body: bytes) -> None:
    assert not verify_github_signature(SECRET, body, sign_github_body("another-secret", body))


@pytest.mark.parametrize("header", [None, ""])
def test_missing_header(body: bytes, header: str | None) -> None:
    assert not verify_github_signature(SECRET, body, header)


def test_sha1_only_header(body: bytes) -> None:
    sha1 = "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()
    assert not verify_github_signature(SECRET, body, sha1)
    # the sha256 digest under the sha1 label is not accepted either
    assert not verify_github_signature(
        SECRET, body, sign_github_body(SECRET, body).replace("sha256=", "sha1=")
    )


def test_tampered_body(body: bytes) -> None:
    header = sign_github_body(SECRET, body)
    tampered = body.replace(b"Organization", b"Organisation", 1) if b"Organization" in body else body + b" "
    assert tampered != body
    assert not verify_github_signature(SECRET, tampered, header)
    assert not verify_github_signature(SECRET, body + b"\n", header)


def test_bare_hex_or_truncated_signature(body: bytes) -> None:
    header = sign_github_body(SECRET, body)
    assert not verify_github_signature(SECRET, body, header.replace("sha256=", "sha512="))
    assert not verify_github_signature(SECRET, body, header.removeprefix("sha256="))
    assert not verify_github_signature(SECRET, body, header[:-2])
    assert not verify_github_signature("", body, sign_github_body("", body))


# ---------------------------------------------------------------------------- body decoding


def test_form_body_yields_the_payload_field_and_json_body_itself() -> None:
    from urllib.parse import quote, urlencode

    text = '{"zen": "Keep it logically awesome. é+&=%", "hook_id": 1}'
    form = urlencode({"payload": text}, quote_via=quote).encode()
    assert github_webhook_json(form, "application/x-www-form-urlencoded") == text
    assert github_webhook_json(text.encode(), "application/json") == text
    assert github_webhook_json(text.encode(), None) == text  # no content type: the body is the JSON


@pytest.mark.parametrize(
    "body", [b"", b"other=1", b"payload=1&payload=2", b"%zz", b"payload=%ff", "payload=é".encode()]
)
def test_malformed_form_body_is_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        github_webhook_json(body, "application/x-www-form-urlencoded")
