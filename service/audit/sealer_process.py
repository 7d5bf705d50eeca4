"""The leader's audit sealer in a process of its own (``python -m service.audit.sealer_process``, started by it).

Sealing works out two HMACs a row and fetches the rows to hash. In the serving process that work holds the
interpreter lock the requests need, once a second, for as long as the batch (`bench.api`, docs/deployment.md,
Capacity): a child process does it on the machine's other core instead.

The child's life hangs on a pipe. The leader writes its settings and clock down the child's standard input and
keeps that pipe open; the child seals every ``audit_seal_seconds`` until the pipe closes, which happens when the
leader stops it, stops leading, or dies by any means (the kernel closes a dead process's descriptors), so no
orphan goes on sealing. Two sealers at once are safe (the sealer checks that the chain's head is the one its links
continue), so neither a change of leader nor a late exit needs a hand-over.
"""

from __future__ import annotations

import logging
import os
import pickle
import select
import signal
import subprocess
import sys
from typing import IO

from config.settings import Settings
from service.audit.keys import audit_key
from service.audit.sealer import BATCH_BESIDE_REQUESTS, checkpoint_log, seal
from service.core.clock import Clock

log = logging.getLogger("tmsops.audit.sealer")

# How long ``stop`` waits for a batch in progress to end before killing the child (a kill is safe too: a batch
# is one transaction, and a checkpoint is appended only after it commits).
STOP_WAIT_SECONDS = 10.0


class SealerProcess:
    """The sealer child of a leading process."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings, self.clock = settings, clock
        self._child: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        child = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE)
        assert child.stdin is not None
        # Through the pipe, not the environment or the command line: the settings hold the audit key.
        child.stdin.write(pickle.dumps((self.settings, self.clock)))
        child.stdin.flush()
        self._child = child

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None else None

    def running(self) -> bool:
        return self._child is not None and self._child.poll() is None

    @property
    def exit_code(self) -> int | None:
        return self._child.poll() if self._child is not None else None

    def stop(self) -> None:
        """Close the pipe and wait for the child to finish its batch and exit."""
        child, self._child = self._child, None
        if child is None:
            return
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(STOP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _closed(stream: IO[bytes], seconds: float) -> bool:
    """Wait up to ``seconds``; True once the pipe from the leader has closed (nothing else is ever written to it)."""
    readable, _, _ = select.select([stream], [], [], seconds)
    return bool(readable) and os.read(stream.fileno(), 1) == b""


def main() -> None:
    import service.models  # noqa: F401  (every table, so foreign keys resolve)
    from service.core.db import make_engine

    # Ctrl-C at a terminal reaches the whole process group: the leader ends the child by closing its pipe, after
    # the batch in progress, rather than the child stopping mid-batch with a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    stdin = sys.stdin.buffer
    settings, clock = pickle.load(stdin)
    engine = make_engine(settings.database_url)
    key, checkpoints = audit_key(settings), checkpoint_log(settings)
    try:
        while not _closed(stdin, settings.audit_seal_seconds):
            try:
                seal(engine, clock.now(), key=key, checkpoints=checkpoints, batch=BATCH_BESIDE_REQUESTS)
            except Exception:  # noqa: BLE001 - the database away, say: the next round tries again
                log.exception("sealing failed; trying again in %s s", settings.audit_seal_seconds)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
