"""Refuse oversized or deeply nested request bodies, and NUL characters, before any parsing (hostile-input guard)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.core.errors import error_body

MAX_JSON_DEPTH = 32


_NOT_STRUCTURE = bytes(b for b in range(256) if b not in b'"[]{}')


def _too_deep(body: bytes, limit: int) -> bool:
    """Bracket depth outside strings, counted without building the document.

    The bytes are reduced in C before the one Python loop, which sees only the brackets outside strings (a few
    per object): escaped backslashes go, then escaped quotes, so every quote left opens or closes a string; every
    byte but quotes and brackets goes; the pieces between quotes alternate outside and inside a string.
    """
    structure = body.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _NOT_STRUCTURE)
    depth = 0
    for byte in b"".join(structure.split(b'"')[::2]):
        if byte in b"[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _nul_in(value: Any, path: str) -> str | None:
    """The field path (``a.b[0]``, as validation errors name fields) of the first string holding a NUL."""
    if isinstance(value, str):
        return (path or "body") if "\x00" in value else None
    if isinstance(value, dict):
        if any("\x00" in key for key in value):
            return path or "body"
        children = [(f"{path}.{key}" if path else key, item) for key, item in value.items()]
    elif isinstance(value, list):
        children = [(f"{path}[{i}]", item) for i, item in enumerate(value)]
    else:
        return None
    for child, item in children:
        found = _nul_in(item, child)
        if found is not None:
            return found
    return None


def _nul_field(query: bytes, body: bytes, content_type: bytes) -> str | None:
    """Where a NUL character hides in the query string or the body (PostgreSQL refuses it in text: a 500)."""
    if b"%00" in query.lower() or b"\x00" in query:
        return next((k for k, v in parse_qsl(query.decode("latin-1"), keep_blank_values=True)
                     if "\x00" in k or "\x00" in v), "query")
    if b"json" in content_type and b"\\u0000" in body.lower():
        try:
            return _nul_in(json.loads(body), "")
        except ValueError:
            return None  # not JSON: the route's own validation answers
    if b"form" in content_type and (b"%00" in body.lower() or b"\x00" in body):
        return next((k for k, v in parse_qsl(body.decode("latin-1"), keep_blank_values=True)
                     if "\x00" in k or "\x00" in v), "body")
    return None


class BodyLimit:
    """ASGI middleware: 413 above ``max_bytes``, 422 for JSON nested deeper than ``MAX_JSON_DEPTH``, 422 naming
    the field for a NUL character anywhere in the query or body (no database stores one in text)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] in ("GET", "HEAD", "OPTIONS"):
            field = _nul_field(scope.get("query_string", b""), b"", b"")
            if field is not None:
                await _refuse_nul(send, field)
                return
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _refuse(send, 413, "payload_too_large", f"request body over {self.max_bytes} bytes")
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _refuse(send, 413, "payload_too_large", f"request body over {self.max_bytes} bytes")
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if b"json" in headers.get(b"content-type", b"") and _too_deep(body, MAX_JSON_DEPTH):
            await _refuse(send, 422, "validation_error", f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
            return
        field = _nul_field(scope.get("query_string", b""), body, headers.get(b"content-type", b""))
        if field is not None:
            await _refuse_nul(send, field)
            return
        await self.app(scope, _replay(body, receive), send)


def _replay(body: bytes, original: Receive) -> Receive:
    """Give the app the body we already read, then hand over to the real channel (for disconnects)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await original()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


async def _refuse_nul(send: Send, field: str) -> None:
    message = "contains a NUL character (\\u0000), which no text field takes"
    await _refuse(send, 422, "validation_error", f"{field}: {message}", [{"field": field, "message": message}])


async def _refuse(send: Send, status: int, code: str, message: str, details: Any = None) -> None:
    payload = json.dumps(error_body(code, message, details)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]})
    await send({"type": "http.response.body", "body": payload})
