"""The database is unreachable (down, restarting, refusing connections): 503 with ``Retry-After``, never a 500.

A 500 says the request was wrong or the code is; this says "nothing changed, try again shortly", which the
chair agent, a browser and a load balancer all understand. Pages get a short HTML page, the API the error
envelope.
"""

from __future__ import annotations

import html
import logging

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy import exc as sa_exc

from service.core.errors import error_body

log = logging.getLogger("tmsops")

RETRY_AFTER_S = 5
# Connection refused or lost, server shutting down, pool exhausted, SQLite file unopenable or locked:
# each is the database being unavailable for now, not a fault of the request.
UNAVAILABLE = (sa_exc.OperationalError, sa_exc.InterfaceError, sa_exc.DisconnectionError, sa_exc.TimeoutError)
MESSAGE = "the database is unavailable just now; the request changed nothing: try again shortly"


def install(app: FastAPI) -> None:
    """Answer 503 with Retry-After for every request the database could not serve."""
    for kind in UNAVAILABLE:
        app.add_exception_handler(kind, _unavailable)


async def _unavailable(request: Request, exc: Exception) -> Response:
    log.warning("database unavailable on %s %s: %s", request.method, request.url.path, str(exc).splitlines()[0])
    headers = {"Retry-After": str(RETRY_AFTER_S), "Cache-Control": "no-store"}
    if request.url.path.startswith("/api/"):
        return JSONResponse(error_body("service_unavailable", MESSAGE), 503, headers=headers)
    body = (f"<!doctype html><html lang=en><meta charset=utf-8><meta http-equiv=refresh content={RETRY_AFTER_S}>"
            f"<title>tmsops: unavailable</title><h1>Unavailable for a moment</h1><p>{html.escape(MESSAGE)}.</p>"
            f"<p>This page reloads itself in {RETRY_AFTER_S} seconds.</p></html>")
    return HTMLResponse(body, 503, headers=headers)
