"""Shapes for sign-in."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "bearer"
    expires_in: int  # seconds of idle time before the token stops working
    absolute_expires_at: datetime


class Me(BaseModel):
    user_id: int
    username: str
    display_name: str
    role: str
    clinic_id: int
    idle_timeout_seconds: int
