"""Settings for every tmsops process, read from the environment (prefix ``TMS_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-development-only"
PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """One settings object; the CLI, the app and the agents all read it."""

    model_config = SettingsConfigDict(env_prefix="TMS_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'tmsops.db'}"
    secret_key: str = DEFAULT_SECRET

    # Session lifetimes: HIPAA 164.312(a)(2)(iii) automatic logoff; NIST 800-63B AAL2/AAL3 bounds.
    session_idle_minutes: int = Field(default=15, ge=1)
    session_absolute_hours: float = Field(default=12, gt=0)

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
    # Which one a standalone TMS centre is, is a legal question settled per customer (reference §5.3).
    mdr_facility_type: str = "user_facility"

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.environment == "production" and self.secret_key == DEFAULT_SECRET:
            raise ValueError(
                "TMS_SECRET_KEY must be set to a secret of your own when TMS_ENVIRONMENT=production"
            )
        if self.environment == "production" and len(self.secret_key) < 32:
            raise ValueError("TMS_SECRET_KEY must be at least 32 characters in production")
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache to change them)."""
    return Settings()
