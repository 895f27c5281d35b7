"""Block Kit views Rocket sends with ``views.publish`` / ``views.open``: the Home tab and the
profile editor modal, built with ``slack_sdk.models.blocks`` and sent as dicts.

Contract:

- ``home_view(home)``: the Home tab of a ``core.results.HomeView``: profile (with image), karma,
  "Edit profile" (action ``rocket_edit_profile``) and "Link GitHub" (``rocket_link_github``)
  buttons, the user's teams and projects, and for leads and admins the teams they manage, each with
  "Add member" / "Remove member" (``rocket_team_add`` / ``rocket_team_remove``, a users picker) and
  "Open" (``rocket_team_open``) buttons whose ``value`` is the team's slug. Lists are cut by the
  ``ViewHome`` handler; what is left out is counted ("…and N more: /rocket team list").
  At most 100 blocks whatever the directory holds.
- ``profile_modal(user, slack_id)``: callback ``rocket_profile``; one input per field, block ids
  ``name``, ``email``, ``position``, ``major``, ``bio``, ``github`` (action id ``value``),
  labelled with those words, filled with the current values; ``private_metadata`` is the user's
  Slack id.
- ``profile_values(view)``: the submitted values by block id (a missing or cleared input is "").
- ``member_modal(slug, adding, parent)``: callback ``rocket_team_member``, a ``users_select`` in
  block ``member``; ``private_metadata`` carries ``add:SLUG`` or ``remove:SLUG`` (slugs have no
  whitespace), then a newline and the team page modal's view id when it was pushed over one.
- ``team_create_modal()``: callback ``rocket_team_create``; inputs ``slug``, ``name``,
  ``platform`` (plain text), ``lead`` (``users_select``), ``members`` (``multi_users_select``),
  ``folder`` (plain text); ``team_create_values(view)`` reads them back.
- ``team_actions(slug)``: the buttons under a ``team view`` reply for the team's leads and admins
  ("Add member", "Remove member", "Open team page": the Home's action ids, value the slug).
- ``link_modal(login)``: callback ``rocket_link_github``, one input ``github`` (the login to
  prove); ``device_modal(login, uri, code, minutes)`` shows the device flow's code and where to
  enter it; ``device_done_modal(login, message)`` replaces it (``views.update``) when it ends.
- ``notice_modal(title, text)``: a modal that only says something (a refusal, a result).
- User text is escaped for mrkdwn (``&``, ``<``, ``>``): nobody forges a mention or a link.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    ImageElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    PlainTextObject,
    SectionBlock,
    UserMultiSelectElement,
    UserSelectElement,
)
from slack_sdk.models.views import View

from adapters.slack.render import escape, github_profile_link
from core.models import Project, Team, User
from core.results import HomeView
from core.validation import MAX_BIO, MAX_FIELD

PROFILE_CALLBACK = "rocket_profile"
MEMBER_CALLBACK = "rocket_team_member"
EDIT_PROFILE = "rocket_edit_profile"
LINK_GITHUB = "rocket_link_github"
TEAM_ADD = "rocket_team_add"
TEAM_REMOVE = "rocket_team_remove"
TEAM_OPEN = "rocket_team_open"
TEAM_CREATE_CALLBACK = "rocket_team_create"
LINK_CALLBACK = "rocket_link_github"
DEVICE_CALLBACK = "rocket_device_flow"
NOTICE_CALLBACK = "rocket_notice"
PROFILE_SHORTCUT = "rocket_profile_shortcut"  # the global shortcut "Edit my profile"
MAX_MEMBERS_PICKED = 25  # people one team-create modal may add
TEAM_FIELDS: tuple[tuple[str, str, int, str], ...] = (
    # block id, label, max length, hint
    ("slug", "Team slug", 100, "The GitHub team's slug, without spaces, e.g. ios-2026"),
    ("name", "Name", MAX_FIELD, "The display name (optional)"),
    ("platform", "Platform", MAX_FIELD, "e.g. iOS, Android, Web (optional)"),
)
VALUE = "value"
PROFILE_FIELDS: tuple[tuple[str, str, int, bool], ...] = (
    # block id, label, max length, multiline
    ("name", "Name", MAX_FIELD, False),
    ("email", "Email", 254, False),
    ("position", "Position", MAX_FIELD, False),
    ("major", "Major", MAX_FIELD, False),
    ("bio", "Bio", MAX_BIO, True),
    ("github", "GitHub", 39, False),
)
MAX_TEXT = 3000  # a section's text
MAX_INPUT = 3000  # a plain_text_input's max_length


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def github_link(login: str) -> str:
    """A GitHub login linked to its profile on the configured GitHub (``render.github_profile_link``:
    github.com or the GitHub Enterprise Server); "—" when there is none."""
    return github_profile_link(login) if login else "—"


def _team_name(team: Team) -> str:
    slug = escape(team.github_team_name)
    name = escape(team.display_name)
    return f"*{name}* (`{slug}`)" if name and name != slug else f"`{slug}`"


def _more(shown: int, total: int, hint: str) -> list[Any]:
    if total <= shown:
        return []
    return [ContextBlock(elements=[MarkdownTextObject(text=f"…and {total - shown} more: {hint}")])]


def _profile_section(user: User | None, slack_id: str) -> SectionBlock:
    if user is None:
        text = (f"<@{slack_id}>, you are not in the directory yet. Press *Edit profile* to add "
                "yourself.")
        return SectionBlock(text=MarkdownTextObject(text=text))
    lines = [
        f"*{escape(user.name) or 'No name yet'}*  <@{user.slack_id}>",
        f"*Email:* {escape(user.email) or '—'}",
        f"*GitHub:* {github_link(user.github)}",
        f"*Position:* {escape(user.position) or '—'}   *Major:* {escape(user.major) or '—'}",
        f"*Karma:* {user.karma}   *Permission:* {user.permission_level.value}",
    ]
    if user.bio:
        lines.append(escape(_clip(user.bio, 500)))
    accessory = None
    if user.image_url.startswith("https://"):
        alt = _clip(user.name or "profile", 2000)
        accessory = ImageElement(image_url=user.image_url[:3000], alt_text=alt)
    return SectionBlock(text=MarkdownTextObject(text=_clip("\n".join(lines), MAX_TEXT)), accessory=accessory)


def _project_line(project: Project) -> str:
    name = escape(project.display_name) or "(no name)"
    urls = sorted(project.github_urls)
    link = f" <{urls[0]}|repo>" if urls and urls[0].startswith("https://") and "|" not in urls[0] \
        and ">" not in urls[0] else ""
    return f"• {name} `{project.project_id[:8]}`{link}"


def home_view(home: HomeView) -> dict[str, Any]:
    """The Home tab for ``home`` (see the module docstring)."""
    user = home.user
    blocks: list[Any] = [
        HeaderBlock(text=PlainTextObject(text="Your Rocket profile")),
        _profile_section(user, home.slack_id),
        ActionsBlock(block_id="profile_actions", elements=[
            ButtonElement(text="Edit profile", action_id=EDIT_PROFILE, value=home.slack_id, style="primary"),
            ButtonElement(text="Link GitHub", action_id=LINK_GITHUB, value=home.slack_id),
        ]),
        DividerBlock(),
        HeaderBlock(text=PlainTextObject(text="Your teams")),
    ]
    for team in home.teams:  # one section each: a team's name alone may take 500 characters
        line = f"• {_team_name(team)} · {len(team.members)} member(s)"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_clip(line, MAX_TEXT))))
    if not home.teams:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="You are in no team yet.")))
    blocks += _more(len(home.teams), home.teams_total, "`/rocket team list`")
    if home.projects:
        blocks.append(HeaderBlock(text=PlainTextObject(text="Your projects")))
        blocks += [SectionBlock(text=MarkdownTextObject(text=_clip(_project_line(p), MAX_TEXT)))
                   for p in home.projects]
        blocks += _more(len(home.projects), home.projects_total, "`/rocket project list`")
    if home.managed_total:
        blocks += [DividerBlock(), HeaderBlock(text=PlainTextObject(text="Teams you manage"))]
        for team in home.managed:
            slug = team.github_team_name[:2000]
            line = f"{_team_name(team)} · {len(team.members)} member(s), {len(team.team_leads)} lead(s)"
            blocks.append(SectionBlock(text=MarkdownTextObject(text=_clip(line, MAX_TEXT))))
            blocks.append(ActionsBlock(elements=[
                ButtonElement(text="Add member", action_id=TEAM_ADD, value=slug),
                ButtonElement(text="Remove member", action_id=TEAM_REMOVE, value=slug, style="danger"),
                ButtonElement(text="Open", action_id=TEAM_OPEN, value=slug),
            ]))
        blocks += _more(len(home.managed), home.managed_total, "`/rocket team list`")
    return View(type="home", blocks=blocks).to_dict()


def profile_modal(user: User | None, slack_id: str) -> dict[str, Any]:
    """The profile editor for ``slack_id`` (``user`` None: empty inputs)."""
    blocks: list[Any] = []
    for block_id, label, limit, multiline in PROFILE_FIELDS:
        current = str(getattr(user, block_id, "") or "") if user is not None else ""
        element = PlainTextInputElement(
            action_id=VALUE, multiline=multiline, max_length=min(limit, MAX_INPUT),
            initial_value=current[:MAX_INPUT] or None,
        )
        blocks.append(InputBlock(block_id=block_id, label=label, element=element, optional=True))
    view = View(
        type="modal", callback_id=PROFILE_CALLBACK, private_metadata=slack_id,
        title=PlainTextObject(text="Edit profile"), submit=PlainTextObject(text="Save"),
        close=PlainTextObject(text="Cancel"), blocks=blocks,
    )
    return view.to_dict()


def member_modal(slug: str, adding: bool, parent: str = "") -> dict[str, Any]:
    """Pick a person to add to (or remove from) team ``slug``; ``parent``: the id of the team page
    modal it was pushed over (refreshed with ``views.update`` after the change)."""
    verb = "Add to" if adding else "Remove from"
    metadata = f"{'add' if adding else 'remove'}:{slug}" + (f"\n{parent}" if parent else "")
    view = View(
        type="modal", callback_id=MEMBER_CALLBACK,
        private_metadata=metadata[:3000],
        title=PlainTextObject(text="Team member"), submit=PlainTextObject(text="Add" if adding else "Remove"),
        close=PlainTextObject(text="Cancel"),
        blocks=[InputBlock(block_id="member", label=_clip(f"{verb} {slug}", 2000),
                           element=UserSelectElement(action_id=VALUE, placeholder="Choose a person"))],
    )
    return view.to_dict()


def input_values(view: Any) -> dict[str, Any]:
    """``view.state.values`` as {block id: the ``value`` action's payload}; {} for a bad shape."""
    if not isinstance(view, dict):
        return {}
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    if not isinstance(values, dict):
        return {}
    out: dict[str, Any] = {}
    for block_id, actions in values.items():
        if isinstance(actions, dict) and isinstance(actions.get(VALUE), dict):
            out[str(block_id)] = actions[VALUE]
    return out


def profile_values(view: Any) -> dict[str, str]:
    """The submitted profile fields by block id; a cleared input is ""."""
    given = input_values(view)
    out: dict[str, str] = {}
    for block_id, *_ in PROFILE_FIELDS:
        value = (given.get(block_id) or {}).get("value")
        out[block_id] = value if isinstance(value, str) else ""
    return out


def _plain_input(block_id: str, label: str, limit: int, hint: str = "", optional: bool = True,
                 initial: str = "") -> InputBlock:
    element = PlainTextInputElement(action_id=VALUE, max_length=min(limit, MAX_INPUT),
                                    initial_value=initial[:MAX_INPUT] or None)
    return InputBlock(block_id=block_id, label=label, element=element, optional=optional,
                      hint=PlainTextObject(text=hint) if hint else None)


def team_create_modal() -> dict[str, Any]:
    """The ``/rocket team create`` dialog (see the module docstring)."""
    blocks: list[Any] = [_plain_input(b, label, limit, hint, optional=b != "slug")
                         for b, label, limit, hint in TEAM_FIELDS]
    blocks += [
        InputBlock(block_id="lead", label="Lead", optional=True,
                   hint=PlainTextObject(text="Leave empty to lead it yourself"),
                   element=UserSelectElement(action_id=VALUE, placeholder="Choose the lead")),
        InputBlock(block_id="members", label="Members", optional=True,
                   hint=PlainTextObject(text="Each needs a GitHub account on record"),
                   element=UserMultiSelectElement(action_id=VALUE, placeholder="Choose people",
                                                  max_selected_items=MAX_MEMBERS_PICKED)),
        _plain_input("folder", "Drive folder", 200, "A Google Drive folder id to share with the members"),
    ]
    view = View(type="modal", callback_id=TEAM_CREATE_CALLBACK, title=PlainTextObject(text="Create a team"),
                submit=PlainTextObject(text="Create"), close=PlainTextObject(text="Cancel"), blocks=blocks)
    return view.to_dict()


def team_create_values(view: Any) -> dict[str, Any]:
    """The team dialog's values: ``slug``, ``name``, ``platform``, ``folder`` and ``lead`` as str
    ("" when empty), ``members`` as a list of Slack ids (in order, without repeats)."""
    given = input_values(view)
    out: dict[str, Any] = {}
    for block_id in ("slug", "name", "platform", "folder"):
        value = (given.get(block_id) or {}).get("value")
        out[block_id] = value if isinstance(value, str) else ""
    lead = (given.get("lead") or {}).get("selected_user")
    out["lead"] = lead if isinstance(lead, str) else ""
    picked = (given.get("members") or {}).get("selected_users")
    members = [m for m in picked if isinstance(m, str) and m] if isinstance(picked, list) else []
    out["members"] = list(dict.fromkeys(members))
    return out


def team_actions(slug: str, page: bool = True) -> dict[str, Any]:
    """The actions block under a ``team view`` reply (and on the team page modal, ``page``
    False: without "Open team page") for those who may manage team ``slug``."""
    value = slug[:2000]
    elements = [
        ButtonElement(text="Add member", action_id=TEAM_ADD, value=value),
        ButtonElement(text="Remove member", action_id=TEAM_REMOVE, value=value, style="danger"),
    ]
    if page:
        elements.append(ButtonElement(text="Open team page", action_id=TEAM_OPEN, value=value))
    return ActionsBlock(block_id="team_actions", elements=elements).to_dict()


def link_modal(login: str) -> dict[str, Any]:
    """Ask which GitHub login to prove (filled with the one on record)."""
    blocks: list[Any] = [
        SectionBlock(text=MarkdownTextObject(
            text="Rocket asks GitHub to confirm that this account is yours: you will get a code to "
                 "enter on GitHub.")),
        _plain_input("github", "GitHub", 39, "Your GitHub login", optional=False, initial=login),
    ]
    view = View(type="modal", callback_id=LINK_CALLBACK, title=PlainTextObject(text="Link GitHub"),
                submit=PlainTextObject(text="Get a code"), close=PlainTextObject(text="Cancel"),
                blocks=blocks)
    return view.to_dict()


def device_modal(login: str, verification_uri: str, user_code: str, minutes: int) -> dict[str, Any]:
    """The device flow's code and where to enter it (replaces ``link_modal`` on submit)."""
    uri = verification_uri if verification_uri.startswith("https://") or \
        verification_uri.startswith("http://127.0.0.1") else ""
    where = f"<{escape(uri)}|{escape(uri)}>" if uri and "|" not in uri else escape(verification_uri)
    blocks: list[Any] = [
        SectionBlock(text=MarkdownTextObject(text=_clip(
            f"To link GitHub account *{escape(login)}*, open {where} and enter this code within "
            f"{minutes} minute{'s' if minutes != 1 else ''}:", MAX_TEXT))),
        HeaderBlock(block_id="user_code", text=PlainTextObject(text=_clip(user_code, 150))),
        ContextBlock(elements=[MarkdownTextObject(
            text="This window changes when GitHub confirms; I will also send you a direct message.")]),
    ]
    view = View(type="modal", callback_id=DEVICE_CALLBACK, title=PlainTextObject(text="Link GitHub"),
                close=PlainTextObject(text="Close"), blocks=blocks, private_metadata=login[:39])
    return view.to_dict()


def device_done_modal(login: str, message: str) -> dict[str, Any]:
    """What the device-flow modal shows once the link is stored."""
    return notice_modal("Link GitHub", f":white_check_mark: {escape(message or f'Linked {login}')}",
                        callback=DEVICE_CALLBACK)


def notice_modal(title: str, text: str, callback: str = NOTICE_CALLBACK) -> dict[str, Any]:
    """A modal that only shows ``text`` (mrkdwn, already escaped by the caller)."""
    view = View(type="modal", callback_id=callback, title=PlainTextObject(text=_clip(title, 24)),
                close=PlainTextObject(text="Close"),
                blocks=[SectionBlock(text=MarkdownTextObject(text=_clip(text or " ", MAX_TEXT)))])
    return view.to_dict()
