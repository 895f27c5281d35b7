"""The chat port: what the core asks of Slack, in domain words.

Implementations raise ``IntegrationUnavailable("Slack")`` when not configured and
``UpstreamError("Slack", …)`` when Slack refuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Channel:
    id: str
    name: str


class Chat(Protocol):
    async def send_dm(self, user_id: str, text: str) -> None:
        """Send ``text`` as a direct message to the Slack user ``user_id``."""
        ...

    async def send_welcome(self, user_id: str, text: str) -> None:
        """Like ``send_dm``, plus a button that opens the profile editor (Slack: a Block Kit
        button with action id ``rocket_edit_profile``)."""
        ...

    async def post_to_channel(self, channel: str, text: str) -> None:
        """Post ``text`` to a channel given by id (``C…``) or name (with or without ``#``)."""
        ...

    async def channel_members(self, channel: str) -> list[str]:
        """Slack user ids of every member of the channel (id or name), all pages."""
        ...

    async def list_public_channels(self) -> list[Channel]:
        """Every public, unarchived channel, all pages."""
        ...

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        """Open ``view`` (a Block Kit modal) for the interaction ``trigger_id`` (``views.open``);
        the new view's id."""
        ...

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """Publish ``view`` as the Home tab of ``user_id`` (``views.publish``)."""
        ...

    async def update_view(self, view_id: str, view: dict[str, Any]) -> None:
        """Replace the open view ``view_id`` with ``view`` (``views.update``)."""
        ...

    async def push_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        """Put ``view`` on top of the modal the interaction ``trigger_id`` came from
        (``views.push``); the new view's id. Closing it shows that modal again."""

    async def send_file(self, user_id: str, filename: str, content: bytes, *, title: str = "",
                        comment: str = "") -> None:
        """Share ``content`` as a file named ``filename`` (titled ``title``, with ``comment`` as
        its message) in the bot's DM with ``user_id``. Slack: ``files.getUploadURLExternal``,
        a POST of the bytes to the upload URL it returns, then ``files.completeUploadExternal``
        with the DM's channel id (scope ``files:write``)."""
        ...
