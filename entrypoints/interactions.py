"""Slack surfaces beyond the slash command: the Home tab, buttons and modals. Transport-free, like
``entrypoints.handlers`` (which owns one ``Surfaces`` and hands it Bolt's parsed payloads).

- ``home_opened(user)``: ``ViewHome`` through the bus, rendered by ``adapters.slack.views``,
  published with ``views.publish``. Also what ``HomeRefresh`` (core/subscribers/home.py) calls
  after a change that concerns a user.
- ``block_action(payload)``: "Edit profile" opens the profile editor and "Link GitHub" the GitHub
  link modal (``views.open`` with the payload's ``trigger_id``); "Add member" / "Remove member"
  open a users picker (``views.push`` when pressed on the team page modal, which is refreshed
  with ``views.update`` after the change); "Open" opens the team's page as a modal. Unknown
  actions are ignored.
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
- Team dialog (``/rocket team create`` without arguments, ``open_team_creator``): the submission
  builds the same ``CreateTeam`` as the slash command (the lead picked, or the creator), then one
  ``AddTeamMember`` per person picked; every value is checked first (the same validation
  functions, and each person picked must be registered with GitHub), so a bad one is shown on its
  field and nothing is created. The modal then shows the new team (``response_action: update``);
  when GitHub takes longer than ``inline_seconds`` the answer is a "Creating…" view, replaced
  with ``views.update`` once the outcome is known (``drain()`` waits for such work).
- "Add member" / "Remove member" check ``require_manage`` (the handlers' own rule) before the
  users picker opens: anyone else gets a modal saying why, and a forged submission is refused by
  the handler (the error on the field), so nothing changes either way.
- ``team_buttons(actor, team)``: the buttons a ``team view`` reply carries for its leads and admins.
- "Link GitHub" opens ``link_modal``; its submission is ``EditUser(github=LOGIN)`` for oneself,
  the same use-case as ``/rocket user edit --github``: with the device flow configured the modal
  is replaced by the code and the verification URL, and when the link is stored (the
  ``ProfileChanged`` that ``HomeRefresh`` passes to ``refresh_home``) that modal is replaced in
  place with ``views.update``. Without the device flow the link is stored unverified and the
  modal says so.
- ``shortcut``: the global shortcut ``rocket_profile_shortcut`` opens the profile editor; others
  are ignored. ``view_closed``: nothing changes (a closed device-flow modal is only forgotten).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from adapters.slack.render import MORE_ACTION, escape, github_profile_link, render_blocks, render_text
from adapters.slack.views import (
    DEVICE_CALLBACK,
    EDIT_PROFILE,
    LINK_CALLBACK,
    LINK_GITHUB,
    MAX_MEMBERS_PICKED,
    MEMBER_CALLBACK,
    PROFILE_CALLBACK,
    PROFILE_SHORTCUT,
    TEAM_ADD,
    TEAM_CREATE_CALLBACK,
    TEAM_OPEN,
    TEAM_REMOVE,
    device_done_modal,
    device_modal,
    home_view,
    input_values,
    link_modal,
    member_modal,
    notice_modal,
    profile_modal,
    profile_values,
    team_actions,
    team_create_modal,
    team_create_values,
)
from core.bus import MessageBus
from core.commands import AddTeamMember, CreateTeam, EditUser, RemoveTeamMember, ViewHome, ViewTeam
from core.context import Ports, Settings
from core.errors import Conflict, InvalidInput, PermissionDenied, RocketError, StorageUnavailable
from core.limits import check_fields
from core.models import Team
from core.permissions import can_create_team
from core.results import TeamResult
from core.usecases.common import find_user, require_manage, team_by_slug
from core.validation import (
    MAX_BIO,
    MAX_FIELD,
    bad_text_in,
    clean_email,
    clean_github,
    clean_text,
    require_github,
    team_slug,
)

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


def refusal_text(exc: RocketError) -> str:
    """What a refusal says (as the slash command's reply words it)."""
    message = str(exc)
    return f"Permission denied: {message}" if isinstance(exc, PermissionDenied) else message


def errors(**by_block: str) -> dict[str, Any]:
    """Slack's answer that shows ``message`` under each block and keeps the modal open."""
    return {"response_action": "errors", "errors": {k: v[:300] for k, v in by_block.items()}}


class Surfaces:
    def __init__(self, bus: MessageBus, ports: Ports, responder: Responder | None = None,
                 settings: Settings | None = None, inline_seconds: float = 2.0) -> None:
        self.bus = bus
        self.inline_seconds = inline_seconds  # a submission answers within this (Slack waits 3 s)
        self._tasks: set[asyncio.Task[Any]] = set()
        self.ports = ports
        self.responder = responder
        self.settings = settings
        # Device-flow modals open in this process (Slack id -> (view id, login claimed)): replaced
        # with views.update when the link is stored. The wait runs in this process too
        # (core.verification), so nothing is lost across workers.
        self._device_views: dict[str, tuple[str, str]] = {}
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
        await self._device_done(user_id)
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
        if action_id == EDIT_PROFILE:
            await self.open_profile_editor(user_id, trigger)
        elif action_id == LINK_GITHUB:
            user = await find_user(self.ports.store, user_id)
            await self.ports.chat.open_view(trigger, link_modal(user.github if user is not None else ""))
        elif action_id in (TEAM_ADD, TEAM_REMOVE) and value:
            adding = action_id == TEAM_ADD
            doing = "add members" if adding else "remove members"
            refused = await self._manage_refusal(user_id, value, doing)
            on = payload.get("view")
            parent = _str(on.get("id")) if isinstance(on, dict) and on.get("type") == "modal" else ""
            view = notice_modal("Team member", escape(refused)) if refused \
                else member_modal(value, adding, parent)
            if parent:  # pressed on the team page modal: on top of it, which is refreshed afterwards
                await self.ports.chat.push_view(trigger, view)
            else:
                await self.ports.chat.open_view(trigger, view)
        elif action_id == TEAM_OPEN and value:
            await self.ports.chat.open_view(trigger, await self._team_page(user_id, value))

    async def _manage_refusal(self, user_id: str, slug: str, doing: str) -> str:
        """Why ``user_id`` may not manage team ``slug`` ("" when they may): ``require_manage``,
        the rule the team handlers apply."""
        try:
            team = await team_by_slug(self.ports.store, slug)
            require_manage(await find_user(self.ports.store, user_id), team, doing, self.settings)
        except StorageUnavailable:
            raise
        except RocketError as exc:
            return refusal_text(exc)
        return ""

    async def team_buttons(self, user_id: str, team: Team) -> list[dict[str, Any]]:
        """The buttons under a ``team view`` reply: for the team's leads and admins, else none."""
        try:
            require_manage(await find_user(self.ports.store, user_id), team, "manage it", self.settings)
        except StorageUnavailable:
            raise
        except RocketError:
            return []
        return [team_actions(team.github_team_name)]

    async def _team_page(self, user_id: str, slug: str, warnings: list[str] | None = None,
                         result: TeamResult | None = None) -> dict[str, Any]:
        """The team's page as a modal (the ``team view`` blocks, then ``warnings``)."""
        try:
            if result is None:
                result = await self.bus.handle(ViewTeam(user_id, slug))
            blocks = render_blocks(result)[:89]
            buttons = await self.team_buttons(user_id, result.team)
        except StorageUnavailable:
            raise
        except RocketError as exc:
            return notice_modal("Team", escape(refusal_text(exc)))
        if buttons:  # Add / Remove member, pushed over this modal (which is refreshed after)
            blocks.append(team_actions(result.team.github_team_name, page=False))
        for warning in (warnings or [])[:10]:
            blocks.append({"type": "context", "elements": [
                {"type": "mrkdwn", "text": f":warning: {escape(warning)[:2000]}"}]})
        return {"type": "modal", "title": {"type": "plain_text", "text": "Team"},
                "close": {"type": "plain_text", "text": "Close"}, "blocks": blocks}

    async def open_team_creator(self, user_id: str, trigger_id: str) -> str:
        """``views.open`` of the team dialog; "" when opened, else why not (the creation rule)."""
        if not can_create_team(await find_user(self.ports.store, user_id)):
            return "Permission denied: Only team leads and admins can create teams"
        await self.ports.chat.open_view(trigger_id, team_create_modal())
        return ""

    async def shortcut(self, payload: dict[str, Any]) -> None:
        """A global shortcut: "Edit my profile" opens the profile editor; others are ignored."""
        user_id, trigger = _user_id(payload), _str(payload.get("trigger_id"))
        if _str(payload.get("callback_id")) == PROFILE_SHORTCUT and user_id and trigger:
            await self.open_profile_editor(user_id, trigger)

    async def view_closed(self, payload: dict[str, Any]) -> None:
        """A modal was closed: nothing changes; a device-flow modal is no longer updated."""
        view = payload.get("view")
        user_id = _user_id(payload)
        if isinstance(view, dict) and _str(view.get("callback_id")) == DEVICE_CALLBACK:
            pending = self._device_views.get(user_id)
            if pending is not None and pending[0] == _str(view.get("id")):
                del self._device_views[user_id]

    async def _device_done(self, user_id: str) -> None:
        """Replace ``user_id``'s open device-flow modal (``views.update``) once the login it
        claimed is stored verified; a Slack failure is only logged."""
        pending = self._device_views.get(user_id)
        if pending is None:
            return
        view_id, login = pending
        user = await find_user(self.ports.store, user_id)
        if user is None or not user.github_verified or user.github.casefold() != login.casefold():
            return
        del self._device_views[user_id]
        try:
            await self.ports.chat.update_view(view_id, device_done_modal(
                login, f"Verified and linked your GitHub account {user.github}"))
        except StorageUnavailable:
            raise
        except RocketError as exc:
            log.warning(json.dumps({"kind": "device_view", "outcome": "not updated",
                                    "error": str(exc)[:200]}))

    async def _more(self, user_id: str, line: str, response_url: str) -> None:
        """The next page of a list, POSTed to ``response_url`` as a new ephemeral reply."""
        if not _MORE.match(line) or not response_url.startswith(("https://", "http://127.0.0.1:")) \
                or self.responder is None:
            return
        from entrypoints.commands.dispatch import run_command  # the grammar is loaded on first use

        reply = await run_command(self.bus, user_id, line)
        text = reply.slack_text or escape(reply.text)
        payload: dict[str, Any] = {"response_type": "ephemeral", "replace_original": False, "text": text}
        if reply.blocks:
            payload["blocks"] = reply.blocks
        await self.responder(response_url, payload)

    async def view_submission(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """The answer to a submitted modal (None: close it)."""
        view = payload.get("view")
        if not isinstance(view, dict):
            return None
        callback = _str(view.get("callback_id"))
        if callback not in (PROFILE_CALLBACK, MEMBER_CALLBACK, TEAM_CREATE_CALLBACK, LINK_CALLBACK):
            return None
        user_id = _user_id(payload)
        if not user_id:
            return None
        key = f"slack-view:{_str(view.get('id'))}:{_str(view.get('hash'))}"
        problems = {block: f"This contains {bad.partition(': ')[2] or bad}, which Rocket cannot store."
                    for block, given in input_values(view).items() if (bad := bad_text_in(given))}
        if problems:  # NUL or a lone surrogate (HTTP refuses them before; Socket Mode gets here)
            return errors(**problems)
        if callback == PROFILE_CALLBACK:
            problems = self._field_problems(profile_values(view))
        elif callback == TEAM_CREATE_CALLBACK:
            problems = await self._team_problems(user_id, team_create_values(view))
        elif callback == LINK_CALLBACK:
            problems = self._link_problems(view)
        else:
            problems = {}
        if problems:
            return errors(**problems)
        owner = await self._claim(key)
        if owner is None:
            log.info(json.dumps({"kind": "interaction", "view": key[:120], "outcome": "duplicate"}))
            return None
        if callback == TEAM_CREATE_CALLBACK:
            return await self._create_team_in_time(user_id, view, key, owner)
        done = False
        try:
            if callback == PROFILE_CALLBACK:
                answer = await self._save_profile(user_id, view)
            elif callback == TEAM_CREATE_CALLBACK:
                answer = await self._create_team(user_id, team_create_values(view))
            elif callback == LINK_CALLBACK:
                answer = await self._link(user_id, view)
            else:
                answer = await self._member(user_id, view)
            done = answer is None or answer.get("response_action") != "errors"
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
        what, _, parent = _str(view.get("private_metadata")).partition("\n")
        verb, _, slug = what.partition(":")
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
            return errors(member=refusal_text(exc))
        if parent:  # the team page this picker was pushed over shows the change (views.update)
            try:
                await self.ports.chat.update_view(parent, await self._team_page(user_id, slug))
            except StorageUnavailable:
                raise
            except RocketError as exc:
                log.warning(json.dumps({"kind": "team_page", "outcome": "not updated",
                                        "error": str(exc)[:200]}))
        return None

    # --- team dialog ---------------------------------------------------------------------------
    async def _team_problems(self, user_id: str, values: dict[str, Any]) -> dict[str, str]:
        """What is wrong with the team dialog's values, by block id (the checks ``CreateTeam``'s
        handler makes on each value, and for each person picked what ``team add`` requires)."""
        found: dict[str, str] = {}
        try:
            slug = team_slug(values["slug"])
            check_fields(Team, github_team_name=slug)
        except InvalidInput as exc:
            found["slug"] = str(exc)
        for block_id, field in (("name", "display_name"), ("platform", "platform"), ("folder", "folder")):
            try:
                check_fields(Team, **{field: values[block_id].strip()})
            except InvalidInput as exc:
                found[block_id] = str(exc)
        if len(values["members"]) > MAX_MEMBERS_PICKED:
            found["members"] = f"Choose at most {MAX_MEMBERS_PICKED} people; add more later with Add member."
        for block_id, people in (("lead", [values["lead"]] if values["lead"] else []),
                                 ("members", values["members"])):
            for slack_id in people:
                if block_id in found:
                    break
                user = await find_user(self.ports.store, slack_id)
                if user is None:
                    found[block_id] = f"{slack_id} is not in the directory yet (they run /rocket user add)"
                    continue
                try:
                    require_github(user)
                except InvalidInput as exc:
                    found[block_id] = str(exc)
        return found

    async def _create_team_in_time(self, user_id: str, view: dict[str, Any], key: str,
                                   owner: str) -> dict[str, Any] | None:
        """The team dialog's answer within ``inline_seconds`` (Slack waits 3 s): the outcome when
        GitHub was quick enough, else a "Creating…" view that ``views.update`` replaces with the
        outcome when it is known. The claim on ``key`` is settled when the creation ends."""
        values = team_create_values(view)

        async def create_and_settle() -> dict[str, Any]:
            done = False
            try:
                answer = await self._create_team(user_id, values)
                done = answer.get("response_action") != "errors"
                return answer
            finally:
                await self._settle(key, owner, done)

        creation = asyncio.ensure_future(create_and_settle())
        try:
            return await asyncio.wait_for(asyncio.shield(creation), self.inline_seconds)
        except TimeoutError:
            pass
        slug = values["slug"].strip()
        self._keep(asyncio.create_task(self._finish_team(creation, _str(view.get("id")), slug)))
        return {"response_action": "update", "view": notice_modal(
            "Create a team", f":hourglass_flowing_sand: Creating *{escape(slug)}* on GitHub…")}

    async def _finish_team(self, creation: asyncio.Future[dict[str, Any]], view_id: str, slug: str) -> None:
        """Replace the "Creating…" view with the outcome (``views.update``)."""
        try:
            answer = await creation
            if answer.get("response_action") == "update":
                view = answer["view"]
            else:
                why = "; ".join(str(v) for v in (answer.get("errors") or {}).values())
                view = notice_modal("Create a team", escape(f"{slug} was not created: {why}"))
        except RocketError as exc:
            view = notice_modal("Create a team", escape(f"{slug} was not created: {refusal_text(exc)}"))
        except Exception:
            log.exception("creating a team from the dialog failed")
            why = f"Something went wrong creating {slug}; it was logged."
            view = notice_modal("Create a team", escape(why))
        try:
            await self.ports.chat.update_view(view_id, view)
        except RocketError as exc:
            log.warning(json.dumps({"kind": "team_create", "outcome": "not updated",
                                    "error": str(exc)[:200]}))

    def _keep(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float = 30) -> None:
        """Wait for work still finishing after its answer (a slow team creation)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)

    async def _create_team(self, user_id: str, values: dict[str, Any]) -> dict[str, Any]:
        lead = values["lead"] if values["lead"] and values["lead"] != user_id else None
        command = CreateTeam(user_id, values["slug"].strip(), name=values["name"].strip() or None,
                             platform=values["platform"].strip() or None, lead=lead,
                             folder=values["folder"].strip() or None)
        try:
            result = await self.bus.handle(command)
        except StorageUnavailable:
            raise
        except RocketError as exc:
            message = refusal_text(exc)
            block = "lead" if lead and lead in message else \
                "folder" if "folder" in message.lower() else "slug"
            return errors(**{block: message})
        warnings = list(result.warnings)
        slug = result.team.github_team_name
        present = {u.slack_id for u in result.members}
        for slack_id in values["members"]:
            if slack_id in present:
                continue
            try:
                result = await self.bus.handle(AddTeamMember(user_id, slug, slack_id))
            except StorageUnavailable:
                raise
            except RocketError as exc:
                warnings.append(f"{slack_id} was not added: {refusal_text(exc)}")
        log.info(json.dumps({"kind": "interaction", "view": TEAM_CREATE_CALLBACK, "user": user_id,
                             "team": slug[:100], "outcome": "applied"}))
        return {"response_action": "update", "view": await self._team_page(user_id, slug, warnings, result)}

    # --- GitHub link (device flow) -------------------------------------------------------------
    @staticmethod
    def _link_problems(view: dict[str, Any]) -> dict[str, str]:
        login = _str((input_values(view).get("github") or {}).get("value")).strip()
        if not login:
            return {"github": "Enter your GitHub login."}
        try:
            clean_github(login)
        except InvalidInput as exc:
            return {"github": str(exc)}
        return {}

    async def _link(self, user_id: str, view: dict[str, Any]) -> dict[str, Any]:
        login = clean_github(_str((input_values(view).get("github") or {}).get("value")))
        try:
            result = await self.bus.handle(EditUser(user_id, github=login))
        except StorageUnavailable:
            raise
        except RocketError as exc:
            return errors(github=refusal_text(exc))
        code = result.device
        if code is None:  # no device flow configured: stored as the slash command stores it
            text = f"*GitHub:* {github_profile_link(result.user.github or login)}\n" + \
                escape("\n".join([result.message, *result.warnings]))
            return {"response_action": "update", "view": notice_modal("Link GitHub", text)}
        self._device_views[user_id] = (_str(view.get("id")), login)
        minutes = max(1, round(code.expires_in / 60))
        return {"response_action": "update",
                "view": device_modal(login, code.verification_uri, code.user_code, minutes)}
