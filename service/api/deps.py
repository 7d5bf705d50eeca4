"""Named dependencies every router uses: the DB session, the clock, the caller, and role rules.

Every route declares who may call it, through exactly one of ``require_roles(...)`` or ``public()``.
``create_app`` refuses to start if a route has neither (deny by default), and a test reads the route
table to check every role against every route.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, TypeVar, cast

from fastapi import Depends, Path, Request
from fastapi.concurrency import contextmanager_in_threadpool, run_in_threadpool
from sqlalchemy.engine import Engine
from sqlmodel import Session

from config.settings import Settings
from service.auth import service as auth_service
from service.auth.principal import Principal
from service.core.clock import Clock
from service.core.db import session_scope
from service.core.errors import Forbidden, Unauthorized
from service.core.read_scope import Write, commit_deferred_async, is_read_only, read_transaction
from service.models.users import Role

SESSION_COOKIE = "tmsops_session"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSRF_HEADER = "x-requested-with"


# Dependencies that only read request state are ``async def``: FastAPI runs a plain ``def`` dependency on the
# thread pool, a hop that under load waits for the GIL.
async def get_settings(request: Request) -> Settings:
    return request.app.state.settings


Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])
READ_ONLY_ROUTE = "read_only_transaction"


def read_only(endpoint: Endpoint) -> Endpoint:
    """Mark a route whose request writes nothing but its audit rows (placed under the route decorator).

    Its transaction is read-only: it takes no lock (on SQLite no writer lock, so such requests run side by side),
    and the audit rows (and sign-in activity) it writes are group-committed before the response is sent. Its
    work runs on the event loop (see ``read_on_loop``).
    """

    @functools.wraps(endpoint)
    async def on_loop(*args: Any, **kwargs: Any) -> Any:  # async: FastAPI would hand a plain def to the pool
        return endpoint(*args, **kwargs)

    setattr(on_loop, READ_ONLY_ROUTE, True)
    return cast(Endpoint, on_loop)


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One transaction per request: committed before the response is sent, rolled back on error.

    A read-only route's (``read_only``) runs on the event loop; any other on the thread pool, where a write may
    wait for SQLite's writer or a row lock without holding up other requests.
    """
    engine = request.app.state.engine
    if getattr(request.scope.get("endpoint"), READ_ONLY_ROUTE, False):
        async with read_on_loop(engine) as session:
            yield session
        return
    async with contextmanager_in_threadpool(session_scope(engine)) as session:
        yield session


@asynccontextmanager
async def read_on_loop(engine: Engine) -> AsyncIterator[Session]:
    """``read_scope`` on the event loop, without a thread hand-off.

    A read waits for no lock. On SQLite (WAL) it runs beside the writer and its pages are in memory; on
    PostgreSQL it waits for its statements' round trips, the other core working meanwhile. On the thread pool a
    read paid more for the hand-offs than for the read: threads contending for the GIL. `bench.api` measured the
    patient read at more than twice the rate on the loop on SQLite, and 1.4 times on PostgreSQL (two processes:
    twice). Its audit rows are group-committed after its transaction has ended and its connection is back in the
    pool: the loop serves other requests while a writer thread waits for the commit.
    """
    writes: list[Write] = []
    with read_transaction(engine, writes) as session:
        yield session
    await commit_deferred_async(engine, writes)


async def get_now(request: Request) -> datetime:
    clock: Clock = request.app.state.clock
    return clock.now()


# scope="function": the transaction ends when the endpoint returns, before the response starts. FastAPI's
# default ("request") closes it after the response is sent, so a client holding a 201 could read from another
# process before the commit, and a failed commit would follow a success already sent.
SessionDep = Annotated[Session, Depends(get_db, scope="function")]
SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(get_now)]


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def bearer_or_cookie(request: Request) -> tuple[str, bool] | None:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return header[7:].strip(), False
    cookie = request.cookies.get(SESSION_COOKIE)
    return (cookie, True) if cookie else None


def signed_in(request: Request, session: Session, settings: Settings, now: datetime) -> Principal:
    """The signed-in caller (bearer token or session cookie), or 401."""
    found = bearer_or_cookie(request)
    if found is None:
        raise Unauthorized("not signed in: send 'Authorization: Bearer <token>' or sign in on /login")
    token, via_cookie = found
    if (via_cookie and request.method not in SAFE_METHODS and request.url.path.startswith("/api/")
            and CSRF_HEADER not in request.headers):
        # A custom header cannot be sent cross-site without a CORS preflight, which we never allow.
        raise Forbidden("cookie-authenticated writes must send the X-Requested-With header")
    principal = auth_service.authenticate(
        session, settings, token, now=now, via_cookie=via_cookie, client=client_of(request)
    )
    request.state.principal = principal
    return principal


def require_roles(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only these roles and returns the caller.

    Signs the caller in itself (on the event loop in a read-only request, see ``read_on_loop``; else on the thread
    pool) rather than through further dependencies: every node of a route's dependency tree is solved per request,
    and this one is on every route.
    """
    allowed = frozenset(r.value for r in roles)

    async def _check(request: Request, session: SessionDep, now: NowDep) -> Principal:
        settings: Settings = request.app.state.settings
        if is_read_only(session):
            principal = signed_in(request, session, settings, now)
        else:
            principal = await run_in_threadpool(signed_in, request, session, settings, now)
        if principal.role not in allowed:
            raise Forbidden(f"role '{principal.role}' may not do this; allowed: {', '.join(sorted(allowed))}")
        return principal

    _check.allowed_roles = allowed  # type: ignore[attr-defined]
    return _check


def require_roles_own_transaction(*roles: Role) -> Callable[..., Awaitable[Principal]]:
    """For endpoints that open their own transactions: authenticates in its own short read-only transaction.

    ``require_roles`` shares the request's transaction, which (on SQLite) holds the writer lock from before the
    body is validated until the handler returns. A long poll or event stream, which waits for seconds, must not
    hold it, nor should a busy write (an event batch) across the event-loop turns between its dependencies. Such
    endpoints take no ``SessionDep`` and open short scopes themselves. Authenticating writes nothing but the
    sign-in session's activity mark, which the read scope commits at once.
    """
    allowed = frozenset(r.value for r in roles)

    async def _check(request: Request, settings: SettingsDep, now: NowDep) -> Principal:
        found = bearer_or_cookie(request)
        if found is None:
            raise Unauthorized("not signed in: send 'Authorization: Bearer <token>' or sign in on /login")
        token, via_cookie = found
        async with read_on_loop(request.app.state.engine) as session:
            principal = auth_service.authenticate(session, settings, token, now=now, via_cookie=via_cookie,
                                                  client=client_of(request))
        if principal.role not in allowed:
            raise Forbidden(f"role '{principal.role}' may not do this; allowed: {', '.join(sorted(allowed))}")
        return principal

    _check.allowed_roles = allowed  # type: ignore[attr-defined]
    return _check


def public() -> Callable[[], Awaitable[None]]:
    """Marks a route as open to anyone (login, health). Used sparingly and on purpose."""

    async def _open() -> None:
        return None

    _open.allowed_roles = frozenset({"*"})  # type: ignore[attr-defined]
    return _open


def route_roles(dependant: Any) -> frozenset[str] | None:
    """The role rule a route declares (searching its dependency tree), or None if it has none."""
    for dep in dependant.dependencies:
        rule = getattr(dep.call, "allowed_roles", None)
        if rule is not None:
            return frozenset(rule)
        nested = route_roles(dep)
        if nested is not None:
            return nested
    return None


R = Role
Staff = require_roles(R.technician, R.psychiatrist, R.admin)
Clinical = require_roles(R.technician, R.psychiatrist)
Psychiatrist = require_roles(R.psychiatrist)
Admin = require_roles(R.admin)
Agent = require_roles(R.agent)
AnyUser = require_roles(R.technician, R.psychiatrist, R.admin, R.agent)

StaffUser = Annotated[Principal, Depends(Staff)]
ClinicalUser = Annotated[Principal, Depends(Clinical)]
PsychiatristUser = Annotated[Principal, Depends(Psychiatrist)]
AdminUser = Annotated[Principal, Depends(Admin)]
AgentUser = Annotated[Principal, Depends(Agent)]
AnyPrincipal = Annotated[Principal, Depends(AnyUser)]
# An agent authenticated in a transaction of its own (see ``require_roles_own_transaction``).
AgentCaller = Annotated[Principal, Depends(require_roles_own_transaction(R.agent))]

# Ids in paths are 32-bit positive integers on both databases; anything else is a 422, never a DB error.
Id = Annotated[int, Path(ge=1, le=2_147_483_647)]
