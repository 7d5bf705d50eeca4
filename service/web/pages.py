"""Shared plumbing for server-rendered pages: templates, and sign-in that redirects instead of 401."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates

from service.api.deps import NowDep, SessionDep, SettingsDep, signed_in
from service.auth.principal import Principal
from service.core.errors import Forbidden, ServiceError, Unauthorized
from service.models.users import Role
from service.web import blocker_links
from service.web.labels import label

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def local_time(moment: datetime | None, tz_name: str = "UTC") -> datetime | None:
    """A stored UTC time in the clinic's zone (SQLite hands back naive UTC datetimes)."""
    if moment is None:
        return None
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(tz_name))


templates.env.filters["local"] = local_time
templates.env.filters["label"] = label
templates.env.globals["blocker_action"] = blocker_links.action


class LoginRequired(ServiceError):
    """Raised by page dependencies; the app answers with a redirect to /login."""

    status_code = 303
    code = "login_required"


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: a path on this site only (never another host), else home."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def login_url(request: Request) -> str:
    """The sign-in page, coming back to the page that asked for it (GET pages only)."""
    if request.method != "GET":
        return "/login?expired=1"
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return "/login?" + urlencode({"expired": 1, "next": here})


def page_roles(*roles: Role) -> Callable[..., Principal]:
    """Like ``require_roles`` for pages: a missing or expired session redirects to the login page."""
    allowed = frozenset(r.value for r in roles)

    def _check(request: Request, session: SessionDep, settings: SettingsDep, now: NowDep) -> Principal:
        try:
            principal = signed_in(request, session, settings, now)
        except Unauthorized as exc:
            raise LoginRequired(exc.message) from exc
        if principal.role not in allowed:
            raise Forbidden(f"role '{principal.role}' may not open this page")
        return principal

    _check.allowed_roles = allowed  # type: ignore[attr-defined]
    return _check


StaffPage = Annotated[Principal, Depends(page_roles(Role.technician, Role.psychiatrist, Role.admin))]


def render(request: Request, name: str, me: Principal | None, settings: Any, **context: Any) -> Any:
    """Render a template with the signed-in user and the idle timeout the page warns about."""
    idle = settings.session_idle_minutes * 60 if me else 0
    return templates.TemplateResponse(request, name, {"me": me, "idle_seconds": idle, **context})
