"""Configuration from the environment (PEERBOT_* and SLACK_* variables).

Every variable is documented in the README's configuration table; keep the two in step.
"""
from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from storage.models import ChangeAction


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
    # Drift check (issue 17): every N hours read each router's BGP configuration and report what
    # differs from the database in the notify channel; 0 turns the scheduled check off.
    drift_hours: float = Field(default=24.0, ge=0, le=24 * 31, alias="PEERBOT_DRIFT_HOURS")
    inventory: Path | None = Field(default=None, alias="PEERBOT_INVENTORY")
    secret_key: SecretStr | None = Field(default=None, alias="PEERBOT_SECRET_KEY")
    templates_dir: Path | None = Field(default=None, alias="PEERBOT_TEMPLATES_DIR")
    list_page_size: int = Field(default=15, ge=1, le=40, alias="PEERBOT_LIST_PAGE_SIZE")
    router_timeout: float = Field(default=20.0, gt=0, alias="PEERBOT_ROUTER_TIMEOUT")
    poll_interval: int = Field(default=300, ge=0, alias="PEERBOT_POLL_INTERVAL")
    # Fleet polling (issue 11): routers polled at once per process (also bounds the per-router
    # groups of a bulk change), and how long one router's poll may take before it is reported as
    # timed out and no longer waited for (seconds).
    # A poll is almost all waiting on the router (login, the command's answer), so many are in
    # flight at once: 128 keeps a few hundred routers within a couple of round trips.
    poll_concurrency: int = Field(default=128, ge=1, le=512, alias="PEERBOT_POLL_CONCURRENCY")
    poll_timeout: float = Field(default=60.0, gt=0, alias="PEERBOT_POLL_TIMEOUT")
    # Child processes that read routers' state for polls (bot/routers/state_readers.py), so SSH
    # and parsing use every core; None: one per core (none on a one-core machine), 0: read in
    # the bot's own threads.
    poll_processes: int | None = Field(default=None, ge=0, le=32, alias="PEERBOT_POLL_PROCESSES")
    log_level: str = Field(default="INFO", alias="PEERBOT_LOG_LEVEL")

    # PeeringDB mirror (bot/peeringdb): API base, optional key (Authorization: Api-Key), and how
    # often the scheduler syncs (hours; 0 = off).
    peeringdb_url: str = Field(default="https://www.peeringdb.com/api/", alias="PEERBOT_PEERINGDB_URL")
    peeringdb_api_key: SecretStr | None = Field(default=None, alias="PEERINGDB_API_KEY")
    peeringdb_sync_hours: float = Field(default=24, ge=0, alias="PEERBOT_PEERINGDB_SYNC_HOURS")

    # IRR import of AS-SETs with bgpq4 (bot/irr): server (host or host:port), sources (comma
    # separated, empty = the server's default), the most prefixes per family a set may expand
    # to, bgpq4's time limit (s), scheduled re-import (hours; 0 = off) and the change (% of a
    # family's list) above which a re-import is reported instead of applied.
    irr_host: str = Field(default="rr.ntt.net", alias="PEERBOT_IRR_HOST")
    irr_sources: str = Field(default="", alias="PEERBOT_IRR_SOURCES")
    irr_max_prefixes: int = Field(default=10000, ge=1, alias="PEERBOT_IRR_MAX_PREFIXES")
    irr_timeout: float = Field(default=60.0, gt=0, alias="PEERBOT_IRR_TIMEOUT")
    irr_refresh_hours: float = Field(default=24, ge=0, alias="PEERBOT_IRR_REFRESH_HOURS")
    irr_max_change_percent: float = Field(default=30, ge=0, alias="PEERBOT_IRR_MAX_CHANGE_PERCENT")

    @field_validator("irr_host")
    @classmethod
    def _irr_host(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.\-]{0,252}(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?", v.strip()):
            raise ValueError("expected a host name or address, optionally :port (e.g. rr.ntt.net or 127.0.0.1:4343)")
        return v.strip()

    @field_validator("irr_sources")
    @classmethod
    def _irr_sources(cls, v: str) -> str:
        items = [i for i in re.split(r"[\s,]+", v) if i]
        for item in items:
            if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9\-]{0,31}", item):
                raise ValueError(f"{item[:20]!r} is not an IRR source name (e.g. RIPE,ARIN)")
        return ",".join(i.upper() for i in items)

    # Roles (bot/core/access.py): Slack user ids (U…/W…) and user group ids (S…), comma separated.
    viewers: str = Field(default="", alias="PEERBOT_VIEWERS")
    operators: str = Field(default="", alias="PEERBOT_OPERATORS")
    approvers: str = Field(default="", alias="PEERBOT_APPROVERS")
    admins: str = Field(default="", alias="PEERBOT_ADMINS")
    open_mode: bool = Field(default=False, alias="PEERBOT_OPEN_MODE")
    cli_roles: str = Field(default="operator", alias="PEERBOT_CLI_ROLES")

    # Change requests (bot/changes/requests.py)
    approval_channel: str | None = Field(default=None, alias="PEERBOT_APPROVAL_CHANNEL")
    approval_ttl: int = Field(default=86400, ge=60, alias="PEERBOT_APPROVAL_TTL")  # seconds; "24h" accepted
    approval_skip: str = Field(default="", alias="PEERBOT_APPROVAL_SKIP")  # actions that run without approval
    workers: int = Field(default=0, ge=0, le=256, alias="PEERBOT_WORKERS")  # 0: sized for the machine

    # Email to peers (bot/email/smtp.py, bot/email/service.py). Credentials only from here, never in the URL.
    smtp_url: str | None = Field(default=None, alias="PEERBOT_SMTP_URL")  # smtp://host:587 or smtps://host:465
    smtp_username: str | None = Field(default=None, alias="PEERBOT_SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(default=None, alias="PEERBOT_SMTP_PASSWORD")
    smtp_timeout: float = Field(default=15.0, gt=0, alias="PEERBOT_SMTP_TIMEOUT")
    smtp_ca_file: Path | None = Field(default=None, alias="PEERBOT_SMTP_CA_FILE")  # a private CA; default the system's
    mail_from: str | None = Field(default=None, alias="PEERBOT_MAIL_FROM")
    mail_cc: str | None = Field(default=None, alias="PEERBOT_MAIL_CC")  # our own peering address, copied on every mail

    # State history and notices (bot/polling/history.py, bot/notices/outbox.py)
    history_days: int = Field(default=90, ge=1, alias="PEERBOT_HISTORY_DAYS")  # state history kept this long
    notify_summary_min: int = Field(default=5, ge=2, alias="PEERBOT_NOTIFY_SUMMARY_MIN")  # changes on one router in one poll -> one summary
    flap_changes: int = Field(default=4, ge=1, alias="PEERBOT_FLAP_CHANGES")  # more changes than this ...
    flap_minutes: int = Field(default=30, ge=1, alias="PEERBOT_FLAP_MINUTES")  # ... within this window: flapping
    notify_broadcast_up_minutes: int = Field(default=60, ge=0, alias="PEERBOT_NOTIFY_BROADCAST_UP_MINUTES")  # down after up this long: also in the channel

    # Max-prefix limits of new sessions (issue 10, bot/sessions/max_prefix.py): PeeringDB's
    # info_prefixes4/6 when known, else the default, times the headroom plus the extra; the
    # router warns at warn_percent % of the limit and, after a teardown, re-opens the session
    # after restart minutes (0: stays down until cleared by hand).
    max_prefix_default_v4: int = Field(default=1000, ge=1, le=10_000_000, alias="PEERBOT_MAX_PREFIX_DEFAULT_V4")
    max_prefix_default_v6: int = Field(default=250, ge=1, le=10_000_000, alias="PEERBOT_MAX_PREFIX_DEFAULT_V6")
    max_prefix_headroom: float = Field(default=1.2, ge=1.0, le=100.0, alias="PEERBOT_MAX_PREFIX_HEADROOM")
    max_prefix_extra: int = Field(default=10, ge=0, le=1_000_000, alias="PEERBOT_MAX_PREFIX_EXTRA")
    max_prefix_warn_percent: int = Field(default=90, ge=1, le=100, alias="PEERBOT_MAX_PREFIX_WARN_PERCENT")
    max_prefix_restart: int = Field(default=0, ge=0, le=65535, alias="PEERBOT_MAX_PREFIX_RESTART")
    # IOS-XR: the route-policy applied outbound to peerbot's neighbors (XR exchanges no routes with
    # an eBGP neighbor without one). Empty: peerbot defines and applies PEERBOT-PASS (pass all).
    iosxr_out_policy: str | None = Field(default=None, alias="PEERBOT_IOSXR_OUT_POLICY")

    @field_validator("iosxr_out_policy")
    @classmethod
    def _policy_name(cls, v: str | None) -> str | None:
        if v is not None and v.strip() and not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", v.strip()):
            raise ValueError("a route-policy name: letters, digits, '_', '.', '-' (at most 64)")
        return v.strip() or None if v is not None else None

    @field_validator("approval_ttl", mode="before")
    @classmethod
    def _duration(cls, v: object) -> object:
        """"90s", "30m", "24h", "7d" or plain seconds."""
        if isinstance(v, str):
            m = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", v.lower())
            if not m:
                raise ValueError("expected seconds, or a number with s, m, h or d (e.g. 24h)")
            return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
        return v

    @field_validator("viewers", "operators", "approvers", "admins")
    @classmethod
    def _members(cls, v: str) -> str:
        from bot.core.access import parse_members

        parse_members(v)  # ValueError names the bad item
        return v

    @field_validator("cli_roles")
    @classmethod
    def _cli_roles(cls, v: str) -> str:
        from bot.core.access import Role

        for item in re.split(r"[\s,]+", v):
            if item and item not in {r.value for r in Role}:
                raise ValueError(f"{item[:20]!r} is not a role (viewer, operator, approver, admin)")
        return v

    @field_validator("approval_skip")
    @classmethod
    def _skip(cls, v: str) -> str:
        actions = [a.value for a in ChangeAction]
        for item in re.split(r"[\s,]+", v):
            if item and item != "all" and item not in actions:
                raise ValueError(f"{item[:20]!r} is not an action ({', '.join(actions)}, or all)")
        return v

    @property
    def approval_skipped(self) -> frozenset[str]:
        return frozenset(i for i in re.split(r"[\s,]+", self.approval_skip) if i)

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
            if not re.fullmatch(re.escape(prefix) + r"[A-Za-z0-9-]+", value.get_secret_value()):
                # e.g. the README's placeholder "xoxb-…" pasted as is: refuse it here, not as a
                # traceback from the HTTP client that cannot put it into a header
                raise ConfigError(f"{name} is malformed: '{prefix}' then letters, digits and dashes only")
        if not socket_mode:
            secret = self.slack_signing_secret.get_secret_value() if self.slack_signing_secret else ""
            if not secret:
                raise ConfigError("SLACK_SIGNING_SECRET is not set (needed in HTTP mode)")
            if not re.fullmatch(r"[0-9a-fA-F]{16,}", secret):
                raise ConfigError("SLACK_SIGNING_SECRET is malformed: expected the hex string from the app's Basic Information page")
