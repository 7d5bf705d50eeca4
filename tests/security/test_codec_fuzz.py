"""Coverage-guided fuzzing (atheris/libFuzzer) of both device frame codecs, with a fixed, seeded budget.

Each target runs bench/fuzz_codecs.py's property (no byte lost or invented under any chunking, the pending
buffer bounded, every frame decoded or refused with the codec's own error) over 20,000 inputs in a process of
its own (in a scratch directory, where libFuzzer writes any crash-* input), since libFuzzer exits when
it is done. A broken property or any other exception makes libFuzzer exit non-zero and print the input.
``python -m bench.fuzz_codecs --runs N`` runs it longer.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNS = 20_000


@pytest.mark.parametrize("target", ["magstim", "magventure"])
def test_atheris_finds_no_crash_in_the_frame_codec(target: str, tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "bench.fuzz_codecs", "--child", target, "--runs", str(RUNS)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=600,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    assert f"Done {RUNS} runs" in done.stderr  # libFuzzer's own count: the budget really ran
