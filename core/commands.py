"""Commands: one frozen record (``core.records.record``: a lighter frozen dataclass) per
request for a change or a view.

Every entry point (the ``/rocket`` grammar, the CLI, jobs, GitHub webhooks through
``adapters.github.events``, and next buttons and modals) builds one of these and hands it to
``core.bus.MessageBus.handle``; the command's CLASS picks its handler, never a name.

Each class derives from ``Command[R]`` where ``R`` is the result type its handler returns, so
``bus.handle(AddTeamMember(...))`` is known to mypy as a ``TeamResult``. ``actor`` is the
Slack user id of whoever asked (for GitHub events: ``sender``, the GitHub login, may be "").
Values are as typed by the user (handlers validate them); ``None`` means "not given".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Generic, Literal, TypeVar

from core.models import Project, Team, User
from core.records import record
from core.results import (
    AuditPage,
    ChannelFeature,
    Deleted,
    DriveSyncResult,
    EmailList,
    EventOutcome,
    HomeView,
    ImportResult,
    KarmaReset,
    KarmaResult,
    ProjectList,
    ProjectResult,
    RefreshResult,
    TeamList,
    TeamResult,
    UserResult,
)

R = TypeVar("R", covariant=True)


if TYPE_CHECKING:
    # The modules of ``core.usecases`` that hold handlers. Each command class names its handler's
    # module as ``handled_in`` (checked by mypy against this list, and by
    # tests/unit/test_handler_registry.py against the ``@handles`` marks), so ``core.wiring``
    # imports a module of handlers only when one of its commands is first handled (start-up,
    # issue 17). For the type checker only: the ``Literal`` costs an import's worth at run time.
    Area = Literal["audit", "channels", "directory", "emails", "github_events", "home", "karma",
                   "onboarding", "projects", "refresh", "teams", "users"]

    class Command(Generic[R]):
        """Base of every command; ``R`` is what its handler returns."""

        handled_in: ClassVar[Area]  # the ``core.usecases`` module of its handler (see ``Area``)

        @property
        def actor(self) -> str: ...  # every concrete command is a record with an ``actor`` field

else:

    class Command:
        """Base of every command; ``Command[R]`` names the result type ``R`` of its handler.

        ``Generic`` for the type checker only: at run time ``Command[R]`` is ``Command`` itself,
        so the ~45 command classes below are plain classes (subscripting ``Generic`` and its
        ``__init_subclass__`` cost ~1 ms at every start, issue 17); ``type(command)`` still
        picks the handler."""

        handled_in: ClassVar[Area]  # the ``core.usecases`` module of its handler (see ``Area``)

        def __class_getitem__(cls, item: object) -> type:
            return cls


# --- users -------------------------------------------------------------------------------------


@record
class AddUser(Command[UserResult]):
    """``user add [-f]``: register the actor (``force`` overwrites an existing record)."""

    handled_in = "users"

    actor: str
    force: bool = False


@record
class EditUser(Command[UserResult]):
    """``user edit``: change the actor's profile, or ``target``'s."""

    handled_in = "users"

    actor: str
    target: str | None = None
    name: str | None = None
    email: str | None = None
    position: str | None = None
    github: str | None = None
    major: str | None = None
    bio: str | None = None
    permission: str | None = None


@record
class LinkVerifiedGitHub(Command[UserResult]):
    """Store ``actor``'s GitHub link as verified: GitHub's device flow proved that ``actor``
    controls ``login`` (numeric id ``github_user_id``). Built only by ``core.verification``
    once the approval is read back, never from user input."""

    handled_in = "users"

    actor: str
    login: str
    github_user_id: str


@record
class ViewUser(Command[UserResult]):
    """``user view``: by Slack id, GitHub login or email (at most one; none: the actor)."""

    handled_in = "users"

    actor: str
    slack_id: str | None = None
    github: str | None = None
    email: str | None = None
    inspect: bool = False


@record
class DeleteUser(Command[Deleted]):
    """``user delete SLACK_ID [--org]`` (admins): offboarding; ``org`` also removes them
    from the GitHub organization (or cancels their pending invitation)."""

    handled_in = "users"

    actor: str
    slack_id: str
    org: bool = False


@record
class OnboardUser(Command[UserResult]):
    """Slack's ``team_join``: register ``actor`` (the newcomer) from their Slack profile."""

    handled_in = "onboarding"

    actor: str
    name: str = ""
    email: str = ""
    image_url: str = ""


# --- karma -------------------------------------------------------------------------------------


@record
class ViewKarma(Command[KarmaResult]):
    handled_in = "karma"
    actor: str
    slack_id: str = ""  # "": the actor's own


@record
class SetKarma(Command[KarmaResult]):
    handled_in = "karma"
    actor: str
    slack_id: str
    amount: int


@record
class ResetKarma(Command[KarmaReset]):
    handled_in = "karma"
    actor: str


@record
class GiveKarma(Command[KarmaResult]):
    """``@user ++``: one point from ``actor`` to ``slack_id``."""

    handled_in = "karma"

    actor: str
    slack_id: str


# --- emails ------------------------------------------------------------------------------------


@record
class ExportEmails(Command[EmailList]):
    handled_in = "emails"
    actor: str
    team: str | None = None


# --- teams -------------------------------------------------------------------------------------


@record
class ListTeams(Command[TeamList]):
    handled_in = "teams"
    actor: str
    page: int = 1  # which page of the reply (replies are split for Slack; see adapters/slack/render.py)


@record
class ViewTeam(Command[TeamResult]):
    handled_in = "teams"
    actor: str
    team: str


@record
class CreateTeam(Command[TeamResult]):
    handled_in = "teams"
    actor: str
    team: str
    name: str | None = None
    platform: str | None = None
    channel: str | None = None
    lead: str | None = None
    folder: str | None = None


@record
class EditTeam(Command[TeamResult]):
    handled_in = "teams"
    actor: str
    team: str
    name: str | None = None
    platform: str | None = None
    folder: str | None = None


@record
class AddTeamMember(Command[TeamResult]):
    handled_in = "teams"
    actor: str
    team: str
    slack_id: str


@record
class RemoveTeamMember(Command[TeamResult]):
    handled_in = "teams"
    actor: str
    team: str
    slack_id: str


@record
class SetTeamLead(Command[TeamResult]):
    """Make ``slack_id`` a lead of ``team``; with ``remove`` drop only the lead role."""

    handled_in = "teams"

    actor: str
    team: str
    slack_id: str
    remove: bool = False


@record
class DeleteTeam(Command[Deleted]):
    handled_in = "teams"
    actor: str
    team: str


@record
class RefreshTeams(Command[RefreshResult]):
    """Reconcile every team with GitHub. ``scheduled`` (set only by the scheduled job, never
    by the grammar) skips the admin check: the scheduler is no Slack user. ``guarded`` (the
    nightly job) applies the guard rail: a plan deleting a team or removing more than
    ``settings.refresh_max_removals`` memberships is not applied. ``dry_run``: compute and
    return the plan, change nothing."""

    handled_in = "refresh"

    actor: str
    scheduled: bool = False
    dry_run: bool = False
    guarded: bool = False


@record
class SyncDrive(Command[DriveSyncResult]):
    """Share every team's Drive folder with exactly its registered members' emails (the job)."""

    handled_in = "teams"

    actor: str
    scheduled: bool = False


@record
class MakeAdmin(Command[UserResult]):
    """``rocket admin SLACK_ID`` (the operator, no Slack user: no permission check): create the
    user if missing and make them admin. Only the CLI builds it."""

    handled_in = "users"

    actor: str
    slack_id: str


@record
class FeatureRandomChannel(Command[ChannelFeature]):
    """Advertise one random public channel in the announcement channel (the weekly job)."""

    handled_in = "channels"

    actor: str
    scheduled: bool = False


@record
class ImportDirectory(Command[ImportResult]):
    """``rocket db import`` (the operator; only the CLI builds it): validated records to write."""

    handled_in = "directory"

    actor: str
    users: tuple[User, ...] = ()
    teams: tuple[Team, ...] = ()
    projects: tuple[Project, ...] = ()


# --- projects ----------------------------------------------------------------------------------


@record
class ListProjects(Command[ProjectList]):
    handled_in = "projects"
    actor: str
    page: int = 1


@record
class ViewProject(Command[ProjectResult]):
    handled_in = "projects"
    actor: str
    project_id: str


@record
class CreateProject(Command[ProjectResult]):
    handled_in = "projects"
    actor: str
    repo: str
    team: str
    name: str | None = None


@record
class EditProject(Command[ProjectResult]):
    handled_in = "projects"
    actor: str
    project_id: str
    name: str | None = None


@record
class AssignProject(Command[ProjectResult]):
    handled_in = "projects"
    actor: str
    project_id: str
    team: str
    force: bool = False


@record
class UnassignProject(Command[ProjectResult]):
    handled_in = "projects"
    actor: str
    project_id: str


@record
class DeleteProject(Command[Deleted]):
    handled_in = "projects"
    actor: str
    project_id: str
    force: bool = False


# --- GitHub webhook events (built by adapters.github.events.parse_webhook) ----------------------
# GitHub is the source of truth: these report what already happened there. ``actor`` is the
# GitHub login of the webhook's sender ("" when absent). Ids are GitHub's, as strings.


@record
class GitHubPing(Command[EventOutcome]):
    handled_in = "github_events"
    actor: str = ""


@record
class GitHubTeamCreated(Command[EventOutcome]):
    handled_in = "github_events"
    team_id: str
    slug: str
    name: str = ""
    actor: str = ""


@record
class GitHubTeamDeleted(Command[EventOutcome]):
    handled_in = "github_events"
    team_id: str
    slug: str = ""
    actor: str = ""


@record
class GitHubTeamRenamed(Command[EventOutcome]):
    """Team ``edited`` with a slug: the stored team takes the new slug."""

    handled_in = "github_events"

    team_id: str
    slug: str
    actor: str = ""


@record
class GitHubTeamNoted(Command[EventOutcome]):
    """Any other team action (``added_to_repository``, an edit without a slug, …): noted only."""

    handled_in = "github_events"

    team_id: str
    slug: str = ""
    action: str = ""
    actor: str = ""


@record
class GitHubMembershipAdded(Command[EventOutcome]):
    """``membership added`` (scope team): ``github_id`` joined team ``team_id`` on GitHub."""

    handled_in = "github_events"

    team_id: str
    github_id: str
    login: str = ""
    actor: str = ""


@record
class GitHubMembershipRemoved(Command[EventOutcome]):
    handled_in = "github_events"
    team_id: str
    github_id: str
    login: str = ""
    actor: str = ""


@record
class GitHubMemberLeftOrg(Command[EventOutcome]):
    """organization ``member_removed``."""

    handled_in = "github_events"

    github_id: str
    login: str = ""
    actor: str = ""


@record
class GitHubMemberJoinedOrg(Command[EventOutcome]):
    """organization ``member_added`` (``invited`` False) or ``member_invited`` (True)."""

    handled_in = "github_events"

    login: str
    invited: bool = False
    actor: str = ""


@record
class GitHubIgnored(Command[EventOutcome]):
    """A known event whose payload names nothing Rocket handles; ``summary`` says why."""

    handled_in = "github_events"

    summary: str
    actor: str = ""


GitHubEvent = (
    GitHubPing
    | GitHubTeamCreated
    | GitHubTeamDeleted
    | GitHubTeamRenamed
    | GitHubTeamNoted
    | GitHubMembershipAdded
    | GitHubMembershipRemoved
    | GitHubMemberLeftOrg
    | GitHubMemberJoinedOrg
    | GitHubIgnored
)


# --- audit -------------------------------------------------------------------------------------


@record
class ViewAudit(Command[AuditPage]):
    """``audit [--user SLACK_ID] [--team TEAM] [--limit N]``: newest entries first; admins see
    every entry, team leads the entries about the teams they lead. ``before``: a page cursor
    (``core.audit.encode_cursor``) from a previous page's ``more``."""

    handled_in = "audit"

    actor: str
    user: str | None = None
    team: str | None = None
    limit: int = 20
    before: str | None = None


@record
class ViewHome(Command[HomeView]):
    """The Home tab's content for ``actor``: profile, teams, projects, teams managed.
    At most ``limit`` entries per list (the rest is counted, not loaded into the view)."""

    handled_in = "home"

    actor: str
    limit: int = 10
