"""Slack surfaces beyond the slash command: the Home tab, buttons and modals. Transport-free, like
``entrypoints.handlers`` (which owns one ``Surfaces`` and hands it Bolt's parsed payloads).

- ``home_opened(user)``: ``ViewHome`` through the bus, rendered by ``adapters.slack.views``,
  published with ``views.publish``. Also what ``HomeRefresh`` (core/subscribers/home.py) calls
  after a change that concerns a user.
- ``block_action(payload)``: "Edit profile" / "Link GitHub" open the profile editor
  (``views.open`` with the payload's ``trigger_id``); "Add member" / "Remove member" open a users
  picker; "Open" opens the team's page as a modal. Unknown actions are ignored.
- "More" under a long list (``team list``, ``project list``: action ``rocket_more``, value the
  next page's command line, only ``team|project list --page N`` accepted) runs that command as
  the presser and POSTs the reply to the payload's ``response_url``.
- ``view_submission(payload)``: the answer body for Slack (None: close the modal).
  The profile editor builds ``EditUser`` with exactly the fields that changed, checked first by
  the same ``core.validation`` functions the handler runs, so a bad value is answered
  ``{"response_action": "errors", "errors": {BLOCK_ID: MESSAGE}}`` and nothing changes; a
  refusal of the handler is put on the field it concerns (GitHub errors on ``github``, else
  ``name``). The users picker builds ``AddTeamMember`` / ``RemoveTeamMember``.
- Idempotency: a submission is applied once per ``view.id`` + ``view.hash`` (an action once per
  ``trigger_id``), claimed through storage leases like events, so Slack's retries (and a second
  worker) change nothing more; a failed attempt releases its claim.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.slack.render import MORE_ACTION, render_blocks, render_text
from adapters.slack.views import (
    EDIT_PROFILE,
    LINK_GITHUB,
    MEMBER_CALLBACK,
    PROFILE_CALLBACK,
    TEAM_ADD,
    TEAM_OPEN,
    TEAM_REMOVE,
    home_view,
    input_values,
    member_modal,
    profile_modal,
    profile_values,
)
from core.bus import MessageBus
from core.commands import AddTeamMember, EditUser, RemoveTeamMember, ViewHome, ViewTeam
from core.context import Ports
from core.errors import Conflict, InvalidInput, RocketError, StorageUnavailable
from core.usecases.common import find_user
from core.validation import MAX_BIO, MAX_FIELD, clean_email, clean_github, clean_text

log = logging.getLogger("rocket.slack")

IN_PROGRESS_SECONDS = 60
HOME_SEEN_SECONDS = 3600  # a Home opened within this long is kept up to date after changes
HOME_SEEN_MAX = 10_000  # users remembered per process (the oldest forgotten first)
DONE_SECONDS = 24 * 3600
_CHECKS: dict[str, Callable[[str], str]] = {
    "name": lambda v: clean_text("Name", v, MAX_FIELD),
    "email": clean_email,
    "position": lambda v: clean_text("Position", v, MAX_FIELD),
    "major": lambda v: clean_text("Major", v, MAX_FIELD),
    "bio": lambda v: clean_text("Bio", v, MAX_BIO),
    "github": lambda v: clean_github(v) if v else v,
}
_MORE = re.compile(r"^(team|project) list --page [1-9][0-9]{0,5}$")
Responder = Callable[[str, dict[str, Any]], Awaitable[None]]


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _user_id(payload: dict[str, Any]) -> str:
    user = payload.get("user")
    return _str(user.get("id")) if isinstance(user, dict) else ""


def errors(**by_block: str) -> dict[str, Any]:
    """Slack's answer that shows ``message`` under each block and keeps the modal open."""
    return {"response_action": "errors", "errors": {k: v[:300] for k, v in by_block.items()}}


class Surfaces:
    def __init__(self, bus: MessageBus, ports: Ports, responder: Responder | None = None) -> None:
        self.bus = bus
        self.ports = ports
        self.responder = responder
        # Users whose Home this process published lately (Slack id -> when): only their Home is
        # republished after a change, so a change costs no Home reads or views.publish for the
        # many who never look at it. Slack sends app_home_opened on every visit, so a Home
        # nobody republished is rebuilt when it is next opened.
        self._home_seen: OrderedDict[str, float] = OrderedDict()

    # --- leases ------------------------------------------------------------------------------
    async def _claim(self, key: str) -> str | None:
        owner = uuid.uuid4().hex
        taken = await self.ports.store.acquire_lease(key, owner, IN_PROGRESS_SECONDS, self.ports.clock.now())
        return owner if taken else None

    async def _settle(self, key: str, owner: str, done: bool) -> None:
        try:
            if done:
                await self.ports.store.acquire_lease(key, owner, DONE_SECONDS, self.ports.clock.now())
            else:
                await self.ports.store.release_lease(key, owner)
        except RocketError as exc:
            log.warning(json.dumps({"kind": "dedup", "key": key[:120], "error": str(exc)[:200]}))

    # --- Home ----------------------------------------------------------------------------------
    async def home_opened(self, user_id: str) -> None:
        """Publish ``user_id``'s Home tab."""
        home = await self.bus.handle(ViewHome(user_id))
        await self.ports.chat.publish_home(user_id, home_view(home))
        self._home_seen[user_id] = self.ports.clock.now()
        self._home_seen.move_to_end(user_id)
        while len(self._home_seen) > HOME_SEEN_MAX:
            self._home_seen.popitem(last=False)

    async def refresh_home(self, user_id: str) -> None:
        """``HomeRefresh``'s publisher: republish the Home of a user who opened it within
        ``HOME_SEEN_SECONDS`` (others' is rebuilt when they open it); a Slack failure is only logged."""
        seen = self._home_seen.get(user_id)
        if seen is None or self.ports.clock.now() - seen > HOME_SEEN_SECONDS:
            return
        try:
            await self.home_opened(user_id)
        except StorageUnavailable:
            raise
        except RocketError as exc:
            log.warning(json.dumps({"kind": "home", "user": user_id, "outcome": "not published",
                                    "error": str(exc)[:200]}))

    # --- modals --------------------------------------------------------------------------------
    async def open_profile_editor(self, user_id: str, trigger_id: str) -> str:
        """``views.open`` of the profile editor filled with ``user_id``'s current values."""
        user = await find_user(self.ports.store, user_id)
        return await self.ports.chat.open_view(trigger_id, profile_modal(user, user_id))

    async def block_action(self, payload: dict[str, Any]) -> None:
        """Act on the first action of a ``block_actions`` payload (see the module docstring)."""
        actions = payload.get("actions")
        action = actions[0] if isinstance(actions, list) and actions and isinstance(actions[0], dict) else {}
        action_id, value = _str(action.get("action_id")), _str(action.get("value"))
        user_id, trigger = _user_id(payload), _str(payload.get("trigger_id"))
        if action_id == MORE_ACTION and user_id:
            await self._more(user_id, value, _str(payload.get("response_url")))
            return
        if not user_id or not trigger:
            return
        if action_id in (EDIT_PROFILE, LINK_GITHUB):
            await self.open_profile_editor(user_id, trigger)
        elif action_id in (TEAM_ADD, TEAM_REMOVE) and value:
            await self.ports.chat.open_view(trigger, member_modal(value, action_id == TEAM_ADD))
        elif action_id == TEAM_OPEN and value:
            try:
                result = await self.bus.handle(ViewTeam(user_id, value))
                blocks = render_blocks(result)[:100]
            except RocketError as exc:
                blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": str(exc)[:3000]}}]
            await self.ports.chat.open_view(trigger, {
                "type": "modal", "title": {"type": "plain_text", "text": "Team"},
                "close": {"type": "plain_text", "text": "Close"}, "blocks": blocks})

    async def _more(self, user_id: str, line: str, response_url: str) -> None:
        """The next page of a list, POSTed to ``response_url`` as a new ephemeral reply."""
        if not _MORE.match(line) or not response_url.startswith(("https://", "http://127.0.0.1:")) \
                or self.responder is None:
            return
        from entrypoints.commands.dispatch import run_command  # the grammar is loaded on first use

        reply = await run_command(self.bus, user_id, line)
        payload: dict[str, Any] = {"response_type": "ephemeral", "replace_original": False,
                                   "text": reply.text}
        if reply.blocks:
            payload["blocks"] = reply.blocks
        await self.responder(response_url, payload)

    async def view_submission(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The answer to a submitted modal (None: close it)."""
        view = payload.get("view")
        if not isinstance(view, dict):
            return None
        callback = _str(view.get("callback_id"))
        if callback not in (PROFILE_CALLBACK, MEMBER_CALLBACK):
            return None
        user_id = _user_id(payload)
        if not user_id:
            return None
        key = f"slack-view:{_str(view.get('id'))}:{_str(view.get('hash'))}"
        if callback == PROFILE_CALLBACK:
            problems = self._field_problems(profile_values(view))
            if problems:
                return errors(**problems)
        owner = await self._claim(key)
        if owner is None:
            log.info(json.dumps({"kind": "interaction", "view": key[:120], "outcome": "duplicate"}))
            return None
        done = False
        try:
            if callback == PROFILE_CALLBACK:
                answer = await self._save_profile(user_id, view)
            else:
                answer = await self._member(user_id, view)
            done = answer is None
            return answer
        finally:
            await self._settle(key, owner, done)

    @staticmethod
    def _field_problems(values: dict[str, str]) -> dict[str, str]:
        found: dict[str, str] = {}
        for block_id, value in values.items():
            try:
                _CHECKS[block_id](value)
            except InvalidInput as exc:
                found[block_id] = str(exc)
        return found

    async def _save_profile(self, user_id: str, view: dict[str, Any]) -> dict[str, Any] | None:
        values = profile_values(view)
        target = _str(view.get("private_metadata")).strip() or user_id
        before = await find_user(self.ports.store, target)
        changed = {k: v for k, v in values.items()
                   if v.strip() != str(vars(before).get(k, "") if before is not None else "").strip()}
        if before is not None and not changed:
            return None
        if "github" in changed and not changed["github"].strip():
            return errors(github="Unlinking GitHub is done by an admin; leave the field as it was.")
        command = EditUser(
            user_id, target=None if target == user_id else target,
            name=changed.get("name"), email=changed.get("email"), position=changed.get("position"),
            major=changed.get("major"), bio=changed.get("bio"), github=changed.get("github"),
        )
        try:
            result = await self.bus.handle(command)
        except StorageUnavailable:
            raise
        except RocketError as exc:
            message = str(exc)
            block = "github" if "github" in changed and (isinstance(exc, Conflict) or "GitHub" in message) \
                else next((k for k in changed if k in message.lower()), next(iter(changed), "name"))
            return errors(**{block: message})
        log.info(json.dumps({"kind": "interaction", "view": PROFILE_CALLBACK, "user": user_id,
                             "outcome": "applied", "message": render_text(result)[:200]}))
        return None

    async def _member(self, user_id: str, view: dict[str, Any]) -> dict[str, Any] | None:
        verb, _, slug = _str(view.get("private_metadata")).partition(":")
        picked = _str((input_values(view).get("member") or {}).get("selected_user"))
        if not slug or verb not in ("add", "remove"):
            return None
        if not picked:
            return errors(member="Choose a person.")
        command = (AddTeamMember if verb == "add" else RemoveTeamMember)(user_id, slug, picked)
        try:
            await self.bus.handle(command)
        except StorageUnavailable:
            raise
        except RocketError as exc:
            return errors(member=str(exc))
        return None
