"""A stateful in-memory Slack workspace implementing ports.chat.Chat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from core.errors import NotFound
from ports.chat import Channel


@dataclass(frozen=True)
class SentFile:
    user_id: str
    filename: str
    content: bytes
    title: str
    comment: str


class FakeChat:
    def __init__(self) -> None:
        self.channels: dict[str, Channel] = {}
        self.channel_member_ids: dict[str, list[str]] = {}
        self.dms: list[tuple[str, str]] = []  # (user id, text)
        self.posts: list[tuple[str, str]] = []  # (channel id, text)
        self.fail_on: dict[str, Exception] = {}
        self.welcomes: list[str] = []  # user ids sent the welcome DM with its button
        self.opened: list[tuple[str, dict[str, Any]]] = []  # (trigger id, view)
        self.homes: list[tuple[str, dict[str, Any]]] = []  # (user id, view)
        self.updated: list[tuple[str, dict[str, Any]]] = []  # (view id, view)
        self.pushed: list[tuple[str, dict[str, Any]]] = []  # (trigger id, view)
        self.files: list[SentFile] = []  # files shared in DMs, oldest first

    def add_channel(self, channel_id: str, name: str, members: list[str] = ()) -> Channel:
        channel = Channel(channel_id, name)
        self.channels[channel_id] = channel
        self.channel_member_ids[channel_id] = list(members)
        return channel

    def _resolve(self, channel: str) -> str:
        if channel in self.channels:
            return channel
        name = channel.lstrip("#")
        for c in self.channels.values():
            if c.name == name:
                return c.id
        raise NotFound(f"Slack has no channel {channel!r}")

    def _enter(self, op: str) -> None:
        if op in self.fail_on:
            raise self.fail_on[op]

    async def send_dm(self, user_id: str, text: str) -> None:
        self._enter("send_dm")
        self.dms.append((user_id, text))

    async def send_welcome(self, user_id: str, text: str) -> None:
        """Recorded in ``dms`` (and ``welcomes``); fails like ``send_dm``."""
        self._enter("send_dm")
        self.dms.append((user_id, text))
        self.welcomes.append(user_id)

    async def post_to_channel(self, channel: str, text: str) -> None:
        self._enter("post_to_channel")
        self.posts.append((self._resolve(channel), text))

    async def channel_members(self, channel: str) -> list[str]:
        self._enter("channel_members")
        return list(self.channel_member_ids[self._resolve(channel)])

    async def list_public_channels(self) -> list[Channel]:
        self._enter("list_public_channels")
        return list(self.channels.values())

    async def open_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        self._enter("open_view")
        self.opened.append((trigger_id, view))
        return f"V{len(self.opened):06d}"

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        self._enter("publish_home")
        self.homes.append((user_id, view))

    async def update_view(self, view_id: str, view: dict[str, Any]) -> None:
        self._enter("update_view")
        self.updated.append((view_id, view))

    async def push_view(self, trigger_id: str, view: dict[str, Any]) -> str:
        self._enter("push_view")
        self.pushed.append((trigger_id, view))
        return f"VP{len(self.pushed):05d}"

    async def send_file(self, user_id: str, filename: str, content: bytes, *, title: str = "",
                        comment: str = "") -> None:
        """Recorded in ``files``; fails like ``send_dm`` when ``fail_on["send_file"]`` is set."""
        self._enter("send_file")
        self.files.append(SentFile(user_id, filename, bytes(content), title, comment))
