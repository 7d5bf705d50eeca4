"""The sealer: links committed, unsealed audit rows into the keyed hash chain, in batches, in an order it assigns.

Rows are sealed in id order among those committed when the sealer looks; a row whose transaction commits
later (a smaller id than rows already sealed) simply gets the next free position in the next batch. Only the
sealer takes the chain head's lock, so requests never wait on each other for the audit trail. The scheduler's
leader runs it every ``TMS_AUDIT_SEAL_SECONDS`` in a child process (service/audit/sealer_process.py); ``tmsops
audit seal`` runs it on demand. After each batch it appends a signed checkpoint (service/audit/checkpoints.py) of
the new tail, once the batch has committed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from config.settings import Settings
from service.audit.chain import CONTENT_FIELDS, content_digest, link_hash
from service.audit.checkpoints import Checkpoint, CheckpointLog, default_path
from service.audit.keys import audit_key, signing_key
from service.core.db import is_sqlite, session_scope
from service.core.read_scope import read_scope
from service.models.audit import AuditEvent, AuditHead

log = logging.getLogger("tmsops.audit.sealer")

# Rows per transaction when the leader seals beside the requests it serves. A batch's look (two HMACs a row) holds
# the interpreter lock and its write the head (and on SQLite the one writer) for as long as the batch is large:
# under load 2,000-row batches lengthened the reads' p99 at 8 connections by a whole batch (`bench.api`, PostgreSQL:
# 31-37 ms against 23-26 with 200). Sealing on demand (``tmsops audit seal``) keeps the larger default.
BATCH_BESIDE_REQUESTS = 200


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


@dataclass
class _Plan:
    """A batch as looked at without a lock: the head it continues, each row's seal, the rows refused."""

    head: tuple[int, str]
    seals: list[dict[str, Any]] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)


def _seal_batch(engine: Engine, key: bytes, batch: int, skip: list[int]) -> tuple[int, int, str, list[int]]:
    """Look at the next rows and work out their links without a lock, then write them under the head's lock.

    The digests and links (two HMACs of a row's JSON each) are most of a batch's time; worked out under the
    writer lock they held every request's commit behind them for that long (on SQLite every write queues for that
    lock, a read's audit row included). The write checks that the head is still the one the links continue: only a
    seal moves it, so no row looked at has been sealed meanwhile; if another sealer got there first, look again.
    """
    while True:
        plan = _look(engine, key, batch, skip)
        if not plan.seals:
            return 0, plan.head[0], plan.head[1], plan.refused
        written = _write(engine, plan)
        if written is not None:
            return len(plan.seals), written[0], written[1], plan.refused


def _look(engine: Engine, key: bytes, batch: int, skip: list[int]) -> _Plan:
    with read_scope(engine) as session:
        connection = session.connection()
        head = connection.execute(_HEAD).one()
        query = _UNSEALED if not skip else _UNSEALED.where(col(AuditEvent.id).not_in(skip))  # refused: look past
        rows = [dict(row) for row in connection.execute(query.limit(batch)).mappings()]
    plan = _Plan((head.last_seq, head.last_hash))
    position, last_hash = plan.head
    for row in rows:
        digest = content_digest(key, row)
        if row["digest"] is not None and row["digest"] != digest:
            plan.refused.append(row["id"])
            continue
        position += 1
        link = link_hash(key, row_id=row["id"], seq=position, prev_hash=last_hash, digest=digest)
        plan.seals.append({"row_id": row["id"], "digest": digest, "seq": position, "prev_hash": last_hash,
                           "hash": link})
        last_hash = link
    return plan


def _write(engine: Engine, plan: _Plan) -> tuple[int, str] | None:
    """Write the plan's seals and the new head; None, with nothing written, if the head has moved since the look."""
    with session_scope(engine) as session:
        connection = session.connection()
        head = connection.execute(_HEAD.with_for_update()).one()
        if (head.last_seq, head.last_hash) != plan.head:
            return None
        if is_sqlite(engine):
            connection.execute(_SEAL, plan.seals)
        else:
            connection.execute(_SEAL_ALL, {name: [seal[name] for seal in plan.seals] for name in _SEAL_COLUMNS})
        last = plan.seals[-1]
        connection.execute(update(AuditHead).where(col(AuditHead.id) == 1).values(
            last_seq=last["seq"], last_hash=last["hash"], last_event_id=last["row_id"]))
        return last["seq"], last["hash"]


_HEAD = select(col(AuditHead.last_seq), col(AuditHead.last_hash)).where(col(AuditHead.id) == 1)
_CONTENT = [col(getattr(AuditEvent, name)) for name in CONTENT_FIELDS]
_UNSEALED = (select(col(AuditEvent.id), col(AuditEvent.digest), *_CONTENT).where(col(AuditEvent.seq).is_(None))
             .order_by(col(AuditEvent.id)))
_SEAL = (update(AuditEvent).where(col(AuditEvent.id) == bindparam("row_id"), col(AuditEvent.seq).is_(None))
         .values(digest=bindparam("digest"), seq=bindparam("seq"), prev_hash=bindparam("prev_hash"),
                 hash=bindparam("hash")))
# PostgreSQL: the batch as arrays in one statement. As an executemany, a statement a row, 1,000 rows took 85-120 ms
# to write; so, 21-35 ms. (SQLite's executemany is a loop in C: 10 ms.)
_SEAL_COLUMNS = ("row_id", "digest", "seq", "prev_hash", "hash")
_SEAL_ALL = text(
    "UPDATE audit_event SET digest = v.digest, seq = v.seq, prev_hash = v.prev_hash, hash = v.hash"
    " FROM unnest(CAST(:row_id AS integer[]), CAST(:digest AS varchar[]), CAST(:seq AS integer[]),"
    " CAST(:prev_hash AS varchar[]), CAST(:hash AS varchar[])) AS v(id, digest, seq, prev_hash, hash)"
    " WHERE audit_event.id = v.id AND audit_event.seq IS NULL"
)
