"""The simulator's own Magstim codec (deliberately independent of ``device_adapters``), device side.

docs/device-protocols.md §1.2: command char, data, checksum = bit-inverted low byte of the sum; no terminator,
so command lengths come from the command char and the firmware (§1.4).
"""

from __future__ import annotations

STANDBY, ARMED, READY, COIL, REPLACE, ERROR, FATAL, REMOTE = (1 << i for i in range(8))
ENHANCED, TRAIN, WAIT, SINGLE, HV_PSU, COIL_READY, THETA, MODIFIED = (1 << i for i in range(8))

_THREE = set("ERJFYZ\\NxIb^_XKo")


def crc(body: bytes) -> int:
    """Checksum byte: 0xFF minus the low byte of the sum (the same thing as ``~sum & 0xFF``)."""
    return 0xFF - (sum(body) % 256)


def build(command: str, body: bytes = b"") -> bytes:
    """A reply: echoed command, body, checksum."""
    data = command.encode("latin-1") + body
    return data + bytes([crc(data)])


def error(command: str | None, kind: str) -> bytes:
    """``?`` alone (unknown command), ``<cmd>?`` (bad data) or ``<cmd>S`` (wrong state)."""
    if command is None or kind == "?":
        return b"?"
    return build(command, b"?" if kind == "data" else b"S")


def digits(value: int, width: int) -> bytes:
    """Zero-padded ASCII digits."""
    return f"{max(0, min(value, 10**width - 1)):0{width}d}".encode()


def command_length(first: str, second: int | None, firmware: int) -> int | None:
    """Bytes in a host command starting with ``first`` (``None``: not a command we know)."""
    if first in "@AC":
        return 5
    if first == "B":
        return 6
    if first == "D":
        return 7 if firmware >= 9 else 6
    if first == "[":
        return 6 if firmware >= 9 else 5
    if first == "n":
        return 7 if firmware >= 10 else 6
    if first == "Q":
        if firmware >= 9 and second is not None and second != ord("@"):
            return 18  # Q + 16-character unlock code + checksum
        return 3
    return 3 if first in _THREE else None


class CommandSplitter:
    """Cuts host bytes into command frames; an unknown leading byte comes out alone."""

    def __init__(self, firmware: int) -> None:
        self.firmware = firmware
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes, return complete frames."""
        self._buf.extend(data)
        out: list[bytes] = []
        while self._buf:
            first = chr(self._buf[0])
            second = self._buf[1] if len(self._buf) > 1 else None
            if first == "Q" and second is None and self.firmware >= 9:
                break  # cannot tell Q@ from Q+code yet
            size = command_length(first, second, self.firmware)
            if size is None:
                size = 1
            if len(self._buf) < size:
                break
            out.append(bytes(self._buf[:size]))
            del self._buf[:size]
        return out


def valid(frame: bytes) -> bool:
    """Whether the last byte is the right checksum."""
    return len(frame) >= 2 and crc(frame[:-1]) == frame[-1]


def number(data: bytes) -> int | None:
    """ASCII digits → int, or ``None``."""
    return int(data) if data and data.isdigit() else None
