"""``export emails [--team TEAM]``: the email addresses of every user, or of one team, as a CSV
file sent to the actor's Slack DMs, with a short summary as the reply.

Admins for every user or any team; the leads of a team (whatever their permission level) for
that team (``core.permissions.can_export_emails``). A team's people are
its members and leads (GitHub user ids), resolved to registered users with one storage
query per ``QUERY_CHUNK`` ids (``users_by_github_ids``). Users without an email are listed
in ``EmailList.missing`` by Slack id.

The file (``email_csv``): one row per user in scope (header ``email,name,slack_id,github``),
sorted by email case-insensitively, then Slack id; users without an email last, with an empty
email. RFC 4180 quoting (commas, quotes and line breaks inside a cell are quoted), and a cell
starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with ``'`` so a
spreadsheet never evaluates it as a formula. Sorting and writing the CSV run in a worker thread
(``core.background.in_background``, low priority): a directory of 50,000 users does not hold
up other requests.

Delivery: ``Chat.send_file`` to the actor (Slack: ``files.getUploadURLExternal``, the upload,
``files.completeUploadExternal`` into their DM). When Slack is not configured
(``IntegrationUnavailable``) the result keeps the CSV text (``EmailFile.csv``, ``sent`` False):
``rocket exec`` prints it. A Slack refusal propagates (``UpstreamError``): nothing was sent.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Sequence

from core import commands as c
from core.background import in_background
from core.context import Ports, Settings
from core.errors import IntegrationUnavailable
from core.models import User
from core.permissions import can_export_emails
from core.results import EmailFile, EmailList
from core.usecases.common import find_user, require, team_by_slug, users_by_github_ids
from core.usecases.registry import handles
from core.validation import clean_text

CSV_HEADER = ("email", "name", "slack_id", "github")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
GIL_EVERY = 200  # rows written between yields of the GIL (email_csv runs in a worker thread)


def safe_cell(value: str) -> str:
    """``value`` made safe for a spreadsheet: a leading formula character gets a ``'`` before it."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _row_order(user: User) -> tuple[int, str, str]:
    return (0 if user.email else 1, user.email.lower(), user.slack_id)


def email_csv(users: Sequence[User]) -> str:
    """The CSV text of ``users`` (see the module docstring for rows, order and quoting)."""
    import csv  # here: the bus is built by every CLI command, few export emails

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_HEADER)
    for i, user in enumerate(sorted(users, key=_row_order)):
        writer.writerow([safe_cell(v) for v in (user.email, user.name, user.slack_id, user.github)])
        if i % GIL_EVERY == GIL_EVERY - 1:
            time.sleep(0)  # in a worker thread: let the event loop's thread have the GIL now
    return out.getvalue()


def _summary(users: Sequence[User]) -> tuple[list[str], list[str]]:
    """(distinct emails sorted case-insensitively, Slack ids of users without an email)."""
    emails: dict[str, str] = {}
    missing: list[str] = []
    for user in sorted(users, key=lambda u: u.slack_id):  # deterministic pick among duplicates
        if user.email:
            emails.setdefault(user.email.lower(), user.email)
        else:
            missing.append(user.slack_id)
    return sorted(emails.values(), key=str.lower), sorted(missing)


def _prepare(users: Sequence[User]) -> tuple[list[str], list[str], str]:
    """Everything CPU-bound of an export, run in one worker thread."""
    emails, missing = _summary(users)
    return emails, missing, email_csv(users)


def csv_filename(team_slug: str | None, now: float) -> str:
    """``rocket-emails-all-2026-12-01.csv`` or ``rocket-emails-<team>-<date>.csv`` (the slug
    reduced to letters, digits, ``-`` and ``_``)."""
    scope = re.sub(r"[^A-Za-z0-9_-]+", "_", team_slug)[:60] if team_slug else "all"
    return f"rocket-emails-{scope or 'team'}-{time.strftime('%Y-%m-%d', time.gmtime(now))}.csv"


@handles(c.ExportEmails)
class ExportEmailsHandler:
    """Emails sorted case-insensitively and without duplicates; ``team`` is a GitHub slug.
    The full export goes to the actor's DMs as a CSV file (module docstring)."""

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
        emails, missing, text = await in_background(_prepare, users)
        scope = (found.github_team_name or found.github_team_id) if found else None
        filename = csv_filename(scope, self._ports.clock.now())
        who = f"team {scope}" if scope else "everyone"
        try:
            await self._ports.chat.send_file(
                actor, filename, text.encode("utf-8"), title=f"Rocket: emails of {who}",
                comment=f"Emails of {who}: {len(users)} row{'' if len(users) == 1 else 's'}.")
            file = EmailFile(filename, len(users), sent=True)
        except IntegrationUnavailable:
            file = EmailFile(filename, len(users), sent=False, csv=text)
        return EmailList(emails=emails, team=found, missing=missing, file=file)
