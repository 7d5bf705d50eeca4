"""The FastAPI application: routers, error handlers, limits, and the deny-by-default route check."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import Depends, FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine

import service.models  # noqa: F401  (registers every table)
from config.settings import Settings, get_settings
from service.api import handlers, openapi, unavailable
from service.api.deps import READ_ONLY_ROUTE, public, route_roles
from service.api.request_limits import BodyLimit
from service.api.routes.adverse_events import router as adverse_events_router
from service.api.routes.agent import router as agent_router
from service.api.routes.assessments import router as assessments_router
from service.api.routes.auth import router as auth_router
from service.api.routes.authorizations import router as authorizations_router
from service.api.routes.blockers import router as blockers_router
from service.api.routes.bookings import router as bookings_router
from service.api.routes.calendar import router as calendar_router
from service.api.routes.chairs import router as chairs_router
from service.api.routes.clinics import router as clinics_router
from service.api.routes.courses import router as courses_router
from service.api.routes.documents import router as documents_router
from service.api.routes.eligibility import router as eligibility_router
from service.api.routes.flags import router as reviews_router
from service.api.routes.medications import router as medications_router
from service.api.routes.motor_thresholds import router as motor_thresholds_router
from service.api.routes.patients import router as patients_router
from service.api.routes.protocols import router as protocols_router
from service.api.routes.screenings import router as screenings_router
from service.api.routes.sessions import router as sessions_router
from service.api.routes.signatures import router as signatures_router
from service.api.routes.users import router as users_router
from service.auth.passwords import Passwords
from service.core import threads
from service.core.clock import Clock
from service.core.db import make_engine
from service.jobs.scheduler import lifespan as scheduler_lifespan
from service.web import errors as web_errors
from service.web.pages import LoginRequired, login_url
from service.web.router import router as web_router

# A request is matched against the routes in this order, one by one (about 1.5 µs a route, 3.5 a page's); the chair
# agents' routes, called by every chair every few seconds (a batch of events, a heartbeat, a command poll), come
# first, and the pages, which people open at a human pace, last, so no API call is matched against them first. No
# two routers share a path.
ROUTERS = [agent_router, auth_router, clinics_router, users_router, chairs_router, patients_router,
           # clinical records
           medications_router, eligibility_router, assessments_router, screenings_router, motor_thresholds_router,
           protocols_router, adverse_events_router, blockers_router,
           # scheduling
           courses_router, authorizations_router, calendar_router, bookings_router, reviews_router,
           # treatment sessions
           sessions_router,
           # signatures, documents, pages
           signatures_router, documents_router, web_router]


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Size the request thread pool (service.core.threads), then run the background jobs for the app's life."""
    threads.widen()
    async with scheduler_lifespan(app):
        yield


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, clock: Clock | None = None
) -> FastAPI:
    """Build the app. Nothing starts at import time; background work starts in the lifespan."""
    settings = settings or get_settings()
    app = FastAPI(title="tmsops", version="0.1.0", description="Operations and device sessions for TMS clinics",
                  lifespan=lifespan)  # background jobs start here when enabled, never at import
    app.state.settings = settings
    app.state.engine = engine or make_engine(settings.database_url)
    app.state.clock = clock or Clock()
    app.state.passwords = Passwords(settings)

    handlers.install(app)
    unavailable.install(app)  # database unreachable: 503 + Retry-After, for the API and pages
    openapi.install(app)  # refusals documented as sent: the error envelope for every 4xx
    web_errors.install(app)  # pages get refusals and errors as pages; the API keeps JSON

    @app.exception_handler(LoginRequired)
    async def _to_login(request: Request, __: LoginRequired) -> Response:
        return RedirectResponse(login_url(request), status_code=303)

    @app.get("/api/v1/health", tags=["health"], dependencies=[Depends(public())])
    def health() -> dict[str, str]:
        """Liveness: answers without touching the database."""
        return {"status": "ok"}

    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "web" / "static")), name="static")
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    assert_every_route_has_a_rule(app)
    return app


def api_routes(app: FastAPI) -> list[APIRoute]:
    """Every API route, flattened through included routers (FastAPI keeps them nested)."""
    found: list[APIRoute] = []
    for ctx in iter_route_contexts(app.routes):
        route = ctx.original_route
        if isinstance(route, APIRoute):
            found.append(route)
    return found


def assert_every_route_has_a_rule(app: FastAPI) -> None:
    """Deny by default: refuse to build an app with a route that names no role rule (or a write marked read-only)."""
    open_docs = {app.openapi_url, app.docs_url, app.redoc_url, "/docs/oauth2-redirect"}
    missing = [
        f"{sorted(r.methods or ())} {r.path}" for r in api_routes(app)
        if r.path not in open_docs and route_roles(r.dependant) is None
    ]
    if missing:
        raise RuntimeError(f"routes without a role rule: {', '.join(missing)}")
    writes = [f"{sorted(r.methods or ())} {r.path}" for r in api_routes(app)
              if getattr(r.endpoint, READ_ONLY_ROUTE, False) and not (r.methods or set()) <= {"GET", "HEAD"}]
    if writes:
        raise RuntimeError(f"read-only routes must be reads (GET): {', '.join(writes)}")
    # A read-only route holds its connection on the event loop from its first dependency to its end
    # (service.api.deps.read_on_loop); a dependency run on the thread pool would let other requests in meanwhile, each
    # holding a connection, until the pool ran dry with the loop itself waiting for one.
    pooled = [f"{sorted(r.methods or ())} {r.path} ({name})" for r in api_routes(app)
              if getattr(r.endpoint, READ_ONLY_ROUTE, False) for name in _pooled_dependencies(r.dependant)]
    if pooled:
        raise RuntimeError(f"read-only routes may have only async dependencies: {', '.join(pooled)}")


def _pooled_dependencies(dependant: Any) -> list[str]:
    """Names of the plain-``def`` dependencies (run on the thread pool) in a dependency tree."""
    found = []
    for dep in dependant.dependencies:
        call = dep.call
        if call is not None and not (inspect.iscoroutinefunction(call) or inspect.isasyncgenfunction(call)):
            found.append(getattr(call, "__qualname__", repr(call)))
        found += _pooled_dependencies(dep)
    return found
