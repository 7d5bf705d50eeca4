"""How busy a server process's threads were while a load ran: the event loop's thread beside all the others.

Read from ``/proc/<pid>/task/*/stat`` (Linux), so the figure costs the server nothing. A loop near 100 % of a core
is the limit of one process (Python runs one thread at a time); the other threads (the group commit's writer, the
request thread pool) share the same interpreter lock. Child processes (the scheduler leader's audit sealer) are
counted apart: they have an interpreter of their own, but the same two cores.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ThreadsCpu:
    loop: float  # % of one core: the main thread, where uvicorn's event loop runs
    others: float  # % of one core: every other thread of the process together
    children: float  # % of one core: the process's child processes (the audit sealer, on the leader)


def _ticks(pid: int) -> dict[int, int]:
    """CPU ticks (user + system) of each thread of ``pid`` so far."""
    found: dict[int, int] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found[int(task.name)] = _cpu_ticks(_stat_fields(task / "stat"))
        except OSError:  # the thread ended meanwhile
            continue
    return found


def _stat_fields(stat: Path) -> list[str]:
    """The fields of a ``/proc`` stat file after the command name (which may hold spaces and parentheses)."""
    return stat.read_text().rsplit(")", 1)[1].split()


def _cpu_ticks(fields: list[str]) -> int:
    """User + system CPU ticks from ``_stat_fields``."""
    return int(fields[11]) + int(fields[12])


def _children_ticks(pid: int) -> dict[int, int]:
    """CPU ticks (user + system, all threads) of each child process of ``pid`` so far."""
    found: dict[int, int] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fields = _stat_fields(proc / "stat")
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[1]) == pid:
            found[int(proc.name)] = _cpu_ticks(fields)
    return found


def measure(pid: int, run: Callable[[], T]) -> tuple[T, ThreadsCpu]:
    """Run ``run`` and return its result with the CPU the process's threads used meanwhile."""
    before, children_before, began = _ticks(pid), _children_ticks(pid), time.monotonic()
    result = run()
    after, children_after, seconds = _ticks(pid), _children_ticks(pid), time.monotonic() - began

    def percent(ticks: int, earlier: int) -> float:
        return (ticks - earlier) / _TICKS / seconds * 100

    used = {tid: percent(ticks, before.get(tid, 0)) for tid, ticks in after.items()}
    children = sum(percent(ticks, children_before.get(child, 0)) for child, ticks in children_after.items())
    return result, ThreadsCpu(loop=used.get(pid, 0.0), others=sum(v for tid, v in used.items() if tid != pid),
                              children=children)
