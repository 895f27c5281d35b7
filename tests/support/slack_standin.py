"""A stateful stand-in for the Slack Web API on 127.0.0.1, for adapter and end-to-end tests.

Usage::

    # the fixture is named ``slack_standin``; import its function so pytest sees it
    from tests.support.slack_standin import SlackStandIn, slack_standin_fixture  # noqa: F401

    async def test_x(slack_standin: SlackStandIn):
        general = slack_standin.add_channel("general", members=["U1", "U2"])
        chat = SlackChat.create(slack_standin.token, slack_standin.base_url)
        ...
        assert slack_standin.channel_texts("general") == ["hello"]

What it serves (``POST`` or ``GET`` ``{base_url}<method>``; arguments from the query string, a
form body or a JSON body; the bot token from ``Authorization: Bearer …`` or a ``token`` argument):

- ``auth.test``, ``conversations.list`` (``types``, ``exclude_archived``, ``cursor``, ``limit``),
  ``conversations.members`` (``channel``, ``cursor``, ``limit``), ``conversations.open``
  (``users``: one user id; returns a ``D…`` channel, the same one every time),
  ``chat.postMessage`` (``channel``: a channel id, a ``D…`` id, or a user id meaning the bot's DM
  with that user; ``text``, ``blocks``).
- ``views.open`` (``trigger_id``, ``view``: refused with ``invalid_trigger_id`` unless the trigger id
  was handed out by ``new_trigger()`` or looks like Slack's ``digits.digits.hex``, and
  ``expired_trigger_id`` when a trigger id is used twice), ``views.publish`` (``user_id``, ``view``)
  and ``views.update`` (``view_id`` of an opened view, ``view``), ``views.push`` (``trigger_id``
  under the same rules as ``views.open``, ``view``, a modal): each recorded in ``views`` as a
  ``RecordedView`` (method, trigger id / user id / view id, the view as JSON); ``homes(user)``
  gives the Home views published for a user, oldest first.
- Lists are paginated: at most ``page_size`` items a page (default 2, so tests see several pages
  whatever ``limit`` the client asks for) and ``response_metadata.next_cursor`` ("" on the last page).
- Stricter than Slack on purpose: ``chat.postMessage`` and ``conversations.members`` take channel
  *ids* only (a name answers ``channel_not_found``), so a client that forgets to resolve names fails.
- Errors as Slack writes them (HTTP 200, ``{"ok": false, "error": code}``): ``not_authed`` (no
  token), ``invalid_auth`` (wrong token), ``channel_not_found``, ``user_not_found`` (a user id
  that does not look like ``U…``/``W…``), ``is_archived``, ``no_text``, ``invalid_cursor``,
  ``unknown_method`` (HTTP 404).
- ``rate_limit_next(method, retry_after=1, times=1)`` answers the next call(s) of ``method`` with
  HTTP 429, ``Retry-After`` and ``{"ok": false, "error": "ratelimited"}``;
  ``fail_next(method, error)`` answers the next call with that error code.
- Files, as Slack uploads them since ``files.upload`` was retired: ``files.getUploadURLExternal``
  (``filename``, ``length``: a positive whole number; else ``invalid_arguments``) returns
  ``upload_url`` (on this stand-in) and ``file_id``; a POST to ``upload_url`` (multipart with a
  ``file`` field, or the raw bytes) stores the bytes: 404 for an unknown or used URL, 400 when
  their length is not the declared ``length`` (stricter than Slack); ``files.completeUploadExternal``
  (``files``: a JSON list of ``{"id", "title"}``; ``channel_id``: a channel or DM id;
  ``initial_comment``) shares them: ``file_not_found`` for an id never uploaded or shared
  already, ``channel_not_found``. Shared files are in ``files``; ``dm_files(user)`` gives those
  shared in a user's DM, and ``StandInFile.text()`` their content.
- ``response_url(name)`` gives a URL on the stand-in that records JSON POSTed to it (a slash
  command's ``response_url``); read them back from ``responses``.
- Every request is recorded in ``calls`` (method name, arguments, HTTP status answered).
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlparse

import pytest

DEFAULT_TOKEN = "xoxb-standin-0000-token"
_USER_ID = re.compile(r"^[UW][A-Z0-9]+$")


@dataclass
class StandInChannel:
    id: str
    name: str
    members: list[str] = field(default_factory=list)
    is_private: bool = False
    is_archived: bool = False
    is_im: bool = False
    user: str | None = None  # the other party of a DM


@dataclass(frozen=True)
class PostedMessage:
    channel: str  # the channel id it landed in (a D… id for DMs)
    text: str
    blocks: Any = None
    ts: str = ""


@dataclass(frozen=True)
class RecordedView:
    method: str  # views.open, views.publish, views.update, views.push
    target: str  # the trigger id, user id or view id
    view: dict[str, Any]
    view_id: str


@dataclass
class StandInFile:
    id: str
    filename: str
    length: int  # as declared to files.getUploadURLExternal
    content: bytes | None = None  # None until the upload URL received the bytes
    title: str = ""
    channel: str = ""  # where files.completeUploadExternal shared it ("" until then)
    comment: str = ""

    def text(self) -> str:
        return (self.content or b"").decode("utf-8")


@dataclass
class RecordedCall:
    method: str
    args: dict[str, Any]
    status: int


@dataclass(frozen=True)
class RecordedResponse:
    name: str
    body: Any


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class SlackStandIn:
    """A small Slack workspace served over HTTP; see the module docstring for what it answers."""

    def __init__(self, token: str = DEFAULT_TOKEN, page_size: int = 2) -> None:
        self.token = token
        self.page_size = page_size
        self.channels: dict[str, StandInChannel] = {}
        self.messages: list[PostedMessage] = []
        self.calls: list[RecordedCall] = []
        self.responses: list[RecordedResponse] = []
        self.views: list[RecordedView] = []
        self.uploads: dict[str, StandInFile] = {}  # file id -> file, from getUploadURLExternal on
        self._used_triggers: set[str] = set()
        self._failures: dict[str, list[tuple[int, str, dict[str, str]]]] = {}
        self._lock = threading.RLock()
        self._counter = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> SlackStandIn:
        self.port = free_port()
        standin = self

        class Handler(_Handler):
            owner = standin

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SlackStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """The Web API base URL (``SLACK_API_URL``), with its trailing slash."""
        return f"{self.root_url}/api/"

    def env(self) -> dict[str, str]:
        """``SLACK_API_TOKEN`` and ``SLACK_API_URL`` pointing at this stand-in."""
        return {"SLACK_API_TOKEN": self.token, "SLACK_API_URL": self.base_url}

    def response_url(self, name: str = "reply") -> str:
        """A URL that records what is POSTed to it in ``responses`` under ``name``."""
        return f"{self.root_url}/responses/{name}"

    # -- state setup ----------------------------------------------------------------------------

    def _new_id(self, prefix: str) -> str:
        with self._lock:
            self._counter += 1
            return f"{prefix}{self._counter:08d}"

    def add_channel(
        self,
        name: str,
        members: Iterable[str] = (),
        *,
        channel_id: str | None = None,
        private: bool = False,
        archived: bool = False,
    ) -> str:
        """Create a channel and return its id (``C…``, or ``G…`` when private)."""
        cid = channel_id or self._new_id("G" if private else "C")
        with self._lock:
            self.channels[cid] = StandInChannel(cid, name, list(members), private, archived)
        return cid

    def add_members(self, channel: str, *user_ids: str) -> None:
        with self._lock:
            self._channel(channel).members.extend(user_ids)

    def rate_limit_next(self, method: str, retry_after: int = 1, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` with HTTP 429 and ``Retry-After``."""
        with self._lock:
            queue = self._failures.setdefault(method, [])
            for _ in range(times):
                queue.append((429, "ratelimited", {"Retry-After": str(retry_after)}))

    def fail_next(self, method: str, error: str, status: int = 200) -> None:
        """Answer the next call of ``method`` with ``{"ok": false, "error": error}``."""
        with self._lock:
            self._failures.setdefault(method, []).append((status, error, {}))

    # -- state queries --------------------------------------------------------------------------

    def _channel(self, id_or_name: str) -> StandInChannel:
        if id_or_name in self.channels:
            return self.channels[id_or_name]
        for channel in self.channels.values():
            if channel.name == id_or_name.lstrip("#"):
                return channel
        raise KeyError(id_or_name)

    def channel_texts(self, id_or_name: str) -> list[str]:
        """Texts posted to a channel (by id or name), oldest first."""
        with self._lock:
            cid = self._channel(id_or_name).id
            return [m.text for m in self.messages if m.channel == cid]

    def dm_texts(self, user_id: str) -> list[str]:
        """Texts the bot sent to ``user_id`` in their DM, oldest first."""
        with self._lock:
            ims = {c.id for c in self.channels.values() if c.is_im and c.user == user_id}
            return [m.text for m in self.messages if m.channel in ims]

    @property
    def files(self) -> list[StandInFile]:
        """Files shared by ``files.completeUploadExternal``, oldest first."""
        with self._lock:
            return [f for f in self.uploads.values() if f.channel]

    def dm_files(self, user_id: str) -> list[StandInFile]:
        """Files shared in the bot's DM with ``user_id``, oldest first."""
        with self._lock:
            ims = {c.id for c in self.channels.values() if c.is_im and c.user == user_id}
            return [f for f in self.files if f.channel in ims]

    def homes(self, user_id: str) -> list[dict[str, Any]]:
        """Home tab views published for ``user_id``, oldest first."""
        with self._lock:
            return [v.view for v in self.views if v.method == "views.publish" and v.target == user_id]

    def opened(self) -> list[RecordedView]:
        """Every ``views.open`` accepted, oldest first."""
        with self._lock:
            return [v for v in self.views if v.method == "views.open"]

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    # -- the API --------------------------------------------------------------------------------

    def handle(self, method: str, args: dict[str, Any], bearer: str | None) -> tuple[int, dict, dict]:
        """Answer one Web API call: (HTTP status, JSON body, extra headers)."""
        with self._lock:
            status, body, headers = self._answer(method, args, bearer)
            self.calls.append(RecordedCall(method, dict(args), status))
            return status, body, headers

    def _answer(self, method: str, args: dict[str, Any], bearer: str | None) -> tuple[int, dict, dict]:
        route = _ROUTES.get(method)
        if route is None:
            return 404, {"ok": False, "error": "unknown_method"}, {}
        token = bearer or args.get("token")
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}
        if token != self.token:
            return 200, {"ok": False, "error": "invalid_auth"}, {}
        queue = self._failures.get(method)
        if queue:
            status, error, headers = queue.pop(0)
            return status, {"ok": False, "error": error}, headers
        try:
            return 200, {"ok": True, **route(self, args)}, {}
        except _SlackError as err:
            return 200, {"ok": False, "error": err.code}, {}

    def _page(self, items: list[Any], args: dict[str, Any]) -> tuple[list[Any], str]:
        cursor = str(args.get("cursor") or "")
        try:
            offset = base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("offset:")
            start = int(offset) if cursor else 0
        except ValueError as err:
            raise _SlackError("invalid_cursor") from err
        limit = int(args.get("limit") or self.page_size) or self.page_size
        size = min(limit, self.page_size)
        end = start + size
        next_cursor = base64.urlsafe_b64encode(f"offset:{end}".encode()).decode() if end < len(items) else ""
        return items[start:end], next_cursor

    def _conversations_list(self, args: dict[str, Any]) -> dict[str, Any]:
        types = set(str(args.get("types") or "public_channel").split(","))
        exclude_archived = str(args.get("exclude_archived", "")).lower() in ("1", "true")
        selected = [
            c
            for c in self.channels.values()
            if not c.is_im
            and (("private_channel" in types) if c.is_private else ("public_channel" in types))
            and not (exclude_archived and c.is_archived)
        ]
        page, cursor = self._page(selected, args)
        channels = [
            {
                "id": c.id,
                "name": c.name,
                "is_channel": not c.is_private,
                "is_private": c.is_private,
                "is_archived": c.is_archived,
                "num_members": len(c.members),
            }
            for c in page
        ]
        return {"channels": channels, "response_metadata": {"next_cursor": cursor}}

    def _conversations_members(self, args: dict[str, Any]) -> dict[str, Any]:
        channel = self.channels.get(str(args.get("channel") or ""))
        if channel is None:
            raise _SlackError("channel_not_found")
        page, cursor = self._page(list(channel.members), args)
        return {"members": page, "response_metadata": {"next_cursor": cursor}}

    def _im_with(self, user_id: str) -> StandInChannel:
        if not _USER_ID.match(user_id):
            raise _SlackError("user_not_found")
        for c in self.channels.values():
            if c.is_im and c.user == user_id:
                return c
        cid = self._new_id("D")
        channel = StandInChannel(cid, "", [user_id], is_private=True, is_im=True, user=user_id)
        self.channels[cid] = channel
        return channel

    def _conversations_open(self, args: dict[str, Any]) -> dict[str, Any]:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if len(users) != 1:
            raise _SlackError("users_list_not_supplied" if not users else "not_supported")
        return {"channel": {"id": self._im_with(users[0]).id}}

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        target = str(args.get("channel") or "")
        text = args.get("text")
        blocks = args.get("blocks")
        if not text and not blocks:
            raise _SlackError("no_text")
        if _USER_ID.match(target):
            channel = self._im_with(target)
        else:
            channel = self.channels.get(target)
            if channel is None:
                raise _SlackError("channel_not_found")
        if channel.is_archived:
            raise _SlackError("is_archived")
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        ts = f"{1_700_000_000 + len(self.messages)}.000100"
        self.messages.append(PostedMessage(channel.id, str(text or ""), blocks, ts))
        return {"channel": channel.id, "ts": ts, "message": {"text": text or "", "ts": ts}}

    @staticmethod
    def _view_arg(args: dict[str, Any]) -> dict[str, Any]:
        view = args.get("view")
        if isinstance(view, str):
            try:
                view = json.loads(view)
            except ValueError as err:
                raise _SlackError("invalid_arguments") from err
        if not isinstance(view, dict) or view.get("type") not in ("modal", "home"):
            raise _SlackError("invalid_arguments")
        if not isinstance(view.get("blocks"), list):
            raise _SlackError("invalid_arguments")
        return view

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._modal_on_trigger("views.open", args)

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        return self._modal_on_trigger("views.push", args)

    def _modal_on_trigger(self, method: str, args: dict[str, Any]) -> dict[str, Any]:
        """``views.open`` / ``views.push``: a modal shown on a fresh, unused trigger id."""
        trigger = str(args.get("trigger_id") or "")
        if not re.match(r"^[0-9]+\.[0-9]+\.[0-9a-z]+$", trigger):
            raise _SlackError("invalid_trigger_id")
        if trigger in self._used_triggers:
            raise _SlackError("expired_trigger_id")
        view = self._view_arg(args)
        if view.get("type") != "modal":
            raise _SlackError("invalid_arguments")
        self._used_triggers.add(trigger)
        view_id = self._new_id("V")
        self.views.append(RecordedView(method, trigger, view, view_id))
        return {"view": {**view, "id": view_id}}

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        user = str(args.get("user_id") or "")
        if not _USER_ID.match(user):
            raise _SlackError("user_not_found")
        view = self._view_arg(args)
        if view.get("type") != "home":
            raise _SlackError("invalid_arguments")
        view_id = self._new_id("V")
        self.views.append(RecordedView("views.publish", user, view, view_id))
        return {"view": {**view, "id": view_id}}

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        view_id = str(args.get("view_id") or "")
        if not any(v.view_id == view_id for v in self.views):
            raise _SlackError("not_found")
        view = self._view_arg(args)
        self.views.append(RecordedView("views.update", view_id, view, view_id))
        return {"view": {**view, "id": view_id}}

    def _files_get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        filename = str(args.get("filename") or "")
        try:
            length = int(str(args.get("length") or ""))
        except ValueError as err:
            raise _SlackError("invalid_arguments") from err
        if not filename or length <= 0:
            raise _SlackError("invalid_arguments")
        file_id = self._new_id("F")
        self.uploads[file_id] = StandInFile(file_id, filename, length)
        return {"upload_url": f"{self.root_url}/upload/{file_id}", "file_id": file_id}

    def receive_upload(self, file_id: str, content: bytes) -> int:
        """The upload URL: store the bytes once; the HTTP status to answer."""
        with self._lock:
            pending = self.uploads.get(file_id)
            if pending is None or pending.content is not None:
                return 404
            if len(content) != pending.length:
                return 400
            pending.content = content
            return 200

    def _files_complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        raw = args.get("files")
        try:
            files = json.loads(raw) if isinstance(raw, str) else raw
        except ValueError as err:
            raise _SlackError("invalid_arguments") from err
        if not isinstance(files, list) or not files or not all(isinstance(f, dict) for f in files):
            raise _SlackError("invalid_arguments")
        channel = self.channels.get(str(args.get("channel_id") or ""))
        if channel is None:
            raise _SlackError("channel_not_found")
        chosen = [self.uploads.get(str(f.get("id") or "")) for f in files]
        if any(f is None or f.content is None or f.channel for f in chosen):
            raise _SlackError("file_not_found")
        shared = []
        for wanted, found in zip(files, chosen, strict=True):
            assert found is not None
            found.title = str(wanted.get("title") or found.filename)
            found.channel = channel.id
            found.comment = str(args.get("initial_comment") or "")
            shared.append({"id": found.id, "title": found.title})
        return {"files": shared}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        return {"user_id": "U0STANDINBOT", "team_id": "T0STANDIN", "bot_id": "B0STANDIN"}

    def record_response(self, name: str, body: Any) -> None:
        with self._lock:
            self.responses.append(RecordedResponse(name, body))


class _SlackError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


_ROUTES = {
    "auth.test": SlackStandIn._auth_test,
    "conversations.list": SlackStandIn._conversations_list,
    "conversations.members": SlackStandIn._conversations_members,
    "conversations.open": SlackStandIn._conversations_open,
    "chat.postMessage": SlackStandIn._chat_post_message,
    "views.open": SlackStandIn._views_open,
    "views.publish": SlackStandIn._views_publish,
    "views.update": SlackStandIn._views_update,
    "views.push": SlackStandIn._views_push,
    "files.getUploadURLExternal": SlackStandIn._files_get_upload_url,
    "files.completeUploadExternal": SlackStandIn._files_complete_upload,
}


def _uploaded_bytes(content_type: str, raw: bytes) -> bytes:
    """The file of an upload: the ``file`` part of a multipart form, else the raw body."""
    if not content_type.lower().startswith("multipart/form-data"):
        return raw
    from email.parser import BytesParser
    from email.policy import HTTP

    head = b"Content-Type: " + content_type.encode() + b"\r\n\r\n"
    message = BytesParser(policy=HTTP).parsebytes(head + raw)
    for part in message.iter_parts():
        if part.get_param("name", header="content-disposition") == "file":
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    return b""


class _Handler(BaseHTTPRequestHandler):
    owner: SlackStandIn

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        return

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def _dispatch(self) -> None:
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if url.path.startswith("/responses/"):
            try:
                body: Any = json.loads(raw or b"null")
            except ValueError:
                body = raw.decode("utf-8", "replace")
            self.owner.record_response(url.path.removeprefix("/responses/"), body)
            self._send(200, {"ok": True}, {})
            return
        if url.path.startswith("/upload/"):
            content = _uploaded_bytes(self.headers.get("Content-Type") or "", raw)
            status = self.owner.receive_upload(url.path.removeprefix("/upload/"), content)
            self._send(status, {"ok": status == 200}, {})
            return
        if not url.path.startswith("/api/"):
            self._send(404, {"ok": False, "error": "unknown_method"}, {})
            return
        args: dict[str, Any] = dict(parse_qsl(url.query))
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if raw and content_type == "application/json":
            args.update(json.loads(raw))
        elif raw:
            args.update(parse_qsl(raw.decode("utf-8")))
        auth = self.headers.get("Authorization") or ""
        bearer = auth[len("Bearer ") :].strip() if auth.startswith("Bearer ") else None
        status, body, headers = self.owner.handle(url.path.removeprefix("/api/"), args, bearer)
        self._send(status, body, headers)

    def _send(self, status: int, body: dict, headers: dict[str, str]) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture(name="slack_standin")
def slack_standin_fixture() -> Iterator[SlackStandIn]:
    """A started, empty stand-in workspace; stopped after the test."""
    with SlackStandIn() as standin:
        yield standin
