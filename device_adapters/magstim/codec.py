"""Magstim wire codec (200², BiStim², Rapid²): pure functions, no I/O.

Framing (docs/device-protocols.md §1.2, TDb086 §3, TDb087 §5.1): command char, data chars, one checksum byte
``(~sum) & 0xFF``; no terminator, so reply lengths come from the echoed command (and, for the Rapid
parameter reply, the firmware version).
"""

from __future__ import annotations

import re

from device_adapters.errors import ChecksumError, CodecError
from device_adapters.framing import BufferedSplitter
from device_adapters.magstim.replies import (
    Ack,
    ChargeDelay,
    CoilTemperatures,
    ErrorCode,
    ErrorReply,
    InstrumentStatus,
    Parameters,
    RapidAck,
    RapidParameters,
    RapidStatus,
    Reply,
    SystemMode,
    SystemStatus,
    SystemType,
    Version,
)


class MagstimCodecError(CodecError):
    """Bytes that are not a valid Magstim reply."""


class MagstimChecksumError(MagstimCodecError, ChecksumError):
    """A Magstim reply whose checksum byte does not match."""


Firmware = tuple[int, ...]
MODE_BYTES = {"disarm": "A", "arm": "B", "fire": "H"}  # TDb086 §6: bit 6 set, bit 0/1/3 = stop/arm/trigger
_FIXED_REPLY_LENGTHS = {
    "@": 3,
    "A": 3,
    "C": 3,
    "E": 3,
    "Q": 3,
    "R": 3,
    "Y": 3,
    "Z": 3,
    "b": 3,
    "J": 12,
    "F": 9,
    "X": 4,
    "K": 6,
    "B": 4,
    "D": 4,
    "[": 4,
    "^": 4,
    "_": 4,
    "I": 6,
    "x": 6,
}
_VERSION_MAX = 24  # longest N reply we accept before declaring the stream garbage
_VERSION_TEXT = re.compile(r"V(\d+(?:\.\d+)*)")


def checksum(data: bytes) -> int:
    """Bit-inverted low byte of the sum (docs/device-protocols.md §1.2)."""
    return ~sum(data) & 0xFF


def frame(command: str, data: str = "@") -> bytes:
    """Command char + data (``@`` pads data-less commands) + checksum."""
    body = (command + data).encode("latin-1")
    return body + bytes([checksum(body)])


def _digits(value: int, width: int, what: str) -> str:
    if not 0 <= value < 10**width:
        raise MagstimCodecError(f"{what} {value} does not fit in {width} digits")
    return f"{value:0{width}d}"


def _tenths(value: float, what: str) -> int:
    tenths = round(value * 10)
    if abs(tenths - value * 10) > 1e-6:
        raise MagstimCodecError(f"{what} {value} is not a multiple of 0.1")
    return tenths


def set_power(percent: int, channel: str = "A") -> bytes:
    """``@ddd`` power A, or ``Addd`` power B on a BiStim (docs/device-protocols.md §1.4)."""
    return frame("@" if channel == "A" else "A", _digits(percent, 3, "power"))


def set_pulse_interval(value: int) -> bytes:
    """``Cddd`` BiStim interval in ms (low-res) or 0.1 ms (high-res)."""
    return frame("C", _digits(value, 3, "interval"))


def set_mode(mode: str) -> bytes:
    """``EA`` disarm, ``EB`` arm, ``EH`` fire (docs/device-protocols.md §1.6)."""
    return frame("E", MODE_BYTES[mode])


def enable_remote(unlock_code: str | None = None) -> bytes:
    """``Q@``, or ``Q`` + 16-character unlock code for Rapid² from V9 (docs/device-protocols.md §1.8)."""
    if unlock_code is None:
        return frame("Q")
    if len(unlock_code) != 16:
        raise MagstimCodecError("an unlock code has 16 characters (xxxx-xxxxxxxx-cc)")
    return frame("Q", unlock_code)


def query(command: str) -> bytes:
    """Any data-less command (``R J F Y Z \\ x I b ^ _ X o``), padded with ``@``."""
    return frame(command)


def get_version() -> bytes:
    """``ND``: Rapid software version (TDb087 §11)."""
    return frame("N", "D")


def get_system_type() -> bytes:
    """``KD``: system type (unverified, docs/device-protocols.md §1.4)."""
    return frame("K", "D")


def set_frequency(hz: float) -> bytes:
    """``Bdddd``: frequency in 0.1 Hz."""
    return frame("B", _digits(_tenths(hz, "frequency"), 4, "frequency"))


def set_pulses(count: int, firmware_major: int) -> bytes:
    """``D``: pulses per train, 5 digits from V9, 4 before."""
    return frame("D", _digits(count, 5 if firmware_major >= 9 else 4, "pulse count"))


def set_duration(seconds: float, firmware_major: int) -> bytes:
    """``[``: train duration in 0.1 s, 4 digits from V9, 3 before; 0 = single-pulse mode."""
    width = 4 if firmware_major >= 9 else 3
    return frame("[", _digits(_tenths(seconds, "duration"), width, "duration"))


def set_charge_delay(milliseconds: int, firmware_major: int) -> bytes:
    """``n``: charge delay, 4 digits on V9, 5 from V10 (docs/device-protocols.md §1.4)."""
    return frame("n", _digits(milliseconds, 5 if firmware_major >= 10 else 4, "charge delay"))


def reply_length(command: str, firmware: Firmware | None) -> int | None:
    """Bytes in a (non-error) reply to ``command``; ``None`` for the NUL-terminated ``N`` reply."""
    if command == "N":
        return None
    major = firmware[0] if firmware else 9
    if command == "\\":
        return 24 if major >= 9 else 22 if major >= 7 else 21
    if command == "n":
        return 6 if major >= 10 else 4
    if command == "o":
        return 8 if major >= 10 else 7
    if command in _FIXED_REPLY_LENGTHS:
        return _FIXED_REPLY_LENGTHS[command]
    raise MagstimCodecError(f"no reply starts with {command!r}")


class FrameSplitter(BufferedSplitter):
    """Cuts the device's byte stream into reply frames; bytes that cannot start one come out alone.

    Leading NUL bytes are dropped: units send stray NULs (magneto changelog, docs/device-protocols.md §1.3).
    """

    def __init__(self, firmware: Firmware | None = None) -> None:
        super().__init__()
        self.firmware = firmware

    def missing(self) -> int:
        # Only the second byte tells a reply from a three-byte error ("?" there), so the full length is
        # trusted from then on.
        buf = self._buffer
        if len(buf) < 2 or buf[0] == 0:
            return 1
        if buf[1] in b"?S":
            return max(1, 3 - len(buf))
        first = chr(buf[0])
        size = reply_length(first, self.firmware) if first in _FIXED_REPLY_LENGTHS or first in "\\no" else None
        return max(1, size - len(buf)) if size else 1

    def _next_size(self) -> int | None:
        buf = self._buffer
        while buf[:1] == b"\x00":
            del buf[0]
        if not buf:
            return None
        first = chr(buf[0])
        if first == "?":
            return 1
        if first != "N" and first not in _FIXED_REPLY_LENGTHS and first not in "\\no":
            return 1  # junk byte: decode() rejects it
        if len(buf) < 2:
            return None
        if buf[1] in b"?S":
            return 3 if len(buf) >= 3 else None
        if first == "N":
            end = buf.find(b"\x00", 1, _VERSION_MAX)
            if end < 0:
                return 1 if len(buf) >= _VERSION_MAX else None
            return end + 2 if len(buf) >= end + 2 else None
        size = reply_length(first, self.firmware)
        assert size is not None
        return size if len(buf) >= size else None


def decode(data: bytes) -> Reply:
    """Parse one reply frame into a typed reply; raise ``MagstimCodecError`` if it is not one."""
    if data == b"?":
        return ErrorReply(None, "unknown")
    if len(data) < 3:
        raise MagstimCodecError(f"not a Magstim reply: {data.hex(' ')}")
    command = chr(data[0])
    # Error replies are recognised before the checksum, as every public client does (docs/device-protocols.md §1.3).
    if len(data) == 3 and data[1:2] in (b"?", b"S"):
        return ErrorReply(command, "data" if data[1:2] == b"?" else "state")
    if checksum(data[:-1]) != data[-1]:
        raise MagstimChecksumError(
            f"checksum {data[-1]:#04x} != {checksum(data[:-1]):#04x} in {data.hex(' ')}"
        )
    if command == "N":
        return _decode_version(data)
    if command == "K":
        _expect_length(data, 6)
        return SystemType(data[1:5].decode("latin-1"))
    status = InstrumentStatus(data[1])
    body = data[2:-1]
    return _decode_with_status(command, status, body, data)


def _decode_with_status(command: str, status: InstrumentStatus, body: bytes, data: bytes) -> Reply:
    if command in "@ACEQRYZb" and len(data) == 3:
        return Ack(command, status)
    if command in "BD[^_n" and len(data) == 4:
        return RapidAck(command, status, RapidStatus(body[0]))
    if command in "xn" and len(data) == 6:
        return SystemStatus(command, status, RapidStatus(body[0]), body[1] << 8 | body[2])
    if command == "J" and len(data) == 12:
        return Parameters(status, _num(body[0:3]), _num(body[3:6]), _num(body[6:9]))
    if command == "F" and len(data) == 9:
        return CoilTemperatures(status, _num(body[0:3]) / 10, _num(body[3:6]) / 10)
    if command == "X" and len(data) == 4:
        return SystemMode(status, chr(body[0]))
    if command == "I" and len(data) == 6:
        return ErrorCode(status, chr(body[0]), _num(body[1:3]))
    if command == "o" and len(data) in (7, 8):
        return ChargeDelay(status, _num(body))
    if command == "\\" and len(data) in (21, 22, 24):
        return _decode_rapid_parameters(status, body)
    raise MagstimCodecError(f"unexpected {len(data)}-byte reply to {command!r}: {data.hex(' ')}")


def _decode_rapid_parameters(status: InstrumentStatus, body: bytes) -> RapidParameters:
    # Field widths by firmware: (pulses, duration, wait) = (4,3,3) <V7, (4,3,4) V7-8, (5,4,4) V9+.
    widths = {18: (4, 3, 3), 19: (4, 3, 4), 21: (5, 4, 4)}[len(body)]
    fields = body[1:]
    power, freq = _num(fields[0:3]), _num(fields[3:7])
    at = 7
    values = []
    for width in widths:
        values.append(_num(fields[at : at + width]))
        at += width
    return RapidParameters(
        status, RapidStatus(body[0]), power, freq / 10, values[0], values[1] / 10, values[2] / 10
    )


def _decode_version(data: bytes) -> Version:
    if data[-2] != 0:
        raise MagstimCodecError(f"version reply not NUL-terminated: {data.hex(' ')}")
    match = _VERSION_TEXT.fullmatch(data[1:-2].decode("latin-1"))
    if not match:
        raise MagstimCodecError(f"unreadable version {data[1:-2]!r}")
    text = match.group(1)
    return Version(text, tuple(int(part) for part in text.split(".")))


def _num(digits: bytes) -> int:
    if not digits or not digits.isdigit():
        raise MagstimCodecError(f"expected ASCII digits, got {digits!r}")
    return int(digits)


def _expect_length(data: bytes, size: int) -> None:
    if len(data) != size:
        raise MagstimCodecError(f"expected {size} bytes, got {data.hex(' ')}")
