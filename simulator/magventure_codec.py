"""The simulator's own MagVenture codec (independent of ``device_adapters``), device side.

docs/device-protocols.md §2.2: ``FE len payload crc FF``; CRC-8/MAXIM over the payload (table-driven here, the
drivers compute it bit by bit, so one mistake cannot hide on both sides).
"""

from __future__ import annotations

import struct


def _table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
        table.append(crc)
    return table


_CRC_TABLE = _table()


def crc8(payload: bytes) -> int:
    """CRC-8/MAXIM (Dallas 1-Wire)."""
    crc = 0
    for byte in payload:
        crc = _CRC_TABLE[crc ^ byte]
    return crc


def wrap(payload: bytes) -> bytes:
    """A full frame around ``payload`` (message ID first)."""
    return b"\xfe" + bytes([len(payload)]) + payload + bytes([crc8(payload), 0xFF])


def mode_status(model: int, mode: int, waveform: int, enabled: bool) -> int:
    """Mode/status byte: bits 1–0 mode, 3–2 waveform, 4 enabled, 7–5 model (docs/device-protocols.md §2.4)."""
    return (model & 7) << 5 | (0x10 if enabled else 0) | (waveform & 3) << 2 | (mode & 3)


def u16(value: int) -> bytes:
    """Big-endian unsigned 16 bits."""
    return struct.pack(">H", max(0, min(value, 0xFFFF)))


class HostSplitter:
    """Cuts host bytes into frames; returns ``(payload, ok)`` pairs (``ok`` False: bad CRC/framing)."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[tuple[bytes, bool]]:
        """Add bytes, return complete frames."""
        self._buf.extend(data)
        out: list[tuple[bytes, bool]] = []
        while self._buf:
            if self._buf[0] != 0xFE:
                start = self._buf.find(b"\xfe")
                out.append((bytes(self._buf[: start if start >= 0 else len(self._buf)]), False))
                del self._buf[: start if start >= 0 else len(self._buf)]
                continue
            if len(self._buf) < 2:
                break
            size = self._buf[1] + 4
            if self._buf[1] == 0 or self._buf[1] > 64:
                out.append((b"\xfe", False))
                del self._buf[0]
                continue
            if len(self._buf) < size:
                break
            frame = bytes(self._buf[:size])
            payload = frame[2:-2]
            good = frame[-1] == 0xFF and crc8(payload) == frame[-2]
            out.append((payload if good else frame, good))
            del self._buf[: size if good else 1]
        return out


# The IPI table of burst mode (docs/device-protocols.md §2.4):
# index 0–80 → 100…20 ms, 81–100 → 19.5…10, 101–195 → 9.9…0.5.
def ipi_index(tenths_ms: int) -> int:
    """Table index for an IPI given in 0.1 ms (nearest entry)."""
    if tenths_ms >= 200:
        return max(0, min(80, 100 - tenths_ms // 10))
    if tenths_ms >= 100:
        return 81 + (195 - tenths_ms) // 5
    return max(101, min(195, 101 + (99 - tenths_ms)))


def ipi_tenths(index: int) -> int:
    """IPI in 0.1 ms for a table index."""
    if index <= 80:
        return (100 - index) * 10
    if index <= 100:
        return 195 - (index - 81) * 5
    return 99 - (index - 101)
