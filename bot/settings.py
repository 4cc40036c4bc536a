"""Configuration from the environment (PEERBOT_* and SLACK_* variables).

Every variable is documented in the README's configuration table; keep the two in step.
"""
from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = Field(default=None, alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", alias="SLACK_API_URL")

    database_url: str = Field(default="sqlite:///peerbot.db", alias="PEERBOT_DATABASE_URL")
    notify_channel: str | None = Field(default=None, alias="PEERBOT_NOTIFY_CHANNEL")
    inventory: Path | None = Field(default=None, alias="PEERBOT_INVENTORY")
    secret_key: SecretStr | None = Field(default=None, alias="PEERBOT_SECRET_KEY")
    templates_dir: Path | None = Field(default=None, alias="PEERBOT_TEMPLATES_DIR")
    list_page_size: int = Field(default=15, ge=1, le=40, alias="PEERBOT_LIST_PAGE_SIZE")
    router_timeout: float = Field(default=20.0, gt=0, alias="PEERBOT_ROUTER_TIMEOUT")
    poll_interval: int = Field(default=300, ge=0, alias="PEERBOT_POLL_INTERVAL")
    log_level: str = Field(default="INFO", alias="PEERBOT_LOG_LEVEL")

    @field_validator("slack_api_url")
    @classmethod
    def _trailing_slash(cls, v: str) -> str:
        # slack_sdk joins base_url + method name, so the slash matters.
        return v if v.endswith("/") else v + "/"

    @cached_property
    def secret_key_path(self) -> Path:
        """Where a generated key lives when PEERBOT_SECRET_KEY is not set (beside a SQLite DB)."""
        m = re.match(r"sqlite:///(.+)", self.database_url)
        base = Path(m.group(1)).parent if m and m.group(1) != ":memory:" else Path.cwd()
        return base / ".peerbot-secret-key"

    def require_slack(self, socket_mode: bool) -> None:
        """Check the Slack tokens needed for the chosen mode; raise ConfigError naming the variable."""
        checks: list[tuple[str, SecretStr | None, str]] = [("SLACK_BOT_TOKEN", self.slack_bot_token, "xoxb-")]
        if socket_mode:
            checks.append(("SLACK_APP_TOKEN", self.slack_app_token, "xapp-"))
        for name, value, prefix in checks:
            if value is None or not value.get_secret_value().strip():
                raise ConfigError(f"{name} is not set")
            if not value.get_secret_value().startswith(prefix):
                raise ConfigError(f"{name} is malformed: it should start with '{prefix}'")
        if not socket_mode:
            secret = self.slack_signing_secret.get_secret_value() if self.slack_signing_secret else ""
            if not secret:
                raise ConfigError("SLACK_SIGNING_SECRET is not set (needed in HTTP mode)")
            if not re.fullmatch(r"[0-9a-fA-F]{16,}", secret):
                raise ConfigError("SLACK_SIGNING_SECRET is malformed: expected the hex string from the app's Basic Information page")
