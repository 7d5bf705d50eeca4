"""``tmsops simulate``: serve a simulated stimulator on a pty and/or a TCP port until killed.

The service's CLI registers ``simulate`` as a command; ``python -m simulator`` runs it alone.
While it runs, lines on stdin script it: ``fault <spec>``, ``panel <action> [key=value ...]``,
``restart``, ``plug`` (back in after an unplug fault, on a new pty: ``plugged PATH`` on stdout), ``transcript``
(printed to stderr), ``pulses`` (the count delivered so far, on stdout).
"""

from __future__ import annotations

import signal
import sys
import threading
from types import FrameType

import typer

from simulator.bridge import Bridge, PtyBridge, TcpBridge
from simulator.clock import RealClock, ScaledClock, SimClock
from simulator.faults import FaultSpecError
from simulator.registry import Simulator


def simulate(
    model: str = typer.Option(..., "--model", help="magstim-200/-bistim/-rapid2, magventure-r30/-x100"),
    firmware: int | None = typer.Option(None, "--firmware", help="Rapid² firmware major version (default: before V9)"),
    unlock_code: str | None = typer.Option(None, "--unlock-code", help="unlock code a V9+ Rapid² accepts (made-up)"),
    faults: str | None = typer.Option(None, "--faults", help="fault plan, e.g. 'drop_reply@cmd=E,unplug@pulse=600'"),
    pty: bool = typer.Option(False, "--pty", help="serve on a pseudo-terminal; its path is the first stdout line"),
    tcp: int | None = typer.Option(None, "--tcp", help="serve on 127.0.0.1:PORT"),
    realtime: bool = typer.Option(False, "--realtime", help="move bytes at the baud rate (10 bits per byte)"),
    speed: float = typer.Option(1.0, "--speed", help="run the device clock this many times faster (tests)"),
    option: list[str] | None = typer.Option(None, "--option", help="device option KEY=VALUE, e.g. arm_delay_s=0.8"),
) -> None:
    """Run a simulated stimulator until SIGTERM/SIGINT."""
    if not pty and tcp is None:
        raise typer.BadParameter("give --pty, --tcp PORT, or both")
    clock: SimClock = RealClock() if speed == 1.0 else ScaledClock(speed)
    try:
        options = dict(item.split("=", 1) for item in option or [])
        sim = Simulator(model, firmware, unlock_code, faults, clock=clock, **options)
    except (KeyError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc
    bridges: list[Bridge] = []
    if pty:
        pty_bridge = PtyBridge(sim, realtime)
        bridges.append(pty_bridge)
        print(pty_bridge.path, flush=True)
    if tcp is not None:
        tcp_bridge = TcpBridge(sim, tcp, realtime)
        bridges.append(tcp_bridge)
        print(f"socket://127.0.0.1:{tcp_bridge.port}", flush=True)
    _serve(sim, bridges)


def _serve(sim: Simulator, bridges: list[Bridge]) -> None:
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    for bridge in bridges:
        bridge.start()
    threading.Thread(target=_read_script, args=(sim, bridges), name="simulator-stdin", daemon=True).start()
    while not stop.wait(0.2):
        pass
    for bridge in bridges:
        bridge.stop()


def _read_script(sim: Simulator, bridges: list[Bridge]) -> None:
    """Apply stdin lines to the running simulator (daemon thread: dies with the process)."""
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        try:
            _apply(sim, bridges, words)
        except (FaultSpecError, ValueError, KeyError, RuntimeError) as exc:
            print(f"error: {exc}", file=sys.stderr, flush=True)


def _apply(sim: Simulator, bridges: list[Bridge], words: list[str]) -> None:
    command, args = words[0], words[1:]
    if command == "fault":
        sim.faults.add(",".join(args))
    elif command == "panel":
        kwargs = dict(arg.split("=", 1) for arg in args[1:])
        sim.panel(args[0], **kwargs)
    elif command == "restart":
        sim.panel("restart")
    elif command == "plug":  # after an unplug fault: the unit on a new pty, whose path is printed
        ptys = [b for b in bridges if isinstance(b, PtyBridge)]
        if not ptys:
            raise RuntimeError("plug: only a unit served on a pty can be plugged back in")
        print(f"plugged {ptys[0].plug_in()}", flush=True)
    elif command == "transcript":
        print(sim.transcript.dump(), file=sys.stderr, flush=True)
    elif command == "pulses":  # what the unit delivered, as a test sees it from outside any host
        sim.device.advance()  # up to its clock: with its cable pulled, no host's reads move it on
        print(f"pulses {sim.device.pulses}", flush=True)
    else:
        raise ValueError(f"unknown script command {command!r}")
