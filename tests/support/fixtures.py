"""Where the team's shared folder is, and loaders for its webhook and Slack fixtures.

``SHARED_DIR`` is ``../shared`` beside the repository (as CI lays it out), or
``$ROCKET_SHARED_DIR``. tests/conftest.py stops the run with one clear line when it is absent.
"""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_DIR = Path(os.environ.get("ROCKET_SHARED_DIR") or REPO_ROOT.parent / "shared")
CONTRACT = SHARED_DIR / "CONTRACT.md"
SHARED = SHARED_DIR / "fixtures"


#: The organization and App installation of the GitHub stand-in (tests/support/github_fixtures.py):
#: the shared fixtures were recorded for "Octocoders", installation 1.
OUR_ORG = "rocket-org"
OUR_INSTALLATION = 4242


def ours(payload: dict[str, Any], org: str = OUR_ORG,
         installation_id: int = OUR_INSTALLATION) -> dict[str, Any]:
    """``payload`` as GitHub delivers it to *our* App: ``organization.login`` and
    ``installation.id`` (where present) rewritten; issue 11 ignores other organizations'."""
    payload = copy.deepcopy(payload)
    if isinstance(payload.get("organization"), dict):
        payload["organization"]["login"] = org
    if isinstance(payload.get("installation"), dict):
        payload["installation"]["id"] = installation_id
    return payload


def github_payload(name: str, *, as_recorded: bool = False) -> dict[str, Any]:
    """``name`` without ``.payload.json``, e.g. ``team.created``: as delivered to our
    organization and installation (``ours``), or ``as_recorded``."""
    data = json.loads((SHARED / "github" / f"{name}.payload.json").read_text(encoding="utf-8"))
    return data if as_recorded or not isinstance(data, dict) else ours(data)


def github_body(name: str) -> bytes:
    """The payload's bytes as delivered to our organization (see ``github_payload``)."""
    return json.dumps(github_payload(name)).encode()


def slack_file(name: str) -> bytes:
    return (SHARED / "slack" / name).read_bytes()


def org_membership_payload(action: str) -> dict[str, Any]:
    """An ``organization`` member_added/member_removed payload, built from the shared
    member_invited example: GitHub sends the same envelope with a ``membership`` object."""
    payload = copy.deepcopy(github_payload("organization.member_invited"))
    user = payload.pop("user")
    payload.pop("invitation")
    payload["action"] = action
    payload["membership"] = {"url": "", "state": "active", "role": "member", "user": user}
    return payload
