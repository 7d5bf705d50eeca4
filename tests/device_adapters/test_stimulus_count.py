"""The device's own stimulus counter: what a restarted host reads to learn what was delivered without it."""

from __future__ import annotations

from collections.abc import Callable

import device_adapters as da
from simulator import Simulator, VirtualClock

SHORT = da.TrainProtocol(60, 10, 20, 3, 5)  # 60 pulses


def test_a_magpro_counts_every_stimulus_including_those_no_host_saw(
        make_sim: Callable[..., Simulator], vclock: VirtualClock) -> None:
    sim = make_sim("magventure-x100")
    with da.open_stimulator(sim.url, sim.model, clock=vclock) as stim:
        before = stim.stimulus_count()
        stim.run_protocol(SHORT)
        assert stim.stimulus_count() == before + 60 == sim.device.pulses
    with da.open_stimulator(sim.url, sim.model, clock=vclock) as stim:  # the next host, same unit
        sim.panel("start")  # the protocol run again at the unit's own panel, the host only waiting
        vclock.sleep(30)
        assert stim.stimulus_count() == before + 120 == sim.device.pulses


def test_a_magstim_keeps_no_count_and_says_so(make_sim: Callable[..., Simulator], vclock: VirtualClock) -> None:
    sim = make_sim("magstim-rapid2")
    with da.open_stimulator(sim.url, sim.model, clock=vclock) as stim:
        assert stim.stimulus_count() is None
