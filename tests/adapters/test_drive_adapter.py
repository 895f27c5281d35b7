"""GoogleDrive over real HTTP: google-auth service-account credentials and googleapiclient against a
local, stateful stand-in of Google's token endpoint and the Drive v3 permissions API (reached via
``GOOGLE_API_URL`` → ``client_options.api_endpoint``), plus the prebuilt-``service`` path with
googleapiclient's ``HttpMockSequence``.

The RSA key of the service account is generated at test time; nothing secret is committed.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, parse_qsl, urlparse

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from googleapiclient.discovery import build
from googleapiclient.http import HttpMockSequence

from adapters.gdrive.drive import RECORD_PREFIX, GoogleDrive, email_token, read_ledger
from core.errors import UpstreamError
from entrypoints.settings import load_settings
from tests.support.slack_standin import free_port

FOLDER = "folder-1"
SA_EMAIL = "rocket-bot@rocket-test.iam.gserviceaccount.com"
SUBJECT = "admin@example.com"
OWNER = {"id": "p-owner", "emailAddress": "owner@example.com", "role": "owner", "type": "user"}


def drive_from_env(env, **options):
    """The adapter as the container builds it: settings from ``env``, then ``from_settings``."""
    return GoogleDrive.from_settings(load_settings(env).drive, **options)


# -- the stand-in -------------------------------------------------------------------------------


def _b64decode(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _set_event() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class DriveStandIn:
    """Token endpoint + Drive v3 files/permissions, with state, on 127.0.0.1."""

    public_key: Any
    page_size: int = 2
    permissions: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    app_properties: dict[str, dict[str, str]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)
    token_claims: list[dict[str, Any]] = field(default_factory=list)
    issued_token: str = "ya29.standin-token"
    port: int = 0
    _next_id: int = 0
    # Drive requests wait until ``gate`` is set; ``arrived`` is set when one is waiting.
    gate: threading.Event = field(default_factory=lambda: _set_event())
    arrived: threading.Event = field(default_factory=threading.Event)
    # When set, the first ``stuck_pages`` permission pages all answer this nextPageToken.
    stuck_token: str | None = None
    stuck_pages: int = 50

    @property
    def root(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def add_folder(self, folder: str, permissions: list[dict[str, str]], ledger: list[str] = ()) -> None:
        self.permissions[folder] = [dict(p) for p in permissions]
        tokens = sorted(email_token(e) for e in ledger)
        self.app_properties[folder] = {f"{RECORD_PREFIX}00": ",".join(tokens)} if tokens else {}

    def emails(self, folder: str) -> dict[str, str]:
        return {p["emailAddress"]: p["role"] for p in self.permissions[folder]}

    def writes(self) -> list[tuple[str, str, Any]]:
        """(method, path, body) of every request that changes state."""
        return [(c.method, c.path, c.body) for c in self.calls if c.method != "GET"]

    # request handling: returns (status, json body)
    def handle(self, method: str, path: str, query: dict[str, str], body: Any, auth: str) -> tuple[int, Any]:
        if path == "/token":
            return self._token(body)
        self.arrived.set()
        assert self.gate.wait(timeout=10), "the test never opened the gate"
        self.calls.append(Call(method, path, query, body))
        if auth != f"Bearer {self.issued_token}":
            return 401, {"error": {"code": 401, "message": "Request had invalid authentication credentials."}}
        parts = path.removeprefix("/drive/v3/").split("/")
        if parts[0] != "files" or len(parts) < 2 or parts[1] not in self.permissions:
            return 404, {"error": {"code": 404, "message": f"File not found: {parts[1:2]}."}}
        folder = parts[1]
        if len(parts) == 2 and method == "GET":
            return 200, {"appProperties": dict(self.app_properties[folder])}
        if len(parts) == 2 and method == "PATCH":
            props = self.app_properties[folder]
            for key, value in (body.get("appProperties") or {}).items():
                if value is None:
                    props.pop(key, None)
                else:
                    assert len(key.encode()) + len(value.encode()) <= 124, "Drive's property size limit"
                    props[key] = value
            return 200, {"appProperties": dict(props)}
        perms = self.permissions[folder]
        if len(parts) == 3 and method == "GET":
            start = int(query.get("pageToken") or 0)
            end = start + min(int(query.get("pageSize") or 100), self.page_size)
            page: dict[str, Any] = {"permissions": perms[start:end]}
            if end < len(perms):
                page["nextPageToken"] = str(end)
            if self.stuck_token is not None and self.stuck_pages > 0:
                self.stuck_pages -= 1
                page["nextPageToken"] = self.stuck_token
            return 200, page
        if len(parts) == 3 and method == "POST":
            self._next_id += 1
            created = {"id": f"p-new-{self._next_id}", "role": body["role"], "type": body["type"]}
            created["emailAddress"] = body["emailAddress"]
            perms.append(created)
            return 200, {"id": created["id"]}
        if len(parts) == 4 and method == "DELETE":
            kept = [p for p in perms if p["id"] != parts[3]]
            if len(kept) == len(perms):
                return 404, {"error": {"code": 404, "message": "Permission not found."}}
            perms[:] = kept
            return 204, None
        return 400, {"error": {"code": 400, "message": "unsupported"}}

    def _token(self, form: dict[str, str]) -> tuple[int, Any]:
        assertion = form.get("assertion", "")
        header, payload, signature = assertion.split(".")
        try:
            self.public_key.verify(
                _b64decode(signature), f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            return 400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
        self.token_claims.append(json.loads(_b64decode(payload)))
        return 200, {"access_token": self.issued_token, "expires_in": 3600, "token_type": "Bearer"}


def _serve(standin: DriveStandIn) -> ThreadingHTTPServer:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return

        def _any(self) -> None:
            url = urlparse(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            if url.path == "/token":
                body: Any = dict(parse_qsl(raw.decode()))
            else:
                body = json.loads(raw) if raw else None
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            with lock:
                status, answer = standin.handle(
                    self.command, url.path, query, body, self.headers.get("Authorization", "")
                )
            payload = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PATCH = do_DELETE = _any  # noqa: N815

    standin.port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", standin.port), Handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def standin(private_key: rsa.RSAPrivateKey) -> Iterator[DriveStandIn]:
    standin = DriveStandIn(public_key=private_key.public_key())
    server = _serve(standin)
    try:
        yield standin
    finally:
        server.shutdown()
        server.server_close()


def service_account_json(private_key: rsa.RSAPrivateKey, token_uri: str) -> str:
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return json.dumps(
        {
            "type": "service_account",
            "project_id": "rocket-test",
            "private_key_id": "test-key-1",
            "private_key": pem,
            "client_email": SA_EMAIL,
            "client_id": "1234567890",
            "token_uri": token_uri,
        }
    )


@pytest.fixture
def env(standin: DriveStandIn, private_key: rsa.RSAPrivateKey) -> dict[str, str]:
    return {
        "GCP_SERVICE_ACCOUNT_CREDENTIALS": service_account_json(private_key, standin.root + "token"),
        "GCP_SERVICE_ACCOUNT_SUBJECT": SUBJECT,
        "GOOGLE_API_URL": standin.root,
    }


@pytest.fixture
def drive(env: dict[str, str]) -> GoogleDrive:
    built = drive_from_env(env, timeout=5)
    assert built is not None
    return built


def perm(pid: str, email: str, role: str = "writer") -> dict[str, str]:
    return {"id": pid, "emailAddress": email, "role": role, "type": "user"}


PERMS = f"/drive/v3/files/{FOLDER}/permissions"
FILE = f"/drive/v3/files/{FOLDER}"


# -- sync: the exact requests ---------------------------------------------------------------------


async def test_new_members_get_writer_permissions(drive: GoogleDrive, standin: DriveStandIn) -> None:
    foreign = perm("p-dave", "Dave@Example.com", "reader")
    standin.add_folder(FOLDER, [OWNER, foreign, perm("p-erin", "erin@example.com")])

    result = await drive.sync_folder(FOLDER, ["Alice@Example.com", "bob@example.com", "dave@example.com"])

    assert result.added == {"alice@example.com", "bob@example.com"}
    assert result.removed == set()
    ledger = ",".join(sorted([email_token("alice@example.com"), email_token("bob@example.com")]))
    assert standin.writes() == [
        ("PATCH", FILE, {"appProperties": {f"{RECORD_PREFIX}00": ledger}}),
        ("POST", PERMS, {"type": "user", "role": "writer", "emailAddress": "alice@example.com"}),
        ("POST", PERMS, {"type": "user", "role": "writer", "emailAddress": "bob@example.com"}),
    ]
    creates = [c for c in standin.calls if c.method == "POST"]
    assert all(c.query["sendNotificationEmail"] == "false" for c in creates)
    assert all(c.query["supportsAllDrives"] == "true" for c in creates)
    listed = [c for c in standin.calls if c.method == "GET" and c.path == PERMS]
    assert len(listed) == 2  # three permissions at two a page
    assert "emailAddress" in listed[0].query["fields"] and "role" in listed[0].query["fields"]
    # Dave already had access (someone else shared it): untouched, not claimed by Rocket.
    assert standin.emails(FOLDER)["Dave@Example.com"] == "reader"
    assert email_token("dave@example.com") not in read_ledger(standin.app_properties[FOLDER])


async def test_removed_members_lose_only_what_rocket_shared(
    drive: GoogleDrive, standin: DriveStandIn
) -> None:
    standin.add_folder(
        FOLDER,
        [
            OWNER,
            perm("p-bob", "bob@example.com"),
            perm("p-carol", "Carol@Example.com"),
            perm("p-dave", "dave@x.org"),
        ],
        ledger=["bob@example.com", "carol@example.com"],
    )

    result = await drive.sync_folder(FOLDER, ["carol@example.com"])

    assert result.added == set()
    assert result.removed == {"bob@example.com"}
    assert standin.writes() == [
        ("DELETE", f"{PERMS}/p-bob", None),
        ("PATCH", FILE, {"appProperties": {f"{RECORD_PREFIX}00": email_token("carol@example.com")}}),
    ]
    assert set(standin.emails(FOLDER)) == {"owner@example.com", "Carol@Example.com", "dave@x.org"}


async def test_permission_rocket_did_not_create_is_left_alone(
    drive: GoogleDrive, standin: DriveStandIn
) -> None:
    standin.add_folder(FOLDER, [OWNER, perm("p-dave", "dave@x.org"), perm("p-eve", "eve@x.org", "commenter")])

    result = await drive.sync_folder(FOLDER, [])

    assert (result.added, result.removed) == (set(), set())
    assert standin.writes() == []
    assert set(standin.emails(FOLDER)) == {"owner@example.com", "dave@x.org", "eve@x.org"}


async def test_owner_is_never_removed_even_if_recorded(drive: GoogleDrive, standin: DriveStandIn) -> None:
    standin.add_folder(FOLDER, [OWNER], ledger=["owner@example.com"])

    result = await drive.sync_folder(FOLDER, [])

    assert result.removed == set()
    assert "owner@example.com" in standin.emails(FOLDER)
    assert standin.writes() == [("PATCH", FILE, {"appProperties": {f"{RECORD_PREFIX}00": None}})]


# -- sync: state over several runs ----------------------------------------------------------------


async def test_membership_changes_over_time(drive: GoogleDrive, standin: DriveStandIn) -> None:
    standin.add_folder(FOLDER, [OWNER, perm("p-dave", "dave@x.org")])

    first = await drive.sync_folder(FOLDER, ["a@x.org", "b@x.org", "dave@x.org"])
    standin.calls.clear()
    again = await drive.sync_folder(FOLDER, ["A@X.org", "b@x.org", "dave@x.org"])
    assert standin.writes() == []  # nothing to do the second time, whatever the case
    later = await drive.sync_folder(FOLDER, ["b@x.org", "c@x.org"])

    assert first.added == {"a@x.org", "b@x.org"}
    assert (again.added, again.removed) == (set(), set())
    assert (later.added, later.removed) == ({"c@x.org"}, {"a@x.org"})
    assert set(standin.emails(FOLDER)) == {"owner@example.com", "dave@x.org", "b@x.org", "c@x.org"}
    assert read_ledger(standin.app_properties[FOLDER]) == {email_token("b@x.org"), email_token("c@x.org")}


async def test_permission_deleted_by_hand_is_shared_again(drive: GoogleDrive, standin: DriveStandIn) -> None:
    standin.add_folder(FOLDER, [OWNER], ledger=["a@x.org"])

    result = await drive.sync_folder(FOLDER, ["a@x.org"])

    assert result.added == {"a@x.org"}
    assert standin.emails(FOLDER)["a@x.org"] == "writer"


async def test_a_large_team_is_recorded_across_keys(drive: GoogleDrive, standin: DriveStandIn) -> None:
    standin.add_folder(FOLDER, [OWNER])
    standin.page_size = 7
    team = [f"member{i:02d}@example.com" for i in range(20)]

    await drive.sync_folder(FOLDER, team)
    assert sorted(standin.app_properties[FOLDER]) == [f"{RECORD_PREFIX}0{i}" for i in range(3)]
    result = await drive.sync_folder(FOLDER, team[:5])

    assert result.removed == set(team[5:])
    assert sorted(standin.app_properties[FOLDER]) == [f"{RECORD_PREFIX}00"]  # stale keys deleted
    assert set(standin.emails(FOLDER)) == {"owner@example.com", *team[:5]}


async def test_too_many_emails_to_record_changes_nothing(drive: GoogleDrive, standin: DriveStandIn) -> None:
    standin.add_folder(FOLDER, [OWNER])

    with pytest.raises(UpstreamError) as raised:
        await drive.sync_folder(FOLDER, [f"m{i}@example.com" for i in range(241)])

    assert raised.value.integration == "Google Drive"
    assert standin.writes() == []


async def test_unknown_folder_is_an_upstream_error(drive: GoogleDrive, standin: DriveStandIn) -> None:
    with pytest.raises(UpstreamError) as raised:
        await drive.sync_folder("no-such-folder", ["a@x.org"])

    assert raised.value.integration == "Google Drive"
    assert "File not found" in raised.value.detail


# -- configuration --------------------------------------------------------------------------------


async def test_from_env_uses_delegated_service_account_credentials(
    drive: GoogleDrive, standin: DriveStandIn
) -> None:
    standin.add_folder(FOLDER, [OWNER])

    await drive.sync_folder(FOLDER, ["a@x.org"])

    assert drive.credentials is not None
    assert drive.credentials.service_account_email == SA_EMAIL
    assert [c["sub"] for c in standin.token_claims] == [SUBJECT]  # one token, reused
    assert standin.token_claims[0]["iss"] == SA_EMAIL
    assert standin.token_claims[0]["scope"] == "https://www.googleapis.com/auth/drive"


async def test_from_env_without_subject_acts_as_the_service_account(
    env: dict[str, str], standin: DriveStandIn
) -> None:
    del env["GCP_SERVICE_ACCOUNT_SUBJECT"]
    drive = drive_from_env(env, timeout=5)
    assert drive is not None
    standin.add_folder(FOLDER, [OWNER])

    await drive.sync_folder(FOLDER, ["a@x.org"])

    assert "sub" not in standin.token_claims[0]


async def test_refused_credentials_are_an_upstream_error(env: dict[str, str], standin: DriveStandIn) -> None:
    other_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    env["GCP_SERVICE_ACCOUNT_CREDENTIALS"] = service_account_json(other_key, standin.root + "token")
    drive = drive_from_env(env, timeout=2)
    assert drive is not None
    standin.add_folder(FOLDER, [OWNER])

    with pytest.raises(UpstreamError) as raised:
        await drive.sync_folder(FOLDER, ["a@x.org"])

    assert raised.value.integration == "Google Drive"
    assert raised.value.detail.startswith("credentials refused")
    assert standin.calls == []  # no Drive call without a token


async def test_unreachable_drive_is_unavailable(env: dict[str, str], standin: DriveStandIn) -> None:
    env["GOOGLE_API_URL"] = f"http://127.0.0.1:{free_port()}/"  # nothing listens there
    drive = drive_from_env(env, timeout=2, num_retries=0)
    assert drive is not None

    with pytest.raises(UpstreamError) as raised:
        await drive.sync_folder(FOLDER, ["a@x.org"])

    assert raised.value.detail == "unavailable"


def test_from_env_absent_credentials_is_none() -> None:
    assert drive_from_env({}) is None
    assert drive_from_env({"GCP_SERVICE_ACCOUNT_CREDENTIALS": "  ", "GOOGLE_API_URL": "http://x/"}) is None
    assert GoogleDrive.from_settings(None) is None


@pytest.mark.parametrize("raw", ["{not json", "[]", '{"type": "service_account"}', '"text"'])
def test_from_env_malformed_credentials_names_the_variable(raw: str) -> None:
    with pytest.raises(ValueError, match="GCP_SERVICE_ACCOUNT_CREDENTIALS"):
        drive_from_env({"GCP_SERVICE_ACCOUNT_CREDENTIALS": raw})


def test_from_env_malformed_api_url_names_the_variable(env: dict[str, str]) -> None:
    env["GOOGLE_API_URL"] = "localhost:9000"
    with pytest.raises(ValueError, match="GOOGLE_API_URL"):
        drive_from_env(env)


# -- a prebuilt service (HttpMockSequence) ---------------------------------------------------------


async def test_prebuilt_service_and_http_error_mapping() -> None:
    forbidden = {
        "error": {
            "code": 403,
            "message": "The user does not have sufficient permissions for this file.",
            "errors": [{"reason": "insufficientFilePermissions"}],
        }
    }
    http = HttpMockSequence(
        [
            ({"status": "200"}, json.dumps({"appProperties": {}})),
            ({"status": "200"}, json.dumps({"permissions": [OWNER]})),
            ({"status": "200"}, json.dumps({})),
            ({"status": "403"}, json.dumps(forbidden)),
        ]
    )
    service = build("drive", "v3", http=http, static_discovery=True)
    drive = GoogleDrive(service, num_retries=0)

    with pytest.raises(UpstreamError) as raised:
        await drive.sync_folder(FOLDER, ["new@example.com"])

    assert raised.value.detail == "The user does not have sufficient permissions for this file."
    method, url = http.request_sequence[-1][1], urlparse(http.request_sequence[-1][0])
    assert (method, url.path) == ("POST", PERMS)
    assert json.loads(http.request_sequence[-1][2])["emailAddress"] == "new@example.com"
    assert url.netloc == "www.googleapis.com"  # the default endpoint when no GOOGLE_API_URL


async def test_concurrent_syncs_wait_without_taking_worker_threads(
    drive: GoogleDrive, standin: DriveStandIn
) -> None:
    """Syncs queued behind a running one hold no thread of the default executor, which the
    GitHub adapter and SQLite's ping share: with two workers, one sync running and two
    waiting, other ``to_thread`` work still runs at once."""
    for n in range(3):
        standin.add_folder(f"folder-{n}", [OWNER])
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(max_workers=2))
    standin.gate.clear()
    syncs = [asyncio.create_task(drive.sync_folder(f"folder-{n}", [f"u{n}@example.com"])) for n in range(3)]
    try:
        for _ in range(1000):  # until one sync is at Drive
            if standin.arrived.is_set():
                break
            await asyncio.sleep(0.01)
        assert standin.arrived.is_set()
        assert await asyncio.wait_for(asyncio.to_thread(lambda: "free"), timeout=2) == "free"
    finally:
        standin.gate.set()
        results = await asyncio.gather(*syncs)
    assert [r.added for r in results] == [{f"u{n}@example.com"} for n in range(3)]


async def test_a_repeated_page_token_is_an_upstream_error_not_an_endless_listing(
    drive: GoogleDrive, standin: DriveStandIn
) -> None:
    standin.add_folder(FOLDER, [OWNER, perm("p-erin", "erin@example.com")])
    standin.stuck_token = "1"  # the offset of the second page, named again by every page

    with pytest.raises(UpstreamError, match="page token"):
        await drive.sync_folder(FOLDER, ["alice@example.com"])

    lists = [c for c in standin.calls if c.method == "GET" and c.path == PERMS]
    assert len(lists) == 2  # the first page, then page "1", which names "1" again
    assert standin.writes() == []
