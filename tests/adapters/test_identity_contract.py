"""One contract for ``ports.identity.GitHubIdentity``, run on the in-memory fake
(tests/fakes/identity.py) and on the real adapter over HTTP against the OAuth stand-in, so
use-case tests written against the fake hold for the adapter."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace

import pytest

from adapters.github.device_flow import GitHubDeviceFlow
from core.errors import IntegrationUnavailable, UpstreamError
from ports.identity import Denied, DeviceCode, Expired, GitHubIdentity, VerifiedLogin
from tests.fakes.identity import FakeGitHubIdentity
from tests.support.fake_time import FakeTime
from tests.support.github_oauth_standin import GitHubOAuthStandIn


@dataclass
class World:
    """An implementation and the person's side of it."""

    identity: GitHubIdentity
    unconfigured: GitHubIdentity
    approve: Callable[[DeviceCode, str, int], None]
    deny: Callable[[DeviceCode], None]
    expire: Callable[[DeviceCode], None]


def _fake_world() -> World:
    fake = FakeGitHubIdentity()
    return World(
        identity=fake,
        unconfigured=FakeGitHubIdentity(configured=False),
        approve=lambda code, login, uid: fake.approve(code.user_code, login, uid),
        deny=lambda code: fake.deny(code.user_code),
        expire=lambda code: fake.expire(code.user_code),
    )


def _adapter_world(oauth: GitHubOAuthStandIn, clock: FakeTime) -> World:
    def approve(code: DeviceCode, login: str, uid: int) -> None:
        oauth.add_user(login, uid)
        oauth.approve(code.user_code, login)

    def expire(code: DeviceCode) -> None:
        oauth.grant(code.user_code).expires_in = 0

    async def sleep(seconds: float) -> None:
        await clock.sleep(seconds)  # fake seconds pass at once...
        await asyncio.sleep(0.001)  # ...but not so fast that 900 of them pass before the person acts

    return World(
        identity=GitHubDeviceFlow(oauth.client_id, oauth.url, oauth.url, clock=clock, sleep=sleep),
        unconfigured=GitHubDeviceFlow("", oauth.url, oauth.url),
        approve=approve,
        deny=lambda code: oauth.deny(code.user_code),
        expire=expire,
    )


@pytest.fixture(params=["fake", "adapter"])
async def world(request: pytest.FixtureRequest) -> AsyncIterator[World]:
    if request.param == "fake":
        yield _fake_world()
        return
    clock = FakeTime()
    with GitHubOAuthStandIn(clock=clock) as oauth:
        yield _adapter_world(oauth, clock)


def later(action: Callable[[], None]) -> None:
    """Play the person shortly after the wait has begun."""
    asyncio.get_running_loop().call_later(0.02, action)


async def test_a_code_is_shown_to_the_person(world: World) -> None:
    code = await world.identity.start()
    assert code.verification_uri.startswith("https://")
    assert code.user_code and code.device_code not in repr(code)
    assert code.interval > 0 and code.expires_in > 0


async def test_approval_answers_the_approving_account(world: World) -> None:
    code = await world.identity.start()
    later(lambda: world.approve(code, "Octocat", 583231))
    outcome = await world.identity.wait_for_login(code)
    assert outcome == VerifiedLogin(login="Octocat", github_user_id="583231")
    assert outcome.is_login("octocat") and not outcome.is_login("hubot")


async def test_denial_and_expiry_are_outcomes(world: World) -> None:
    first, second = await world.identity.start(), await world.identity.start()
    world.deny(first)
    assert await world.identity.wait_for_login(first) == Denied()
    later(lambda: world.expire(second))
    assert await world.identity.wait_for_login(second) == Expired()


async def test_a_code_is_redeemed_once_and_an_unknown_code_is_refused(world: World) -> None:
    code = await world.identity.start()
    world.approve(code, "octocat", 1)
    assert isinstance(await world.identity.wait_for_login(code), VerifiedLogin)
    with pytest.raises(UpstreamError, match="device code is not valid"):
        await world.identity.wait_for_login(code)
    with pytest.raises(UpstreamError, match="device code is not valid"):
        await world.identity.wait_for_login(replace(code, device_code="f" * 40))


async def test_not_configured_is_integration_unavailable(world: World) -> None:
    with pytest.raises(IntegrationUnavailable):
        await world.unconfigured.start()


async def test_a_cancelled_wait_ends_at_once(world: World) -> None:
    code = await world.identity.start()
    task = asyncio.create_task(world.identity.wait_for_login(code))
    await asyncio.sleep(0.05)
    assert not task.done()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=1)
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
