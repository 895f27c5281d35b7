"""Issue 17 finding 7: GitHub that cannot be reached is worded as such, never "GitHub refused"."""

from __future__ import annotations

import pytest
import requests
from github import GithubException

from adapters.github.errors import translate
from core.errors import UpstreamError, UpstreamUnreachable


@pytest.mark.parametrize(
    "failure",
    [
        requests.ConnectionError("connection refused by 127.0.0.1"),
        requests.Timeout("read timed out"),
        GithubException(502, {"message": "Bad Gateway"}, {}),
        GithubException(503, {"message": "Service Unavailable"}, {}),
    ],
)
def test_unreachable_github_says_could_not_be_reached_and_nothing_changed(failure: Exception) -> None:
    error = translate(failure, "not found")
    assert isinstance(error, UpstreamUnreachable) and isinstance(error, UpstreamError)
    text = str(error)
    assert text.startswith("GitHub could not be reached (") and "nothing was changed" in text
    assert "refused" not in text
    assert "\n" not in text


def test_a_real_refusal_still_says_refused() -> None:
    text = str(translate(GithubException(422, {"message": "Validation Failed"}, {}), "not found"))
    assert text == "GitHub refused: HTTP 422: Validation Failed"
