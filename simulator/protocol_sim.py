"""pyserial URL handler for ``sim://`` (registered by ``import simulator``).

``serial.serial_for_url("sim://magstim-rapid2?firmware=9&unlock_code=test-unlock-0000")`` returns
this ``Serial``; reads and writes go straight into the simulated device. Modem lines are accepted
and ignored, so clients that toggle RTS/DTR keep working.
"""

from __future__ import annotations

import time
from typing import Any

from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from simulator.device import Unplugged
from simulator.registry import Simulator, from_url


class Serial(SerialBase):
    """A serial port whose far end is a simulated stimulator."""

    BAUDRATES = (9600, 19200, 38400, 57600, 115200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.simulator: Simulator | None = None
        self._open = False
        super().__init__(*args, **kwargs)

    def open(self) -> None:
        """Attach to (or create) the simulator the URL names."""
        if self._open:
            raise SerialException("port already open")
        if self._port is None:
            raise SerialException("port must be configured before it can be used")
        try:
            self.simulator = from_url(self._port)
        except (KeyError, ValueError) as exc:
            raise SerialException(f"cannot open {self._port}: {exc}") from exc
        self.is_open = self._open = True

    def close(self) -> None:
        """Detach (the simulated device keeps running)."""
        self.is_open = self._open = False

    def _device(self) -> Any:
        if not self._open or self.simulator is None:
            raise PortNotOpenError()
        return self.simulator.device

    def _reconfigure_port(self) -> None:
        pass  # line settings do not matter to the simulated device

    def _update_rts_state(self) -> None:
        pass

    def _update_dtr_state(self) -> None:
        pass

    def _update_break_state(self) -> None:
        pass

    @property
    def in_waiting(self) -> int:
        """Bytes ready to read."""
        try:
            return int(self._device().available())
        except Unplugged as exc:
            raise SerialException(str(exc)) from exc

    def read(self, size: int = 1) -> bytes:
        """Read up to ``size`` bytes, waiting up to ``timeout`` (on the device's clock)."""
        device = self._device()
        clock = device.clock
        deadline = None if self._timeout is None else clock.monotonic() + self._timeout
        data = bytearray()
        while True:
            try:
                data.extend(device.host_read(size - len(data)))
            except Unplugged as exc:
                raise SerialException(str(exc)) from exc
            if len(data) >= size or (deadline is not None and clock.monotonic() >= deadline):
                return bytes(data)
            due = device.next_output_at()
            if getattr(clock, "realtime", True):
                time.sleep(0.001)
            else:  # virtual time: jump to when the next byte is due (or the timeout)
                target = min(t for t in (due, deadline) if t is not None) if (due or deadline) else None
                if target is None:
                    raise SerialException("blocking read on a virtual clock with nothing to wait for")
                clock.sleep(max(0.0, target - clock.monotonic()))

    def write(self, data: bytes) -> int:
        """Send bytes to the device."""
        try:
            self._device().host_write(bytes(data))
        except Unplugged as exc:
            raise SerialException(str(exc)) from exc
        return len(data)

    def flush(self) -> None:
        """Nothing is buffered."""

    def reset_input_buffer(self) -> None:
        """Drop queued device output."""
        self._device().discard_output()

    def reset_output_buffer(self) -> None:
        """Nothing is buffered."""

    @property
    def cts(self) -> bool:
        """Always asserted."""
        return True

    @property
    def dsr(self) -> bool:
        """Always asserted."""
        return True

    @property
    def ri(self) -> bool:
        """Never ringing."""
        return False

    @property
    def cd(self) -> bool:
        """Carrier always present."""
        return True
