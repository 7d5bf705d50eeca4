"""Shared by the driver and simulator suites: a virtual clock, simulators on it, and a guard that no thread
outlives a test."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

import simulator
from simulator import Simulator, VirtualClock

UNLOCK = "test-unlock-0000"  # made up: never a real unit's code


@pytest.fixture
def vclock() -> VirtualClock:
    """A clock that only moves when slept on."""
    return VirtualClock()


@pytest.fixture
def make_sim(vclock: VirtualClock) -> Iterator[Callable[..., Simulator]]:
    """Create simulators on the test's virtual clock; forgotten after the test."""
    made: list[Simulator] = []

    def make(model: str, **kwargs: Any) -> Simulator:
        if model == "magstim-rapid2" and kwargs.get("firmware", 0) and int(kwargs["firmware"]) >= 9:
            kwargs.setdefault("unlock_code", UNLOCK)
        sim = simulator.Simulator(model, clock=vclock, **kwargs)
        made.append(sim)
        return sim

    yield make
    for sim in made:
        sim.close()


@pytest.fixture(autouse=True)
def no_leftover_threads() -> Iterator[None]:
    """Every driver thread must be joined by ``close()``."""
    before = set(threading.enumerate())
    yield
    left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
    assert not left, f"threads left running: {left}"
