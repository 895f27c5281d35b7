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


def github_payload(name: str) -> dict[str, Any]:
    """``name`` without ``.payload.json``, e.g. ``team.created``."""
    return json.loads((SHARED / "github" / f"{name}.payload.json").read_text(encoding="utf-8"))


def github_body(name: str) -> bytes:
    return (SHARED / "github" / f"{name}.payload.json").read_bytes()


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
