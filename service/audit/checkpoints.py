"""Signed checkpoints of the audit chain, kept outside the database.

After each batch the sealer appends one JSON line: the chain position, the link hash at that position, the
time, and an Ed25519 signature over the three. Someone who rewrites the chain in the database (even holding
the HMAC key) changes the hash at a position some checkpoint already vouches for, and cannot sign a new
checkpoint without the signing key. ``verify_checkpoints`` compares every checkpoint with the database.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, col, select

from config.settings import PROJECT_ROOT, Settings
from service.core.clock import as_utc
from service.models.audit import AuditEvent


@dataclass(frozen=True)
class Checkpoint:
    position: int
    hash: str
    at: datetime

    def message(self) -> bytes:
        """The signed bytes: canonical JSON of position, hash and time."""
        body = {"position": self.position, "hash": self.hash, "at": as_utc(self.at).isoformat()}
        return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()


def default_path(settings: Settings) -> Path | None:
    """Where checkpoints go under these settings (None when turned off)."""
    if settings.audit_checkpoints == "off":
        return None
    if settings.audit_checkpoints:
        return Path(settings.audit_checkpoints)
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database + ".checkpoints.jsonl")
    name = f"{url.host or 'local'}_{url.port or 5432}_{url.database or 'db'}"
    return PROJECT_ROOT / "var" / f"audit-checkpoints-{name}.jsonl"


class CheckpointLog:
    """An append-only file of signed checkpoints (opened O_APPEND, so concurrent sealers never interleave)."""

    def __init__(self, path: Path, key: Ed25519PrivateKey) -> None:
        self.path, self.key = path, key

    def append(self, checkpoint: Checkpoint) -> None:
        line = json.loads(checkpoint.message())
        line["signature"] = base64.b64encode(self.key.sign(checkpoint.message())).decode()
        data = (json.dumps(line, sort_keys=True, separators=(",", ":")) + "\n").encode()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, data)  # one write of one short line: appends from two processes stay whole lines
            os.fsync(fd)
        finally:
            os.close(fd)


@dataclass(frozen=True)
class CheckpointResult:
    ok: bool
    checked: int
    problem: str | None = None


def read_checkpoints(path: Path, public_key: Ed25519PublicKey) -> Iterator[tuple[int, Checkpoint | str]]:
    """Each line's number and its checkpoint, or a sentence saying why the line is not a valid checkpoint."""
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = json.loads(raw)
                checkpoint = Checkpoint(int(line["position"]), str(line["hash"]),
                                        datetime.fromisoformat(line["at"]))
                public_key.verify(base64.b64decode(line["signature"]), checkpoint.message())
            except InvalidSignature:
                yield number, f"checkpoint line {number} is not signed by the audit signing key"
                continue
            except (ValueError, KeyError, TypeError):
                yield number, f"checkpoint line {number} is not a checkpoint (unreadable JSON or fields)"
                continue
            yield number, checkpoint


def verify_checkpoints(engine: Engine, path: Path, public_key: Ed25519PublicKey, batch: int = 1000) -> CheckpointResult:
    """Every signed checkpoint must match the database's link hash at its position."""
    if not path.exists():
        return CheckpointResult(False, 0, f"no checkpoint file at {path}")
    checked = 0
    pending: list[tuple[int, Checkpoint]] = []
    for number, item in read_checkpoints(path, public_key):
        if isinstance(item, str):
            return CheckpointResult(False, checked, item)
        pending.append((number, item))
        if len(pending) >= batch:
            problem = _compare(engine, pending)
            if problem:
                return CheckpointResult(False, checked, problem)
            checked += len(pending)
            pending = []
    problem = _compare(engine, pending)
    if problem:
        return CheckpointResult(False, checked, problem)
    return CheckpointResult(True, checked + len(pending))


def _compare(engine: Engine, pending: list[tuple[int, Checkpoint]]) -> str | None:
    if not pending:
        return None
    with Session(engine) as session:
        rows = session.exec(select(AuditEvent.seq, AuditEvent.hash)
                            .where(col(AuditEvent.seq).in_({c.position for _, c in pending}))).all()
    found = dict(rows)
    for number, checkpoint in pending:
        at = as_utc(checkpoint.at).isoformat()
        if checkpoint.position not in found:
            return (f"checkpoint line {number} (signed {at}) vouches for chain position {checkpoint.position}, "
                    "which the database no longer has: rows were removed")
        if found[checkpoint.position] != checkpoint.hash:
            return (f"chain position {checkpoint.position} does not match checkpoint line {number} (signed {at}): "
                    "the chain up to it was rewritten")
    return None
