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


def _fed_past_a_frame_end(splitter: magstim.FrameSplitter | magventure.FrameSplitter, stream: bytes) -> bool:
    """Whether a reader that waits for ``missing()`` bytes at a time would ever wait beyond a frame's end
    (where the device may send nothing more)."""
    need, fed = splitter.missing(), 0
    for byte in stream:
        frames = splitter.feed(bytes([byte]))
        fed += 1
        if frames and fed < need:
            return True
        if frames or fed >= need:
            need, fed = splitter.missing(), 0
    return False


def _magstim_reply(command: str, body: bytes, error: bool) -> bytes:
    """A reply of the right length for ``command`` (firmware 9), or its three-byte error reply."""
    size = 3 if error else magstim.reply_length(command, None) or 3
    return (command + "?" if error else command).encode("latin-1") + body[: size - (3 if error else 2)] + b"\x5a"


magstim_replies = st.builds(
    _magstim_reply,
    st.sampled_from(sorted(set(magstim._FIXED_REPLY_LENGTHS) | {"\\", "n", "o"})),
    st.binary(min_size=30, max_size=30),
    st.booleans(),
)
magventure_frames = st.builds(magventure.frame, st.binary(min_size=1, max_size=20))


@SETTINGS
@given(st.lists(st.one_of(magstim_replies, st.binary(max_size=3)), max_size=8))
def test_magstim_reader_never_waits_past_a_reply(parts: list[bytes]) -> None:
    assert not _fed_past_a_frame_end(magstim.FrameSplitter(None), b"".join(parts))


@SETTINGS
@given(st.lists(st.one_of(magventure_frames, st.binary(max_size=3)), max_size=8))
def test_magventure_reader_never_waits_past_a_frame(parts: list[bytes]) -> None:
    assert not _fed_past_a_frame_end(magventure.FrameSplitter(), b"".join(parts))
