"""Rocket's configuration: one typed object, read once from the environment and ``./.env``.

Contract:

- :class:`RocketSettings` has one field per variable of ../shared/CONTRACT.md "Configuration",
  under that exact name (the field's alias) and with that default. The process environment wins
  over ``./.env``; an empty value counts as unset. Secrets are ``SecretStr`` (their ``repr`` and
  ``str`` show ``**********``).
- :func:`load_settings` validates everything; a malformed value raises :class:`ConfigError` whose
  message is ONE line starting with the variable's name, and never contains the value of a secret
  or of a URL (which may carry a password).
- Adapters never read the environment: each receives its own part, built here
  (``settings.github``, ``settings.slack``, ``settings.drive``, ``settings.aws``), typed by the
  adapter (``adapters.github.auth.GitHubAppSettings``, …). ``None`` means "not configured".
- URLs are checked by one validator (:func:`_http_url`).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from pydantic import AfterValidator, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from adapters.dynamo.settings import DynamoSettings
from adapters.gdrive.settings import DriveSettings
from adapters.slack.settings import SlackSettings
from core.context import Settings as CoreSettings
from entrypoints import checks
from entrypoints.checks import ConfigError

if TYPE_CHECKING:  # adapters.github imports PyGithub (slow): imported when GitHub is configured
    from adapters.github.settings import GitHubAppSettings

DEFAULT_DATABASE_URL = "sqlite:///rocket.db"
DEFAULT_PORT = checks.DEFAULT_PORT
RESERVED_PATHS = checks.RESERVED_PATHS


_http_url = checks.http_url  # the one URL check (entrypoints/checks.py, shared with the CLI's fast path)
HttpUrl = Annotated[str, AfterValidator(_http_url)]


def without_password(url: str) -> str:
    """``url`` fit for a message: any ``user:password@`` part dropped (host and path kept)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(a malformed URL)"
    return parts._replace(netloc=f"{host}{port}").geturl() if "@" in parts.netloc else url


class RocketSettings(BaseSettings):
    """Every setting Rocket reads (the alias is the environment variable)."""

    model_config = SettingsConfigDict(
        env_file=".env", env_ignore_empty=True, extra="ignore", case_sensitive=True,
        populate_by_name=False, frozen=True, hide_input_in_errors=True,
    )

    # --- storage and serving
    database_url: str = Field(DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    port: str = Field(str(DEFAULT_PORT), alias="PORT")
    rocket_scheduler: Annotated[str, AfterValidator(checks.on_off)] = Field("on", alias="ROCKET_SCHEDULER")
    rocket_log_level: str = Field("INFO", alias="ROCKET_LOG_LEVEL")
    rocket_audit_days: int = Field(400, alias="ROCKET_AUDIT_DAYS", ge=1)
    rocket_refresh_max_removals: int = Field(10, alias="ROCKET_REFRESH_MAX_REMOVALS", ge=0)

    # --- Slack
    slack_signing_secret: SecretStr = Field(SecretStr(""), alias="SLACK_SIGNING_SECRET")
    slack_api_token: SecretStr = Field(SecretStr(""), alias="SLACK_API_TOKEN")
    slack_app_token: SecretStr = Field(SecretStr(""), alias="SLACK_APP_TOKEN")
    slack_api_url: HttpUrl = Field("https://slack.com/api/", alias="SLACK_API_URL")
    slack_notification_channel: str = Field("", alias="SLACK_NOTIFICATION_CHANNEL")
    slack_announcement_channel: str = Field("", alias="SLACK_ANNOUNCEMENT_CHANNEL")

    # --- GitHub
    github_app_id: str = Field("", alias="GITHUB_APP_ID")
    github_key: SecretStr = Field(SecretStr(""), alias="GITHUB_KEY")
    github_org_name: str = Field("", alias="GITHUB_ORG_NAME")
    github_api_url: HttpUrl = Field("https://api.github.com", alias="GITHUB_API_URL")
    github_default_team_name: str = Field("all", alias="GITHUB_DEFAULT_TEAM_NAME")
    github_admin_team_name: str = Field("", alias="GITHUB_ADMIN_TEAM_NAME")
    github_leads_team_name: str = Field("", alias="GITHUB_LEADS_TEAM_NAME")
    github_webhook_endpt: str = Field("/webhook", alias="GITHUB_WEBHOOK_ENDPT")
    github_webhook_secret: SecretStr = Field(SecretStr(""), alias="GITHUB_WEBHOOK_SECRET")
    github_client_id: str = Field("", alias="GITHUB_CLIENT_ID")
    github_oauth_url: HttpUrl = Field("https://github.com", alias="GITHUB_OAUTH_URL")

    # --- AWS (DynamoDB)
    aws_access_keyid: str = Field("", alias="AWS_ACCESS_KEYID")
    aws_secret_key: SecretStr = Field(SecretStr(""), alias="AWS_SECRET_KEY")
    aws_region: str = Field("us-east-1", alias="AWS_REGION")
    aws_local: str = Field("", alias="AWS_LOCAL")
    aws_users_table: str = Field("users", alias="AWS_USERS_TABLE")
    aws_teams_table: str = Field("teams", alias="AWS_TEAMS_TABLE")
    aws_projects_table: str = Field("projects", alias="AWS_PROJECTS_TABLE")
    aws_leases_table: str = Field("rocket_leases", alias="AWS_LEASES_TABLE")

    # --- Google Drive
    gcp_service_account_credentials: SecretStr = Field(SecretStr(""), alias="GCP_SERVICE_ACCOUNT_CREDENTIALS")
    gcp_service_account_subject: str = Field("", alias="GCP_SERVICE_ACCOUNT_SUBJECT")
    google_api_url: Annotated[str, AfterValidator(checks.optional_http_url)] = Field(
        "", alias="GOOGLE_API_URL")

    @field_validator("port")
    @classmethod
    def _port(cls, value: str) -> str:
        return checks.port(value)

    @field_validator("github_webhook_endpt")
    @classmethod
    def _webhook_path(cls, value: str) -> str:
        return checks.webhook_path(value)

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: SecretStr) -> SecretStr:
        return SecretStr(checks.app_token(value.get_secret_value()))

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        from entrypoints.storage import check_database_url

        check_database_url(value)
        return value

    # --- the parts each adapter receives --------------------------------------------------------
    @property
    def core(self) -> CoreSettings:
        """What the use-cases read (team names and channels)."""
        return CoreSettings(
            default_team=self.github_default_team_name or "all",
            admin_team=self.github_admin_team_name,
            leads_team=self.github_leads_team_name,
            notification_channel=self.slack_notification_channel,
            announcement_channel=self.slack_announcement_channel,
            audit_days=self.rocket_audit_days,
            refresh_max_removals=self.rocket_refresh_max_removals,
        )

    @property
    def github(self) -> GitHubAppSettings | None:
        """The GitHub App's settings; ``None`` unless app id, key and org are all set."""
        if not (self.github_app_id.strip() and self.github_key.get_secret_value().strip()
                and self.github_org_name.strip()):
            return None
        from adapters.github.settings import GitHubAppSettings

        return GitHubAppSettings(app_id=self.github_app_id.strip(), key=self.github_key,
                                 org=self.github_org_name.strip(), api_url=self.github_api_url)

    @property
    def slack(self) -> SlackSettings:
        """The Slack Web API settings (bot token may be empty: Slack is then off)."""
        return SlackSettings(token=SecretStr(self.slack_api_token.get_secret_value().strip()),
                             api_url=self.slack_api_url)

    @property
    def drive(self) -> DriveSettings | None:
        """Google Drive's settings; ``None`` without service-account credentials."""
        if not self.gcp_service_account_credentials.get_secret_value().strip():
            return None
        return DriveSettings(credentials=self.gcp_service_account_credentials,
                             subject=self.gcp_service_account_subject.strip(),
                             api_url=self.google_api_url.strip())

    @property
    def aws(self) -> DynamoSettings:
        """DynamoDB's settings (the endpoint comes from ``DATABASE_URL``)."""
        return DynamoSettings(
            region=self.aws_region or "us-east-1",
            access_key=self.aws_access_keyid or None,
            secret_key=self.aws_secret_key if self.aws_secret_key.get_secret_value() else None,
            local=self.aws_local.strip().lower() in {"true", "1", "yes"},
            tables={"users": self.aws_users_table, "teams": self.aws_teams_table,
                    "projects": self.aws_projects_table, "leases": self.aws_leases_table},
        )

    @property
    def scheduler_on(self) -> bool:
        return self.rocket_scheduler == "on"

    @property
    def port_number(self) -> int:
        return int(self.port)

    @property
    def integrations(self) -> dict[str, bool]:
        """Which integrations are configured (the status page lists them)."""
        return {"GitHub": self.github is not None,
                "Slack": bool(self.slack.token.get_secret_value()),
                "Google Drive": self.drive is not None}


def _one_line(error: ValidationError) -> ConfigError:
    """The first error as ``NAME: reason`` (pydantic's own prefix dropped; no input echoed)."""
    first = error.errors(include_input=False, include_url=False)[0]
    name = str(first["loc"][0]) if first["loc"] else "configuration"
    message = str(first["msg"]).removeprefix("Value error, ").splitlines()[0]
    if message.startswith(name):
        return ConfigError(message)
    if message.startswith("is "):
        return ConfigError(f"{name} {message}")
    return ConfigError(f"{name}: {message}")


def load_settings(env: Mapping[str, str] | None = None, dotenv: Path | None = None) -> RocketSettings:
    """Read and validate the settings.

    With ``env`` given, exactly that mapping is used (tests, embedding); else the process
    environment over ``./.env`` (or ``dotenv``). Raises :class:`ConfigError` (one line).
    """
    try:
        if env is None:
            path = dotenv if dotenv is not None else Path.cwd() / ".env"
            try:
                return RocketSettings(_env_file=path if path.is_file() else None)  # type: ignore[call-arg]
            except UnicodeDecodeError as e:
                raise ConfigError(f"{path}: is not UTF-8 text (bad byte at position {e.start}); "
                                  "save it as UTF-8") from None
        values: dict[str, Any] = {k: v for k, v in env.items() if isinstance(v, str) and v != ""}
        return RocketSettings.model_validate(values)
    except ValidationError as e:
        raise _one_line(e) from None
