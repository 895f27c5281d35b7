"""Rendering of use-case results: one readable text, and Slack Block Kit built from the same view.

Every result type of ``core.results`` is first turned into a ``View`` (a title, an optional
message, sections of labelled fields, bullet items or a paragraph, and warnings) by
``view_of``. ``text_of`` writes a ``View`` as plain text (the CLI's output and Slack's
fallback ``text``); ``blocks_of`` writes the same ``View`` as Block Kit. So each result is
formatted in one place, and the text and the blocks never disagree.

Block Kit limits are respected: at most 50 blocks, headers of at most 150 characters,
section texts of at most 3,000, at most 10 fields of at most 2,000 characters each; user
data is escaped for mrkdwn (``&``, ``<``, ``>``) so it can never form a mention or a link.

Replies that read like Slack: a piece of a view may be ``Markup``, a ``str`` whose plain value is
what the CLI prints (``Alice (U1, @alice)``) and whose ``mrkdwn`` is what Slack shows (``Alice
(<@U1>, <https://github.com/alice|alice>)``): people as mentions, GitHub logins linked to their
profile on ``github_web_url()`` (github.com, or the GitHub Enterprise Server the app is configured
for). Only Rocket builds ``Markup``, from ids it checked the shape of; every other piece is escaped
(``slack``), so text a user typed never becomes a mention or a link. ``render_slack_text`` is the
Slack ``text`` of a result (the plain text with those mentions and links, the rest escaped).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import field
from functools import singledispatch
from typing import Any

from core.models import Project, Team, User
from core.records import record
from core.results import (
    AuditPage,
    Deleted,
    EmailList,
    KarmaReset,
    KarmaResult,
    ProjectList,
    ProjectResult,
    RefreshPlan,
    RefreshResult,
    TeamList,
    TeamResult,
    UserResult,
)

MAX_BLOCKS = 50
MAX_HEADER = 150
MAX_SECTION = 3000
MAX_FIELD = 2000
MAX_FIELDS = 10


@record(frozen=False)  # a mutable dataclass, lighter to import (issue 17)
class Section:
    """A part of a view: an optional heading, then fields, bullet items and/or a paragraph.

    ``empty`` is shown (instead of nothing) when a headed section has no content.
    """

    heading: str = ""
    fields: list[tuple[str, str]] = field(default_factory=list)
    items: list[str] = field(default_factory=list)
    paragraph: str = ""
    empty: str = ""


@record(frozen=False)
class View:
    title: str
    message: str = ""
    sections: list[Section] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    more: str = ""  # the command line showing the next page ("" when this is the last)


PAGE_SIZE = 25  # list items per reply page
MORE_ACTION = "rocket_more"  # the "More" button's action id; its value is the command line


def _page(items: list[str], page: int, command: str) -> tuple[list[str], str, str]:
    """(the items of ``page``, "page P of N" or "", the next page's command line or "")."""
    pages = max(1, -(-len(items) // PAGE_SIZE))
    page = max(1, min(page, pages))
    shown = items[(page - 1) * PAGE_SIZE: page * PAGE_SIZE]
    where = f" · page {page} of {pages}" if pages > 1 else ""
    more = f"{command} --page {page + 1}" if page < pages else ""
    return shown, where, more


# --- result -> view ------------------------------------------------------------------------


def _fields(pairs: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    """Label/value pairs with the empty values left out (a ``Markup`` value is kept as it is)."""
    return [(label, value if isinstance(value, str) else str(value))
            for label, value in pairs if value not in ("", None)]


class Markup(str):
    """Plain text (the ``str`` itself) with the mrkdwn Slack shows for it (escaped already)."""

    mrkdwn: str

    def __new__(cls, plain: str, mrkdwn: str) -> Markup:
        obj = super().__new__(cls, plain)
        obj.mrkdwn = mrkdwn
        return obj


# Compiled by re on first use (its cache): the CLI renders plain text only (start-up, issue 17).
_SLACK_ID = r"^[UWB][A-Z0-9]{1,30}$"
_LOGIN = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$"
_GITHUB_WEB = ["https://github.com"]


def set_github_web_url(api_url: str = "", oauth_url: str = "") -> None:
    """Where GitHub profiles live (process-wide; the container sets it from the configuration):
    ``GITHUB_OAUTH_URL`` when it is not github.com, else the web address of ``GITHUB_API_URL``
    (``https://api.github.com`` is github.com; a GitHub Enterprise Server's ``…/api/v3`` is its
    host)."""
    oauth = (oauth_url or "").rstrip("/")
    api = (api_url or "").rstrip("/")
    if oauth and oauth != "https://github.com":
        web = oauth
    elif not api or api == "https://api.github.com":
        web = "https://github.com"
    else:
        web = api[: -len("/api/v3")] if api.endswith("/api/v3") else api
    _GITHUB_WEB[0] = web


def github_web_url() -> str:
    """The base URL of GitHub profile pages (see ``set_github_web_url``)."""
    return _GITHUB_WEB[0]


def slack(text: str) -> str:
    """``text`` as Slack mrkdwn: a ``Markup``'s own mrkdwn, anything else escaped."""
    return text.mrkdwn if isinstance(text, Markup) else escape(text)


def mention(slack_id: str) -> str:
    """``<@U1>`` for a Slack user id, else the id escaped (never a forged mention)."""
    return f"<@{slack_id}>" if re.match(_SLACK_ID, slack_id) else escape(slack_id)


def github_profile_link(login: str) -> str:
    """``<https://github.com/login|login>`` (on the configured GitHub), else the login escaped."""
    return f"<{github_web_url()}/{login}|{login}>" if re.match(_LOGIN, login) else escape(login)


def user_label(user: User) -> Markup:
    """``Alice (U1, @alice)``; the Slack id alone when nothing else is known. In Slack the id is
    a mention and the login a link to the GitHub profile."""
    extra = ", ".join(x for x in (user.slack_id, f"@{user.github}" if user.github else "") if x)
    plain = f"{user.name} ({extra})" if user.name else extra
    rich = ", ".join(x for x in (mention(user.slack_id) if user.slack_id else "",
                                 github_profile_link(user.github) if user.github else "") if x)
    return Markup(plain, f"{escape(user.name)} ({rich})" if user.name else rich)


def team_label(team: Team) -> str:
    """``ios: iOS team (iOS) · 3 members``."""
    name = team.display_name if team.display_name and team.display_name != team.github_team_name else ""
    text = team.github_team_name or team.github_team_id
    if name:
        text += f": {name}"
    if team.platform:
        text += f" ({team.platform})"
    count = len(team.members)
    return f"{text} · {count} member{'' if count == 1 else 's'}"


def project_label(project: Project, short: str = "") -> str:
    """``p1: Rocket · https://github.com/o/r`` (``short``: the short id to show instead)."""
    text = short or project.project_id
    if project.display_name:
        text += f": {project.display_name}"
    urls = ", ".join(sorted(project.github_urls))
    return f"{text} · {urls}" if urls else text


def _user_fields(user: User) -> list[tuple[str, str]]:
    github: str = user.github
    if github:
        suffix = f" (id {user.github_user_id})" if user.github_user_id else ""
        github = Markup(github + suffix, github_profile_link(user.github) + escape(suffix))
    slack_id = Markup(user.slack_id, mention(user.slack_id)) if user.slack_id else ""
    return _fields(
        [
            ("Slack ID", slack_id),
            ("Name", user.name),
            ("Email", user.email),
            ("GitHub", github),
            ("Position", user.position),
            ("Major", user.major),
            ("Permission", user.permission_level.value),
            ("Karma", user.karma),
            ("Bio", user.bio),
        ]
    )


def _team_names(teams: list[Team]) -> list[str]:
    return [team.github_team_name or team.github_team_id for team in teams]


@singledispatch
def view_of(result: Any) -> View:
    """The view of a result; an unknown kind of result is shown as its ``str``."""
    if result is None:
        return View("Done.")
    return View(str(result))


@view_of.register(UserResult)
def _(result: UserResult) -> View:
    user = result.user
    sections = [Section(fields=_user_fields(user))]
    if result.invitation:
        sections.append(Section(fields=[("GitHub invitation", result.invitation)]))
    if result.teams is not None:
        sections.append(Section("Teams", items=_team_names(result.teams), empty="none"))
    if result.leading is not None:
        sections.append(Section("Leads", items=_team_names(result.leading), empty="none"))
    return View(f"User {user.name or user.slack_id}", result.message, sections, list(result.warnings))


@view_of.register(TeamResult)
def _(result: TeamResult) -> View:
    team = result.team
    unregistered = len(team.members) - len(result.members)
    members: list[str] = [user_label(u) for u in result.members]
    if unregistered > 0:
        plural = "s" if unregistered != 1 else ""
        members.append(f"and {unregistered} GitHub member{plural} not registered here")
    sections = [
        Section(
            fields=_fields(
                [
                    ("Team", team.github_team_name),
                    ("Name", team.display_name),
                    ("Platform", team.platform),
                    ("GitHub team id", team.github_team_id),
                    ("Drive folder", team.folder),
                    ("Members", len(team.members)),
                ]
            )
        ),
        Section("Leads", items=list[str]([user_label(u) for u in result.leads]), empty="none"),
        Section("Members", items=members, empty="none"),
        Section("Projects", items=[project_label(p) for p in result.projects], empty="none"),
    ]
    title = f"Team {team.display_name or team.github_team_name or team.github_team_id}"
    return View(title, result.message, sections, list(result.warnings))


@view_of.register(TeamList)
def _(result: TeamList) -> View:
    teams = sorted(result.teams, key=lambda t: (t.github_team_name or t.github_team_id).lower())
    items = [team_label(t) for t in teams]
    empty = "No teams yet: an admin can run `team refresh`, a team lead `team create TEAM`."
    shown, where, more = _page(items, result.page, "team list")
    return View(f"Teams ({len(items)}){where}", sections=[Section(items=shown, empty=empty)], more=more)


@view_of.register(ProjectResult)
def _(result: ProjectResult) -> View:
    project = result.project
    team = ""
    if result.team is not None:
        team = result.team.github_team_name or result.team.github_team_id
    elif project.github_team_id:
        team = f"id {project.github_team_id}"
    sections = [
        Section(
            fields=_fields(
                [
                    ("Project ID", project.project_id),
                    ("Name", project.display_name),
                    ("Team", team or "unassigned"),
                    ("Description", project.short_description),
                    ("Website", project.website_url),
                    ("Tags", ", ".join(sorted(project.tags))),
                ]
            )
        ),
        Section("Repositories", items=sorted(project.github_urls), empty="none"),
    ]
    if project.long_description:
        sections.append(Section("About", paragraph=project.long_description))
    return View(f"Project {project.display_name or project.project_id}", result.message, sections)


@view_of.register(ProjectList)
def _(result: ProjectList) -> View:
    from core.usecases.projects import short_ids  # on use: `rocket exec` start-up stays light (issue 17)

    projects = sorted(result.projects, key=lambda p: (p.display_name or p.project_id).lower())
    short = short_ids([p.project_id for p in projects])
    items = [project_label(p, short[p.project_id]) for p in projects]
    empty = "No projects yet: `project create GH_REPO TEAM` adds one."
    shown, where, more = _page(items, result.page, "project list")
    return View(f"Projects ({len(items)}){where}", sections=[Section(items=shown, empty=empty)], more=more)


@view_of.register(Deleted)
def _(result: Deleted) -> View:
    return View(result.message or f"Deleted {result.kind} {result.key}")


@view_of.register(KarmaResult)
def _(result: KarmaResult) -> View:
    user = result.user
    title = result.message or f"{user.name or user.slack_id} has {user.karma} karma"
    fields = _fields([("User", user_label(user)), ("Karma", user.karma)])
    return View(title, sections=[Section(fields=fields)])


@view_of.register(KarmaReset)
def _(result: KarmaReset) -> View:
    return View(f"Karma reset: {result.count} user{'' if result.count == 1 else 's'} now have 1 karma")


MAX_MISSING_SHOWN = 20  # users without an email named in an export's summary


@view_of.register(EmailList)
def _(result: EmailList) -> View:
    who = f"team {result.team.github_team_name or result.team.github_team_id}" if result.team else "everyone"
    if result.file is not None:  # the export went (or would have gone) to the actor's DMs as a CSV
        file = result.file
        rows = f"{file.rows:,} row{'' if file.rows == 1 else 's'}"
        if file.sent:
            title = f"Emails of {who}: {rows}, sent to your DMs as {file.filename}"
        else:
            title = f"Emails of {who}: {rows} in {file.filename}, not sent: Slack is not configured"
        missing = list(result.missing[:MAX_MISSING_SHOWN])
        if len(result.missing) > len(missing):
            missing.append(f"… and {len(result.missing) - len(missing):,} more (in the file, email empty)")
        fields = _fields([("Distinct email addresses", f"{len(result.emails):,}"),
                          ("Users without an email", f"{len(result.missing):,}")])
        sections = [Section(fields=fields)]
        if missing:
            sections.append(Section("No email address", items=missing))
        return View(title, sections=sections, warnings=list(result.warnings))
    sections = [Section(paragraph=", ".join(result.emails), empty="No email addresses.")]
    if result.missing:
        sections.append(Section("No email address", items=list(result.missing)))
    return View(f"Emails of {who} ({len(result.emails)})", sections=sections)


@view_of.register(RefreshResult)
def _(result: RefreshResult) -> View:
    parts = [
        ("Created", result.created),
        ("Updated", result.updated),
        ("Deleted", result.deleted),
        ("Promoted", result.promoted),
        ("Drive folders synced", result.drive_synced),
        ("Expired GitHub invitations", result.expired_invitations),
    ]
    if not result.applied and result.plan is not None:
        if result.held:
            title = f"Team refresh NOT applied: {result.held}"
            message = "An admin applies this plan with `/rocket team refresh`."
        else:
            title, message = "Team refresh plan (dry run): nothing was changed", ""
        return View(title, message, plan_sections(result.plan), list(result.warnings))
    summary = ", ".join(f"{len(names)} {label.lower()}" for label, names in parts[:3])
    sections = [Section(label, items=list(names)) for label, names in parts if names]
    return View(f"Teams refreshed from GitHub: {summary}", sections=sections, warnings=list(result.warnings))


MAX_PLAN_ITEMS = 40  # per section: a plan stays within one message's limits


def plan_sections(plan: RefreshPlan) -> list[Section]:
    """A refresh plan, one headed section per kind of change (long lists are cut, with a count)."""
    parts = [
        ("Teams created", list(plan.created)),
        ("Teams renamed", [f"{old} → {new}" for old, new in plan.renamed]),
        ("Teams deleted", list(plan.deleted)),
        ("Members added", [f"{member} to {team}" for team, member in plan.added]),
        ("Members removed", [f"{member} from {team}" for team, member in plan.removed]),
        ("Promotions", [f"{sid}: {old} → {new}" for sid, old, new in plan.promoted]),
        ("Invitations expired", list(plan.invitations_expired)),
    ]
    sections = []
    for label, items in parts:
        if items:
            shown = items[:MAX_PLAN_ITEMS]
            if len(items) > len(shown):
                shown.append(f"… and {len(items) - len(shown)} more")
            sections.append(Section(f"{label} ({len(items)})", items=shown))
    return sections or [Section("Changes", paragraph="none: the directory matches GitHub")]


# --- view -> plain text --------------------------------------------------------------------


def _plain(text: str) -> str:
    return text


def _section_text(section: Section, fmt: Callable[[str], str] = _plain) -> list[str]:
    body: list[str] = [f"{fmt(label)}: {fmt(value)}" for label, value in section.fields]
    body += [f"- {fmt(item)}" for item in section.items]
    if section.paragraph:
        body.append(fmt(section.paragraph))
    if not body and section.empty:
        body = [fmt(section.empty)]
    if not body:
        return []
    if section.heading:
        return [f"{fmt(section.heading)}:", *(f"  {line}" for line in body)]
    return body


def text_of(view: View, fmt: Callable[[str], str] = _plain) -> str:
    """The view as plain text: message, title, sections, then warnings. ``fmt`` writes each
    piece (``slack``: Slack's ``text``, escaped, with Rocket's mentions and links)."""
    lines = [fmt(line) for line in (view.message, view.title) if line]
    for section in view.sections:
        lines += _section_text(section, fmt)
    if view.warnings:
        lines.append("Warnings:")
        lines += [f"  ! {fmt(w)}" for w in view.warnings]
    if view.more:
        lines.append(f"More: {fmt(view.more)}")
    return "\n".join(lines)


def _audit_value(value: Any) -> str:
    if value is None:
        return "–"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return _clip(text, 200)


def audit_line(entry: Any) -> str:
    """One entry as one readable line: time, actor, action, target, then each old → new."""
    changes = "; ".join(f"{f}: {_audit_value(old)} → {_audit_value(new)}"
                        for f, old, new in entry.changes[:10])
    more = f" (+{len(entry.changes) - 10} more)" if len(entry.changes) > 10 else ""
    return _clip(f"{entry.time[:19].replace('T', ' ')} UTC · {entry.actor} · {entry.action} · {entry.target}"
                 + (f" · {changes}{more}" if changes else ""), 1000)


@view_of.register(AuditPage)
def _(result: AuditPage) -> View:
    items = [audit_line(e) for e in result.entries]
    message = ""
    if result.more:
        message = f"More entries: `/rocket audit --before \"{result.more}\"` (with the same options)."
    title = f"Audit log ({result.scope}): {len(items)} entr{'y' if len(items) == 1 else 'ies'}, newest first"
    return View(title, message, [Section(items=items, empty="no entries")], list(result.warnings))


def render_text(result: Any) -> str:
    """Plain, readable text for a use-case result (CLI output)."""
    return text_of(view_of(result))


def render_slack_text(result: Any) -> str:
    """The same text as Slack's ``text``: user data escaped, people as mentions, GitHub logins
    linked (see the module docstring)."""
    return text_of(view_of(result), slack)


def render_reply(result: Any) -> tuple[str, list[dict[str, Any]], str]:
    """``(render_text, render_blocks, render_slack_text)`` of ``result``, from one view (a
    command's reply shows all three; building the view once saves two thirds of the work)."""
    view = view_of(result)
    return text_of(view), blocks_of(view), text_of(view, slack)


# --- view -> Block Kit ---------------------------------------------------------------------


def escape(text: str) -> str:
    """Escape for mrkdwn, so user data cannot form mentions, links or entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn_sections(text: str) -> list[dict[str, Any]]:
    """Sections of at most MAX_SECTION characters, split at line ends where possible."""
    blocks: list[dict[str, Any]] = []
    chunk = ""
    for line in text.split("\n"):
        while len(line) > MAX_SECTION:
            if chunk:
                blocks.append(_section(chunk))
                chunk = ""
            blocks.append(_section(line[:MAX_SECTION]))
            line = line[MAX_SECTION:]
        candidate = f"{chunk}\n{line}" if chunk else line
        if len(candidate) > MAX_SECTION:
            blocks.append(_section(chunk))
            chunk = line
        else:
            chunk = candidate
    if chunk.strip():
        blocks.append(_section(chunk))
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _section_blocks(section: Section) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    heading = f"*{escape(section.heading)}*" if section.heading else ""
    fields = [
        {"type": "mrkdwn", "text": _clip(f"*{escape(label)}*\n{slack(value)}", MAX_FIELD)}
        for label, value in section.fields
    ]
    for start in range(0, len(fields), MAX_FIELDS):
        block: dict[str, Any] = {"type": "section", "fields": fields[start : start + MAX_FIELDS]}
        if heading and start == 0:
            block["text"] = {"type": "mrkdwn", "text": heading}
            heading = ""
        blocks.append(block)
    body = [f"• {slack(item)}" for item in section.items]
    if section.paragraph:
        body.append(escape(section.paragraph))
    if not body and not fields and section.empty:
        body = [f"_{escape(section.empty)}_"]
    if heading and body:
        body.insert(0, heading)
    if body:
        blocks += _mrkdwn_sections("\n".join(body))
    return blocks


def blocks_of(view: View) -> list[dict[str, Any]]:
    """The view as Block Kit blocks (within Slack's limits; see the module docstring)."""
    blocks: list[dict[str, Any]] = []
    if view.message:
        blocks += _mrkdwn_sections(escape(view.message))
    blocks.append({"type": "header", "text": {"type": "plain_text", "text": _clip(view.title, MAX_HEADER)}})
    for section in view.sections:
        blocks += _section_blocks(section)
    if view.warnings:
        elements = [
            {"type": "mrkdwn", "text": _clip(f":warning: {escape(w)}", MAX_FIELD)} for w in view.warnings
        ]
        blocks.append({"type": "context", "elements": elements[:10]})
    more = []
    if view.more:
        more = [{"type": "actions", "elements": [{
            "type": "button", "action_id": MORE_ACTION, "value": view.more,
            "text": {"type": "plain_text", "text": "More"}}]}]
    if len(blocks) + len(more) > MAX_BLOCKS:
        note = _section("_…cut short for Slack; `rocket exec` on the command line shows everything._")
        blocks = [*blocks[: MAX_BLOCKS - 1 - len(more)], note]
    return blocks + more


def render_blocks(result: Any) -> list[dict[str, Any]]:
    """Block Kit blocks for a use-case result."""
    return blocks_of(view_of(result))


def text_blocks(text: str, *, preformatted: bool = False) -> list[dict[str, Any]]:
    """Blocks for a reply that is only text (help, an error); help is shown preformatted."""
    if not text.strip():
        return []
    if not preformatted:
        return _mrkdwn_sections(escape(text))[:MAX_BLOCKS]
    blocks: list[dict[str, Any]] = []
    limit = MAX_SECTION - 8
    chunk = ""
    for line in escape(text).split("\n"):
        line = line[:limit]
        if len(chunk) + len(line) + 1 > limit:
            blocks.append(_section(f"```{chunk}```"))
            chunk = ""
        chunk = f"{chunk}\n{line}" if chunk else line
    if chunk:
        blocks.append(_section(f"```{chunk}```"))
    return blocks[:MAX_BLOCKS]
