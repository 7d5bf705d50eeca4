"""A round-robin TCP balancer in front of several service processes, as a reverse proxy would stand.

Each new client connection goes to the next backend that accepts one; a backend that refuses (its process is
gone) is skipped, as nginx does with ``proxy_next_upstream error``. A connection already open to a process
that dies breaks, and the client has to retry: that is the case the chair agent's outbox is for.
"""

from __future__ import annotations

import contextlib
import itertools
import select
import socket
import threading


class RoundRobin:
    def __init__(self, ports: list[int]) -> None:
        self._ports = ports
        self._next = itertools.cycle(range(len(ports)))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._closing = threading.Event()
        self._lock = threading.Lock()
        self.open: dict[int, int] = dict.fromkeys(ports, 0)  # backend port -> connections open now
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._closing.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        self._listener.settimeout(0.2)
        while not self._closing.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._pipe, args=(client,), daemon=True).start()

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

    def _relay(self, client: socket.socket, upstream: socket.socket) -> None:
        with client, upstream:
            while not self._closing.is_set():
                try:
                    ready, _, _ = select.select([client, upstream], [], [], 0.2)
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            return
                        (upstream if sock is client else client).sendall(data)
                except (OSError, ValueError):
                    return
