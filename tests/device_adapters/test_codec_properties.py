"""Property tests: any byte stream into a codec decodes or raises that codec's own error type."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from device_adapters.magstim import codec as magstim
from device_adapters.magventure import codec as magventure
from simulator import magstim_codec, magventure_codec

SETTINGS = settings(max_examples=150, deadline=None)
chunks = st.lists(st.binary(max_size=40), max_size=8)
firmware = st.sampled_from([None, (6, 0), (8, 0), (9, 0), (10, 1)])


@SETTINGS
@given(chunks, firmware)
def test_magstim_stream_decodes_or_raises_codec_error(parts: list[bytes], fw: tuple[int, ...] | None) -> None:
    splitter = magstim.FrameSplitter(fw)
    for part in parts:
        for frame in splitter.feed(part):
            with contextlib.suppress(magstim.MagstimCodecError):
                magstim.decode(frame)


@SETTINGS
@given(chunks)
def test_magventure_stream_decodes_or_raises_codec_error(parts: list[bytes]) -> None:
    splitter = magventure.FrameSplitter()
    for part in parts:
        for frame in splitter.feed(part):
            with contextlib.suppress(magventure.MagVentureCodecError):
                magventure.decode(frame)


@SETTINGS
@given(st.binary(max_size=64))
def test_magstim_single_frames_decode_or_raise_codec_error(data: bytes) -> None:
    with contextlib.suppress(magstim.MagstimCodecError):
        magstim.decode(data)


@SETTINGS
@given(st.binary(max_size=64))
def test_magventure_single_frames_decode_or_raise_codec_error(data: bytes) -> None:
    with contextlib.suppress(magventure.MagVentureCodecError):
        magventure.decode(data)


@SETTINGS
@given(st.binary(min_size=1, max_size=20))
def test_magventure_valid_payloads_round_trip(payload: bytes) -> None:
    frame = magventure.frame(payload)
    assert magventure.FrameSplitter().feed(frame) == [frame]
    try:
        magventure.decode(frame)
    except magventure.MagVentureCodecError as exc:
        assert not isinstance(exc, magventure.MagVentureChecksumError)


@SETTINGS
@given(chunks, st.sampled_from([0, 8, 9, 10]))
def test_simulator_magstim_splitter_never_loses_bytes(parts: list[bytes], major: int) -> None:
    splitter = magstim_codec.CommandSplitter(major)
    out = b"".join(b"".join(splitter.feed(p)) for p in parts)
    assert b"".join(parts).startswith(out)


@SETTINGS
@given(chunks)
def test_simulator_magventure_splitter_never_raises(parts: list[bytes]) -> None:
    splitter = magventure_codec.HostSplitter()
    for part in parts:
        for payload, ok in splitter.feed(part):
            assert not ok or magventure_codec.wrap(payload)


@SETTINGS
@given(st.binary(min_size=1, max_size=30))
def test_the_two_crc_implementations_agree(payload: bytes) -> None:
    assert magventure.crc8_maxim(payload) == magventure_codec.crc8(payload)


@SETTINGS
@given(st.binary(min_size=1, max_size=30))
def test_the_two_magstim_checksums_agree(body: bytes) -> None:
    assert magstim.checksum(body) == magstim_codec.crc(body)


def test_every_device_event_kind_is_in_the_wire_schema() -> None:
    """The service validates batches against WIRE_KINDS: a device event of any other kind would be refused."""
    from device_adapters import events

    reported = {cls.kind for cls in vars(events).values()
                if isinstance(cls, type) and issubclass(cls, events.DeliveryEvent) and cls is not events.DeliveryEvent}
    assert reported and reported <= set(events.WIRE_KINDS)
