"""``build_bus(ports, settings)``: the one place that wires every handler and subscriber.

Adding a use-case: its command in ``core.commands`` and its handler in ``core.usecases``,
marked ``@handles(c.TheCommand)`` (``core.usecases.registry``): nothing to add here (a new
module of handlers is imported below). Adding a consequence of a change: a subscriber in
``core.subscribers`` and one ``subscribe`` line here.
"""

from __future__ import annotations

from core import commands as c
from core.bus import MessageBus
from core.context import Ports, Settings
from core.events import Event, MemberJoinedTeam, MemberLeftTeam, ProfileChanged, TeamChanged, TeamDeleted
from core.subscribers import DriveSync, Notices, Promotion
from core.subscribers.audit import AuditTrail
from core.usecases import (  # noqa: F401  (importing a module registers its @handles classes)
    audit,
    channels,
    directory,
    emails,
    github_events,
    home,
    karma,
    onboarding,
    projects,
    refresh,
    teams,
    users,
)
from core.usecases.registry import registered_handlers
from core.verification import Verifications


def build_bus(ports: Ports, settings: Settings) -> MessageBus:
    """A bus with every handler of ``core.usecases`` and the standard subscribers."""
    bus = MessageBus()
    for command, handler_class in registered_handlers().items():  # @handles in core.usecases
        bus.register(command, handler_class(ports, settings))
    # users; GitHub verifications wait in the background until the app closes the bus
    verifications = Verifications(ports)
    verifications.bind(bus)
    bus.on_close(verifications.close)
    bus.register(c.EditUser, users.EditUserHandler(ports, settings, verifications))
    # GitHub webhook events
    gh = github_events.GitHubEventHandlers(ports, settings)
    bus.register(c.GitHubPing, gh.ping)
    bus.register(c.GitHubTeamCreated, gh.team_created)
    bus.register(c.GitHubTeamDeleted, gh.team_deleted)
    bus.register(c.GitHubTeamRenamed, gh.team_renamed)
    bus.register(c.GitHubTeamNoted, gh.team_noted)
    bus.register(c.GitHubMembershipAdded, gh.membership_added)
    bus.register(c.GitHubMembershipRemoved, gh.membership_removed)
    bus.register(c.GitHubMemberLeftOrg, gh.member_left_org)
    bus.register(c.GitHubMemberJoinedOrg, gh.member_joined_org)
    bus.register(c.GitHubIgnored, gh.ignored)

    # subscribers, in this order: promotion first (notices mention who rose), Drive, notices
    promotion = Promotion(ports, settings)
    drive = DriveSync(ports)
    notices = Notices(ports, settings)
    bus.subscribe(MemberJoinedTeam, promotion.on_joined)
    bus.subscribe(MemberJoinedTeam, drive.on_membership)
    bus.subscribe(MemberLeftTeam, drive.on_membership)
    bus.subscribe(TeamChanged, drive.on_team_changed)
    bus.subscribe(TeamDeleted, drive.on_team_deleted)
    bus.subscribe(ProfileChanged, drive.on_profile_changed)
    bus.subscribe(Event, notices.on_event)
    if ports.audit is not None:  # last: it records what the other subscribers did too
        bus.subscribe(Event, AuditTrail(ports.audit).on_event)
    return bus
