"""Drive HTTP load with wrk (Debian's ``wrk``; `make bench` installs it), so the load generator is C on its own
thread rather than Python sharing the server's two cores, and parse its report."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class WrkResult:
    name: str
    requests: int
    errors: int
    rate: float
    p50_ms: float
    p99_ms: float


def require_wrk() -> str:
    path = shutil.which("wrk")
    if path is None:
        raise SystemExit("wrk is missing: run `make bench` (as root it installs Debian's wrk) or apt-get install wrk")
    return path


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS_MS[unit]


def parse(name: str, report: str) -> WrkResult:
    """Read requests, non-2xx/socket errors, requests/s and the 50th/99th latency percentiles."""
    if "Latency Distribution" not in report:
        raise RuntimeError(f"wrk gave no latency distribution for {name}:\n{report}")
    requests = int(re.search(r"(\d+) requests in", report).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", report).group(1))  # type: ignore[union-attr]
    percentiles = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", report, re.M))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", report))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", report))
    return WrkResult(name, requests, errors, rate, _ms(percentiles["50"]), _ms(percentiles["99"]))


def start(url: str, *, connections: int, seconds: float, threads: int = 1,
          headers: dict[str, str] | None = None, script: str | None = None,
          script_args: list[str] | None = None) -> subprocess.Popen[str]:
    """Start one wrk run in the background (several may run at once, one per server process); ``script`` is a
    Lua file that builds the requests, given ``script_args``."""
    args = [require_wrk(), f"-t{threads}", f"-c{connections}", f"-d{seconds:g}s", "--latency"]
    for key, value in (headers or {}).items():
        args += ["-H", f"{key}: {value}"]
    if script is not None:
        args += ["-s", script]
    tail = ["--", *script_args] if script_args else []
    return subprocess.Popen([*args, url, *tail], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def run(name: str, url: str, **kwargs: object) -> WrkResult:
    """One wrk run, waited for."""
    proc = start(url, **kwargs)  # type: ignore[arg-type]
    out, _ = proc.communicate()
    return parse(name, out)


def combine(name: str, results: list[WrkResult]) -> WrkResult:
    """Runs made at the same time against different processes, as one: rates add, percentiles take the worst."""
    return WrkResult(name, sum(r.requests for r in results), sum(r.errors for r in results),
                     sum(r.rate for r in results), max(r.p50_ms for r in results), max(r.p99_ms for r in results))


def print_table(title: str, results: list[WrkResult], *, per_request: int = 1, unit: str = "req/s") -> None:
    """One row per result; the rate column is requests/s times ``per_request`` (e.g. events per call)."""
    print(f"\n{title}")
    header = f"{'operation':<52} {'requests':>9} {'errors':>7} {unit:>9} {'p50 ms':>8} {'p99 ms':>8}"
    print(header)
    print("-" * len(header))
    for r in results:
        print(f"{r.name:<52} {r.requests:>9} {r.errors:>7} {r.rate * per_request:>9.0f} {r.p50_ms:>8.2f} "
              f"{r.p99_ms:>8.2f}")
