"""MagVenture MagPro wire codec: pure functions, no I/O.

Frame (docs/device-protocols.md §2.2): ``FE len payload… crc FF`` where ``len`` counts the payload (ID + data)
and the CRC is CRC-8/MAXIM over the payload only; multi-byte fields are big-endian.
"""

from __future__ import annotations

import struct

from device_adapters.errors import ChecksumError, CodecError
from device_adapters.framing import BufferedSplitter
from device_adapters.magventure.messages import (
    Amplitude,
    CoilInfo,
    Delays,
    DiDt,
    MepMinMax,
    Message,
    ModeStatus,
    PageCount,
    PageState,
    Status,
    Status2,
    Timing,
    Unknown,
    WaveformBlock,
)

START, END = 0xFE, 0xFF
MAX_PAYLOAD = 64  # longest message seen is 15 bytes; a larger length byte means we are out of sync


class MagVentureCodecError(CodecError):
    """Bytes that are not a valid MagVenture frame."""


class MagVentureChecksumError(MagVentureCodecError, ChecksumError):
    """A MagVenture frame whose CRC-8 does not match."""


def crc8_maxim(data: bytes) -> int:
    """CRC-8/MAXIM: reflected poly 0x8C, init 0, no final xor (docs/device-protocols.md §2.2)."""
    crc = 0
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x8C if crc & 1 else crc >> 1
    return crc


def frame(payload: bytes) -> bytes:
    """Wrap an ID + data payload into a full frame."""
    if not 0 < len(payload) <= MAX_PAYLOAD:
        raise MagVentureCodecError(f"payload of {len(payload)} bytes")
    return bytes([START, len(payload)]) + payload + bytes([crc8_maxim(payload), END])


def _u16(value: int, what: str) -> bytes:
    if not 0 <= value <= 0xFFFF:
        raise MagVentureCodecError(f"{what} {value} does not fit in 16 bits")
    return struct.pack(">H", value)


def _tenths(value: float, what: str) -> int:
    tenths = round(value * 10)
    if abs(tenths - value * 10) > 1e-6:
        raise MagVentureCodecError(f"{what} {value} is not a multiple of 0.1")
    return tenths


def get_status() -> bytes:
    """ID 0: get status → message 0."""
    return frame(b"\x00")


def get_status2() -> bytes:
    """ID 5: get status 2 → message 5."""
    return frame(b"\x05")


def set_amplitude(a: int, b: int | None = None) -> bytes:
    """ID 1: amplitude A (and B) in % of machine output."""
    values = [a] if b is None else [a, b]
    if not all(0 <= v <= 100 for v in values):
        raise MagVentureCodecError(f"amplitude {values} outside 0–100")
    return frame(bytes([0x01, *values]))


def set_enabled(enabled: bool) -> bytes:
    """ID 2: enable (1) / disable (0)."""
    return frame(bytes([0x02, 1 if enabled else 0]))


def fire(variant: str = "pytms") -> bytes:
    """ID 3: single pulse; MAGIC sends a 0x01 data byte, pytms none."""
    return frame(b"\x03\x01" if variant == "magic" else b"\x03")


def start_train() -> bytes:
    """ID 4: start the train (Timing page) or protocol (Protocol page)."""
    return frame(b"\x04")


def set_page(page: int, variant: str = "pytms") -> bytes:
    """ID 7: switch page (MAGIC appends 0x00)."""
    return frame(bytes([0x07, page, 0x00]) if variant == "magic" else bytes([0x07, page]))


def set_train_magic(rate_pps: float, pulses: int, trains: int, iti_s: float) -> bytes:
    """ID 6 (MAGIC): rate×10, pulses/train, trains, ITI×10, all u16."""
    return frame(
        b"\x06"
        + _u16(_tenths(rate_pps, "rate"), "rate")
        + _u16(pulses, "pulses")
        + _u16(trains, "trains")
        + _u16(_tenths(iti_s, "ITI"), "ITI")
    )


def get_timing() -> bytes:
    """ID 11 sub 0 (pytms): get the Timing page → message 11."""
    return frame(b"\x0b\x00")


def set_timing(
    rate_pps: float, pulses: int, trains: int, iti_s: float, control: int = 0, warning_sound: bool = False
) -> bytes:
    """ID 11 sub 1 (pytms): timing control, rate×10, pulses, trains, ITI×10, warning sound."""
    return frame(
        bytes([0x0B, 0x01, control])
        + _u16(_tenths(rate_pps, "rate"), "rate")
        + _u16(pulses, "pulses")
        + _u16(trains, "trains")
        + _u16(_tenths(iti_s, "ITI"), "ITI")
        + bytes([int(warning_sound)])
    )


def set_delays_magic(trig_in_ms: float, trig_out_ms: float, charge_ms: int) -> bytes:
    """ID 8 (MAGIC): trigger in ×10 (u16), trigger out ×10 (i16), charge delay ms, 00 00."""
    return frame(b"\x08" + _delays(trig_in_ms, trig_out_ms, charge_ms) + b"\x00\x00")


def get_delays() -> bytes:
    """ID 10 sub 0 (pytms)."""
    return frame(b"\x0a\x00")


def set_delays(trig_in_ms: float, trig_out_ms: float, charge_ms: int) -> bytes:
    """ID 10 sub 1 (pytms): trigger in ×10 (u16), trigger out ×10 (i16), charge delay ms (u16)."""
    return frame(b"\x0a\x01" + _delays(trig_in_ms, trig_out_ms, charge_ms))


def _delays(trig_in_ms: float, trig_out_ms: float, charge_ms: int) -> bytes:
    out = _tenths(trig_out_ms, "trigger-out delay")
    if not -0x8000 <= out <= 0x7FFF:
        raise MagVentureCodecError(f"trigger-out delay {trig_out_ms} out of range")
    return (
        _u16(_tenths(trig_in_ms, "trigger-in delay"), "delay")
        + struct.pack(">h", out)
        + _u16(charge_ms, "charge delay")
    )


def get_waveform(variant: str = "pytms") -> bytes:
    """ID 9 sub 0: get the waveform block → message 9 (MAGIC pads 9 zero bytes)."""
    return frame(b"\x09\x00" + (bytes(9) if variant == "magic" else b""))


def set_waveform(
    model: int,
    mode: int,
    direction: int,
    waveform: int,
    burst_pulses: int,
    ipi_ms: float,
    ba_ratio: float = 1.0,
) -> bytes:
    """ID 9 sub 1: model, mode, direction, waveform, burst index (5 − pulses), IPI×10, B/A×100."""
    if not 2 <= burst_pulses <= 5:
        burst_pulses = 5  # burst index 0 when the waveform is not a burst; ignored by the unit
    return frame(
        bytes([0x09, 0x01, model, mode, direction, waveform, 5 - burst_pulses])
        + _u16(_tenths(ipi_ms, "IPI"), "IPI")
        + _u16(round(ba_ratio * 100), "B/A ratio")
    )


def get_page_count() -> bytes:
    """ID 12 sub 0 (pytms): page and stimulus count → message 12."""
    return frame(b"\x0c\x00")


def burst_ipi_ms(index: int) -> float:
    """IPI (ms) of a burst-table index from message 9 (docs/device-protocols.md §2.4: descending table)."""
    if 0 <= index <= 80:
        return 100.0 - index
    if 81 <= index <= 100:
        return 19.5 - 0.5 * (index - 81)
    if 101 <= index <= 195:
        return round(9.9 - 0.1 * (index - 101), 1)
    raise MagVentureCodecError(f"burst IPI index {index} outside 0–195")


class FrameSplitter(BufferedSplitter):
    """Cuts the byte stream into frames; bytes outside any frame come out as one junk chunk."""

    def missing(self) -> int:
        buf = self._buffer
        if buf[:1] == bytes([START]) and len(buf) >= 2 and 0 < buf[1] <= MAX_PAYLOAD:
            return max(1, buf[1] + 4 - len(buf))
        return 1

    def _next_size(self) -> int | None:
        buf = self._buffer
        if not buf:
            return None
        if buf[0] != START:
            start = buf.find(START)
            return len(buf) if start < 0 else start
        if len(buf) < 2:
            return None
        length = buf[1]
        if not 0 < length <= MAX_PAYLOAD:
            return 1
        total = length + 4
        if len(buf) < total:
            return None
        return total if buf[total - 1] == END else 1


def decode(data: bytes) -> Message:
    """Parse one frame into a typed message; raise ``MagVentureCodecError`` if it is not one."""
    if len(data) < 5 or data[0] != START or data[-1] != END or data[1] != len(data) - 4:
        raise MagVentureCodecError(f"not a MagVenture frame: {data.hex(' ')}")
    payload = data[2:-2]
    if crc8_maxim(payload) != data[-2]:
        raise MagVentureChecksumError(f"CRC {data[-2]:#04x} != {crc8_maxim(payload):#04x} in {data.hex(' ')}")
    return _decode_payload(payload[0], data)


def _status(data: bytes) -> Status:
    return Status(ModeStatus(data[3]), int.from_bytes(data[4:7], "big"), data[7], data[8], data[9], data[10])


def _decode_payload(message_id: int, f: bytes) -> Message:
    size = len(f) - 4
    expected = {0: 9, 1: 4, 2: 4, 3: 4, 4: 13, 5: 15, 8: 4, 9: 10, 10: 8, 11: 14, 12: 14}.get(message_id)
    if expected is None:
        return Unknown(message_id, f[3:-2])
    if size != expected:
        raise MagVentureCodecError(f"message {message_id} with {size} payload bytes, expected {expected}")
    if message_id == 0:
        return _status(f)
    if message_id == 1:
        return Amplitude(f[3], f[4], ModeStatus(f[5]))
    if message_id == 2:
        return DiDt(f[3], f[4], ModeStatus(f[5]))
    if message_id == 3:
        return CoilInfo(f[3], f[4], ModeStatus(f[5]))
    if message_id == 4:
        return MepMinMax(*struct.unpack(">III", f[3:15]))
    if message_id == 5:
        return Status2(_status(f), f[11], f[12], f[13], f[14], f[15], bool(f[16]))
    if message_id == 8:
        return PageState(f[3], bool(f[4]), ModeStatus(f[5]))
    if message_id == 9:
        return WaveformBlock(f[4], f[5], f[6], f[7], f[8], f[9] | f[10] << 8, f[11])
    if message_id == 10:
        trig_in, trig_out, charge = struct.unpack(">HhH", f[4:10])
        return Delays(trig_in, trig_out, charge)
    if message_id == 11:
        return _decode_timing(f)
    return PageCount(int.from_bytes(f[11:13], "big"), f[15])


def _decode_timing(f: bytes) -> Timing:
    rate, pulses, trains, iti = struct.unpack(">HHHH", f[5:13])
    return Timing(f[4] & 0x0F, rate, pulses, trains, iti, bool(f[13]), f[14], f[15])
