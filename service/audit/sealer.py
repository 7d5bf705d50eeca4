"""The sealer: links committed, unsealed audit rows into the keyed hash chain, in batches, in an order it assigns.

Rows are sealed in id order among those committed when the sealer looks; a row whose transaction commits
later (a smaller id than rows already sealed) simply gets the next free position in the next batch. Only the
sealer takes the chain head's lock, so requests never wait on each other for the audit trail. The scheduler's
leader runs it every ``TMS_AUDIT_SEAL_SECONDS``; ``tmsops audit seal`` runs it on demand. After each batch it
appends a signed checkpoint (service/audit/checkpoints.py) of the new tail, once the batch has committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from config.settings import Settings
from service.audit.chain import content_digest, link_hash
from service.audit.checkpoints import Checkpoint, CheckpointLog, default_path
from service.audit.keys import audit_key, signing_key
from service.core.clock import Clock
from service.core.db import session_scope
from service.models.audit import AuditEvent, AuditHead

log = logging.getLogger("tmsops.audit.sealer")


@dataclass
class SealResult:
    sealed: int = 0
    last_position: int = 0
    # Rows whose content no longer matches the digest written with them: edited before they were sealed.
    # They are never sealed; `tmsops audit verify` names them.
    refused: list[int] = field(default_factory=list)


def seal(engine: Engine, now: datetime, *, key: bytes | None = None, checkpoints: CheckpointLog | None = None,
         batch: int = 2000) -> SealResult:
    """Seal every row committed so far, ``batch`` rows per transaction; one checkpoint per batch."""
    key = key if key is not None else audit_key()
    result = SealResult()
    while True:
        count, position, last_hash, refused = _seal_batch(engine, key, batch, skip=result.refused)
        result.refused.extend(refused)
        if count:
            result.sealed += count
            result.last_position = position
            if checkpoints is not None:
                checkpoints.append(Checkpoint(position, last_hash, now))
        if count + len(refused) < batch:
            break
    if result.refused:
        log.error("audit rows %s were changed before they were sealed; left unsealed", result.refused)
    return result


def checkpoint_log(settings: Settings) -> CheckpointLog | None:
    """The checkpoint file these settings name, with its signing key (None when checkpoints are off)."""
    path = default_path(settings)
    return None if path is None else CheckpointLog(path, signing_key(settings))


def run_sealer(engine: Engine, settings: Settings, clock: Clock) -> int:
    """The leader's periodic job: seal what has committed, checkpoint it; returns the rows sealed."""
    return seal(engine, clock.now(), checkpoints=checkpoint_log(settings)).sealed


def _seal_batch(engine: Engine, key: bytes, batch: int, skip: list[int]) -> tuple[int, int, str, list[int]]:
    refused: list[int] = []
    with session_scope(engine) as session:
        head = session.exec(select(AuditHead).where(AuditHead.id == 1).with_for_update()).one()
        query = select(AuditEvent).where(col(AuditEvent.seq).is_(None))
        if skip:  # refused rows stay unsealed: look past them rather than at them again
            query = query.where(col(AuditEvent.id).not_in(skip))
        rows = session.exec(query.order_by(col(AuditEvent.id)).limit(batch)).all()
        sealed = 0
        for row in rows:
            digest = content_digest(key, row.model_dump())
            if row.digest is not None and row.digest != digest:
                refused.append(row.id or 0)
                continue
            position = head.last_seq + 1
            row.digest, row.seq, row.prev_hash = digest, position, head.last_hash
            row.hash = link_hash(key, row_id=row.id or 0, seq=position, prev_hash=head.last_hash, digest=digest)
            head.last_seq, head.last_hash, head.last_event_id = position, row.hash, row.id or 0
            session.add(row)
            sealed += 1
        if sealed:
            session.add(head)
        return sealed, head.last_seq, head.last_hash, refused
