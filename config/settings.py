"""Settings for every tmsops process, read from the environment (prefix ``TMS_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-development-only"
DEFAULT_AUDIT_KEY = "change-me-development-audit-key"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """One settings object; the CLI, the app and the agents all read it."""

    model_config = SettingsConfigDict(env_prefix="TMS_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'tmsops.db'}"
    secret_key: str = DEFAULT_SECRET

    # The audit chain's HMAC key (service/audit/chain.py). It must live outside the database: whoever holds it
    # and can write to the database can rebuild the chain (the signed checkpoints still catch that).
    audit_key: str = DEFAULT_AUDIT_KEY
    # Where the sealer appends signed checkpoints (one JSON line each). "" = beside the database: the SQLite
    # file's path + ".checkpoints.jsonl", or var/audit-checkpoints-<database>.jsonl for PostgreSQL; "off" = none.
    audit_checkpoints: str = ""
    # The Ed25519 private key (PEM, PKCS#8) that signs checkpoints. Outside production a missing file is made
    # on first use; in production it must exist (`tmsops audit keygen` writes one).
    audit_signing_key_file: Path = PROJECT_ROOT / "var" / "audit-signing-key.pem"
    audit_seal_seconds: float = Field(default=1.0, gt=0)  # how often the leader seals new audit rows

    # An access-log line per request costs throughput; when on, each is one JSON line (service/core/access_log.py).
    access_log: bool = False

    # Session lifetimes: HIPAA 164.312(a)(2)(iii) automatic logoff; NIST 800-63B AAL2/AAL3 bounds.
    session_idle_minutes: int = Field(default=15, ge=1)
    session_absolute_hours: float = Field(default=12, gt=0)
    # A request records a session's activity only when the last record is this old, so most reads write nothing.
    # The idle timeout counts from the record, so a session may end up to this much early, never late.
    session_touch_seconds: int = Field(default=30, ge=0)

    # Login throttling: after this many failures inside the window, refuse logins for the lockout.
    login_max_failures: int = Field(default=5, ge=1)
    login_failure_window_minutes: int = Field(default=15, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)

    # argon2id cost (argon2-cffi defaults = RFC 9106 low-memory profile); tests lower them for speed.
    password_time_cost: int = Field(default=3, ge=1)
    password_memory_kib: int = Field(default=65536, ge=64)

    # Bodies larger than this are refused before parsing (hostile-input guard).
    max_body_bytes: int = Field(default=1_000_000, ge=1024)

    clinic_timezone: str = "America/New_York"

    # MDR reporting (21 CFR 803): "user_facility" or "physician_office" (config/clinical/adverse_events.json).
    # Which one a standalone TMS centre is, is a legal question per customer (docs/clinical-rules.md#mdr-reporting).
    mdr_facility_type: str = "user_facility"

    # Background jobs. None = on for `serve` (development, production), off under environment=test.
    scheduler_enabled: bool | None = None
    scheduler_sync_seconds: int = Field(default=300, ge=1)  # how often jobs are re-derived from rows
    scheduler_leader_retry_seconds: int = Field(default=30, ge=1)  # a follower's retry for the leader lock
    scheduler_end_of_day: str = Field(default="19:30", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")  # clinic-local
    scheduler_morning: str = Field(default="07:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")  # clinic-local
    authorization_warn_units: int = Field(default=3, ge=0)  # warn when this few session units are left
    authorization_warn_days: int = Field(default=7, ge=0)  # warn this many days before the window ends
    mt_redetermine_every_sessions: int = Field(default=5, ge=1)  # docs/clinical-rules.md#mt-redetermination

    # A live session whose start command the chair agent took this long ago, while its heartbeats report no
    # run of it and nothing unsent, was lost by an agent that restarted: it ends 'interrupted' (sessions/lost.py).
    # Several heartbeats (every 2 s) long, so a command on its way to the agent is never taken for lost.
    session_lost_after_s: float = Field(default=30, gt=0)
    # A chair whose agent has not heartbeat (every 2 s) this long is lost: its live session ends 'interrupted'
    # (sessions/lost_chairs.py). Long enough for a service restart or a short database outage to pass.
    agent_lost_after_s: float = Field(default=60, gt=0)

    @property
    def scheduler_on(self) -> bool:
        """Whether the app's lifespan starts the job scheduler."""
        return self.scheduler_enabled if self.scheduler_enabled is not None else self.environment != "test"

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "TMS_SECRET_KEY must be set to a secret of your own when TMS_ENVIRONMENT=production"
            )
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("TMS_SECRET_KEY must be at least 32 characters in production")
        if self.environment == "production" and self.audit_key == DEFAULT_AUDIT_KEY:
            raise ValueError(
                "TMS_AUDIT_KEY must be set to a secret of your own when TMS_ENVIRONMENT=production"
            )
        if self.environment == "production" and len(self.audit_key) < 32:
            raise ValueError("TMS_AUDIT_KEY must be at least 32 characters in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache to change them)."""
    return Settings()
