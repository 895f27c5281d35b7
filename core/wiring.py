"""``build_bus(ports, settings)``: the one place that wires every handler and subscriber.

Adding a use-case: its command in ``core.commands`` (its ``handled_in`` names its handler's
module) and its handler in that module of ``core.usecases``, marked ``@handles(c.TheCommand)``
(``core.usecases.registry``): nothing to add here. Adding a consequence of a change: a
subscriber in ``core.subscribers`` and one ``subscribe`` line here.

Handlers are wired on demand (start-up, issue 17): the bus asks :class:`_Handlers` for the
handler of a command class it has none for, which imports that class's module of handlers
(``handled_in``) and registers every handler marked there, plus the few wired by hand below.
So ``rocket exec … "team list"`` imports ``core.usecases.teams`` only, not all twelve modules.
The subscribers are imported and wired when the bus dispatches its first event (a listing
records none), each in the place it has below.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from core import commands as c
from core.bus import MessageBus, Subscriber
from core.context import Ports, Settings
from core.usecases.registry import registered_handlers

if TYPE_CHECKING:
    from core.events import Event


class _Handlers:
    """The bus's :class:`core.bus.HandlerLoader`: each module of handlers is imported and its
    handlers registered when the bus first needs one of them. A handler registered on the bus
    already (by hand, e.g. a test's stand-in) is kept."""

    def __init__(self, bus: MessageBus, ports: Ports, settings: Settings) -> None:
        self._bus, self._ports, self._settings = bus, ports, settings
        self._loaded: set[str] = set()

    def load(self, command: type[Any]) -> None:
        if not (isinstance(command, type) and issubclass(command, c.Command)):
            return
        try:
            area = command.handled_in
        except AttributeError:  # a command class of no module of core.usecases (a test's)
            return
        if area in self._loaded:
            return
        self._loaded.add(area)
        # By the command class's own ``handled_in`` (a literal mypy checks against
        # ``core.commands.Area``): importing the module registers its @handles classes.
        importlib.import_module(f"core.usecases.{area}")
        if area == "users":
            self._wire_users()
        elif area == "github_events":
            self._wire_github_events()
        for command_class, handler_class in registered_handlers().items():
            if not self._bus.handles(command_class, load=False):
                self._bus.register(command_class, handler_class(self._ports, self._settings))

    def load_all(self) -> None:
        for command in c.Command.__subclasses__():
            self.load(command)

    def _wire_users(self) -> None:
        from core.usecases.users import EditUserHandler
        from core.verification import Verifications

        # GitHub verifications wait in the background until the app closes the bus
        verifications = Verifications(self._ports)
        verifications.bind(self._bus)
        self._bus.on_close(verifications.close)
        if not self._bus.handles(c.EditUser, load=False):
            self._bus.register(c.EditUser, EditUserHandler(self._ports, self._settings, verifications))

    def _wire_github_events(self) -> None:
        from core.usecases.github_events import GitHubEventHandlers

        gh = GitHubEventHandlers(self._ports, self._settings)
        wired: list[tuple[type[Any], Any]] = [
            (c.GitHubPing, gh.ping),
            (c.GitHubTeamCreated, gh.team_created),
            (c.GitHubTeamDeleted, gh.team_deleted),
            (c.GitHubTeamRenamed, gh.team_renamed),
            (c.GitHubTeamNoted, gh.team_noted),
            (c.GitHubMembershipAdded, gh.membership_added),
            (c.GitHubMembershipRemoved, gh.membership_removed),
            (c.GitHubMemberLeftOrg, gh.member_left_org),
            (c.GitHubMemberJoinedOrg, gh.member_joined_org),
            (c.GitHubIgnored, gh.ignored),
        ]
        for command, handler in wired:
            if not self._bus.handles(command, load=False):
                self._bus.register(command, handler)


def _subscribers(ports: Ports, settings: Settings) -> list[tuple[type[Event], Subscriber[Any]]]:
    """The standard subscribers, in this order: promotion first (notices mention who rose),
    Drive, notices, and the audit trail last. Imported here, when the bus dispatches its first
    event: a command that records none (a listing) needs none of them (start-up, issue 17)."""
    from core.events import Event, MemberJoinedTeam, MemberLeftTeam, ProfileChanged, TeamChanged, TeamDeleted
    from core.subscribers import DriveSync, Notices, Promotion

    promotion = Promotion(ports, settings)
    drive = DriveSync(ports)
    notices = Notices(ports, settings)
    wired: list[tuple[type[Event], Subscriber[Any]]] = [
        (MemberJoinedTeam, promotion.on_joined),
        (MemberJoinedTeam, drive.on_membership),
        (MemberLeftTeam, drive.on_membership),
        (TeamChanged, drive.on_team_changed),
        (TeamDeleted, drive.on_team_deleted),
        (ProfileChanged, drive.on_profile_changed),
        (Event, notices.on_event),
    ]
    if ports.audit is not None:  # last: it records what the other subscribers did too
        from core.subscribers.audit import AuditTrail

        wired.append((Event, AuditTrail(ports.audit).on_event))
    return wired


def build_bus(ports: Ports, settings: Settings) -> MessageBus:
    """A bus with every handler of ``core.usecases`` (wired on first use) and the standard
    subscribers."""
    bus = MessageBus()
    bus.load_with(_Handlers(bus, ports, settings))

    bus.subscribe_later(lambda: _subscribers(ports, settings))  # on the first event
    return bus
