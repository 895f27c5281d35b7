"""GitHubDeviceFlow (adapters.github.device_flow) over real HTTP against the OAuth stand-in.

Most tests share one fake clock between the adapter and the stand-in: the adapter's ``sleep``
advances it, the stand-in reads it to enforce the interval (``slow_down``) and expiry. So the
pace asserted below is the pace the stand-in saw on the wire, and a fifteen-minute wait takes
milliseconds. The real-time tests (cancellation, the measured interval) use the real clock.
"""

from __future__ import annotations

import asyncio
import dataclasses
import gc
import logging
import socket
import time
import warnings
from collections.abc import Callable, Iterator

import aiohttp
import pytest

from adapters.github.device_flow import API_VERSION, GitHubDeviceFlow
from core.errors import IntegrationUnavailable, UpstreamError
from ports.identity import Denied, DeviceCode, Expired, GitHubIdentity, VerifiedLogin
from tests.support import github_fixtures
from tests.support.fake_time import FakeTime
from tests.support.github_oauth_standin import GitHubOAuthStandIn
from tests.support.github_standin import GitHubStandIn

github_app_key = github_fixtures.github_app_key


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def oauth(fake: FakeTime) -> Iterator[GitHubOAuthStandIn]:
    with GitHubOAuthStandIn(clock=fake) as standin:
        yield standin


@pytest.fixture
def flow(oauth: GitHubOAuthStandIn, fake: FakeTime) -> GitHubDeviceFlow:
    return GitHubDeviceFlow(oauth.client_id, oauth.url, oauth.url, clock=fake, sleep=fake.sleep)


def answers(oauth: GitHubOAuthStandIn) -> list[str]:
    return [p.answer for p in oauth.polls]


def gaps(times: list[float]) -> list[float]:
    return [round(b - a, 3) for a, b in zip(times, times[1:], strict=False)]


def approve_on(fake: FakeTime, n: int, act: Callable[[], None]) -> None:
    fake.on_sleep = lambda count: act() if count == n else None


# ---------------------------------------------------------------------------- start


async def test_start_returns_the_code_github_issued_and_hides_the_device_code(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    identity: GitHubIdentity = flow  # the adapter satisfies the port
    code = await identity.start()
    grant = oauth.grant()
    assert (code.user_code, code.device_code) == (grant.user_code, grant.device_code)
    assert code.verification_uri == "https://github.com/login/device"
    assert (code.interval, code.expires_in, code.issued_at) == (5, 900, fake())
    assert code.deadline == fake() + 900
    assert grant.device_code not in repr(code)
    assert oauth.requests == ["POST /login/device/code"]


async def test_not_configured_raises_integration_unavailable_without_a_request(
    oauth: GitHubOAuthStandIn,
) -> None:
    flow = GitHubDeviceFlow("", oauth.url, oauth.url)
    with pytest.raises(IntegrationUnavailable, match="GITHUB_CLIENT_ID"):
        await flow.start()
    assert oauth.requests == []


async def test_wrong_client_id_is_named(oauth: GitHubOAuthStandIn) -> None:
    flow = GitHubDeviceFlow("Iv1.someone-else", oauth.url, oauth.url)
    with pytest.raises(UpstreamError, match="GITHUB_CLIENT_ID"):
        await flow.start()
    assert oauth.grants == {}


async def test_device_flow_disabled_on_the_app_says_how_to_fix_it(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn
) -> None:
    oauth.device_flow_enabled = False
    with pytest.raises(UpstreamError, match="device flow is not enabled on the GitHub App"):
        await flow.start()


@pytest.mark.parametrize(
    ("status", "raw", "expected"),
    [
        (500, None, "HTTP 500 .*unavailable"),
        (502, b"<html>Bad gateway</html>", "HTTP 502"),
        (200, b"<html>not json</html>", "HTTP 200 with a body that is not JSON"),
        (200, b"\xff\xfe garbage", "not JSON"),
        (200, b"[1, 2]", "JSON that is not an object"),
        (200, b'{"device_code": "abc", "verification_uri": "https://github.com/login/device"}', "user_code"),
        (
            200,
            b'{"device_code": "abc", "user_code": "ABCD-EFGH", "verification_uri": "javascript:alert(1)",'
            b' "expires_in": 900, "interval": 5}',
            "verification_uri",
        ),
        (
            200,
            b'{"device_code": "abc", "user_code": "ABCD-EFGH", "verification_uri": "https://github.com/x",'
            b' "expires_in": "soon", "interval": 5}',
            "expires_in",
        ),
    ],
)
async def test_start_answers_failures_and_malformed_answers_clearly(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, status: int, raw: bytes | None, expected: str
) -> None:
    oauth.fail_next("POST /login/device/code", status, raw=raw)
    with pytest.raises(UpstreamError, match=expected) as info:
        await flow.start()
    assert info.value.integration == "GitHub"
    assert "Traceback" not in str(info.value)


async def test_unreachable_github_is_an_upstream_error_naming_the_host() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://user:secret@127.0.0.1:{probe.getsockname()[1]}"
    flow = GitHubDeviceFlow("Iv1.x", url, url, request_timeout=2)
    with pytest.raises(UpstreamError, match="cannot reach 127.0.0.1") as info:
        await flow.start()
    assert "secret" not in str(info.value)


# ---------------------------------------------------------------------------- outcomes


async def test_pending_polls_at_the_interval_then_approval_returns_the_account(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    uid = oauth.add_user("octocat", 583231)
    code = await flow.start()
    approve_on(fake, 3, lambda: oauth.approve(code.user_code, "octocat"))
    outcome = await flow.wait_for_login(code)
    assert outcome == VerifiedLogin(login="octocat", github_user_id=str(uid))
    assert fake.sleeps == [5, 5, 5]
    assert answers(oauth) == ["authorization_pending", "authorization_pending", "token"]
    assert gaps([code.issued_at, *oauth.poll_times()]) == [5, 5, 5]
    assert oauth.api_versions == [API_VERSION]
    assert oauth.grant().state == "redeemed"


async def test_denied_code_is_denied_and_no_token_is_issued(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    code = await flow.start()
    approve_on(fake, 2, lambda: oauth.deny(code.user_code))
    assert await flow.wait_for_login(code) == Denied()
    assert answers(oauth) == ["authorization_pending", "access_denied"]
    assert oauth.tokens == {}
    assert oauth.api_versions == []  # GET /user never called


async def test_unapproved_code_expires_and_polling_stops_at_the_deadline(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    oauth.expires_in = 30
    code = await flow.start()
    assert await flow.wait_for_login(code) == Expired()
    assert fake() - code.issued_at == 30  # waited the whole lifetime, not a second more
    assert answers(oauth) == ["authorization_pending"] * 5 + ["expired_token"]
    assert max(oauth.poll_times()) <= code.deadline


async def test_the_wait_is_bounded_by_expires_in_even_if_github_keeps_answering_pending(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    code = dataclasses.replace(await flow.start(), expires_in=22)  # GitHub's copy lives 900 s
    assert await flow.wait_for_login(code) == Expired()
    assert fake() - code.issued_at == 22
    assert answers(oauth) == ["authorization_pending"] * 4  # at 5, 10, 15, 20; none after 22
    assert sum(fake.sleeps) == 22


async def test_github_expiring_the_code_early_ends_the_wait(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    code = await flow.start()
    approve_on(fake, 2, lambda: setattr(oauth.grant(code.user_code), "expires_in", 1))
    assert await flow.wait_for_login(code) == Expired()
    assert answers(oauth) == ["authorization_pending", "expired_token"]


async def test_slow_down_grows_the_interval_by_five_seconds_for_the_rest_of_the_wait(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    code = await flow.start()
    oauth.force_slow_down(code.user_code)  # GitHub under load
    approve_on(fake, 4, lambda: oauth.approve(code.user_code, "octocat"))
    assert isinstance(await flow.wait_for_login(code), VerifiedLogin)
    assert fake.sleeps == [5, 10, 10, 10]
    assert answers(oauth) == ["slow_down", "authorization_pending", "authorization_pending", "token"]


async def test_polling_faster_than_github_allows_is_slowed_down_and_then_honoured(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    # A code claiming a 1 s interval while GitHub enforces 5 s: the stand-in answers slow_down
    # (its interval becomes 10 s, named in the answer) and the adapter adopts the larger value.
    code = dataclasses.replace(await flow.start(), interval=1)
    approve_on(fake, 3, lambda: oauth.approve(code.user_code, "octocat"))
    assert isinstance(await flow.wait_for_login(code), VerifiedLogin)
    assert fake.sleeps == [1, 10, 10]
    assert answers(oauth) == ["slow_down", "authorization_pending", "token"]


async def test_errors_sent_with_http_400_are_read_the_same_way(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    oauth.error_status = 400
    code = await flow.start()
    oauth.force_slow_down(code.user_code)
    approve_on(fake, 3, lambda: oauth.approve(code.user_code, "octocat"))
    assert isinstance(await flow.wait_for_login(code), VerifiedLogin)
    assert answers(oauth) == ["slow_down", "authorization_pending", "token"]


async def test_a_login_mismatch_is_visible_to_the_caller(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    oauth.add_user("hubot", 99)
    code = await flow.start()
    approve_on(fake, 1, lambda: oauth.approve(code.user_code, "hubot"))  # claimed "octocat"
    outcome = await flow.wait_for_login(code)
    assert isinstance(outcome, VerifiedLogin)
    assert (outcome.login, outcome.github_user_id) == ("hubot", "99")
    assert not outcome.is_login("octocat")
    assert outcome.is_login("HuBot") and outcome.is_login(" hubot ")


# ---------------------------------------------------------------------------- failures while waiting


async def test_a_brief_500_while_polling_is_retried_at_the_interval(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    code = await flow.start()
    oauth.fail_next("POST /login/oauth/access_token", 500)
    approve_on(fake, 2, lambda: oauth.approve(code.user_code, "octocat"))
    assert isinstance(await flow.wait_for_login(code), VerifiedLogin)
    assert fake.sleeps == [5, 5]
    assert oauth.requests.count("POST /login/oauth/access_token") == 2


async def test_an_interval_of_zero_is_floored_so_polling_never_spins(
    oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    oauth.interval = 0
    flow = GitHubDeviceFlow(oauth.client_id, oauth.url, oauth.url, clock=fake, sleep=fake.sleep)
    code = await flow.start()
    assert code.interval == 0
    approve_on(fake, 3, lambda: oauth.approve(code.user_code, "octocat"))
    assert isinstance(await flow.wait_for_login(code), VerifiedLogin)
    assert fake.sleeps == [1.0, 1.0, 1.0]


async def test_a_rate_limited_poll_is_retried_like_a_brief_outage(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    code = await flow.start()
    oauth.fail_next("POST /login/oauth/access_token", 429, raw=b'{"message": "rate limited"}')
    approve_on(fake, 2, lambda: oauth.approve(code.user_code, "octocat"))
    assert isinstance(await flow.wait_for_login(code), VerifiedLogin)
    assert oauth.requests.count("POST /login/oauth/access_token") == 2


async def test_github_failing_on_every_poll_ends_the_wait_with_a_clear_error(
    oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    flow = GitHubDeviceFlow(
        oauth.client_id, oauth.url, oauth.url, clock=fake, sleep=fake.sleep, poll_retries=2
    )
    code = await flow.start()
    oauth.fail_next("POST /login/oauth/access_token", 503, times=50)
    with pytest.raises(UpstreamError, match=r"HTTP 503 .*\(3 times in a row\)"):
        await flow.wait_for_login(code)
    assert oauth.requests.count("POST /login/oauth/access_token") == 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(b"<html>maintenance</html>", "not JSON"), (b'"pending"', "not an object"), (b"{}", "without a token")],
)
async def test_a_malformed_poll_answer_ends_the_wait_clearly(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, raw: bytes, expected: str
) -> None:
    code = await flow.start()
    oauth.fail_next("POST /login/oauth/access_token", 200, raw=raw)
    with pytest.raises(UpstreamError, match=expected):
        await flow.wait_for_login(code)


async def test_a_code_github_does_not_know_and_a_disabled_flow_are_named(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn
) -> None:
    code = await flow.start()
    with pytest.raises(UpstreamError, match="device code is not valid"):
        await flow.wait_for_login(dataclasses.replace(code, device_code="0" * 40))
    oauth.device_flow_enabled = False
    with pytest.raises(UpstreamError, match="device flow is not enabled"):
        await flow.wait_for_login(code)


@pytest.mark.parametrize(
    ("status", "raw", "expected"),
    [
        (500, None, "HTTP 500.*could not be read"),
        (200, b"<html/>", "not JSON"),
        (200, b'{"login": "bad\\u0000login", "id": 5}', "valid login"),
        (200, b'{"login": "octocat", "id": "5"}', "valid user id"),
    ],
)
async def test_a_failing_or_malformed_user_answer_is_clear(
    flow: GitHubDeviceFlow,
    oauth: GitHubOAuthStandIn,
    fake: FakeTime,
    status: int,
    raw: bytes | None,
    expected: str,
) -> None:
    code = await flow.start()
    oauth.approve(code.user_code, "octocat")
    oauth.fail_next("GET /user", status, raw=raw)
    with pytest.raises(UpstreamError, match=expected):
        await flow.wait_for_login(code)


async def test_a_rejected_user_token_is_reported_without_the_token(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime
) -> None:
    code = await flow.start()
    oauth.approve(code.user_code, "octocat")
    del oauth.users["octocat"]  # the account vanished between approval and GET /user
    with pytest.raises(UpstreamError, match=r"HTTP 401 \(Bad credentials\)") as info:
        await flow.wait_for_login(code)
    (token,) = oauth.tokens
    assert token not in str(info.value)


# ---------------------------------------------------------------------------- the token is not kept


def _has(value: object, token: str, skip: set[int]) -> bool:
    if isinstance(value, str):
        return token in value
    if isinstance(value, bytes | bytearray):
        return token.encode() in value
    if id(value) in skip or gc.is_tracked(value):
        return False  # tracked objects are visited on their own
    if isinstance(value, dict):
        return any(_has(k, token, skip) or _has(v, token, skip) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(_has(v, token, skip) for v in value)
    return False


def _token_holders(oauth: GitHubOAuthStandIn, *, exclude_standin: bool) -> list[str]:
    """The types of live objects (after a full collection) holding a string that contains the
    token the stand-in issued, directly or in a container the collector does not track (CPython
    leaves dicts and tuples of plain strings untracked). The caller must not hold it itself."""
    gc.collect()
    (token,) = oauth.tokens
    skip = {id(oauth), id(vars(oauth)), id(oauth.tokens)} if exclude_standin else set()
    found: list[str] = []
    for obj in gc.get_objects():  # a plain loop: a comprehension would put ``token`` in a cell
        if id(obj) in skip:
            continue
        for ref in gc.get_referents(obj):
            if _has(ref, token, skip):
                found.append(type(obj).__name__)
                break
    return found


async def test_the_user_token_is_not_kept_or_logged(
    flow: GitHubDeviceFlow, oauth: GitHubOAuthStandIn, fake: FakeTime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code = await flow.start()
    oauth.approve(code.user_code, "octocat")
    outcome = await flow.wait_for_login(code)
    (token,) = oauth.tokens
    assert token not in repr(outcome) and token not in repr(vars(flow))
    assert token not in caplog.text and code.device_code not in caplog.text
    assert "octocat" in caplog.text  # the log does say who approved
    del token
    # Control: the scan finds the token where it is held (the stand-in's own table).
    assert _token_holders(oauth, exclude_standin=False) != []
    assert _token_holders(oauth, exclude_standin=True) == []


# ---------------------------------------------------------------------------- real time


async def test_polls_are_spaced_by_the_interval_on_the_real_clock() -> None:
    with GitHubOAuthStandIn(interval=0.25) as oauth:
        flow = GitHubDeviceFlow(oauth.client_id, oauth.url, oauth.url, min_interval=0)
        code = await flow.start()
        loop = asyncio.get_running_loop()
        loop.call_later(0.9, oauth.approve, code.user_code, "octocat")
        started = time.monotonic()
        outcome = await flow.wait_for_login(code)
        took = time.monotonic() - started
    assert isinstance(outcome, VerifiedLogin)
    spacing = gaps([oauth.grant().issued_at, *oauth.poll_times(code.user_code)])
    assert all(gap >= 0.25 for gap in spacing), spacing
    assert "slow_down" not in answers(oauth)
    assert 3 <= len(spacing) <= 5 and 0.9 <= took < 3.0, (spacing, took)


async def _cancelled(task: asyncio.Task[object], cancelled_at: float) -> float:
    """Await a cancelled task; seconds from ``cancelled_at`` until it ended. (No pytest.raises:
    its traceback would keep the task's frames, and so any leaked session, alive.)"""
    try:
        await task
    except asyncio.CancelledError:
        return time.monotonic() - cancelled_at
    raise AssertionError("the wait was not cancelled")


def _open_sessions() -> list[aiohttp.ClientSession]:
    return [s for s in gc.get_objects() if isinstance(s, aiohttp.ClientSession) and not s.closed]


async def test_cancelling_the_wait_ends_it_at_once_and_leaves_nothing_running() -> None:
    with GitHubOAuthStandIn(interval=30) as oauth:
        flow = GitHubDeviceFlow(oauth.client_id, oauth.url, oauth.url)
        code = await flow.start()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            task = asyncio.create_task(flow.wait_for_login(code))
            await asyncio.sleep(0.1)
            cancelled_at = time.monotonic()
            task.cancel()
            took = await _cancelled(task, cancelled_at)
            del task
            gc.collect()
        assert took < 0.2, took
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
        assert _open_sessions() == []
        assert not [w for w in caught if "Unclosed" in str(w.message)]
        await asyncio.sleep(0.1)
        assert oauth.polls == []


async def test_cancelling_during_a_slow_poll_closes_the_connection_at_once() -> None:
    with GitHubOAuthStandIn(interval=0.01) as oauth:
        flow = GitHubDeviceFlow(oauth.client_id, oauth.url, oauth.url, min_interval=0)
        code = await flow.start()
        oauth.latency = 3.0  # GitHub hangs on the next poll
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            task = asyncio.create_task(flow.wait_for_login(code))
            await asyncio.sleep(0.3)
            assert oauth.requests[-1] == "POST /login/oauth/access_token"  # in flight
            cancelled_at = time.monotonic()
            task.cancel()
            took = await _cancelled(task, cancelled_at)
            del task
            gc.collect()
        assert took < 0.2, took
        assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
        assert _open_sessions() == []
        assert not [w for w in caught if "Unclosed" in str(w.message)]
        oauth.latency = 0.0


# ---------------------------------------------------------------------------- one URL for API + OAuth


async def test_the_main_github_standin_serves_the_device_flow_too(
    github_app_key: github_fixtures.AppKey, fake: FakeTime
) -> None:
    with GitHubStandIn(github_app_key.public_pem, prefix="/api/v3") as github:
        oauth = GitHubOAuthStandIn(clock=fake).attach(github)
        github.add_user("octocat", 583231)  # ids shared with the App API
        base = f"http://127.0.0.1:{github.port}"  # GITHUB_OAUTH_URL of a GitHub Enterprise host
        flow = GitHubDeviceFlow(oauth.client_id, base, github.url, clock=fake, sleep=fake.sleep)
        code = await flow.start()
        oauth.approve(code.user_code, "octocat")
        outcome = await flow.wait_for_login(code)
        assert outcome == VerifiedLogin("octocat", "583231")
        assert oauth.requests == ["POST /login/device/code", "POST /login/oauth/access_token", "GET /user"]
        assert github.requests == []  # nothing fell through to the App API routes
        # GET /user outside the API prefix is not the API: the main stand-in answers 404.
        wrong = GitHubDeviceFlow(oauth.client_id, base, base, clock=fake, sleep=fake.sleep)
        again = await wrong.start()
        oauth.approve(again.user_code, "octocat")
        with pytest.raises(UpstreamError, match="HTTP 404"):
            await wrong.wait_for_login(again)


def test_device_code_repr_never_shows_the_device_code() -> None:
    code = DeviceCode("https://github.com/login/device", "ABCD-EFGH", "f" * 40, 5, 900, 0.0)
    assert "f" * 40 not in repr(code) and "ABCD-EFGH" in repr(code)
