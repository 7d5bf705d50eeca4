"""Login, session validation (idle and absolute timeouts), logout, and login throttling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import bindparam, func, update
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from config.settings import Settings
from service.audit import service as audit
from service.audit.service import Actor
from service.auth.passwords import Passwords
from service.auth.principal import Principal
from service.auth.tokens import new_token, token_digest
from service.core.clock import as_utc
from service.core.errors import TooManyRequests, Unauthorized
from service.core.read_scope import defer
from service.models.auth import AuthSession, LoginAttempt
from service.models.users import User


def check_throttle(session: Session, settings: Settings, username: str, now: datetime) -> None:
    """Refuse a login while the account has too many recent failures (HIPAA 164.312(d))."""
    window_start = now - timedelta(minutes=settings.login_failure_window_minutes)
    # Count failures after the last success (by id: two attempts can share a timestamp).
    last_success_id = session.exec(
        select(func.max(LoginAttempt.id)).where(LoginAttempt.username == username, LoginAttempt.succeeded)
    ).one() or 0
    failures = session.exec(
        select(LoginAttempt.at)
        .where(LoginAttempt.username == username, ~col(LoginAttempt.succeeded),
               col(LoginAttempt.id) > last_success_id, LoginAttempt.at > window_start)
        .order_by(col(LoginAttempt.id).desc())
    ).all()
    if len(failures) < settings.login_max_failures:
        return
    unlock_at = as_utc(failures[0]) + timedelta(minutes=settings.login_lockout_minutes)
    if unlock_at > now:
        wait = int((unlock_at - now).total_seconds()) + 1
        raise TooManyRequests(
            f"too many failed logins for '{username}' ({len(failures)} in "
            f"{settings.login_failure_window_minutes} min); try again in {wait // 60 + 1} min",
            retry_after_s=wait,
        )


def login(
    session: Session, settings: Settings, passwords: Passwords, *,
    username: str, password: str, kind: str, now: datetime, client: str | None,
) -> tuple[str, User] | None:
    """Check the password; on success open a session and return (token, user), else None.

    The attempt and its audit row are written either way; the caller commits before refusing.
    """
    check_throttle(session, settings, username, now)
    user = session.exec(select(User).where(User.username == username)).first()
    ok = user is not None and user.active and passwords.verify(user.password_hash, password)
    if user is None:
        passwords.dummy_verify()
    session.add(LoginAttempt(username=username, succeeded=ok, at=now, client=client))
    actor = Actor(user.id if user else None, username, user.clinic_id if user else None, client=client)
    if not ok or user is None:
        audit.record(session, actor, at=now, action="login_failed", entity="user", entity_id=username)
        return None
    token = new_token()
    session.add(AuthSession(
        token_digest=token_digest(settings.secret_key, token), user_id=user.id or 0, kind=kind,
        created_at=now, last_seen_at=now,
    ))
    audit.record(session, actor, at=now, action="login", entity="user", entity_id=user.id)
    return token, user


def authenticate(
    session: Session, settings: Settings, token: str, *, now: datetime, via_cookie: bool, client: str | None,
) -> Principal:
    """The principal behind a token, or 401 if unknown, revoked, idle too long or too old."""
    digest = token_digest(settings.secret_key, token)
    # Plain columns, not ORM entities: this runs on every request, and loading two mapped objects into the
    # session cost more than the query.
    row = session.connection().execute(_SIGNED_IN, {"digest": digest}).first()
    if row is None:
        raise Unauthorized("not signed in: the token is unknown")
    if row.revoked_at is not None:
        raise Unauthorized("signed out: this session was ended")
    if not row.active:
        raise Unauthorized("this account is deactivated")
    last_seen, created = as_utc(row.last_seen_at), as_utc(row.created_at)
    if now - last_seen > timedelta(minutes=settings.session_idle_minutes):
        raise Unauthorized(f"signed out after {settings.session_idle_minutes} min without activity")
    if now - created > timedelta(hours=settings.session_absolute_hours):
        raise Unauthorized(f"signed out: sessions last at most {settings.session_absolute_hours:g} h")
    # Activity is recorded at a coarse step (TMS_SESSION_TOUCH_SECONDS) so most requests write nothing; the
    # checks above read the row on every request, so logout, deactivation and idle timeout still act at once.
    if now - last_seen >= timedelta(seconds=settings.session_touch_seconds):
        defer(session, _touch(row.session_id, now))
    return Principal(
        user_id=row.user_id, username=row.username, display_name=row.display_name, role=row.role,
        clinic_id=row.clinic_id, session_id=row.session_id, via_cookie=via_cookie, client=client,
    )


_SIGNED_IN: sa.Select[Any] = (
    sa.select(  # SQLAlchemy's select: SQLModel's is typed for at most four columns
        col(AuthSession.id).label("session_id"), col(AuthSession.revoked_at), col(AuthSession.last_seen_at),
        col(AuthSession.created_at), col(User.id).label("user_id"), col(User.username), col(User.display_name),
        col(User.role), col(User.clinic_id), col(User.active),
    )
    .join(User, col(User.id) == col(AuthSession.user_id))
    .where(col(AuthSession.token_digest) == bindparam("digest"))
)


def _touch(session_id: int, now: datetime) -> Callable[[Connection], None]:
    """Mark a sign-in session active at ``now`` (a statement, so a read-only request can queue it)."""
    statement = update(AuthSession).where(col(AuthSession.id) == session_id).values(last_seen_at=now)

    def write(connection: Connection) -> None:
        connection.execute(statement)

    return write


def logout(session: Session, principal: Principal, now: datetime) -> None:
    auth = session.get(AuthSession, principal.session_id)
    if auth is not None and auth.revoked_at is None:
        auth.revoked_at = now
        session.add(auth)
        audit.record(session, principal.actor, at=now, action="logout", entity="user", entity_id=principal.user_id)
