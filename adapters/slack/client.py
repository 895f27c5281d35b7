"""Outbound Slack: ``SlackChat`` implements ``ports.chat.Chat`` on slack-sdk's ``AsyncWebClient``.

Contract:

- Configuration: ``SLACK_API_TOKEN`` (bot token) and ``SLACK_API_URL`` (Web API base URL, default
  ``https://slack.com/api/``), as ``adapters.slack.settings.SlackSettings`` (checked by
  entrypoints/settings.py). ``SlackChat.from_settings`` returns ``None`` without a token (the
  container then wires ``adapters.unavailable.Unavailable("Slack")``).
- Rate limits, connection failures and 500/503 answers are retried by slack-sdk's own retry
  handlers (``AsyncRateLimitErrorRetryHandler`` honours ``Retry-After``), a bounded number of times.
- Every Slack refusal (``SlackApiError``) becomes ``UpstreamError("Slack", <Slack error code>)``;
  a 429 that outlives the retries becomes ``RateLimited("Slack", reset_at)`` (a subclass);
  a connection that still fails after the retries becomes ``UpstreamError("Slack", "unavailable")``.
- Channels are given by id (``C…``, ``G…``, ``D…``) or by name, with or without ``#``. Names are
  resolved through ``conversations.list`` (public, unarchived channels); the name→id map is
  cached and refreshed once when a name is missing from it.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.interval_calculator import RetryIntervalCalculator
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from adapters.slack.settings import SlackSettings
from core.errors import RateLimited, UpstreamError
from ports.chat import Channel

SLACK = "Slack"
DEFAULT_API_URL = "https://slack.com/api/"
PAGE_LIMIT = 200  # Slack recommends no more than 200 results per page
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{2,}$")


def retry_handlers(
    *,
    rate_limit_retries: int = 3,
    connection_retries: int = 2,
    server_error_retries: int = 2,
    interval_calculator: RetryIntervalCalculator | None = None,
) -> list[AsyncRetryHandler]:
    """slack-sdk's built-in retry handlers, each bounded by its retry count.

    ``interval_calculator`` sets the back-off between connection and server-error retries
    (default: slack-sdk's exponential back-off with jitter); rate-limit retries wait for
    ``Retry-After``.
    """
    interval = interval_calculator or BackoffRetryIntervalCalculator(backoff_factor=0.5)
    return [
        AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
        AsyncConnectionErrorRetryHandler(max_retry_count=connection_retries, interval_calculator=interval),
        AsyncServerErrorRetryHandler(max_retry_count=server_error_retries, interval_calculator=interval),
    ]


def _with_slash(url: str) -> str:
    return url if url.endswith("/") else url + "/"


class SlackChat:
    """The chat port over the Slack Web API."""

    def __init__(self, client: AsyncWebClient) -> None:
        """Wrap a configured ``AsyncWebClient`` (token, base URL and retry handlers already set)."""
        self.client = client
        self._channel_ids: dict[str, str] | None = None
        self._channel_lock = asyncio.Lock()

    @classmethod
    def create(
        cls,
        token: str,
        base_url: str = DEFAULT_API_URL,
        *,
        timeout: int = 30,
        handlers: list[AsyncRetryHandler] | None = None,
    ) -> SlackChat:
        """A ``SlackChat`` with its own client; ``handlers`` default to :func:`retry_handlers`."""
        client = AsyncWebClient(
            token=token,
            base_url=_with_slash(base_url),
            timeout=timeout,
            retry_handlers=handlers if handlers is not None else retry_handlers(),
        )
        return cls(client)

    @classmethod
    def from_settings(cls, settings: SlackSettings) -> SlackChat | None:
        """Built from the bot token and API URL; ``None`` when no token is set (Slack is off)."""
        token = settings.token.get_secret_value().strip()
        if not token:
            return None
        return cls.create(token, settings.base_url)

    # -- the port ---------------------------------------------------------------------------

    async def send_dm(self, user_id: str, text: str) -> None:
        """Open (or reuse) the bot's DM with ``user_id`` and post ``text`` there."""
        opened = await self._call(lambda: self.client.conversations_open(users=user_id))
        dm_channel = (opened.get("channel") or {}).get("id") or user_id
        await self._call(lambda: self.client.chat_postMessage(channel=dm_channel, text=text))

    async def send_welcome(self, user_id: str, text: str) -> None:
        """The welcome DM: ``text`` and an "Edit profile" button (``rocket_edit_profile``)."""
        from adapters.slack.render import escape
        from adapters.slack.views import EDIT_PROFILE

        button: dict[str, Any] = {"type": "button", "action_id": EDIT_PROFILE, "value": user_id[:2000],
                                  "style": "primary", "text": {"type": "plain_text", "text": "Edit profile"}}
        blocks: list[dict[str, Any]] = [
            {"type": "section", "text": {"type": "mrkdwn", "text": escape(text)[:3000]}},
            {"type": "actions", "elements": [button]},
        ]
        opened = await self._call(lambda: self.client.conversations_open(users=user_id))
        dm_channel = (opened.get("channel") or {}).get("id") or user_id
        await self._call(lambda: self.client.chat_postMessage(channel=dm_channel, text=text, blocks=blocks))

    async def post_to_channel(self, channel: str, text: str) -> None:
        """Post ``text`` to the channel given by id or name."""
        channel_id = await self._resolve(channel)
        await self._call(lambda: self.client.chat_postMessage(channel=channel_id, text=text))

    async def channel_members(self, channel: str) -> list[str]:
        """Every member's user id, following ``response_metadata.next_cursor`` to the last page."""
        channel_id = await self._resolve(channel)
        members: list[str] = []
        async for page in self._pages(
            lambda cursor: self.client.conversations_members(
                channel=channel_id, cursor=cursor, limit=PAGE_LIMIT
            )
        ):
            members.extend(page.get("members") or [])
        return members

    async def list_public_channels(self) -> list[Channel]:
        """Every public, unarchived channel, all pages."""
        channels: list[Channel] = []
        async for page in self._pages(
            lambda cursor: self.client.conversations_list(
                types="public_channel", exclude_archived=True, cursor=cursor, limit=PAGE_LIMIT
            )
        ):
            channels.extend(Channel(c["id"], c.get("name", "")) for c in page.get("channels") or [])
        return channels

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        """``views.open`` with the interaction's ``trigger_id``; the opened view's id."""
        opened = await self._call(lambda: self.client.views_open(trigger_id=trigger_id, view=view))
        return str((opened.get("view") or {}).get("id") or "")

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """``views.publish``: ``view`` becomes ``user_id``'s Home tab."""
        await self._call(lambda: self.client.views_publish(user_id=user_id, view=view))

    async def update_view(self, view_id: str, view: dict[str, Any]) -> None:
        """``views.update`` of the open view ``view_id``."""
        await self._call(lambda: self.client.views_update(view_id=view_id, view=view))

    async def push_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        """``views.push`` over the modal the interaction came from; the pushed view's id."""
        pushed = await self._call(lambda: self.client.views_push(trigger_id=trigger_id, view=view))
        return str((pushed.get("view") or {}).get("id") or "")

    async def send_file(self, user_id: str, filename: str, content: bytes, *, title: str = "",
                        comment: str = "") -> None:
        """Share ``content`` in the bot's DM with ``user_id``, the way Slack uploads files since
        ``files.upload`` was retired: ``files.getUploadURLExternal`` (filename, length) gives an
        upload URL and a file id; the bytes are POSTed to that URL; ``files.completeUploadExternal``
        (``files=[{id, title}]``, ``channel_id`` = the DM) shares the file there. An upload URL that
        does not answer 200 is ``UpstreamError("Slack", "upload failed (HTTP n)")``."""
        opened = await self._call(lambda: self.client.conversations_open(users=user_id))
        dm_channel = str((opened.get("channel") or {}).get("id") or user_id)
        got = await self._call(lambda: self.client.files_getUploadURLExternal(filename=filename,
                                                                             length=len(content)))
        upload_url, file_id = str(got.get("upload_url") or ""), str(got.get("file_id") or "")
        if not upload_url or not file_id:
            raise UpstreamError(SLACK, "files.getUploadURLExternal gave no upload_url or file_id")
        await self._upload(upload_url, filename, content)
        await self._call(lambda: self.client.files_completeUploadExternal(
            files=[{"id": file_id, "title": title or filename}], channel_id=dm_channel,
            initial_comment=comment or None))

    async def _upload(self, url: str, filename: str, content: bytes) -> None:
        """POST the file's bytes to an upload URL from ``files.getUploadURLExternal`` (a
        multipart form with the field ``file``, as Slack documents). Not resent: the URL is
        single-use, so a failure means asking for a new one (running the command again)."""
        timeout = aiohttp.ClientTimeout(total=float(self.client.timeout or 30) * 4)
        form = aiohttp.FormData()
        form.add_field("file", content, filename=filename, content_type="application/octet-stream")
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.post(url, data=form) as response:
                    await response.read()
                    status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            raise UpstreamError(SLACK, "unavailable") from err
        if status != 200:
            raise UpstreamError(SLACK, f"upload failed (HTTP {status})")

    # -- helpers ----------------------------------------------------------------------------

    async def _resolve(self, channel: str) -> str:
        """The channel id for an id or a name (``#`` optional); unknown names are Slack's
        ``channel_not_found``."""
        channel = channel.strip()
        if _CHANNEL_ID.match(channel):
            return channel
        name = channel.lstrip("#").lower()
        async with self._channel_lock:
            if self._channel_ids is None or name not in self._channel_ids:
                self._channel_ids = {c.name.lower(): c.id for c in await self.list_public_channels()}
            channel_id = self._channel_ids.get(name)
        if channel_id is None:
            raise UpstreamError(SLACK, "channel_not_found")
        return channel_id

    async def _pages(
        self, fetch: Callable[[str | None], Awaitable[AsyncSlackResponse]]
    ) -> AsyncIterator[AsyncSlackResponse]:
        cursor: str | None = None
        seen: set[str] = set()
        while True:
            page = await self._call(partial(fetch, cursor))
            yield page
            cursor = ((page.get("response_metadata") or {}).get("next_cursor") or "").strip()
            if not cursor or cursor in seen:  # a repeated cursor would loop forever
                return
            seen.add(cursor)

    async def _call(self, request: Callable[[], Awaitable[AsyncSlackResponse]]) -> AsyncSlackResponse:
        """Run one Web API call, turning failures into ``UpstreamError``."""
        try:
            return await request()
        except SlackApiError as err:
            raise _upstream_error(err) from err
        except (TimeoutError, aiohttp.ClientError, OSError) as err:
            raise UpstreamError(SLACK, "unavailable") from err


def _upstream_error(err: SlackApiError) -> UpstreamError:
    response: Any = err.response
    status = getattr(response, "status_code", None)
    data = getattr(response, "data", None)
    code = data.get("error") if isinstance(data, dict) else None
    if status == 429:
        headers = getattr(response, "headers", None) or {}
        retry_after = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
        try:
            reset_at = time.time() + float(retry_after) if retry_after is not None else None
        except ValueError:
            reset_at = None
        return RateLimited(SLACK, reset_at)
    return UpstreamError(SLACK, str(code or f"HTTP {status}"))
