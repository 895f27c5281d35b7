"""Input validation shared by the use-cases: every check raises ``InvalidInput`` with a
sentence the user can act on, and returns the cleaned value."""

from __future__ import annotations

import re

from core.errors import InvalidInput
from core.limits import TEXT
from core.models import User
from core.permissions import Permissions

MAX_BIO = TEXT[User]["bio"]
MAX_FIELD = TEXT[User]["name"]  # name, position, major (core/limits.py)
# Patterns as strings, compiled by ``re`` on first use and then taken from its cache: most
# processes (``rocket exec help``, a view) check none of them (start-up, issue 17).
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
_GITHUB_LOGIN = r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}$"
_GITHUB_URL = r"(?i)^(?:https?://)?(?:www\.)?github\.com/([^/?#]+)/?$"
_OWNER = r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$"
_REPO = r"^[A-Za-z0-9._-]{1,100}$"
_BAD_REPO = "{repo!r} is not a GitHub repository (use owner/repo or https://github.com/owner/repo)"
_PREFIX = r"(?i)^(?:https?://)?(?:www\.)?github\.com/"


def bad_char(text: str) -> str | None:
    """A description of the first character Rocket refuses to store in ``text`` (a NUL or a
    lone surrogate: neither can be written as UTF-8, so ``rocket db export`` would fail), or
    None when the text is fine."""
    for ch in text:
        if ch == "\x00":
            return "a NUL character"
        if "\ud800" <= ch <= "\udfff":
            return f"a lone surrogate (U+{ord(ch):04X})"
    return None


def bad_text_in(value: object, path: str = "") -> str | None:
    """Where in a decoded JSON value (keys included) the first refused character is, as
    ``"PATH: WHAT"``; None when every string in it is fine. Iterative: deep values are safe."""
    stack: list[tuple[str, object]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            problem = bad_char(item)
            if problem:
                return f"{where or 'text'}: {problem}"
        elif isinstance(item, dict):
            for k, v in item.items():
                sub = f"{where}.{k}" if where else str(k)
                if isinstance(k, str) and bad_char(k):
                    return f"{where or 'object'} key: {bad_char(k)}"
                stack.append((sub, v))
        elif isinstance(item, (list, tuple)):
            stack.extend((f"{where}[{i}]", v) for i, v in enumerate(item))
    return None


def clean_text(label: str, value: str, max_len: int = MAX_FIELD) -> str:
    """``value`` stripped; ``InvalidInput`` for control characters or more than ``max_len`` chars."""
    if not isinstance(value, str):
        raise InvalidInput(f"{label} must be text")
    value = value.strip()
    problem = bad_char(value)
    if problem:
        raise InvalidInput(f"{label} must not contain {problem}")
    import unicodedata  # here: an extension module, loaded only by a process that checks text

    if any(unicodedata.category(ch) == "Cc" for ch in value):
        raise InvalidInput(f"{label} must not contain control characters (such as newlines or tabs)")
    if len(value) > max_len:
        raise InvalidInput(f"{label} is too long ({len(value)} characters; at most {max_len})")
    return value


def clean_email(value: str) -> str:
    """A stripped email address that looks like one; ``""`` (clear the email) is allowed."""
    value = clean_text("Email", value, TEXT[User]["email"])
    if value and not re.match(_EMAIL, value):
        raise InvalidInput(f"{value!r} does not look like an email address (like name@example.com)")
    return value


def clean_github(value: str) -> str:
    """A GitHub login from ``login``, ``@login`` or ``https://github.com/login``."""
    value = clean_text("GitHub username", value)
    url = re.match(_GITHUB_URL, value)
    if url:
        value = url.group(1)
    value = value.removeprefix("@")
    if not re.match(_GITHUB_LOGIN, value):
        raise InvalidInput(
            f"{value!r} is not a valid GitHub username (letters, digits and hyphens, at most 39)"
            if value
            else "Give a GitHub username, like --github octocat"
        )
    return value


def parse_permission(value: str) -> Permissions:
    """One of ``member``, ``team_lead``, ``admin`` (case-insensitive); ``InvalidInput`` otherwise."""
    cleaned = clean_text("Permission", value).lower()
    try:
        return Permissions(cleaned)
    except ValueError:
        choices = ", ".join(p.value for p in Permissions)
        raise InvalidInput(f"Permission must be one of {choices} (not {cleaned!r})") from None


def named_user(value: str) -> str:
    """A Slack id that was given (stripped); ``InvalidInput`` when empty."""
    value = (value or "").strip()
    if not value:
        raise InvalidInput("Name a user, like @someone")
    return value


def require_github(user: User) -> None:
    """``InvalidInput`` unless the user has a GitHub account on record (needed to join a team)."""
    if not user.github or not user.github_user_id:
        raise InvalidInput(
            f"{user.slack_id} has no GitHub account on record; "
            "they need to run `/rocket user edit --github GITHUB_LOGIN` first"
        )


def team_slug(value: str) -> str:
    """A new team's GitHub slug: non-empty, without spaces."""
    slug = (value or "").strip()
    if not slug or any(c.isspace() for c in slug):
        raise InvalidInput("The GitHub team name must be non-empty and cannot contain spaces")
    return slug


def normalize_repo(repo: str) -> str:
    """``https://github.com/owner/repo`` for a repo URL or ``owner/repo``; ``InvalidInput`` otherwise."""
    text = (repo or "").strip()
    path = re.sub(_PREFIX, "", text, count=1)
    if path == text and "://" in text:
        raise InvalidInput(_BAD_REPO.format(repo=repo))
    path = path.rstrip("/")
    if path.lower().endswith(".git"):
        path = path[:-4]
    parts = path.split("/")
    if (len(parts) != 2 or not re.match(_OWNER, parts[0]) or not re.match(_REPO, parts[1])
            or parts[1] in (".", "..")):
        raise InvalidInput(_BAD_REPO.format(repo=repo))
    return f"https://github.com/{parts[0]}/{parts[1]}"


def optional(value: str | None) -> str | None:
    """``value`` stripped, or None when not given."""
    return None if value is None else value.strip()
