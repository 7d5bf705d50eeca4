"""The signed-in caller, as routes see it."""

from __future__ import annotations

from dataclasses import dataclass

from service.audit.service import Actor


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    display_name: str
    role: str
    clinic_id: int
    session_id: int
    via_cookie: bool
    client: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.username, self.clinic_id, self.role, self.client)
