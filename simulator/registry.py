"""Making simulators: from arguments, or from a ``sim://`` URL; named instances for tests.

URL: ``sim://<model>?firmware=9&unlock_code=...&faults=...`` makes a fresh device on the real clock;
``sim://<model>?device=<name>`` attaches to a ``Simulator`` a test created (with its clock).
"""

from __future__ import annotations

import itertools
import threading
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from config.device_profiles import load_profile
from simulator.clock import RealClock, SimClock
from simulator.device import SimDevice
from simulator.faults import FaultPlan
from simulator.magstim_model import MagstimDevice
from simulator.magventure_model import MagVentureDevice

_registry: dict[str, Simulator] = {}
_registry_lock = threading.Lock()
_names = itertools.count(1)


def parse_firmware(text: str | int | None) -> tuple[int, ...] | None:
    """``9`` / ``"9.0.1"`` → (9, 0, 1)-style tuple."""
    if text is None or text == "":
        return None
    parts = tuple(int(p) for p in str(text).split("."))
    return parts + (0,) * (3 - len(parts))


class Simulator:
    """A simulated stimulator: the device core plus handles for tests (faults, panel, transcript)."""

    def __init__(self, model: str, firmware: int | str | None = None, unlock_code: str | None = None,
                 faults: str | None = None, clock: SimClock | None = None, name: str | None = None,
                 **options: Any) -> None:
        profile = load_profile(model)
        self.model = model
        self.clock: SimClock = clock or RealClock()
        plan = FaultPlan(faults)
        self.device: SimDevice
        if profile.family == "magstim":
            self.device = MagstimDevice(profile, self.clock, plan, parse_firmware(firmware), unlock_code, **options)
        else:
            self.device = MagVentureDevice(profile, self.clock, plan, **options)
        self.name = name or f"sim-{next(_names)}"
        with _registry_lock:
            _registry[self.name] = self

    @property
    def url(self) -> str:
        """The ``sim://`` URL that attaches to this instance."""
        return f"sim://{self.model}?device={quote(self.name)}"

    @property
    def faults(self) -> FaultPlan:
        """The fault plan (add faults at run time with ``faults.add(spec)``)."""
        return self.device.faults

    @property
    def transcript(self) -> Any:
        """Every frame in both directions."""
        return self.device.transcript

    def panel(self, action: str, **kwargs: Any) -> None:
        """Act at the unit's front panel (see the family's ``panel``)."""
        getattr(self.device, "panel")(action, **kwargs)  # noqa: B009 - both families define it

    def close(self) -> None:
        """Forget this instance."""
        with _registry_lock:
            _registry.pop(self.name, None)

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def lookup(name: str) -> Simulator:
    """A registered simulator by name."""
    with _registry_lock:
        if name not in _registry:
            raise KeyError(f"no simulator named {name!r}")
        return _registry[name]


def from_url(url: str) -> Simulator:
    """The simulator a ``sim://`` URL names or describes."""
    parts = urlsplit(url)
    if parts.scheme != "sim":
        raise ValueError(f"not a sim:// URL: {url!r}")
    model = parts.netloc or parts.path.lstrip("/")
    query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
    if "device" in query:
        return lookup(query.pop("device"))
    options: dict[str, Any] = {k: v for k, v in query.items() if k not in {"firmware", "unlock_code", "faults"}}
    return Simulator(model, query.get("firmware"), query.get("unlock_code"), query.get("faults"), **options)
