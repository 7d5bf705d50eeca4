"""A TCP proxy between the agent and the service that can cut the network (a black hole, not a refusal)."""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.tcp_relay import Relay


class CuttableProxy(Relay):
    """Forwards 127.0.0.1:port → target. ``cut()`` holds every connection open and silent until ``restore()``."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._cut = threading.Event()
        self._held: list[socket.socket] = []
        super().__init__()

    def cut(self) -> None:
        self._cut.set()

    def restore(self) -> None:
        self._cut.clear()
        with self._lock:
            for sock in self._held:
                with contextlib.suppress(OSError):
                    sock.close()
            self._held.clear()

    def close(self) -> None:
        self._closing.set()
        self.restore()
        super().close()

    def _pipe(self, client: socket.socket) -> None:
        with self._lock:
            self._held.append(client)
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            client.close()
            return
        self._relay(client, upstream, self._cut.is_set)
