"""User use-cases: ``user add``, ``user edit``, ``user view`` and ``user delete``.

Who may do what (the contract): anyone may view users, and add and edit themselves; admins
and team leads may edit another user; only admins change ``permission`` and delete users.
A refused command raises before anything is written.

Setting ``github`` is GitHub-first: the login is invited to the organization and added to
``settings.default_team`` on GitHub, and only when GitHub accepted both is the record stored
with ``github`` and ``github_user_id``. If GitHub raises, nothing is stored and the error
propagates. Who set the link decides ``github_verified`` (CONTRACT.md "GitHub identity"):
the device flow (``core.verification``, then ``LinkVerifiedGitHub``) or an admin make it
verified, anyone else's self-set link is unverified and grants nothing. Every update of an
existing record is a compare-and-set with retry
(``update_with_retry``) that re-applies only the fields asked for, so concurrent edits of
different fields all survive.

Records ``UserRegistered``, ``ProfileChanged`` (old and new values of every changed field),
``UserPromoted`` (``rocket admin``) and ``UserDeleted``. The input checks live in
``core.validation``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from core import commands as c
from core.context import Ports, Settings
from core.errors import Conflict, InvalidInput, NotFound, RocketError, UpstreamError
from core.events import (
    FieldChange,
    MemberJoinedTeam,
    MemberLeftTeam,
    ProfileChanged,
    UserDeleted,
    UserPromoted,
    UserRegistered,
    record,
)
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
from core.usecases.common import (
    changed_team,
    find_user,
    replaced,
    require,
    update_with_retry,
    upsert_with_retry,
)
from core.usecases.invitations import invitation_note
from core.usecases.membership import store_from_github
from core.usecases.registry import handles
from core.validation import MAX_BIO, MAX_FIELD, clean_email, clean_github, clean_text, parse_permission
from core.verification import Verifications
from ports.storage import Store

if TYPE_CHECKING:  # annotations only (start-up: the bus is built by every CLI command)
    from ports.identity import DeviceCode

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


@handles(c.AddUser)
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
    - ``github`` (GitHub identity in the contract): for oneself with verification configured
      (``verifications.configured``: ``GITHUB_CLIENT_ID``), the device flow starts and the reply
      shows where to enter which code; the link is stored later, verified, by
      ``LinkVerifiedGitHub``. Otherwise GitHub-first (see the module docstring): set by an admin
      the link is verified (and removes another user's unverified link of that account), set by
      anyone else it is stored unverified and the reply says it grants no rank. The login must
      not be linked to another user already (``Conflict``), unless that link is unverified and
      the new one verified.
    Only the fields given are written; ``None`` leaves a field alone and ``""`` clears a
    text field. Input is validated before anything else happens.
    """

    def __init__(self, ports: Ports, settings: Settings, verifications: Verifications | None = None) -> None:
        self._ports = ports
        self._settings = settings
        self._verifications = verifications

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
        code: DeviceCode | None = None
        dropped: list[User] = []
        if login is not None:
            await self._ports.github.ensure_configured()
            verifications = self._verifications
            if subject == actor and verifications is not None and verifications.configured:
                # Proven by GitHub's device flow; linked later, in the background (core.verification).
                await _check_unlinked(store, subject, login, verified=True)
                code = await verifications.begin(subject, login)
            else:
                verified = is_admin(actor_user)  # an admin vouches; a self-set link proves nothing
                github_id = await self._link_github(login, subject, verified, actor)
                changes["github"] = login
                changes["github_user_id"] = github_id
                changes["github_verified"] = verified
                if before is not None and before.github_user_id and before.github_user_id != github_id:
                    warnings.extend(await self._old_account_warnings(before))
                if not verified:
                    warnings.append(UNVERIFIED_NOTE)
                else:
                    dropped = await _drop_unverified_claims(store, subject, login, github_id, actor)

        user, created = await _apply_changes(store, subject, changes, create=subject == actor,
                                             current=before)
        if created:
            record(UserRegistered(subject, actor))
        if before is not None:
            _record_changes(before, user, actor)
        elif created and changes:
            _record_changes(User(slack_id=subject), user, actor)
        fields = ", ".join(_LABELS[k] for k in changes if k in _LABELS)
        warnings.extend(f"Removed {u.slack_id}'s unverified link to GitHub account {u.github}"
                        for u in dropped)
        if code is not None:
            verify = (f"To link GitHub account {login}, open {code.verification_uri} and enter the code "
                      f"{code.user_code} within {max(1, round(code.expires_in / 60))} minutes; "
                      "I will send you a direct message when it is done")
            message = verify if not fields else f"Updated {fields}. {verify}"
            return UserResult(user, message=message, warnings=warnings, device=code)
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

    async def _link_github(self, login: str, subject: str, verified: bool, actor: str) -> str:
        """Invite ``login`` to the org and add it to the default team; its GitHub id.

        See ``link_on_github``."""
        return await link_on_github(self._ports, self._settings, login, subject, verified, actor)

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
    store: Store, slack_id: str, changes: dict[str, Any], create: bool, current: User | None = None
) -> tuple[User, bool]:
    """Write ``changes`` onto the user (compare-and-set with retry); returns (user, created).

    ``current``, the user as this command already read them, saves the first read (one read
    and one conditional write per edit); a stale copy costs one ``Conflict`` and a re-read.

    A missing user is created when ``create`` (otherwise ``NotFound``); a creation that
    loses a race to another creation turns into an update.
    """

    def apply(current: User) -> User | None:
        return replaced(current, changes)

    try:
        return await upsert_with_retry(store, User, slack_id, apply, current=current,
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


UNVERIFIED_NOTE = (
    "This GitHub link is unverified: it grants no rank and no team-lead rights until an admin "
    "confirms it (`/rocket user edit --username SLACK_ID --github LOGIN`)"
)


async def link_on_github(ports: Ports, settings: Settings, login: str, subject: str, verified: bool,
                         actor: str = "") -> str:
    """GitHub first: invite ``login`` to the org and add it to ``settings.default_team``; its id.

    Before and between the two, ``_check_unlinked`` (by login, then by GitHub id: a login typed
    in another case names the same account, which was invited when it was first linked, so the
    invitation changes nothing on GitHub)."""
    store, github = ports.store, ports.github
    await _check_unlinked(store, subject, login, verified=verified)
    github_id = str(await github.invite_to_org(login))
    await _check_unlinked(store, subject, login, verified=verified, github_user_id=github_id)
    slug = settings.default_team
    if slug:
        try:
            team = await github.team_by_slug(slug)
        except NotFound:
            try:
                team = await github.create_team(slug)
            except Conflict:  # created by someone else meanwhile
                team = await github.team_by_slug(slug)
        await github.add_team_member(team.id, login)
        # Rocket's own record of the default team follows at once (not at the next refresh).
        joined, _ = await store_from_github(ports, team.id, github_id, login)
        if joined is not None and github_id in joined.members:
            record(MemberJoinedTeam(joined.github_team_id, joined.github_team_name, github_id, subject,
                                    login, actor))
    return github_id


async def _check_unlinked(store: Store, subject: str, github: str, *, verified: bool,
                          github_user_id: str = "") -> None:
    """``Conflict`` when another user holds this GitHub login (or id), except that a verified
    claim (``verified``) may take over someone else's unverified link."""
    params = [("github_user_id", github_user_id)] if github_user_id else [("github", github)]
    for other in await store.query(User, params):
        if other.slack_id == subject or (verified and not other.github_verified):
            continue
        raise Conflict(f"GitHub account {github} is already linked to {other.slack_id}")


async def _drop_unverified_claims(store: Store, subject: str, login: str, github_id: str,
                                  actor: str) -> list[User]:
    """Remove every other user's unverified link to this account (by id or login); the users
    as they were. Records ``ProfileChanged`` for each."""
    others = {u.slack_id: u for u in await store.query_or(User, [("github_user_id", github_id),
                                                              ("github", login)])}
    dropped: list[User] = []
    for other in others.values():
        if other.slack_id == subject or other.github_verified:
            continue

        def unlink(u: User) -> User | None:
            if u.github_verified or (u.github_user_id != github_id and u.github != login):
                return None
            return dataclasses.replace(u, github="", github_user_id="", github_verified=False)

        try:
            after = await update_with_retry(store, User, other.slack_id, unlink, current=other)
        except NotFound:
            continue
        if after.github != other.github:
            _record_changes(other, after, actor)
            dropped.append(other)
    return dropped


@handles(c.LinkVerifiedGitHub)
class LinkVerifiedGitHubHandler:
    """``LinkVerifiedGitHub``: the device flow proved that ``actor`` controls ``login``.

    GitHub first (invitation, default team), then the link is stored verified (the actor is
    registered on the way if needed) and another user's unverified link of that account is
    removed. ``Conflict`` (nothing stored) when another user holds it verified; ``UpstreamError``
    when GitHub names another account id for the login than the one that approved the code.
    """

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._settings = settings

    async def __call__(self, cmd: c.LinkVerifiedGitHub) -> UserResult:
        store, subject = self._ports.store, cmd.actor
        login = clean_github(cmd.login)
        await self._ports.github.ensure_configured()
        before = await find_user(store, subject)
        github_id = await link_on_github(self._ports, self._settings, login, subject, verified=True,
                                         actor=subject)
        if github_id != cmd.github_user_id:
            raise UpstreamError("GitHub", f"GitHub names account id {github_id} for {login}, but account "
                                          f"{cmd.github_user_id} approved the code; nothing was linked")
        changes: dict[str, Any] = {"github": login, "github_user_id": github_id, "github_verified": True}
        user, created = await _apply_changes(store, subject, changes, create=True)
        if created:
            record(UserRegistered(subject, subject))
        _record_changes(before or User(slack_id=subject), user, subject)
        dropped = await _drop_unverified_claims(store, subject, login, github_id, subject)
        warnings = [f"Removed {u.slack_id}'s unverified link to GitHub account {u.github}" for u in dropped]
        return UserResult(user, message=f"Verified and linked your GitHub account {login}", warnings=warnings)


@handles(c.ViewUser)
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
        result = UserResult(user, invitation=await invitation_note(self._ports, user))
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


_ORG_OUTCOME = {
    "removed": "removed from the GitHub organization",
    "cancelled": "their pending GitHub organization invitation cancelled",
    "absent": "not in the GitHub organization (nothing to remove)",
}


@handles(c.DeleteUser)
class DeleteUserHandler:
    """``user delete SLACK_ID [--org]``: offboarding, admins only.

    In this order, each step done once and safe to repeat:
    1. every stored team that lists them (member or lead), by slug: removed on GitHub, then
       from the team's record as GitHub then answers; ``MemberLeftTeam`` makes
       the Drive subscriber re-share the team's folder without their email;
    2. the default team on GitHub (``settings.default_team``), where ``user edit --github``
       put them, when the directory does not list it;
    3. with ``org``: out of the GitHub organization, or their pending invitation cancelled;
    4. the directory record (``UserDeleted``).
    The reply lists each removal. When a GitHub step fails, nothing after it is attempted,
    the record is kept, and the reply says what was done, what was not, and to run the
    command again (which skips what is already done and finishes).
    """

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
        github, login, github_id = self._ports.github, user.github, user.github_user_id
        done: list[str] = []
        todo: list[str] = []
        if login or github_id:
            await github.ensure_configured()
            teams = await store.query_or(Team, [("members", github_id), ("team_leads", github_id)]) \
                if github_id else []
            teams.sort(key=lambda t: t.github_team_name.casefold())
            todo = [f"GitHub team {t.github_team_name}" for t in teams]
            default = (self._settings.default_team or "").strip()
            if login and default and all(t.github_team_name.casefold() != default.casefold() for t in teams):
                todo.append(f"GitHub team {default}")
            if cmd.org and login:
                todo.append("the GitHub organization")
            try:
                for team in teams:
                    await self._leave(team, user, actor)
                    folder = " and its Drive folder" if team.folder else ""
                    done.append(f"removed from GitHub team {team.github_team_name}{folder}")
                    todo.pop(0)
                if todo and todo[0] == f"GitHub team {default}":
                    try:
                        gh_team = await github.team_by_slug(default)
                    except NotFound:
                        pass
                    else:
                        await github.remove_team_member(gh_team.id, login)
                        done.append(f"removed from GitHub team {gh_team.slug}")
                    todo.pop(0)
                if todo:
                    outcome = await github.remove_from_org(login)
                    done.append(_ORG_OUTCOME.get(outcome, outcome))
                    todo.pop(0)
            except RocketError as exc:
                return Deleted("user", slack_id, _unfinished(slack_id, cmd.org, done, todo, exc))
        elif cmd.org:
            done.append("no GitHub account on record, so nothing to remove from the organization")
        await store.delete(User, slack_id)
        record(UserDeleted(slack_id, github_id, actor))
        lines = [f"Deleted {slack_id} from the directory"] + [f"- {d}" for d in done]
        if not done:
            lines[0] += " (they were in no team)"
        return Deleted("user", slack_id, message="\n".join(lines))

    async def _leave(self, team: Team, user: User, actor: str) -> None:
        """Remove ``user`` from ``team`` on GitHub, then from its record (as GitHub then says)."""
        gid = user.github_user_id
        if user.github:
            try:
                await self._ports.github.remove_team_member(team.github_team_id, user.github)
            except NotFound:
                pass  # GitHub no longer has the team: nobody is in it there
            updated, _ = await store_from_github(self._ports, team.github_team_id, gid, user.github)
        else:
            updated = await changed_team(self._ports.store, team.github_team_id,
                                         lambda t: t.without_member(gid))
        if updated is not None and gid not in updated.members:
            record(MemberLeftTeam(updated.github_team_id, updated.github_team_name, gid, user.slack_id,
                                  user.github, actor))


def _unfinished(slack_id: str, org: bool, done: list[str], todo: list[str], exc: Exception) -> str:
    """The reply of a ``user delete`` stopped part-way: what was done, what was not."""
    again = f"/rocket user delete {slack_id}{' --org' if org else ''}"
    lines = [f"Not finished deleting {slack_id}: {todo[0]} failed ({exc})."]
    lines += ["Done:"] + [f"- {d}" for d in done] if done else ["Done: nothing yet."]
    lines += ["Not done:"] + [f"- {t}" for t in todo] + [f"- deleting {slack_id} from the directory"]
    lines.append(f"Run `{again}` again to finish.")
    return "\n".join(lines)


@handles(c.MakeAdmin)
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
    "LinkVerifiedGitHubHandler",
    "MakeAdminHandler",
    "ViewUserHandler",
    "clean_email",
    "clean_github",
    "clean_text",
    "parse_permission",
]
