"""Golden frames for the MagVenture commands of docs/device-protocols.md §2.2–2.3, and message decoding."""

from __future__ import annotations

import pytest

from device_adapters.magventure import codec
from device_adapters.magventure.messages import DiDt, Status, Timing, WaveformBlock

GOLDEN = [
    (codec.get_status(), "FE 01 00 00 FF"),
    (codec.get_status2(), "FE 01 05 3F FF"),
    (codec.set_amplitude(50), "FE 02 01 32 C6 FF"),  # the reference's worked example
    (codec.set_amplitude(50, 40), "FE 03 01 32 28 F6 FF"),
    (codec.set_enabled(True), "FE 02 02 01 CF FF"),
    (codec.set_enabled(False), "FE 02 02 00 91 FF"),
    (codec.fire("magic"), "FE 02 03 01 0B FF"),
    (codec.fire("pytms"), "FE 01 03 E2 FF"),
    (codec.start_train(), "FE 01 04 61 FF"),
    (codec.get_waveform(), "FE 02 09 00 B2 FF"),
]


@pytest.mark.parametrize(("frame", "expected"), GOLDEN, ids=[g[1] for g in GOLDEN])
def test_command_frames_match_the_reference(frame: bytes, expected: str) -> None:
    assert frame == bytes.fromhex(expected)


def test_crc_is_crc8_maxim() -> None:
    assert codec.crc8_maxim(b"123456789") == 0xA1


@pytest.mark.parametrize(
    ("frame", "payload"),
    [
        (codec.set_train_magic(10, 50, 60, 25), "06 00 64 00 32 00 3C 00 FA"),
        (codec.set_timing(10, 50, 60, 25), "0B 01 00 00 64 00 32 00 3C 00 FA 00"),
        (codec.get_timing(), "0B 00"),
        (codec.set_page(2), "07 02"),
        (codec.set_page(2, "magic"), "07 02 00"),
        (codec.set_delays_magic(1.0, -1.0, 100), "08 00 0A FF F6 00 64 00 00"),
        (codec.set_delays(1.0, -1.0, 100), "0A 01 00 0A FF F6 00 64"),
        (codec.get_delays(), "0A 00"),
        (codec.set_waveform(1, 0, 0, 3, 3, 20.0, 1.0), "09 01 01 00 00 03 02 00 C8 00 64"),
        (codec.get_waveform("magic"), "09 00 00 00 00 00 00 00 00 00 00"),
        (codec.get_page_count(), "0C 00"),
    ],
)
def test_both_command_sets_frame_their_payloads(frame: bytes, payload: str) -> None:
    body = bytes.fromhex(payload)
    assert frame == bytes([0xFE, len(body)]) + body + bytes([codec.crc8_maxim(body), 0xFF])


def test_decode_status_example() -> None:
    message = codec.decode(bytes.fromhex("FE 09 00 34 01 23 45 1B 3C 32 00 75 FF"))
    assert isinstance(message, Status)
    assert message.mode_status.model == "X100" and message.mode_status.enabled
    assert message.mode_status.waveform == "biphasic" and message.mode_status.mode == "standard"
    assert (message.serial_number, message.coil_temperature_c, message.coil_type, message.amplitude_a) == (
        0x012345,
        27,
        60,
        50,
    )


def test_decode_didt_example() -> None:
    message = codec.decode(bytes.fromhex("FE 04 02 58 00 34 86 FF"))
    assert isinstance(message, DiDt) and message.di_dt_a == 88 and message.mode_status.enabled


def test_waveform_ipi_index_is_little_endian() -> None:
    payload = bytes([9, 0, 1, 0, 0, 3, 2, 80, 0, 80])
    message = codec.decode(codec.frame(payload))
    assert isinstance(message, WaveformBlock) and message.ipi_index == 80 and message.burst_pulses == 3
    assert codec.burst_ipi_ms(message.ipi_index) == 20.0


@pytest.mark.parametrize(
    ("index", "ms"), [(0, 100.0), (80, 20.0), (81, 19.5), (100, 10.0), (101, 9.9), (195, 0.5)]
)
def test_burst_ipi_table(index: int, ms: float) -> None:
    assert codec.burst_ipi_ms(index) == ms


def test_timing_message() -> None:
    payload = bytes([11, 0, 0, 0, 100, 0, 50, 0, 60, 0, 250, 0, 100, 0])
    message = codec.decode(codec.frame(payload))
    assert message == Timing(0, 100, 50, 60, 250, False, 100, 0)


def test_bad_crc_raises_checksum_error() -> None:
    with pytest.raises(codec.MagVentureChecksumError):
        codec.decode(bytes.fromhex("FE 02 01 32 C7 FF"))


def test_splitter_resyncs_after_junk() -> None:
    splitter = codec.FrameSplitter()
    good = bytes.fromhex("FE 04 02 58 00 34 86 FF")
    chunks = splitter.feed(b"\x00\x00" + good[:3])
    chunks += splitter.feed(good[3:] + b"\xfe\x00" + good)
    assert [c for c in chunks if c == good] == [good, good]
