"""A round-robin TCP balancer in front of several service processes, as a reverse proxy would stand.

Each new client connection goes to the next backend that accepts one; a backend that refuses (its process is
gone) is skipped, as nginx does with ``proxy_next_upstream error``. A connection already open to a process
that dies breaks, and the client has to retry: that is the case the chair agent's outbox is for.
"""

from __future__ import annotations

import contextlib
import itertools
import socket

from tests.tcp_relay import Relay


class RoundRobin(Relay):
    def __init__(self, ports: list[int]) -> None:
        self._ports = ports
        self._next = itertools.cycle(range(len(ports)))
        self.open: dict[int, int] = dict.fromkeys(ports, 0)  # backend port -> connections open now
        super().__init__()

    def _upstream(self) -> tuple[int, socket.socket] | None:
        for _ in range(len(self._ports)):
            with self._lock:
                port = self._ports[next(self._next)]
            with contextlib.suppress(OSError):
                return port, socket.create_connection(("127.0.0.1", port), timeout=2)
        return None

    def _pipe(self, client: socket.socket) -> None:
        found = self._upstream()
        if found is None:
            client.close()
            return
        port, upstream = found
        upstream.settimeout(None)
        with self._lock:
            self.open[port] += 1
        try:
            self._relay(client, upstream)
        finally:
            with self._lock:
                self.open[port] -= 1
