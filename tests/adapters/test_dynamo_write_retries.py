"""DynamoDB writes are resent only when the error proves they were not applied.

A small HTTP proxy on 127.0.0.1 sits between ``DynamoStore`` and moto's server and injects
faults into the next N write requests (matched on ``X-Amz-Target``):

- ``drop``: forward the request to moto (the write is applied), then close the connection
  without answering: the answer is lost;
- ``reset``: the same, but the connection is reset (RST) instead of closed;
- ``throttle``: answer 400 ``ThrottlingException`` without forwarding (nothing applied).

Results are read back from moto directly (a second store on moto's own endpoint).
"""

from __future__ import annotations

import http.client
import json
import socket
import struct
import threading
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import aiohttp
import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from adapters.dynamo import DynamoStore
from adapters.dynamo.store import _not_applied
from core.errors import Conflict, StorageUnavailable
from core.models import User
from tests.support.moto_server import moto_endpoint  # noqa: F401  (session fixture)

TARGET_PREFIX = "DynamoDB_20120810."
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class FaultyProxy:
    """Forwards to ``upstream``; applies queued faults to requests whose target matches."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.lock = threading.Lock()
        self.faults: list[tuple[str, frozenset[str]]] = []
        self.seen: list[str] = []  # operation of every request received, in order
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def fail_next(self, fault: str, count: int, operations: set[str]) -> None:
        with self.lock:
            self.faults.extend([(fault, frozenset(operations))] * count)

    def take_fault(self, operation: str) -> str | None:
        with self.lock:
            self.seen.append(operation)
            if self.faults and operation in self.faults[0][1]:
                return self.faults.pop(0)[0]
            return None

    def forward(self, path: str, headers: list[tuple[str, str]], body: bytes
                ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=10)
        try:
            conn.putrequest("POST", path, skip_host=True, skip_accept_encoding=True)
            for name, value in headers:
                if name.lower() not in HOP_HEADERS:
                    conn.putheader(name, value)
            conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, [(k, v) for k, v in resp.getheaders()
                                 if k.lower() not in HOP_HEADERS], data
        finally:
            conn.close()

    def __enter__(self) -> FaultyProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def _handler_for(proxy: FaultyProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            operation = self.headers.get("X-Amz-Target", "").removeprefix(TARGET_PREFIX)
            fault = proxy.take_fault(operation)
            if fault == "throttle":
                self._answer(400, [("Content-Type", "application/x-amz-json-1.0")], json.dumps({
                    "__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException",
                    "message": "Rate of requests exceeds the allowed throughput.",
                }).encode())
                return
            status, headers, data = proxy.forward(self.path, list(self.headers.items()), body)
            if fault == "drop":
                self.close_connection = True  # applied upstream; the answer is never sent
                return
            if fault == "reset":
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
                self.close_connection = True
                return
            self._answer(status, headers, data)

        def _answer(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
            self.send_response(status)
            for name, value in headers:
                if name.lower() not in {"server", "date"}:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            return

    return Handler


@dataclass
class Rig:
    proxy: FaultyProxy
    via_proxy: DynamoStore
    direct: DynamoStore


async def _open(endpoint: str, tables: dict[str, str]) -> DynamoStore:
    return await DynamoStore.open(endpoint_url=endpoint, region="us-east-1", access_key="testing",
                                  secret_key="testing", tables=tables)


async def _outcome(call: Awaitable[object]) -> object:
    """The call's result, or the exception it raised (so the stored state is checked first)."""
    try:
        return await call
    except Exception as exc:  # noqa: BLE001
        return exc


@pytest.fixture
def proxy(moto_endpoint: str) -> Iterator[FaultyProxy]:  # noqa: F811
    with FaultyProxy(moto_endpoint) as p:
        yield p


@pytest.fixture
async def rig(proxy: FaultyProxy, moto_endpoint: str) -> AsyncIterator[Rig]:  # noqa: F811
    prefix = uuid.uuid4().hex[:8]
    tables = {t: f"{prefix}_{t}" for t in ("users", "teams", "projects", "leases")}
    direct = await _open(moto_endpoint, tables)
    try:
        via_proxy = await _open(proxy.url, tables)
        try:
            yield Rig(proxy, via_proxy, direct)
        finally:
            await via_proxy.close()
    finally:
        await direct.close()


async def test_increment_with_lost_answer_is_unavailable_and_applied_once(rig: Rig) -> None:
    await rig.direct.store(User(slack_id="U1", karma=5))
    rig.proxy.fail_next("drop", 1, {"UpdateItem"})

    outcome = await _outcome(rig.via_proxy.increment(User, "U1", "karma", 2))

    stored = await rig.direct.retrieve(User, "U1")
    assert (stored.karma, stored.version) == (7, 2)  # added once, not resent
    assert rig.proxy.seen.count("UpdateItem") == 1
    assert isinstance(outcome, StorageUnavailable) and "outcome is unknown" in str(outcome)


async def test_increment_with_reset_connection_is_not_resent(rig: Rig) -> None:
    """A connection reset (RST) after the request was sent: not resent either."""
    await rig.direct.store(User(slack_id="U1", karma=5))
    rig.proxy.fail_next("reset", 1, {"UpdateItem"})

    outcome = await _outcome(rig.via_proxy.increment(User, "U1", "karma", 2))

    assert (await rig.direct.retrieve(User, "U1")).karma == 7
    assert rig.proxy.seen.count("UpdateItem") == 1
    assert isinstance(outcome, StorageUnavailable) and "outcome is unknown" in str(outcome)


async def test_throttled_increment_is_resent_and_applied_once(rig: Rig) -> None:
    await rig.direct.store(User(slack_id="U1", karma=5))
    rig.proxy.fail_next("throttle", 1, {"UpdateItem"})

    assert await rig.via_proxy.increment(User, "U1", "karma", 2) == 7

    assert rig.proxy.seen.count("UpdateItem") == 2
    stored = await rig.direct.retrieve(User, "U1")
    assert (stored.karma, stored.version) == (7, 2)


async def test_write_throttled_on_every_attempt_gives_up_unapplied(rig: Rig) -> None:
    await rig.direct.store(User(slack_id="U1", karma=5))
    rig.proxy.fail_next("throttle", 10, {"UpdateItem"})

    with pytest.raises(StorageUnavailable, match="was not applied"):
        await rig.via_proxy.increment(User, "U1", "karma", 2)

    assert rig.proxy.seen.count("UpdateItem") == 3
    assert (await rig.direct.retrieve(User, "U1")).karma == 5


@pytest.mark.parametrize("version", [0, 1], ids=["create", "compare-and-set"])
async def test_store_with_lost_answer_is_unavailable_not_conflict(rig: Rig, version: int) -> None:
    if version:
        await rig.direct.store(User(slack_id="U1", name="old"))
    rig.proxy.fail_next("drop", 1, {"PutItem"})

    with pytest.raises(StorageUnavailable, match="outcome is unknown"):
        await rig.via_proxy.store(User(slack_id="U1", name="new", version=version))

    assert rig.proxy.seen.count("PutItem") == 1
    stored = await rig.direct.retrieve(User, "U1")
    assert (stored.name, stored.version) == ("new", version + 1)


async def test_throttled_create_is_resent_without_false_conflict(rig: Rig) -> None:
    rig.proxy.fail_next("throttle", 2, {"PutItem"})

    created = await rig.via_proxy.store(User(slack_id="U1", name="new"))

    assert created.version == 1
    assert rig.proxy.seen.count("PutItem") == 3
    assert (await rig.direct.retrieve(User, "U1")).name == "new"
    with pytest.raises(Conflict):  # the condition still holds on later writes
        await rig.via_proxy.store(User(slack_id="U1", name="again"))


def test_only_errors_that_prove_nothing_was_sent_count_as_not_applied() -> None:
    """aiobotocore raises EndpointConnectionError for any aiohttp connection error, including
    one met after the request was sent, so only a failed connect (ClientConnectorError) counts."""
    url = "http://127.0.0.1:1/"
    refused = aiohttp.ClientConnectorError(aiohttp.client_reqrep.ConnectionKey(
        "127.0.0.1", 1, False, True, None, None, None), ConnectionRefusedError(111, "refused"))
    assert _not_applied(EndpointConnectionError(endpoint_url=url, error=refused))
    assert _not_applied(ConnectTimeoutError(endpoint_url=url, error=TimeoutError()))
    reset_mid_request = aiohttp.ClientOSError(104, "Connection reset by peer")
    assert not _not_applied(EndpointConnectionError(endpoint_url=url, error=reset_mid_request))
    assert not _not_applied(ReadTimeoutError(endpoint_url=url, error=TimeoutError()))
    assert not _not_applied(ConnectionClosedError(endpoint_url=url, error=OSError()))
