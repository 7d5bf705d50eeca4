"""Walk the audit chain and name the first row that was changed, removed or moved."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from service.audit.chain import GENESIS_HASH, row_hash
from service.models.audit import AuditEvent, AuditHead


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    rows_checked: int
    first_bad_id: int | None = None
    problem: str | None = None


def verify_chain(engine: Engine, batch: int = 5000) -> VerifyResult:
    """Recompute every hash in id order; stop at the first break."""
    expected_prev = GENESIS_HASH
    checked = 0
    last_id = 0
    with Session(engine) as session:
        while True:
            rows = session.exec(
                select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)  # type: ignore[arg-type,operator]
            ).all()
            for row in rows:
                bad = _check_row(row, expected_prev)
                if bad:
                    return VerifyResult(False, checked, row.id, bad)
                expected_prev = row.hash
                last_id = row.id or 0
                checked += 1
            session.expunge_all()
            if len(rows) < batch:
                break
        head = session.get(AuditHead, 1)
    if head is None:
        return VerifyResult(False, checked, None, "the audit head row is missing")
    if head.last_event_id != last_id or head.last_hash != expected_prev:
        return VerifyResult(
            False, checked, head.last_event_id,
            f"the chain ends at row {last_id} but the head records row {head.last_event_id}: "
            "rows at the end were removed or the head was altered",
        )
    return VerifyResult(True, checked)


def _check_row(row: AuditEvent, expected_prev: str) -> str | None:
    if row.prev_hash != expected_prev:
        return (
            f"row {row.id} does not follow the row before it (prev_hash mismatch): "
            "a row before it was removed, inserted or reordered"
        )
    if row_hash(row.model_dump()) != row.hash:
        return f"row {row.id} was changed after it was written (hash mismatch)"
    return None
