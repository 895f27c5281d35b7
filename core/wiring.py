"""``build_bus(ports, settings)``: the one place that wires every handler and subscriber.

Adding a use-case: its command in ``core.commands``, its handler in ``core.usecases``, one
``register`` line here. Adding a consequence of a change: a subscriber in
``core.subscribers`` and one ``subscribe`` line here.
"""

from __future__ import annotations

from core import commands as c
from core.bus import MessageBus
from core.context import Ports, Settings
from core.events import Event, MemberJoinedTeam, MemberLeftTeam, ProfileChanged, TeamChanged, TeamDeleted
from core.subscribers import DriveSync, Notices, Promotion
from core.subscribers.audit import AuditTrail
from core.usecases import (
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
from core.verification import Verifications


def build_bus(ports: Ports, settings: Settings) -> MessageBus:
    """A bus with every handler of ``core.usecases`` and the standard subscribers."""
    bus = MessageBus()
    # users; GitHub verifications wait in the background until the app closes the bus
    verifications = Verifications(ports)
    verifications.bind(bus)
    bus.on_close(verifications.close)
    bus.register(c.AddUser, users.AddUserHandler(ports, settings))
    bus.register(c.EditUser, users.EditUserHandler(ports, settings, verifications))
    bus.register(c.LinkVerifiedGitHub, users.LinkVerifiedGitHubHandler(ports, settings))
    bus.register(c.ViewUser, users.ViewUserHandler(ports, settings))
    bus.register(c.DeleteUser, users.DeleteUserHandler(ports, settings))
    bus.register(c.MakeAdmin, users.MakeAdminHandler(ports, settings))
    bus.register(c.ImportDirectory, directory.ImportDirectoryHandler(ports, settings))
    bus.register(c.OnboardUser, onboarding.OnboardUserHandler(ports, settings))
    bus.register(c.ViewHome, home.ViewHomeHandler(ports, settings))
    # karma and emails
    bus.register(c.ViewKarma, karma.ViewKarmaHandler(ports, settings))
    bus.register(c.SetKarma, karma.SetKarmaHandler(ports, settings))
    bus.register(c.ResetKarma, karma.ResetKarmaHandler(ports, settings))
    bus.register(c.GiveKarma, karma.GiveKarmaHandler(ports, settings))
    bus.register(c.ExportEmails, emails.ExportEmailsHandler(ports, settings))
    # teams
    bus.register(c.ListTeams, teams.ListTeamsHandler(ports, settings))
    bus.register(c.ViewTeam, teams.ViewTeamHandler(ports, settings))
    bus.register(c.CreateTeam, teams.CreateTeamHandler(ports, settings))
    bus.register(c.EditTeam, teams.EditTeamHandler(ports, settings))
    bus.register(c.AddTeamMember, teams.AddTeamMemberHandler(ports, settings))
    bus.register(c.RemoveTeamMember, teams.RemoveTeamMemberHandler(ports, settings))
    bus.register(c.SetTeamLead, teams.SetTeamLeadHandler(ports, settings))
    bus.register(c.DeleteTeam, teams.DeleteTeamHandler(ports, settings))
    bus.register(c.RefreshTeams, refresh.RefreshTeamsHandler(ports, settings))
    bus.register(c.SyncDrive, teams.SyncDriveHandler(ports, settings))
    bus.register(c.FeatureRandomChannel, channels.FeatureRandomChannelHandler(ports, settings))
    # projects
    bus.register(c.ListProjects, projects.ListProjectsHandler(ports, settings))
    bus.register(c.ViewProject, projects.ViewProjectHandler(ports, settings))
    bus.register(c.CreateProject, projects.CreateProjectHandler(ports, settings))
    bus.register(c.EditProject, projects.EditProjectHandler(ports, settings))
    bus.register(c.AssignProject, projects.AssignProjectHandler(ports, settings))
    bus.register(c.UnassignProject, projects.UnassignProjectHandler(ports, settings))
    bus.register(c.DeleteProject, projects.DeleteProjectHandler(ports, settings))
    # audit
    bus.register(c.ViewAudit, audit.ViewAuditHandler(ports, settings))
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
