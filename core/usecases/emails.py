"""``export emails [--team TEAM]``: the email addresses of every user, or of one team.

Admins for every user or any team; the leads of a team (whatever their permission level) for
that team (``core.permissions.can_export_emails``). A team's people are
its members and leads (GitHub user ids), resolved to registered users with one storage
query per ``QUERY_CHUNK`` ids (``users_by_github_ids``). Users without an email are listed
in ``EmailList.missing`` by Slack id.
"""

from __future__ import annotations

from core import commands as c
from core.context import Ports, Settings
from core.models import User
from core.permissions import can_export_emails
from core.results import EmailList
from core.usecases.common import find_user, require, team_by_slug, users_by_github_ids
from core.usecases.registry import handles
from core.validation import clean_text


@handles(c.ExportEmails)
class ExportEmailsHandler:
    """Emails sorted case-insensitively and without duplicates; ``team`` is a GitHub slug."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._settings = settings

    async def __call__(self, cmd: c.ExportEmails) -> EmailList:
        store, actor, team = self._ports.store, cmd.actor, cmd.team
        actor_user = await find_user(store, actor)
        found = None
        if team is None:
            require(can_export_emails(actor_user), "Only admins can export every user's email")
            users = await store.query(User)
        else:
            found = await team_by_slug(store, clean_text("Team", team))
            require(can_export_emails(actor_user, found),
                    f"Only admins and the leads of {found.github_team_name} can export its emails")
            users = await users_by_github_ids(store, found.members | found.team_leads)
        emails: dict[str, str] = {}
        missing: list[str] = []
        for user in sorted(users, key=lambda u: u.slack_id):  # deterministic pick among duplicates
            if user.email:
                emails.setdefault(user.email.lower(), user.email)
            else:
                missing.append(user.slack_id)
        return EmailList(emails=sorted(emails.values(), key=str.lower), team=found, missing=sorted(missing))
