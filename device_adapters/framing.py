"""The byte-buffer half every frame splitter shares; each family says only where its next frame ends."""

from __future__ import annotations


class BufferedSplitter:
    """Feed bytes in, get whole frames out; subclasses implement ``_next_size`` on ``self._buffer``."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        """Add bytes; return every complete frame."""
        self._buffer.extend(data)
        frames: list[bytes] = []
        while (size := self._next_size()) is not None:
            frames.append(bytes(self._buffer[:size]))
            del self._buffer[:size]
        return frames

    def clear(self) -> None:
        """Forget a partial frame (after a timeout)."""
        self._buffer.clear()

    @property
    def pending(self) -> bytes:
        """Bytes of an incomplete frame."""
        return bytes(self._buffer)

    def missing(self) -> int:
        """Bytes the frame in progress still certainly lacks (at least 1), so a reader can wait for all of them
        in one blocking read instead of waking once per byte. Never more than the frame needs: reading stops at
        the frame's end, whatever follows it."""
        return 1

    def _next_size(self) -> int | None:
        """Length of the complete frame at the start of the buffer, or None while it is incomplete."""
        raise NotImplementedError
