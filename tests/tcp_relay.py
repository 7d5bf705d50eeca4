"""A TCP relay on 127.0.0.1 for tests that stand between the agent and the service (a cuttable network, a
round-robin balancer): a listener thread hands each client connection to the subclass's ``_pipe``."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Callable


class Relay:
    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._closing = threading.Event()
        self._lock = threading.Lock()
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

    def _pipe(self, client: socket.socket) -> None:
        raise NotImplementedError

    def _relay(self, client: socket.socket, upstream: socket.socket,
               paused: Callable[[], bool] = lambda: False) -> None:
        """Copy bytes both ways until either side closes (or the relay does); while ``paused()`` nothing moves."""
        with client, upstream:
            while not self._closing.is_set():
                if paused():  # packets vanish: read nothing, send nothing
                    time.sleep(0.1)
                    continue
                try:
                    ready, _, _ = select.select([client, upstream], [], [], 0.1)
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            return
                        (upstream if sock is client else client).sendall(data)
                except (OSError, ValueError):  # ValueError: a socket closed under select()
                    return
