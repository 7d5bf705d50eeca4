"""HTTP client from the chair agent to the service, signing in again whenever its session ends."""

from __future__ import annotations

import threading
from typing import Any

import httpx


class ServiceUnavailable(Exception):
    """The service could not be reached or answered with a server error; try again later."""


class ServiceClient:
    """Bearer-token client for the agent endpoints (thread-safe)."""

    def __init__(self, base_url: str, username: str, password: str, timeout_s: float = 10.0) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_s)
        self._username = username
        self._password = password
        self._token: str | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._http.close()

    def _login(self) -> str:
        response = self._http.post("/api/v1/auth/token", data={"username": self._username, "password": self._password})
        if response.status_code != 200:
            raise ServiceUnavailable(
                f"sign-in as {self._username} failed: {response.status_code} {response.text[:200]}")
        return str(response.json()["access_token"])

    def request(self, method: str, path: str, *, timeout_s: float | None = None, **kwargs: Any) -> httpx.Response:
        """Send a request; sign in first or again as needed; raise ServiceUnavailable on network/5xx errors."""
        for attempt in (1, 2):
            with self._lock:
                if self._token is None:
                    self._token = self._login_or_raise()
                token = self._token
            try:
                response = self._http.request(method, path, headers={"Authorization": f"Bearer {token}"},
                                              timeout=timeout_s or self._http.timeout, **kwargs)
            except httpx.HTTPError as exc:
                raise ServiceUnavailable(f"{method} {path}: {exc!r}") from exc
            if response.status_code == 401 and attempt == 1:
                with self._lock:
                    self._token = None
                continue
            if response.status_code >= 500:
                raise ServiceUnavailable(f"{method} {path}: {response.status_code}")
            return response
        return response

    def _login_or_raise(self) -> str:
        try:
            return self._login()
        except httpx.HTTPError as exc:
            raise ServiceUnavailable(f"sign-in: {exc!r}") from exc
