"""Server-side login sessions (bearer tokens and cookies alike) and login attempts for throttling."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from service.core.columns import utc_field


class AuthSession(SQLModel, table=True):
    """One login. Only an HMAC of the token is stored, so a database copy yields no usable token."""

    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    token_digest: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    kind: str = Field(max_length=10)  # "bearer" or "cookie"
    created_at: datetime = utc_field()
    last_seen_at: datetime = utc_field()
    revoked_at: datetime | None = utc_field(nullable=True)


class LoginAttempt(SQLModel, table=True):
    __tablename__ = "login_attempt"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=80, index=True)
    succeeded: bool
    at: datetime = utc_field(index=True)
    client: str | None = Field(default=None, max_length=64)
