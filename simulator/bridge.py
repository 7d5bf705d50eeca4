"""Ways in from outside the process: a pty (a real ``/dev/pts/N`` any client can open) and TCP.

Both pump bytes between the outside and the one device core. The pty bridge keeps its own handle on
the slave side, so clients may open and close the port repeatedly (the master never sees a hang-up)
and modem-line ioctls from clients do not disturb it. With ``realtime`` the bytes move at the line
rate: 10 bits per byte (start, 8 data, stop) at the profile's baud rate.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import threading
import time
import tty

from simulator.device import Unplugged
from simulator.registry import Simulator

IDLE_POLL_S = 0.001  # how often the device's timed output (pulses, delayed replies) is collected


class Bridge:
    """Common pump: read from outside → device; device output → outside."""

    def __init__(self, simulator: Simulator, realtime: bool = False) -> None:
        self.simulator = simulator
        self.realtime = realtime
        self.byte_time_s = 10 / simulator.device.profile.serial.baudrate
        self.stop_event = threading.Event()
        self.unplugged = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Serve in a background thread."""
        self._thread = threading.Thread(target=self.serve, name=type(self).__name__, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and join the thread."""
        self.stop_event.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._close()

    def serve(self) -> None:
        """Pump until stopped."""
        raise NotImplementedError

    def _to_device(self, data: bytes) -> None:
        if self.realtime:
            time.sleep(len(data) * self.byte_time_s)  # the last byte arrives one frame-time later
        self.simulator.device.host_write(data)

    def _from_device(self) -> bytes:
        data = self.simulator.device.host_read()
        if data and self.realtime:
            time.sleep(len(data) * self.byte_time_s)
        return data

    def _close(self) -> None:
        pass


class PtyBridge(Bridge):
    """A pseudo-terminal: print ``path`` and let any serial client open it."""

    def __init__(self, simulator: Simulator, realtime: bool = False) -> None:
        super().__init__(simulator, realtime)
        self.master = self.slave = -1
        self.path = self._open_pty()

    def _open_pty(self) -> str:
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing, whatever the client does later
        os.set_blocking(master, False)
        self.master, self.slave = master, slave
        return os.ttyname(slave)

    def plug_in(self) -> str:
        """Connect the unit again after an unplug, on a new pty (its path is returned): a new cable, in effect."""
        if not self.unplugged:
            raise RuntimeError("the unit is plugged in")
        self.path = self._open_pty()
        self.simulator.device.plug_in()
        self.unplugged = False
        return self.path

    def serve(self) -> None:
        """Pump bytes between the pty master and the device; unplugged, the unit goes on by its own clock."""
        while not self.stop_event.is_set():
            if self.unplugged:
                self.simulator.device.advance()
                time.sleep(IDLE_POLL_S)
                continue
            try:
                readable, _, _ = select.select([self.master], [], [], IDLE_POLL_S)
                if readable:
                    with contextlib.suppress(BlockingIOError):
                        self._to_device(os.read(self.master, 4096))
                out = self._from_device()
                if out:
                    os.write(self.master, out)
            except Unplugged:
                self._close()  # the client's next read sees a hang-up, as with a pulled cable
                self.unplugged = True  # after the close: ``plug_in`` may open a new pty from here on
            except OSError:
                time.sleep(IDLE_POLL_S)  # EIO while no client has the port open: keep serving

    def _close(self) -> None:
        for fd in (self.master, self.slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.master = self.slave = -1


class TcpBridge(Bridge):
    """A TCP server on 127.0.0.1: one client at a time (``socket://127.0.0.1:PORT``)."""

    def __init__(self, simulator: Simulator, port: int, realtime: bool = False) -> None:
        super().__init__(simulator, realtime)
        self.server = socket.create_server(("127.0.0.1", port))
        self.server.settimeout(0.05)
        self.port = self.server.getsockname()[1]

    def serve(self) -> None:
        """Accept clients one after another and pump bytes for each."""
        while not self.stop_event.is_set() and not self.unplugged:
            try:
                client, _ = self.server.accept()
            except (TimeoutError, OSError):
                continue
            with client:
                self._serve_client(client)

    def _serve_client(self, client: socket.socket) -> None:
        client.setblocking(False)
        while not self.stop_event.is_set():
            try:
                readable, _, _ = select.select([client], [], [], IDLE_POLL_S)
                if readable:
                    data = client.recv(4096)
                    if not data:
                        return  # client closed
                    self._to_device(data)
                out = self._from_device()
                if out:
                    client.sendall(out)
            except Unplugged:
                self.unplugged = True
                return
            except OSError:
                return

    def _close(self) -> None:
        with contextlib.suppress(OSError):
            self.server.close()
