"""Coverage-guided fuzzing of the device frame codecs with atheris (libFuzzer), for longer than CI affords.

Run: ``.venv/bin/python -m bench.fuzz_codecs [--runs N] [--target magstim|magventure]`` (atheris comes with
the test extras; tests/security/test_codec_fuzz.py runs the same targets with a fixed 20,000 inputs in CI).
Each target runs in a process of its own (libFuzzer exits when done) on
the properties tests/security/test_frame_streams.py checks with a small hypothesis budget in CI: any
chunking of any byte stream through a splitter loses and invents no bytes (Magstim drops stray NULs
only), the pending buffer stays within the longest frame, and every frame decodes or raises the codec's
own error. A property broken or any other exception is a crash: libFuzzer prints the input, writes it to
``crash-*`` in the working directory, and the table marks the target FAILED. The table sets each target's
executions per second beside a plain loop over the same number of random inputs without instrumentation,
measured in the same run, to show what the coverage feedback costs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import time

TARGETS = ("magstim", "magventure")


def _cuts(data: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({p % (len(data) + 1) for p in points} | {0, len(data)})
    return [data[a:b] for a, b in zip(edges, edges[1:], strict=False)]


def _one_input(target: str, raw: bytes) -> None:
    from device_adapters.magstim import codec as magstim
    from device_adapters.magventure import codec as magventure

    if len(raw) < 2:
        return
    firmware = [None, (6, 0), (8, 0), (9, 0), (10, 1)][raw[0] % 5]
    points = list(raw[1:1 + raw[1] % 8 + 1])
    data = raw[2 + len(points):]
    if target == "magventure":
        splitter: magstim.FrameSplitter | magventure.FrameSplitter = magventure.FrameSplitter()
        error: type[Exception] = magventure.MagVentureCodecError
        decode = magventure.decode
        bound = magventure.MAX_PAYLOAD + 3
    else:
        splitter = magstim.FrameSplitter(firmware)
        error, decode = magstim.MagstimCodecError, magstim.decode
        fixed = [magstim.reply_length(c, firmware) for c in (*magstim._FIXED_REPLY_LENGTHS, "\\", "n", "o")]
        bound = max(*[n for n in fixed if n is not None], magstim._VERSION_MAX + 1)
    out = b""
    for chunk in _cuts(data, points):
        for frame in splitter.feed(chunk):
            if not frame:
                raise AssertionError("an empty frame")
            out += frame
            with contextlib.suppress(error):
                decode(frame)
        if len(splitter.pending) > bound:
            raise AssertionError(f"pending {len(splitter.pending)} bytes, beyond the longest frame ({bound})")
    kept, sent = out + splitter.pending, data
    if target == "magstim":
        kept, sent = kept.replace(b"\x00", b""), sent.replace(b"\x00", b"")
    if kept != sent:
        raise AssertionError(f"bytes lost or invented: sent {sent.hex()} got {kept.hex()}")


def _child(target: str, runs: int) -> None:
    import atheris  # a test extra

    with atheris.instrument_imports():
        import device_adapters.magstim.codec  # noqa: F401
        import device_adapters.magventure.codec  # noqa: F401
    atheris.Setup([sys.argv[0], f"-runs={runs}", "-max_len=512", "-seed=1", "-print_final_stats=1"],
                  lambda raw: _one_input(target, raw))
    atheris.Fuzz()


def _plain_loop(target: str, runs: int) -> float:
    """The same property over ``runs`` random inputs, uninstrumented: the executions-per-second baseline."""
    started = time.perf_counter()
    for _ in range(runs):
        _one_input(target, os.urandom(2 + int.from_bytes(os.urandom(2)) % 510))
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=200_000, help="inputs per target (default 200000)")
    parser.add_argument("--target", choices=TARGETS, action="append", help="default: both")
    parser.add_argument("--child", choices=TARGETS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, args.runs)
        return
    rows = []
    for target in args.target or TARGETS:
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "bench.fuzz_codecs", "--child", target, "--runs", str(args.runs)],
                              check=False)
        fuzz_s = time.perf_counter() - started
        plain_s = _plain_loop(target, min(args.runs, 50_000)) / min(args.runs, 50_000) * args.runs
        rows.append((target, args.runs, fuzz_s, args.runs / fuzz_s, args.runs / plain_s,
                     "ok" if done.returncode == 0 else f"FAILED ({done.returncode})"))
    print(f"\n{'target':<11} {'runs':>9} {'fuzz s':>8} {'fuzz exec/s':>12} {'plain exec/s':>13}  result")
    for target, runs, seconds, fuzz_rate, plain_rate, result in rows:
        print(f"{target:<11} {runs:>9} {seconds:>8.1f} {fuzz_rate:>12.0f} {plain_rate:>13.0f}  {result}")
    if any(row[-1] != "ok" for row in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
