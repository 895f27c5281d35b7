"""User use-cases: ``user add``, ``user edit``, ``user view`` and ``user delete``.

Who may do what (the contract): anyone may view users, and add and edit themselves; admins
and team leads may edit another user; only admins change ``permission`` and delete users.
A refused command raises before anything is written.

Setting ``github`` is GitHub-first: the login is invited to the organization and added to
``settings.default_team`` on GitHub, and only when GitHub accepted both is the record stored
with ``github`` and ``github_user_id``. If GitHub raises, nothing is stored and the error
propagates. Every update of an existing record is a compare-and-set with retry
(``update_with_retry``) that re-applies only the fields asked for, so concurrent edits of
different fields all survive.

Records ``UserRegistered``, ``ProfileChanged`` (old and new values of every changed field),
``UserPromoted`` (``rocket admin``) and ``UserDeleted``. The input checks live in
``core.validation``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from core import commands as c
from core.context import Ports, Settings
from core.errors import Conflict, InvalidInput, NotFound
from core.events import FieldChange, ProfileChanged, UserDeleted, UserPromoted, UserRegistered, record
from core.limits import TEXT
from core.models import Team, User
from core.permissions import (
    LEAD_FORBIDDEN_FIELDS,
    Permissions,
    can_change_permission,
    can_delete_user,
    can_demote_self,
    can_edit_other_user,
    is_admin,
)
from core.results import Deleted, UserResult
from core.usecases.common import find_user, replaced, require, update_with_retry, upsert_with_retry
from core.validation import MAX_BIO, MAX_FIELD, clean_email, clean_github, clean_text, parse_permission
from ports.storage import Store

_LABELS = {
    "name": "name",
    "email": "email",
    "position": "position",
    "github": "GitHub username",
    "major": "major",
    "bio": "bio",
    "permission_level": "permission",
}


def _not_registered(slack_id: str, actor: str) -> NotFound:
    if slack_id == actor:
        return NotFound("You are not registered yet; run `/rocket user add` first")
    return NotFound(f"{slack_id} is not registered yet (they can run `/rocket user add`)")


# --- use-cases -------------------------------------------------------------------------
_RESET_BY_FORCE: dict[str, Any] = {"name": "", "email": "", "major": "", "position": "", "bio": "",
                                   "image_url": ""}
"""What ``user add -f`` clears: the profile's text fields, never rank, karma or GitHub link."""


class AddUserHandler:
    """``user add [-f]``: register the actor with a fresh record (karma 1, member).

    Already registered and not ``force``: ``Conflict`` and nothing written. With ``force``
    the existing record's text fields (name, email, major, position, bio, image) are cleared
    (compare-and-set on its current version); its permission level, karma and GitHub link
    are kept.
    """

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._settings = settings

    async def __call__(self, cmd: c.AddUser) -> UserResult:
        store, actor = self._ports.store, cmd.actor
        if cmd.force:
            before: User | None = None

            def fresh(cur: User) -> User:
                nonlocal before
                before = cur
                # The profile's text fields are reset; permission, karma and the GitHub link
                # (with whatever else the model keeps about it) are never touched here.
                return dataclasses.replace(cur, **_RESET_BY_FORCE)

            try:
                user = await update_with_retry(store, User, actor, fresh)
            except NotFound:
                pass
            else:
                if before is not None:
                    _record_changes(before, user, actor)
                return UserResult(user, message="Cleared your profile's text fields "
                                  "(permission, karma and GitHub link kept)")
        try:
            user = await store.store(User(slack_id=actor))
        except Conflict:
            raise Conflict("You are already registered; use -f to overwrite your profile") from None
        record(UserRegistered(actor, actor))
        return UserResult(user, message="Added you to the directory")


class EditUserHandler:
    """``user edit``: change profile fields of the actor (``target`` None) or of ``target``.

    - Editing yourself: anyone; an unregistered actor is registered on the way.
    - Editing another user: admins; a team lead only a non-admin member of a team they lead,
      and never their email, GitHub or permission. The actor must be registered and the
      target must exist (``NotFound`` otherwise).
    - ``permission``: admins only; the last admin cannot demote themselves.
    - ``github``: GitHub-first (see the module docstring); the login must not be linked to
      another user already (``Conflict``).
    Only the fields given are written; ``None`` leaves a field alone and ``""`` clears a
    text field. Input is validated before anything else happens.
    """

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._settings = settings

    async def __call__(self, cmd: c.EditUser) -> UserResult:
        actor, target, github, permission = cmd.actor, cmd.target, cmd.github, cmd.permission
        name, email, position, major, bio = cmd.name, cmd.email, cmd.position, cmd.major, cmd.bio
        changes: dict[str, Any] = {}
        for field, label, value, limit in (
            ("name", "Name", name, MAX_FIELD),
            ("position", "Position", position, MAX_FIELD),
            ("major", "Major", major, MAX_FIELD),
            ("bio", "Bio", bio, MAX_BIO),
        ):
            if value is not None:
                changes[field] = clean_text(label, value, limit)
        if email is not None:
            changes["email"] = clean_email(email)
        login = clean_github(github) if github is not None else None
        level = parse_permission(permission) if permission is not None else None

        store = self._ports.store
        subject = (target or "").strip() or actor
        actor_user = await find_user(store, actor)
        asked = set(changes) | ({"github"} if login is not None else set()) | (
            {"permission_level"} if level is not None else set())
        if subject != actor:
            if actor_user is None:
                raise _not_registered(actor, actor)
            require(
                can_edit_other_user(actor_user), "Only admins and team leads can edit another user's profile"
            )
            before = await find_user(store, subject)
            if before is None:
                raise _not_registered(subject, actor)
            await self._require_may_edit(store, actor_user, before, asked)
        else:
            before = actor_user
        if level is not None:
            require(can_change_permission(actor_user), "Only admins can change permission levels")
            if subject == actor and level != Permissions.admin and is_admin(actor_user):
                others = [u for u in await store.query(User, [("permission_level", Permissions.admin)])
                          if u.slack_id != actor]
                require(can_demote_self(len(others)),
                        "You are the last admin: make someone else admin before giving up your rank")
            changes["permission_level"] = level

        warnings: list[str] = []
        if login is not None:
            await self._ports.github.ensure_configured()
            await self._check_unlinked(store, subject, github=login)
            github_id = await self._link_github(login, subject)
            changes["github"] = login
            changes["github_user_id"] = github_id
            if before is not None and before.github_user_id and before.github_user_id != github_id:
                warnings.extend(await self._old_account_warnings(before))

        user, created = await _apply_changes(store, subject, changes, create=subject == actor)
        if created:
            record(UserRegistered(subject, actor))
        if before is not None:
            _record_changes(before, user, actor)
        elif created and changes:
            _record_changes(User(slack_id=subject), user, actor)
        fields = ", ".join(_LABELS[k] for k in changes if k in _LABELS)
        if created:
            message = "Added you to the directory" + (f" with {fields}" if fields else "")
        elif not changes:
            message = (
                "Nothing to change: give --name, --email, --pos, --github, --major, --bio or --permission"
            )
        elif before is not None and replaced(before, changes) is None:
            message = f"Nothing changed ({fields} already set)"
        else:
            message = f"Updated {fields}"
        return UserResult(user, message=message, warnings=warnings)

    @staticmethod
    async def _require_may_edit(store: Store, actor_user: User, target: User, fields: set[str]) -> None:
        """``PermissionDenied`` unless ``actor_user`` may change ``fields`` of ``target``
        (``core.permissions.can_edit_other_user``), saying which rule refused it."""
        if is_admin(actor_user):
            return
        require("permission_level" not in fields, "Only admins can change permission levels")
        if is_admin(target):
            require(False, f"Only admins can edit an admin's profile ({target.slack_id} is an admin)")
        forbidden = sorted(_LABELS.get(f, f) for f in fields & LEAD_FORBIDDEN_FIELDS)
        require(not forbidden, f"Only admins can change another user's {', '.join(forbidden)}")
        teams = await store.query(Team, [("members", target.github_user_id)]) if target.github_user_id else []
        require(can_edit_other_user(actor_user, target, teams, fields),
                f"Team leads can edit only members of a team they lead ({target.slack_id} is not)")

    async def _link_github(self, login: str, subject: str) -> str:
        """Invite ``login`` to the org and add it to the default team; its GitHub id.

        Between the two, the id is checked against other users (a login typed in another
        case names the same account); such an account was invited when it was first
        linked, so the invitation changes nothing on GitHub.
        """
        github = self._ports.github
        github_id = str(await github.invite_to_org(login))
        await self._check_unlinked(self._ports.store, subject, github=login, github_user_id=github_id)
        slug = self._settings.default_team
        if slug:
            try:
                team = await github.team_by_slug(slug)
            except NotFound:
                try:
                    team = await github.create_team(slug)
                except Conflict:  # created by someone else meanwhile
                    team = await github.team_by_slug(slug)
            await github.add_team_member(team.id, login)
        return github_id

    @staticmethod
    async def _check_unlinked(store: Store, subject: str, github: str, github_user_id: str = "") -> None:
        """``Conflict`` when another user already has this GitHub login (or id)."""
        params = [("github_user_id", github_user_id)] if github_user_id else [("github", github)]
        for other in await store.query(User, params):
            if other.slack_id != subject:
                raise Conflict(f"GitHub account {github} is already linked to {other.slack_id}")

    async def _old_account_warnings(self, before: User) -> list[str]:
        teams = await self._ports.store.query_or(
            Team, [("members", before.github_user_id), ("team_leads", before.github_user_id)]
        )
        if not teams:
            return []
        names = ", ".join(sorted(t.github_team_name or t.github_team_id for t in teams))
        return [
            f"{before.slack_id} is still listed in {names} under the previous GitHub account "
            f"{before.github or before.github_user_id}; re-add them to those teams"
        ]


async def _apply_changes(
    store: Store, slack_id: str, changes: dict[str, Any], create: bool
) -> tuple[User, bool]:
    """Write ``changes`` onto the user (compare-and-set with retry); returns (user, created).

    A missing user is created when ``create`` (otherwise ``NotFound``); a creation that
    loses a race to another creation turns into an update.
    """

    def apply(current: User) -> User | None:
        return replaced(current, changes)

    try:
        return await upsert_with_retry(store, User, slack_id, apply,
                                       create=User(slack_id=slack_id) if create else None)
    except NotFound:
        raise _not_registered(slack_id, "") from None


_PROFILE_FIELDS = tuple(f.name for f in dataclasses.fields(User) if f.name not in ("slack_id", "version"))


def _record_changes(before: User, after: User, actor: str) -> None:
    """Record ``ProfileChanged`` with the old and new value of every field that changed."""
    old, new = before.__dict__, after.__dict__
    diff = tuple(FieldChange(n, old[n], new[n]) for n in _PROFILE_FIELDS if old[n] != new[n])
    if diff:
        record(ProfileChanged(after.slack_id, diff, actor))


class ViewUserHandler:
    """``user view``: anyone may look up a user by Slack id, GitHub login or email (at most
    one selector; none means the actor). ``inspect`` fills the teams they are in and lead."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._settings = settings

    async def __call__(self, cmd: c.ViewUser) -> UserResult:
        actor, slack_id, github, email, inspect = cmd.actor, cmd.slack_id, cmd.github, cmd.email, cmd.inspect
        given = [s for s in (slack_id, github, email) if s is not None]
        if len(given) > 1:
            raise InvalidInput("Look a user up by one of --username, --github or --email, not several")
        store = self._ports.store
        if github is not None:
            login = clean_github(github)
            found = await store.query(User, [("github", login)])
            if not found:
                raise NotFound(f"No registered user has the GitHub username {login!r}")
            user = found[0]
        elif email is not None:
            address = clean_email(email)
            found = await store.query(User, [("email", address)]) if address else []
            if not found:
                raise NotFound(f"No registered user has the email {address!r}")
            user = found[0]
        else:
            key = clean_text("Slack id", slack_id) if slack_id is not None else actor
            looked_up = await find_user(store, key or actor)
            if looked_up is None:
                raise _not_registered(key or actor, actor)
            user = looked_up
        result = UserResult(user)
        if inspect:
            result.teams, result.leading = [], []
            if user.github_user_id:
                teams = await store.query_or(
                    Team, [("members", user.github_user_id), ("team_leads", user.github_user_id)]
                )
                teams.sort(key=lambda t: t.github_team_name)
                result.teams = [t for t in teams if user.github_user_id in t.members]
                result.leading = [t for t in teams if user.github_user_id in t.team_leads]
        return result


class DeleteUserHandler:
    """``user delete SLACK_ID``: admins only. Also removes the user's GitHub id from the
    stored teams' members and leads (GitHub itself is not changed)."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._settings = settings

    async def __call__(self, cmd: c.DeleteUser) -> Deleted:
        store, actor = self._ports.store, cmd.actor
        actor_user = await find_user(store, actor)
        require(can_delete_user(actor_user), "Only admins can delete users")
        slack_id = clean_text("Slack id", cmd.slack_id, TEXT[User]["slack_id"])
        user = await find_user(store, slack_id)
        if user is None:
            raise _not_registered(slack_id, actor)
        github_id = user.github_user_id
        if github_id:
            for team in await store.query_or(Team, [("members", github_id), ("team_leads", github_id)]):
                try:
                    await update_with_retry(store, Team, team.github_team_id,
                                            lambda t: t.without_member(github_id), current=team)
                except NotFound:
                    pass  # the team was deleted meanwhile
        await store.delete(User, slack_id)
        record(UserDeleted(slack_id, github_id, actor))
        return Deleted("user", slack_id, message=f"Deleted {slack_id}")


class MakeAdminHandler:
    """``rocket admin SLACK_ID`` (the operator; no permission check): create the user if
    missing (karma 1) and make them admin. ``InvalidInput`` for an empty id, storing nothing
    (a user with an empty id could not be read back). Records ``UserPromoted``."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports

    async def __call__(self, cmd: c.MakeAdmin) -> UserResult:
        slack_id = cmd.slack_id.strip()
        if not slack_id:
            raise InvalidInput("a Slack user id must not be empty (e.g. rocket admin U0123ABCD)")
        old: Permissions | None = None

        def promote(user: User) -> User | None:
            nonlocal old
            old = user.permission_level
            if user.permission_level == Permissions.admin:
                return None
            return dataclasses.replace(user, permission_level=Permissions.admin)

        user, created = await upsert_with_retry(self._ports.store, User, slack_id, promote,
                                                create=User(slack_id))
        if created:
            record(UserRegistered(slack_id, cmd.actor))
        if old is not None and old != Permissions.admin:
            record(UserPromoted(slack_id, user.github_user_id, old, Permissions.admin, "", cmd.actor))
        return UserResult(user, message=f"{slack_id} is now an admin")


__all__ = [
    "AddUserHandler",
    "DeleteUserHandler",
    "EditUserHandler",
    "MakeAdminHandler",
    "ViewUserHandler",
    "clean_email",
    "clean_github",
    "clean_text",
    "parse_permission",
]
