"""Check the audit trail: the sealed chain link by link, and each row not yet sealed by its own digest.

A problem in the sealed chain is named by chain position (and row id); a row not yet sealed by its id.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from service.audit.chain import GENESIS_HASH, content_digest, link_hash
from service.audit.keys import audit_key
from service.models.audit import AuditEvent, AuditHead


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows_checked: int
    first_bad_id: int | None = None  # the chain position of the first bad sealed row, else the bad row's id
    problem: str | None = None
    sealed: int = 0
    unsealed: int = 0


def verify_chain(engine: Engine, batch: int = 5000, *, key: bytes | None = None) -> VerifyResult:
    """Recompute every digest and link of the sealed chain up to the head, then every unsealed row's digest."""
    key = key if key is not None else audit_key()
    with Session(engine) as session:
        head = session.get(AuditHead, 1)
    if head is None:
        return VerifyResult(False, 0, None, "the audit head row is missing")
    # Read the head first: rows a concurrent sealer adds after it are checked as unsealed or on the next run.
    end, end_hash = head.last_seq, head.last_hash
    expected_prev, position = GENESIS_HASH, 0
    with Session(engine) as session:
        while position < end:
            rows = session.exec(
                select(AuditEvent).where(col(AuditEvent.seq) > position, col(AuditEvent.seq) <= end)
                .order_by(col(AuditEvent.seq)).limit(batch)
            ).all()
            if not rows:
                break
            for row in rows:
                bad = _check_sealed(key, row, position + 1, expected_prev)
                if bad:
                    return VerifyResult(False, position, row.seq, bad, sealed=position)
                expected_prev, position = row.hash or "", position + 1
            session.expunge_all()
    if position != end or expected_prev != end_hash:
        return VerifyResult(
            False, position, end,
            f"the chain ends at position {position} but the head records position {end}: "
            "rows at the end were removed or the head was altered", sealed=position)
    unsealed, bad_unsealed = _check_unsealed(engine, key, batch)
    if bad_unsealed is not None:
        return VerifyResult(False, position + unsealed, bad_unsealed,
                            f"row {bad_unsealed} (not yet sealed) was changed after it was written (digest mismatch)",
                            sealed=position, unsealed=unsealed)
    return VerifyResult(True, position + unsealed, sealed=position, unsealed=unsealed)


def _check_sealed(key: bytes, row: AuditEvent, position: int, expected_prev: str) -> str | None:
    where = f"position {row.seq} (row {row.id})"
    if row.seq != position or row.prev_hash != expected_prev:
        return (f"{where} does not follow the row before it (position or prev_hash mismatch): "
                "a row before it was removed, inserted or reordered")
    digest = content_digest(key, row.model_dump())
    expected = link_hash(key, row_id=row.id or 0, seq=position, prev_hash=expected_prev, digest=digest)
    if row.digest != digest or row.hash != expected:
        return f"{where} was changed after it was written (hash mismatch)"
    return None


def _check_unsealed(engine: Engine, key: bytes, batch: int) -> tuple[int, int | None]:
    """How many rows are not yet sealed, and the id of the first whose content no longer matches its digest.

    A row recorded before keyed sealing existed has no digest; the sealer gives it one when it seals it.
    """
    count, last_id = 0, 0
    with Session(engine) as session:
        while True:
            rows = session.exec(
                select(AuditEvent).where(col(AuditEvent.seq).is_(None), col(AuditEvent.id) > last_id)
                .order_by(col(AuditEvent.id)).limit(batch)
            ).all()
            for row in rows:
                if row.digest is not None and row.digest != content_digest(key, row.model_dump()):
                    return count, row.id
                count += 1
                last_id = row.id or 0
            session.expunge_all()
            if len(rows) < batch:
                return count, None
