"""entrypoints/status.py: the status page's per-integration hints and last-call outcomes."""

from __future__ import annotations

import pytest

from core.errors import NotFound, UpstreamError, UpstreamUnreachable
from entrypoints.settings import load_settings
from entrypoints.status import IntegrationHealth, integration_hints, unwrap, watched


class Client:
    """A stand-in adapter: answers, or raises what it is told to."""

    def __init__(self) -> None:
        self.raise_next: Exception | None = None
        self.calls = 0

    async def call(self, value: int) -> int:
        self.calls += 1
        if self.raise_next is not None:
            error, self.raise_next = self.raise_next, None
            raise error
        return value * 2

    def sync(self) -> str:
        return "sync"


async def test_each_call_records_whether_it_worked():
    health = IntegrationHealth(clock=lambda: 0.0)
    client = Client()
    proxy = watched(client, "GitHub", health)
    assert isinstance(proxy, Client) and unwrap(proxy) is client and proxy.sync() == "sync"
    assert health.describe("GitHub") == "no call yet"
    assert await proxy.call(2) == 4
    assert health.describe("GitHub") == "last call worked (00:00:00 UTC)"
    client.raise_next = UpstreamUnreachable("GitHub", "ConnectionError")
    with pytest.raises(UpstreamError):
        await proxy.call(1)
    failed = "last call failed (00:00:00 UTC): GitHub could not be reached"
    assert health.describe("GitHub").startswith(failed)
    client.raise_next = NotFound("no such team")  # GitHub answered: the call worked
    with pytest.raises(NotFound):
        await proxy.call(1)
    assert health.last("GitHub").ok and client.calls == 3


async def test_a_long_reason_is_one_short_line():
    health = IntegrationHealth()
    proxy = watched(Client(), "Slack", health)
    unwrap(proxy).raise_next = RuntimeError("line one\nline two " + "x" * 500)
    with pytest.raises(RuntimeError):
        await proxy.call(1)
    outcome = health.last("Slack")
    assert outcome is not None and not outcome.ok
    assert "\n" not in outcome.reason and len(outcome.reason) == 200


def test_hints_name_only_the_unset_variables():
    settings = load_settings({"GITHUB_APP_ID": "1", "SLACK_SIGNING_SECRET": "s"})
    hints = integration_hints(settings)
    assert hints == {"GitHub": ["GITHUB_KEY", "GITHUB_ORG_NAME"], "Slack": ["SLACK_API_TOKEN"],
                     "Google Drive": ["GCP_SERVICE_ACCOUNT_CREDENTIALS"]}
