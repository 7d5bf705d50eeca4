"""A TCP proxy between the agent and the service that can cut the network (a black hole, not a refusal)."""

from __future__ import annotations

import contextlib
import select
import socket
import threading
import time


class CuttableProxy:
    """Forwards 127.0.0.1:port → target. ``cut()`` holds every connection open and silent until ``restore()``."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._cut = threading.Event()
        self._closing = threading.Event()
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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

    def _pipe(self, client: socket.socket) -> None:
        with self._lock:
            self._held.append(client)
        try:
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            client.close()
            return
        with client, upstream:
            while not self._closing.is_set():
                if self._cut.is_set():  # packets vanish: read nothing, send nothing
                    time.sleep(0.1)
                    continue
                try:
                    ready, _, _ = select.select([client, upstream], [], [], 0.1)
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            return
                        (upstream if sock is client else client).sendall(data)
                except (OSError, ValueError):  # ValueError: restore() closed the socket under select()
                    return
