"""Hostile byte streams into the frame splitters (hypothesis, a fixed derandomized budget).

tests/device_adapters/test_codec_properties.py shows any bytes decode or raise the codec's own error.
These add what a garbage-spewing or malicious serial peer must not achieve: bytes lost or invented
between the wire and the frames, or a buffer that grows without bound while waiting for a frame end.
A longer, coverage-guided run of the same properties: ``python -m bench.fuzz_codecs`` (atheris).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from device_adapters.magstim import codec as magstim
from device_adapters.magventure import codec as magventure

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True, database=None)
FIRMWARE = [None, (6, 0), (8, 0), (9, 0), (10, 1)]
# Bytes a stream is made of: frame markers and command letters often, anything else sometimes.
stream_bytes = st.lists(st.one_of(
    st.sampled_from([0x00, 0x3F, 0x4E, 0x53, magventure.START, magventure.END, 0x02, 0x40, 0x5C]),
    st.integers(0, 255)), max_size=400).map(bytes)


def _cuts(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({p % (len(data) + 1) for p in points} | {0, len(data)})
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def magstim_longest(firmware: tuple[int, int] | None) -> int:
    """The longest reply the splitter waits for: a fixed-length reply, or an N reply up to its NUL."""
    fixed = [magstim.reply_length(c, firmware) for c in (*magstim._FIXED_REPLY_LENGTHS, "\\", "n", "o")]
    return max(*[n for n in fixed if n is not None], magstim._VERSION_MAX + 1)


@SETTINGS
@given(stream_bytes, st.lists(st.integers(0, 400), max_size=12))
def test_magventure_splitter_neither_loses_nor_invents_bytes_and_stays_bounded(data: bytes, points: list[int]) -> None:
    splitter = magventure.FrameSplitter()
    out = b""
    for chunk in _cuts(data, points):
        for frame in splitter.feed(chunk):
            assert frame, "an empty frame"
            out += frame
        assert len(splitter.pending) <= magventure.MAX_PAYLOAD + 3, "waiting beyond the longest frame"
    assert out + splitter.pending == data


@SETTINGS
@given(stream_bytes, st.lists(st.integers(0, 400), max_size=12), st.sampled_from(FIRMWARE))
def test_magstim_splitter_keeps_every_byte_but_stray_nuls_and_stays_bounded(
        data: bytes, points: list[int], firmware: tuple[int, int] | None) -> None:
    splitter = magstim.FrameSplitter(firmware)
    out = b""
    for chunk in _cuts(data, points):
        for frame in splitter.feed(chunk):
            assert frame and frame[0] != 0, "an empty frame or one starting with a stray NUL"
            out += frame
        assert len(splitter.pending) <= magstim_longest(firmware), "waiting beyond the longest reply"
    # Only NULs between frames are dropped: every other byte comes out once, in order.
    assert (out + splitter.pending).replace(b"\x00", b"") == data.replace(b"\x00", b"")
