"""SlackRequestVerifier: signatures computed here independently, following Slack's documented recipe
(``v0=`` + hex HMAC-SHA256 of ``v0:{timestamp}:{body}`` under the signing secret)."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from adapters.slack.verify import SlackRequestVerifier
from tests.fakes.ports import FixedClock
from tests.support.fixtures import SHARED

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
FIXTURES = SHARED / "slack"


def slack_signature(secret: str, timestamp: int, body: bytes) -> str:
    base = b"v0:" + str(timestamp).encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


@pytest.fixture
def body() -> bytes:
    fixture = FIXTURES / "slash_command.form.txt"
    if fixture.exists():
        return fixture.read_bytes()
    return b"token=x&team_id=T0FAKE&user_id=U0FAKE&command=%2Frocket&text=team+list"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(1_700_000_000.0)


def headers(timestamp: int, signature: str) -> dict[str, str]:
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": signature}


def test_valid_signature(body: bytes, clock: FixedClock) -> None:
    ts = int(clock.now())
    verifier = SlackRequestVerifier(SECRET, clock=clock)

    assert verifier.is_valid(body, headers(ts, slack_signature(SECRET, ts, body)))
    assert verifier.is_valid(body.decode(), headers(ts, slack_signature(SECRET, ts, body)))


def test_header_names_are_case_insensitive(body: bytes, clock: FixedClock) -> None:
    ts = int(clock.now())
    lowered = {k.lower(): v for k, v in headers(ts, slack_signature(SECRET, ts, body)).items()}

    assert SlackRequestVerifier(SECRET, clock=clock).is_valid(body, lowered)


def test_wrong_secret(body: bytes, clock: FixedClock) -> None:
    ts = int(clock.now())
    signed_elsewhere = slack_signature("another-secret", ts, body)

    assert not SlackRequestVerifier(SECRET, clock=clock).is_valid(body, headers(ts, signed_elsewhere))


@pytest.mark.parametrize("skew", [301, -301, 3600])
def test_stale_or_future_timestamp(body: bytes, clock: FixedClock, skew: int) -> None:
    ts = int(clock.now()) - skew
    verifier = SlackRequestVerifier(SECRET, clock=clock)

    assert not verifier.is_valid(body, headers(ts, slack_signature(SECRET, ts, body)))


def test_timestamp_at_the_five_minute_edge_is_accepted(body: bytes, clock: FixedClock) -> None:
    ts = int(clock.now()) - 300
    signed = headers(ts, slack_signature(SECRET, ts, body))
    verifier = SlackRequestVerifier(SECRET, clock=clock)
    assert verifier.is_valid(body, signed)
    clock.advance(1)
    assert not verifier.is_valid(body, signed)


@pytest.mark.parametrize("missing", ["X-Slack-Request-Timestamp", "X-Slack-Signature", "both"])
def test_missing_headers(body: bytes, clock: FixedClock, missing: str) -> None:
    ts = int(clock.now())
    given = headers(ts, slack_signature(SECRET, ts, body))
    for name in list(given):
        if missing in (name, "both"):
            del given[name]

    assert not SlackRequestVerifier(SECRET, clock=clock).is_valid(body, given)


@pytest.mark.parametrize("timestamp", ["", "not-a-number", "17e8"])
def test_malformed_timestamp_is_refused_not_raised(body: bytes, clock: FixedClock, timestamp: str) -> None:
    given = {"X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=00"}
    assert not SlackRequestVerifier(SECRET, clock=clock).is_valid(body, given)


def test_tampered_body(body: bytes, clock: FixedClock) -> None:
    ts = int(clock.now())
    signature = slack_signature(SECRET, ts, body)
    tampered = body.replace(b"team", b"user", 1)
    assert tampered != body

    assert not SlackRequestVerifier(SECRET, clock=clock).is_valid(tampered, headers(ts, signature))
    assert not SlackRequestVerifier(SECRET, clock=clock).is_valid(body + b"&x=1", headers(ts, signature))


def test_non_utf8_body_is_refused(clock: FixedClock) -> None:
    ts = int(clock.now())
    body = b"\xff\xfe"
    assert not SlackRequestVerifier(SECRET, clock=clock).is_valid(body, headers(ts, "v0=00"))


def test_sign_produces_what_slack_would_send(body: bytes, clock: FixedClock) -> None:
    ts = int(clock.now())
    assert SlackRequestVerifier(SECRET).sign(body, ts) == headers(ts, slack_signature(SECRET, ts, body))


def test_empty_secret_is_rejected() -> None:
    with pytest.raises(ValueError):
        SlackRequestVerifier("  ")
