"""Google Drive folder sharing: ``GoogleDrive`` implements ``ports.drive.Drive`` on Drive v3.

Configuration (``GoogleDrive.from_settings``, an ``adapters.gdrive.settings.DriveSettings``):

- ``GCP_SERVICE_ACCOUNT_CREDENTIALS``: the service-account JSON key, as text. Absent or empty:
  ``from_settings`` returns ``None`` (the container wires ``Unavailable("Google Drive")``). Present
  but not a service-account key: ``ValueError`` naming the variable.
- ``GCP_SERVICE_ACCOUNT_SUBJECT``: when set, the credentials act for that user (domain-wide
  delegation, ``credentials.with_subject``). Scope: ``https://www.googleapis.com/auth/drive``.
- ``GOOGLE_API_URL``: the API root of a stand-in (like ``https://www.googleapis.com/``); the
  adapter appends ``drive/v3/`` unless the URL already ends with it (entrypoints/settings.py
  checks it is an http(s) URL).

How Rocket knows which permissions it created
---------------------------------------------
Drive permissions carry no metadata of their own, so Rocket keeps its own ledger on the folder,
in the folder's private ``appProperties`` (visible only to this app's credentials):

- Each email Rocket shared the folder with is recorded as a token: the first 9 bytes of
  SHA-256 of the lower-cased, stripped email, base64url-encoded (12 characters, 72 bits).
- Tokens are kept sorted and packed, comma-separated, 8 to a key, in keys ``rocket_shared_00``,
  ``rocket_shared_01``, … (Drive allows 124 bytes per key + value and 30 private properties per
  app per file, so the ledger holds up to 240 emails; more raises ``UpstreamError`` before any
  change). Keys no longer needed are deleted (set to null).
- A permission is Rocket's when it is a ``user`` permission whose email's token is in the ledger.
  Only those are ever deleted; ``owner`` permissions never are.

``sync_folder(folder, emails)`` then:

1. reads the ledger (``files.get fields=appProperties``) and every permission
   (``permissions.list``, all pages, ``supportsAllDrives``);
2. writes the ledger with the emails it is about to share added (intent first, so a crash
   between two steps never leaves a permission Rocket created but does not know about);
3. deletes Rocket's permissions for emails not wanted any more (a 404 counts as already gone);
4. creates a ``writer`` user permission for each wanted email that has no permission at all
   (``sendNotificationEmail=False``);
5. writes the final ledger: the wanted emails Rocket shared (tokens of emails that someone else
   shared are not recorded, so their permission stays theirs).

Emails compare case-insensitively. Every call is retried by googleapiclient on transient errors
(``num_retries``); ``HttpError`` becomes ``UpstreamError("Google Drive", reason)``; a network or
token failure becomes ``UpstreamError("Google Drive", "unavailable")`` or
``UpstreamError("Google Drive", "credentials refused: …")``. Blocking calls run in
``asyncio.to_thread``, one sync at a time per ``GoogleDrive`` (httplib2 is not thread-safe); syncs
waiting their turn wait on the event loop, not in a worker thread of the shared default executor.
Two processes syncing the same folder at the same instant may race on the ledger.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import google_auth_httplib2
import httplib2
from google.auth import exceptions as auth_exceptions
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from adapters.gdrive.settings import DriveSettings
from core.errors import UpstreamError
from ports.drive import SyncResult

DRIVE = "Google Drive"
SCOPES = ("https://www.googleapis.com/auth/drive",)
RECORD_PREFIX = "rocket_shared_"
TOKENS_PER_KEY = 8
MAX_RECORD_KEYS = 30
PERMISSION_FIELDS = "nextPageToken, permissions(id, emailAddress, role, type)"
PAGE_SIZE = 100


def email_token(email: str) -> str:
    """The ledger token of an email (case-insensitive)."""
    digest = hashlib.sha256(email.strip().lower().encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest[:9]).decode("ascii")


def read_ledger(app_properties: Mapping[str, Any] | None) -> set[str]:
    """Tokens recorded in a folder's ``appProperties``."""
    tokens: set[str] = set()
    for key, value in (app_properties or {}).items():
        if key.startswith(RECORD_PREFIX) and isinstance(value, str):
            tokens.update(t for t in value.split(",") if t)
    return tokens


def ledger_properties(tokens: Collection[str], previous: Mapping[str, Any] | None) -> dict[str, str | None]:
    """The ``appProperties`` update that stores ``tokens`` and deletes stale ledger keys."""
    ordered = sorted(tokens)
    chunks = [ordered[i : i + TOKENS_PER_KEY] for i in range(0, len(ordered), TOKENS_PER_KEY)]
    if len(chunks) > MAX_RECORD_KEYS:
        raise UpstreamError(
            DRIVE, f"cannot record more than {MAX_RECORD_KEYS * TOKENS_PER_KEY} shared emails on one folder"
        )
    update: dict[str, str | None] = {f"{RECORD_PREFIX}{i:02d}": ",".join(c) for i, c in enumerate(chunks)}
    for key in previous or {}:
        if key.startswith(RECORD_PREFIX) and key not in update:
            update[key] = None
    return update


@dataclass(frozen=True)
class _Permission:
    id: str
    email: str  # lower-cased
    role: str
    type: str


def _endpoint(url: str) -> str:
    """The Drive v3 endpoint under an API root (already checked to be an http(s) URL)."""
    root = url.rstrip("/")
    return root + "/" if root.endswith("/drive/v3") else root + "/drive/v3/"


class GoogleDrive:
    """The Drive port over Google Drive v3 (see the module docstring for the sharing ledger)."""

    def __init__(self, service: Any, *, num_retries: int = 3, credentials: Any = None) -> None:
        """Wrap a built Drive v3 ``service`` (``googleapiclient.discovery.build("drive", "v3")``).

        ``credentials`` is kept only for inspection; ``num_retries`` bounds googleapiclient's own
        retries of 5xx, 429 and rate-limit 403 answers and of connection errors.
        """
        self.service = service
        self.credentials = credentials
        self.num_retries = num_retries
        # httplib2 is not thread-safe: one sync in a thread at a time, even when a cancelled sync's
        # thread is still running after ``_turn`` let the next one in.
        self._lock = threading.Lock()
        self._turn = asyncio.Lock()  # queues syncs on the loop, so waiting ones hold no worker thread

    @classmethod
    def from_settings(
        cls, settings: DriveSettings | None, *, timeout: float = 30, num_retries: int = 3
    ) -> GoogleDrive | None:
        """Built from the service-account key (+ subject) and API root; ``None`` when ``settings``
        is ``None`` (Drive is off). ``ValueError`` naming GCP_SERVICE_ACCOUNT_CREDENTIALS when the
        key is not a service-account JSON key. ``timeout`` bounds each HTTP request (seconds);
        ``num_retries`` as in ``__init__``.
        """
        if settings is None:
            return None
        raw = settings.credentials.get_secret_value().strip()
        if not raw:
            return None
        try:
            info = json.loads(raw)
            if not isinstance(info, dict):
                raise ValueError("not a JSON object")
            credentials = service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))
        except (ValueError, KeyError, TypeError) as err:
            raise ValueError(
                f"GCP_SERVICE_ACCOUNT_CREDENTIALS is not a service-account JSON key: {err}"
            ) from err
        subject = settings.subject.strip()
        if subject:
            credentials = credentials.with_subject(subject)
        api_url = settings.api_url.strip()
        endpoint = _endpoint(api_url) if api_url else None
        http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout))
        service = build(
            "drive",
            "v3",
            http=http,
            client_options={"api_endpoint": endpoint} if endpoint else None,
            cache_discovery=False,
            static_discovery=True,
        )
        return cls(service, num_retries=num_retries, credentials=credentials)

    async def sync_folder(self, folder_id: str, emails: Collection[str]) -> SyncResult:
        """Share ``folder_id`` (writer) with exactly ``emails`` among the people Rocket shared it with."""
        wanted = {e.strip().lower() for e in emails if e and e.strip()}
        async with self._turn:
            return await asyncio.to_thread(self._sync_guarded, folder_id, wanted)

    # -- blocking part ----------------------------------------------------------------------------

    def _sync_guarded(self, folder_id: str, wanted: set[str]) -> SyncResult:
        try:
            with self._lock:
                return self._sync(folder_id, wanted)
        except HttpError as err:
            raise UpstreamError(DRIVE, err.reason or f"HTTP {err.status_code}") from err
        except auth_exceptions.RefreshError as err:
            raise UpstreamError(DRIVE, f"credentials refused: {err}") from err
        except (auth_exceptions.TransportError, httplib2.HttpLib2Error, OSError) as err:
            raise UpstreamError(DRIVE, "unavailable") from err

    def _sync(self, folder_id: str, wanted: set[str]) -> SyncResult:
        folder = self._execute(
            self.service.files().get(fileId=folder_id, fields="appProperties", supportsAllDrives=True)
        )
        properties = folder.get("appProperties") or {}
        ledger = read_ledger(properties)
        permissions = self._permissions(folder_id)

        shared_with = {p.email for p in permissions}
        to_add = sorted(wanted - shared_with)
        to_delete = sorted(
            (
                p
                for p in permissions
                if p.type == "user"
                and p.role != "owner"
                and p.email not in wanted
                and email_token(p.email) in ledger
            ),
            key=lambda p: (p.email, p.id),
        )
        kept = {email_token(e) for e in wanted if email_token(e) in ledger}
        final = kept | {email_token(e) for e in to_add}
        intent = final | {email_token(p.email) for p in to_delete}

        if intent != ledger:
            properties = self._write_ledger(folder_id, intent, properties)
        removed: set[str] = set()
        for permission in to_delete:
            self._delete_permission(folder_id, permission.id)
            removed.add(permission.email)
        for email in to_add:
            body = {"type": "user", "role": "writer", "emailAddress": email}
            self._execute(
                self.service.permissions().create(
                    fileId=folder_id,
                    body=body,
                    sendNotificationEmail=False,
                    supportsAllDrives=True,
                    fields="id",
                )
            )
        if final != intent:
            self._write_ledger(folder_id, final, properties)
        return SyncResult(added=set(to_add), removed=removed)

    def _permissions(self, folder_id: str) -> list[_Permission]:
        """Every permission with an email, all pages; ``UpstreamError`` if Drive repeats a page
        token (which would otherwise list forever, with this folder's sync holding the lock)."""
        found: list[_Permission] = []
        page_token: str | None = None
        seen: set[str] = set()
        while True:
            page = self._execute(
                self.service.permissions().list(
                    fileId=folder_id,
                    fields=PERMISSION_FIELDS,
                    pageSize=PAGE_SIZE,
                    pageToken=page_token,
                    supportsAllDrives=True,
                )
            )
            for p in page.get("permissions") or []:
                found.append(
                    _Permission(
                        id=str(p.get("id", "")),
                        email=str(p.get("emailAddress") or "").lower(),
                        role=str(p.get("role", "")),
                        type=str(p.get("type", "")),
                    )
                )
            page_token = page.get("nextPageToken")
            if not page_token:
                return [p for p in found if p.email]
            if page_token in seen:
                raise UpstreamError(DRIVE, "permissions.list repeated a page token; nothing was changed")
            seen.add(page_token)

    def _write_ledger(self, folder_id: str, tokens: set[str], previous: Mapping[str, Any]) -> dict[str, Any]:
        update = ledger_properties(tokens, previous)
        self._execute(
            self.service.files().update(
                fileId=folder_id,
                body={"appProperties": update},
                fields="appProperties",
                supportsAllDrives=True,
            )
        )
        return {k: v for k, v in update.items() if v is not None}

    def _delete_permission(self, folder_id: str, permission_id: str) -> None:
        try:
            self._execute(
                self.service.permissions().delete(
                    fileId=folder_id, permissionId=permission_id, supportsAllDrives=True
                )
            )
        except HttpError as err:
            if err.status_code != 404:  # already gone is what we wanted
                raise

    def _execute(self, request: Any) -> dict[str, Any]:
        return request.execute(num_retries=self.num_retries) or {}
