"""One APScheduler 3 scheduler per deployment, its jobs derived from rows, started in the app's lifespan.

APScheduler 3 cannot share a job store between processes (its FAQ: "You can't";
docs/records-and-signatures.md#scheduled-jobs-run-once), so a process runs the scheduler only while it holds the
leader lock: ``pg_try_advisory_lock`` on a dedicated connection kept for the process's life on PostgreSQL (the
lock goes when the connection does, so a dead leader frees it); an exclusive ``flock`` on a file beside the
database on SQLite. A follower retries now and then and takes over when the leader is gone. The leader checks
its lock's connection as often: a database restart cuts it and frees the lock, so the leader takes the lock
again, or stops leading when another process took it first. Nothing here runs at import time.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import IO, Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError

from config.settings import Settings
from service.audit.sealer_process import SealerProcess
from service.core.clock import Clock
from service.core.db import is_sqlite, session_scope
from service.jobs import tasks as jobs

log = logging.getLogger("tmsops.scheduler")

ADVISORY_KEY = 0x746D736F7073  # "tmsops" in ASCII: one lock id per database
OWNED_PREFIXES = ("sweep:", "phq9:", "mt:", "auth:", "sae:")
SYNC_JOB = "sync"


class LeaderLock:
    """The one-scheduler-per-database lock; ``acquire`` never blocks."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Connection | None = None
        self._file: IO[bytes] | None = None

    def acquire(self) -> bool:
        if self.held:
            return True
        if is_sqlite(self.engine):
            return self._flock()
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}).scalar():
            self._conn = conn  # held for the process's life: closing it would free the lock
            return True
        conn.close()
        return False

    def _flock(self) -> bool:
        database = self.engine.url.database
        if not database or database == ":memory:":
            self._file = open("/dev/null", "rb")  # noqa: SIM115 - an in-memory database is one process by nature
            return True
        handle = open(Path(database).with_suffix(".scheduler.lock"), "ab")  # noqa: SIM115 - held until release
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._file = handle
        return True

    @property
    def held(self) -> bool:
        return self._conn is not None or self._file is not None

    def still_held(self) -> bool:
        """Whether the lock survives: a PostgreSQL restart (or a cut connection) drops it with the connection."""
        if self._conn is None:
            return self._file is not None
        try:
            self._conn.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            self._forget_connection()
            return False

    def _forget_connection(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(SQLAlchemyError):
                self._conn.invalidate()  # dead: never hand it back to the pool
                self._conn.close()
            self._conn = None

    def release(self) -> None:
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                self._conn.close()
            except SQLAlchemyError:  # the connection died, and the lock with it
                pass
            self._forget_connection()
        if self._file is not None:
            self._file.close()  # closing the descriptor drops the flock
            self._file = None


class JobRunner:
    """Starts the scheduler when this process is (or becomes) the leader; syncs jobs from rows."""

    def __init__(self, engine: Engine, settings: Settings, clock: Clock | None = None) -> None:
        self.engine, self.settings, self.clock = engine, settings, clock or Clock()
        self.lock = LeaderLock(engine)
        self.scheduler: BackgroundScheduler | None = None
        self.sealer: SealerProcess | None = None
        self._stop = threading.Event()
        self._turn = threading.Lock()  # one change of role at a time (the watcher, shutdown)
        self._watcher: threading.Thread | None = None

    @property
    def is_leader(self) -> bool:
        return self.scheduler is not None

    def start(self) -> bool:
        """Become the leader and start, or follow; a daemon thread then keeps the role honest. True when leading."""
        with self._turn:
            led = self._try_lead()
        self._watcher = threading.Thread(target=self._watch, name="tmsops-scheduler-lead", daemon=True)
        self._watcher.start()
        return led

    def _watch(self) -> None:
        """A follower retries for the lead; the leader checks that it still holds the lock and that its sealer runs."""
        while not self._stop.wait(self.settings.scheduler_leader_retry_seconds):
            try:
                with self._turn:
                    if self._stop.is_set():
                        return
                    if not self.is_leader:
                        self._try_lead()
                    elif not self.lock.still_held():
                        self._lost_lock()
                    else:
                        self._keep_sealer()
            except Exception:  # noqa: BLE001 - a failed attempt (database away) is retried, never fatal
                log.exception("scheduler leadership check failed; retrying")

    def _lost_lock(self) -> None:
        """The lock went with its connection (e.g. the database restarted): take it again, or stop leading."""
        if self.lock.acquire():
            log.warning("scheduler: the leader lock was lost with its connection and taken again")
            return
        assert self.scheduler is not None
        self._stop_sealer()  # first: once ``is_leader`` reads False, nothing of the lead is left running
        self.scheduler.shutdown(wait=False)
        self.scheduler = None
        jobs.bind(None)
        _lead(None)
        log.warning("scheduler: the leader lock was lost and another process leads now; following")

    def _try_lead(self) -> bool:
        if not self.lock.acquire():
            return False
        jobs.bind(jobs.JobContext(self.engine, self.settings, self.clock))
        scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 3600},
            timezone="UTC",
        )
        scheduler.start()
        self.scheduler = scheduler
        _lead(self)
        self.sync()
        scheduler.add_job("service.jobs.scheduler:sync_now", "interval", seconds=self.settings.scheduler_sync_seconds,
                          id=SYNC_JOB, replace_existing=True)
        self.sealer = _start_audit_sealer(self.settings, self.clock)
        log.info("scheduler started: this process leads")
        return True

    def sync(self) -> int:
        """Add or replace every job the rows call for and remove ours that no row calls for; returns the count."""
        assert self.scheduler is not None
        with session_scope(self.engine) as session:
            wanted = jobs.derive(session, self.settings, self.clock.now())
        for job in wanted:
            self.scheduler.add_job(job.func, job.trigger, args=list(job.args), id=job.id, replace_existing=True,
                                   **job.trigger_args)
        ids = {job.id for job in wanted}
        for job in self.scheduler.get_jobs():
            if job.id.startswith(OWNED_PREFIXES) and job.id not in ids:
                job.remove()
        return len(wanted)

    def add_job(self, func: str, trigger: str, *, job_id: str, args: list[Any] | None = None,
                **trigger_args: Any) -> None:
        """Add a job through the leader; a follower's request is dropped (the leader's sync derives it)."""
        if self.scheduler is not None:
            self.scheduler.add_job(func, trigger, args=args or [], id=job_id, replace_existing=True, **trigger_args)

    def _keep_sealer(self) -> None:
        """Start the sealer again if its process ended (killed, say, or out of memory) while this process leads."""
        if self.sealer is not None and not self.sealer.running():
            log.error("the audit sealer process ended (exit code %s); starting it again", self.sealer.exit_code)
            self.sealer = _start_audit_sealer(self.settings, self.clock)

    def _stop_sealer(self) -> None:
        if self.sealer is not None:
            self.sealer.stop()
            self.sealer = None

    def shutdown(self) -> None:
        self._stop.set()
        with self._turn:
            if self.scheduler is not None:
                self._stop_sealer()
                self.scheduler.shutdown(wait=True)
                self.scheduler = None
                jobs.bind(None)
                _lead(None)
            self.lock.release()


def _start_audit_sealer(settings: Settings, clock: Clock) -> SealerProcess:
    """The leader links new audit rows into the chain (service.audit.sealer) every few moments, in a child process
    (service.audit.sealer_process), so that its hashing does not take the serving process's interpreter lock from
    the requests."""
    sealer = SealerProcess(settings, clock)
    sealer.start()
    return sealer


_runner: JobRunner | None = None


def _lead(runner: JobRunner | None) -> None:
    global _runner
    _runner = runner


def sync_now() -> int:
    """The periodic job that re-derives jobs from rows (runs only in the leader)."""
    return _runner.sync() if _runner is not None and _runner.is_leader else 0


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the job runner with the app when the settings turn it on, and stop it with the app."""
    settings: Settings = app.state.settings
    runner = JobRunner(app.state.engine, settings, app.state.clock) if settings.scheduler_on else None
    if runner is not None:
        runner.start()
    app.state.scheduler = runner
    try:
        yield
    finally:
        if runner is not None:
            runner.shutdown()
