"""OnboardUser (Slack team_join) on the memory store and the fake Slack workspace."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from adapters.unavailable import Unavailable
from core.commands import OnboardUser
from core.context import Ports, Settings
from core.errors import InvalidInput, UpstreamError
from core.models import User
from core.permissions import Permissions
from tests.fakes.observe import snapshot
from tests.fakes.ports import FakeWorld, fake_world, usecase


@pytest.fixture
def world() -> FakeWorld:
    return fake_world()


def onboard(world: FakeWorld, **ports: Any) -> OnboardUser:
    return usecase(OnboardUser, Ports(**{**world.ports.__dict__, **ports}), Settings())


async def test_a_new_member_is_stored_and_welcomed(world: FakeWorld) -> None:
    result = await onboard(world)(
        "UNEW", name=" Steven ", email="su@example.com", image_url="https://img/su.png"
    )
    stored = await world.store.retrieve(User, "UNEW")
    assert stored == result.user
    assert (stored.name, stored.email, stored.image_url) == ("Steven", "su@example.com", "https://img/su.png")
    assert (stored.karma, stored.permission_level) == (1, Permissions.member)
    assert result.warnings == []
    [(to, text)] = world.chat.dms
    assert to == "UNEW"
    assert "/rocket user edit --github" in text and "Steven" in text
    assert sum(world.github.calls.values()) == 0


async def test_an_existing_user_is_left_untouched_and_not_messaged_again(world: FakeWorld) -> None:
    await world.store.store(User("UOLD", name="Old Name", email="old@example.com", karma=9))
    before = await snapshot(world)
    result = await onboard(world)("UOLD", name="New Name", email="new@example.com")
    assert await snapshot(world) == before
    assert (result.user.name, result.user.karma) == ("Old Name", 9)


async def test_onboarding_twice_at_once_stores_one_user_and_sends_one_dm(world: FakeWorld) -> None:
    class Yielding:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            method = getattr(self.inner, name)

            async def call(*args: Any, **kwargs: Any) -> Any:
                await asyncio.sleep(0)
                return await method(*args, **kwargs)

            return call

    run = onboard(world, store=Yielding(world.store))
    await asyncio.gather(run("UNEW", name="A"), run("UNEW", name="A"))
    assert [u.slack_id for u in await world.store.query(User)] == ["UNEW"]
    assert [to for to, _ in world.chat.dms] == ["UNEW"]


@pytest.mark.parametrize(
    ("chat", "needle"),
    [
        ("refusing", "channel_not_found"),
        ("unconfigured", "Slack is not configured"),
    ],
)
async def test_a_failed_welcome_keeps_the_user_and_warns(world: FakeWorld, chat: str, needle: str) -> None:
    if chat == "refusing":
        world.chat.fail_on["send_dm"] = UpstreamError("Slack", "channel_not_found")
        run = onboard(world)
    else:
        run = onboard(world, chat=Unavailable("Slack"))
    result = await run("UNEW", name="N")
    assert (await world.store.retrieve(User, "UNEW")).name == "N"
    assert len(result.warnings) == 1 and needle in result.warnings[0]
    assert world.chat.dms == []


async def test_invalid_profile_values_from_slack_are_left_empty_with_a_warning(world: FakeWorld) -> None:
    result = await onboard(world)("UNEW", name="x" * 101, email="not-an-email", image_url="https://ok/")
    stored = await world.store.retrieve(User, "UNEW")
    assert (stored.name, stored.email, stored.image_url) == ("", "", "https://ok/")
    assert len(result.warnings) == 2
    assert len(world.chat.dms) == 1


@pytest.mark.parametrize("slack_id", ["", "   "])
async def test_an_event_without_a_slack_id_is_refused_and_stores_nothing(
    world: FakeWorld, slack_id: str
) -> None:
    before = await snapshot(world)
    with pytest.raises(InvalidInput):
        await onboard(world)(slack_id, name="N")
    assert await snapshot(world) == before
