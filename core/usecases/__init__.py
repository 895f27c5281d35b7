"""The bundle of every use-case, built once from the ports and the settings.

``UseCases(ports, settings)`` exposes one instance per use-case under the snake_case name of
its class (``usecases.add_team_member(actor, team, slack_id)``). Entry points (the /rocket
command layer, the CLI, event handlers, scheduled jobs) call use-cases only through it.
"""

from __future__ import annotations

from core.context import Ports, Settings
from core.usecases.emails import ExportEmails
from core.usecases.github_events import ApplyGitHubEvent
from core.usecases.karma import GiveKarma, ResetKarma, SetKarma, ViewKarma
from core.usecases.onboarding import OnboardUser
from core.usecases.projects import (
    AssignProject,
    CreateProject,
    DeleteProject,
    EditProject,
    ListProjects,
    UnassignProject,
    ViewProject,
)
from core.usecases.refresh import RefreshTeams
from core.usecases.teams import (
    AddTeamMember,
    CreateTeam,
    DeleteTeam,
    EditTeam,
    ListTeams,
    RemoveTeamMember,
    SetTeamLead,
    ViewTeam,
)
from core.usecases.users import AddUser, DeleteUser, EditUser, ViewUser

__all__ = ["UseCases"]


class UseCases:
    """One instance of every use-case, sharing ``ports`` and ``settings``."""

    def __init__(self, ports: Ports, settings: Settings) -> None:
        self.ports = ports
        self.settings = settings
        # users
        self.add_user = AddUser(ports, settings)
        self.edit_user = EditUser(ports, settings)
        self.view_user = ViewUser(ports, settings)
        self.delete_user = DeleteUser(ports, settings)
        # karma
        self.view_karma = ViewKarma(ports, settings)
        self.set_karma = SetKarma(ports, settings)
        self.reset_karma = ResetKarma(ports, settings)
        self.give_karma = GiveKarma(ports, settings)
        # emails and onboarding
        self.export_emails = ExportEmails(ports, settings)
        self.onboard_user = OnboardUser(ports, settings)
        self.apply_github_event = ApplyGitHubEvent(ports, settings)
        # teams
        self.list_teams = ListTeams(ports, settings)
        self.view_team = ViewTeam(ports, settings)
        self.create_team = CreateTeam(ports, settings)
        self.edit_team = EditTeam(ports, settings)
        self.add_team_member = AddTeamMember(ports, settings)
        self.remove_team_member = RemoveTeamMember(ports, settings)
        self.set_team_lead = SetTeamLead(ports, settings)
        self.delete_team = DeleteTeam(ports, settings)
        self.refresh_teams = RefreshTeams(ports, settings)
        # projects
        self.list_projects = ListProjects(ports, settings)
        self.view_project = ViewProject(ports, settings)
        self.create_project = CreateProject(ports, settings)
        self.edit_project = EditProject(ports, settings)
        self.assign_project = AssignProject(ports, settings)
        self.unassign_project = UnassignProject(ports, settings)
        self.delete_project = DeleteProject(ports, settings)
