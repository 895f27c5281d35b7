"""``team_join``: register a new Slack member and welcome them by direct message.

Idempotent: a user already in the directory is left untouched and is not messaged again.
Profile values from Slack that are not valid (too long, control characters, an email that
does not look like one) are left empty and reported in ``warnings``. A welcome DM that
fails does not undo the registration; the failure is reported in ``warnings``.
"""

from __future__ import annotations

from core import commands as c
from core.context import Ports, Settings
from core.errors import Conflict, InvalidInput
from core.events import UserRegistered, record
from core.limits import TEXT
from core.models import User
from core.results import UserResult
from core.usecases.common import find_user
from core.usecases.registry import handles
from core.validation import clean_email, clean_text

MAX_IMAGE_URL = 1000


def welcome_text(name: str) -> str:
    """The welcome DM; it tells the newcomer how to link their GitHub account."""
    hello = f"Welcome, {name}!" if name else "Welcome!"
    return (
        f"{hello} :rocket: I'm Rocket, the bot that keeps our team directory in sync with GitHub.\n"
        "To be added to our GitHub organization and join teams, link your GitHub account with "
        "`/rocket user edit --github YOUR_GITHUB_USERNAME`.\n"
        "You can fill in the rest of your profile with `/rocket user edit --name ... --major ... --bio ...`, "
        "and `/rocket help` lists everything else I can do."
    )


@handles(c.OnboardUser)
class OnboardUserHandler:
    """Store a new user from Slack's profile, then DM them a welcome (no actor: an event)."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self._ports = ports
        self._settings = settings

    async def __call__(self, cmd: c.OnboardUser) -> UserResult:
        name, email, image_url = cmd.name, cmd.email, cmd.image_url
        slack_user_id = clean_text("Slack id", cmd.actor or "", TEXT[User]["slack_id"])
        if not slack_user_id:
            raise InvalidInput("A new member needs a Slack id")
        store = self._ports.store
        existing = await find_user(store, slack_user_id)
        if existing is not None:
            return UserResult(existing, message="Already registered")

        warnings: list[str] = []
        profile: dict[str, str] = {}
        for field, value, clean in (
            ("name", name, lambda v: clean_text("Name", v)),
            ("email", email, clean_email),
            ("image_url", image_url, lambda v: clean_text("Image URL", v, MAX_IMAGE_URL)),
        ):
            try:
                profile[field] = clean(value or "")
            except InvalidInput as exc:
                warnings.append(f"Left {field} empty: {exc}")
        try:
            user = await store.store(User(slack_id=slack_user_id, name=profile.get("name", ""),
                                          email=profile.get("email", ""),
                                          image_url=profile.get("image_url", "")))
        except Conflict:  # registered concurrently (e.g. they ran `user add`): leave it alone
            user = await store.retrieve(User, slack_user_id)
            return UserResult(user, message="Already registered", warnings=warnings)
        record(UserRegistered(slack_user_id, slack_user_id))

        try:
            await self._ports.chat.send_welcome(slack_user_id, welcome_text(user.name))
        except Exception as exc:  # any DM failure is reported; the user stays registered
            warnings.append(f"Could not send the welcome message: {exc}")
        return UserResult(user, message="Added", warnings=warnings)
