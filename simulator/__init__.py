"""The software stimulator: the far end of the wire for tests, CI and demos.

Importing it registers the ``sim://`` URL scheme with pyserial, so
``serial.serial_for_url("sim://magstim-rapid2?firmware=9&unlock_code=test-unlock-0000")`` opens a
simulated Rapid². It has its own codecs and never imports ``device_adapters``.
"""

from __future__ import annotations

import serial

from simulator.clock import RealClock, ScaledClock, VirtualClock
from simulator.faults import Fault, FaultPlan, FaultSpecError, parse_faults
from simulator.registry import Simulator, from_url, lookup

if "simulator" not in serial.protocol_handler_packages:
    serial.protocol_handler_packages.append("simulator")

__all__ = [
    "Fault", "FaultPlan", "FaultSpecError", "RealClock", "ScaledClock", "Simulator", "VirtualClock",
    "from_url", "lookup", "parse_faults",
]
