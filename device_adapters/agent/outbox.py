"""The agent's durable outbox: events are committed to a local SQLite file before anything is sent.

``synchronous=FULL`` in WAL mode fsyncs each commit, so an event the agent has written survives a
SIGKILL or a power cut. Rows are marked sent only after the service acknowledged the batch.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device TEXT NOT NULL,
    device_session TEXT NOT NULL,
    seq INTEGER NOT NULL,
    session_id INTEGER,
    kind TEXT NOT NULL,
    at TEXT NOT NULL,
    payload TEXT NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    UNIQUE (device, device_session, seq)
);
CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (sent, id);
CREATE TABLE IF NOT EXISTS runs (
    device_session TEXT PRIMARY KEY,
    session_id INTEGER NOT NULL,
    device TEXT NOT NULL,
    next_seq INTEGER NOT NULL,
    ended INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class OutboxEvent:
    id: int
    device: str
    device_session: str
    seq: int
    session_id: int | None
    kind: str
    at: str
    payload: dict[str, Any]

    def wire(self) -> dict[str, Any]:
        """The shape the service's batch endpoint takes."""
        return {"device": self.device, "device_session": self.device_session, "seq": self.seq,
                "session_id": self.session_id, "kind": self.kind, "at": self.at, "payload": self.payload}


@dataclass(frozen=True)
class OpenRun:
    device_session: str
    session_id: int
    device: str


class Outbox:
    """Thread-safe append/drain over one SQLite file."""

    def __init__(self, path: Path | str) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def begin_run(self, device_session: str, session_id: int, device: str) -> None:
        """Remember that a run started, so a restarted agent can close it truthfully."""
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO runs VALUES (?, ?, ?, 1, 0)", (device_session, session_id, device))

    def append(self, device_session: str, kind: str, at: str, payload: dict[str, Any]) -> int:
        """Durably store one event of a run; returns its sequence number within the run."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT session_id, device, next_seq FROM runs WHERE device_session = ?", (device_session,)
                ).fetchone()
                if row is None:
                    raise KeyError(f"unknown run {device_session}")
                session_id, device, seq = row
                self._db.execute(
                    "INSERT INTO outbox (device, device_session, seq, session_id, kind, at, payload) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (device, device_session, seq, session_id, kind, at, json.dumps(payload, default=str)),
                )
                ended = 1 if kind == "run_ended" else 0
                self._db.execute("UPDATE runs SET next_seq = ?, ended = max(ended, ?) WHERE device_session = ?",
                                 (seq + 1, ended, device_session))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return int(seq)

    def open_runs(self) -> list[OpenRun]:
        """Runs that started but never recorded their end (the agent died during them)."""
        with self._lock:
            rows = self._db.execute("SELECT device_session, session_id, device FROM runs WHERE ended = 0").fetchall()
        return [OpenRun(*r) for r in rows]

    def first_payload(self, device_session: str, kind: str) -> dict[str, Any] | None:
        """The payload of the run's first event of ``kind`` (e.g. what ``run_started`` noted)."""
        with self._lock:
            row = self._db.execute("SELECT payload FROM outbox WHERE device_session = ? AND kind = ? ORDER BY id "
                                   "LIMIT 1", (device_session, kind)).fetchone()
        return json.loads(row[0]) if row else None

    def pulses_recorded(self, device_session: str) -> int:
        """Pulses the device reported during the run, as recorded here."""
        with self._lock:
            (total,) = self._db.execute(
                "SELECT coalesce(sum(json_extract(payload, '$.count')), 0) FROM outbox "
                "WHERE device_session = ? AND kind = 'pulses_delivered'", (device_session,)).fetchone()
        return int(total)

    def pending(self, limit: int = 200) -> list[OutboxEvent]:
        """The oldest unsent events."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, device, device_session, seq, session_id, kind, at, payload FROM outbox "
                "WHERE sent = 0 ORDER BY id LIMIT ?", (limit,),
            ).fetchall()
        return [OutboxEvent(r[0], r[1], r[2], r[3], r[4], r[5], r[6], json.loads(r[7])) for r in rows]

    def mark_sent(self, ids: list[int]) -> None:
        if not ids:
            return
        with self._lock:  # one transaction, one fsync, for the whole batch
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("UPDATE outbox SET sent = 1 WHERE id = ?", [(i,) for i in ids])
            self._db.execute("COMMIT")

    def counts(self) -> tuple[int, int]:
        """(unsent, total) events."""
        with self._lock:
            total, unsent = self._db.execute("SELECT count(*), coalesce(sum(sent = 0), 0) FROM outbox").fetchone()
        return int(unsent), int(total)
