"""Golden frames for every Magstim command in docs/device-protocols.md §1.2/§1.4, and reply decoding."""

from __future__ import annotations

import pytest

from device_adapters.magstim import codec
from device_adapters.magstim.replies import (
    Ack,
    CoilTemperatures,
    ErrorReply,
    Parameters,
    RapidAck,
    RapidParameters,
    SystemStatus,
    Version,
)

GOLDEN = [
    # (frame built by our encoder, expected bytes) — hex from docs/device-protocols.md §1.2 where it gives one.
    (codec.set_power(50), "40 30 35 30 2A"),  # the official worked example @050*
    (codec.set_power(40, "B"), "41 30 34 30 2A"),
    (codec.set_pulse_interval(10), "43 30 31 30 2B"),
    (codec.set_mode("disarm"), "45 41 79"),
    (codec.set_mode("arm"), "45 42 78"),
    (codec.set_mode("fire"), "45 48 72"),
    (codec.enable_remote(), "51 40 6E"),
    (codec.enable_remote("test-unlock-0000"), "51 74 65 73 74 2D 75 6E 6C 6F 63 6B 2D 30 30 30 30 48"),
    (codec.query("R"), "52 40 6D"),
    (codec.query("J"), "4A 40 75"),
    (codec.query("F"), "46 40 79"),
    (codec.query("Y"), "59 40 66"),
    (codec.query("Z"), "5A 40 65"),
    (codec.query("\\"), "5C 40 63"),
    (codec.get_version(), "4E 44 6D"),
    (codec.query("x"), "78 40 47"),
    (codec.query("I"), "49 40 76"),
    (codec.query("b"), "62 40 5D"),
    (codec.query("^"), "5E 40 61"),
    (codec.query("_"), "5F 40 60"),
    (codec.query("X"), "58 40 67"),
    (codec.get_system_type(), "4B 44 70"),
    (codec.set_frequency(10.0), "42 30 31 30 30 FC"),
    (codec.set_pulses(50, 9), "44 30 30 30 35 30 C6"),
    (codec.set_pulses(50, 8), "44 30 30 35 30 F6"),
    (codec.set_duration(5.0, 9), "5B 30 30 35 30 DF"),
    (codec.set_duration(5.0, 8), "5B 30 35 30 0F"),
    (codec.set_duration(1.0, 9), "5B 30 30 31 30 E3"),
    (codec.set_duration(1.0, 8), "5B 30 31 30 13"),
    (codec.set_charge_delay(100, 9), "6E 30 31 30 30 D0"),
    (codec.set_charge_delay(100, 10), "6E 30 30 31 30 30 A0"),
    (codec.query("o"), "6F 40 50"),
]


@pytest.mark.parametrize(("frame", "expected"), GOLDEN, ids=[g[1] for g in GOLDEN])
def test_command_frames_match_the_reference(frame: bytes, expected: str) -> None:
    assert frame == bytes.fromhex(expected)


def test_worked_example_is_at_050_star() -> None:
    assert codec.set_power(50) == b"@050*"


@pytest.mark.parametrize(
    "bad",
    [lambda: codec.set_power(1000), lambda: codec.set_frequency(10.05), lambda: codec.enable_remote("short")],
)
def test_unencodable_values_raise_the_codec_error(bad: object) -> None:
    with pytest.raises(codec.MagstimCodecError):
        bad()  # type: ignore[operator]


def test_decode_200_parameters_example() -> None:
    reply = codec.decode(bytes.fromhex("4A 89 30 33 30 30 30 30 30 30 30 79"))
    assert isinstance(reply, Parameters) and reply.power_a == 30
    assert reply.status.remote and reply.status.coil_present and reply.status.standby


@pytest.mark.parametrize(
    ("byte", "armed", "ready"), [(0x89, False, False), (0x8A, True, False), (0x8C, True, True)]
)
def test_armed_means_armed_or_ready(byte: int, armed: bool, ready: bool) -> None:
    reply = codec.decode(codec.frame("E", chr(byte))[:2] + bytes([~(ord("E") + byte) & 0xFF]))
    assert isinstance(reply, Ack)
    assert (reply.status.armed, reply.status.ready) == (armed, ready)


def test_decode_system_status_example() -> None:
    reply = codec.decode(bytes.fromhex("78 89 38 00 00 C6"))
    assert isinstance(reply, SystemStatus)
    assert (
        reply.rapid.single_pulse and reply.rapid.hv_psu and reply.rapid.coil_ready and not reply.rapid.train
    )


def test_decode_version_example() -> None:
    reply = codec.decode(bytes.fromhex("4E 56 39 2E 30 2E 30 00 66"))
    assert reply == Version("9.0.0", (9, 0, 0))


def test_error_replies_are_recognised_before_the_checksum() -> None:
    assert codec.decode(b"?") == ErrorReply(None, "unknown")
    assert codec.decode(b"@?o") == ErrorReply("@", "data")  # magneto's vector, wrong checksum
    assert codec.decode(codec.frame("E", "S")) == ErrorReply("E", "state")


def test_bad_checksum_raises_checksum_error() -> None:
    with pytest.raises(codec.MagstimChecksumError):
        codec.decode(bytes.fromhex("4A 89 30 33 30 30 30 30 30 30 30 78"))


@pytest.mark.parametrize(("firmware", "size"), [((6, 0), 21), ((8, 0), 22), ((9, 0), 24)])
def test_rapid_parameter_reply_layouts(firmware: tuple[int, int], size: int) -> None:
    widths = {21: (4, 3, 3), 22: (4, 3, 4), 24: (5, 4, 4)}[size]
    body = b"\\" + bytes([0x89, 0x32]) + b"060" + b"0100" + b"50".zfill(widths[0]) + b"50".zfill(widths[1])
    body += b"5".zfill(widths[2])
    frame = body + bytes([codec.checksum(body)])
    assert len(frame) == size
    splitter = codec.FrameSplitter(firmware)
    assert splitter.feed(frame) == [frame]
    reply = codec.decode(frame)
    assert isinstance(reply, RapidParameters)
    assert (reply.power, reply.frequency_hz, reply.pulses, reply.duration_s, reply.wait_s) == (
        60,
        10.0,
        50,
        5.0,
        0.5,
    )


def test_splitter_strips_stray_nuls_and_splits_back_to_back_replies() -> None:
    splitter = codec.FrameSplitter((9, 0))
    temp = codec.frame("F", chr(0x89) + "221215")
    rapid = b"B\x89\x38" + bytes([codec.checksum(b"B\x89\x38")])
    frames = splitter.feed(b"\x00\x00" + temp[:4])
    assert frames == []
    frames = splitter.feed(temp[4:] + b"\x00" + rapid + b"?")
    assert frames == [temp, rapid, b"?"]
    assert isinstance(codec.decode(frames[0]), CoilTemperatures)
    assert isinstance(codec.decode(frames[1]), RapidAck)
