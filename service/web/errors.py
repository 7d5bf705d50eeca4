"""Refusals and errors on pages: the page layout with its navigation and a way back, in plain words.

API routes keep the JSON error envelope; a page (any path outside /api/, /static/ and the API docs) gets
an HTML page with the same status code.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from service.api.deps import read_on_loop, signed_in
from service.auth.principal import Principal
from service.core.errors import ServiceError
from service.web.pages import templates
from service.web.wording import field_words, plain

NOT_PAGES = ("/api/", "/static/", "/docs", "/redoc", "/openapi")

HEADINGS = {
    403: ("You can't open this", "Your role does not allow this page or action. Someone whose role allows it "
                                 "must do it; go back, or ask them."),
    404: ("Not found", "There is no such page or record in your clinic."),
    409: ("This can't be done right now", "The record's current state does not allow it; nothing was changed."),
    422: ("Some details need correcting", "Nothing was saved. Correct what is listed below and try again."),
    500: ("Something went wrong", "Nothing was changed. Try again; if it happens again, tell your administrator "
                                  "the time and the page you were on."),
}


def is_page(request: Request) -> bool:
    """Whether the request came for a page (an HTML answer) rather than the API."""
    return not request.url.path.startswith(NOT_PAGES)


async def _signed_in(request: Request) -> Principal | None:
    """The caller the page is for, if signed in, read in a read-only transaction on the event loop.

    These handlers run on the loop, and a read takes no writer lock. A write transaction (``session_scope``) would
    wait for SQLite's writer lock on the loop, where a request holding it waits for the loop to end its
    transaction: every request of the process would stop for good (a browser's /favicon.ico 404 during a
    sign-in did).
    """
    found: Principal | None = getattr(request.state, "principal", None)
    if found is not None:
        return found
    app = request.app
    try:
        async with read_on_loop(app.state.engine) as session:
            return signed_in(request, session, app.state.settings, app.state.clock.now())
    except ServiceError:
        return None


def _back(request: Request) -> str:
    referer = request.headers.get("referer", "")
    base = str(request.base_url)
    return referer[len(base) - 1:] if referer.startswith(base) and referer != str(request.url) else "/"


async def error_page(request: Request, status: int, message: str | None, details: Any = None) -> Response:
    """The error page for a status, with the refusal's own sentence and any fields to correct."""
    heading, explain = HEADINGS.get(status, HEADINGS[409] if status < 500 else HEADINGS[500])
    fields = [{"field": field_words(str(d.get("field", ""))), "message": plain(str(d.get("message", "")))}
              for d in details if isinstance(d, dict)] if isinstance(details, list) else []
    me = await _signed_in(request)
    shown = None if status in (403, 500) or fields else message
    return templates.TemplateResponse(request, "error.html", {
        "me": me, "idle_seconds": request.app.state.settings.session_idle_minutes * 60 if me else 0,
        "status": status, "heading": heading, "explain": explain, "message": shown and plain(shown),
        "fields": fields, "back": _back(request)}, status_code=status)


def install(app: FastAPI) -> None:
    """Wrap the JSON handlers: pages get the error page, the API keeps its envelope."""
    json_handlers = dict(app.exception_handlers)

    async def _service_error(request: Request, exc: Exception) -> Response:
        if is_page(request) and isinstance(exc, ServiceError) and exc.status_code >= 403:
            return await error_page(request, exc.status_code, exc.message, exc.details)
        return await json_handlers[ServiceError](request, exc)

    async def _invalid(request: Request, exc: Exception) -> Response:
        if is_page(request) and isinstance(exc, RequestValidationError):
            details = [{"field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "request",
                        "message": e.get("msg", "invalid")} for e in exc.errors()]
            return await error_page(request, 422, None, details)
        return await json_handlers[RequestValidationError](request, exc)

    async def _http(request: Request, exc: Exception) -> Response:
        if is_page(request) and isinstance(exc, HTTPException) and exc.status_code >= 403:
            return await error_page(request, exc.status_code, None)
        return await json_handlers[HTTPException](request, exc)

    async def _unexpected(request: Request, exc: Exception) -> Response:
        if is_page(request):
            await json_handlers[Exception](request, exc)  # logs it
            return await error_page(request, 500, None)
        return await json_handlers[Exception](request, exc)

    app.add_exception_handler(ServiceError, _service_error)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(HTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
