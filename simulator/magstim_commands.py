"""Command handling for the simulated Magstim units (docs/device-protocols.md §1.3–1.4, §1.7)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

from simulator import magstim_codec as mc

if TYPE_CHECKING:
    from simulator.magstim_model import MagstimDevice

Handler = Callable[["MagstimDevice", bytes], list[bytes]]
NEEDS_REMOTE = set("@ACEYZBD[^_bn")
ALL = {"single", "bistim", "rapid"}
AVAILABLE = {
    "Q": ALL, "R": ALL, "E": ALL, "@": ALL, "F": ALL, "K": ALL,
    "J": {"single", "bistim"}, "A": {"bistim"}, "C": {"bistim"}, "Y": {"bistim"}, "Z": {"bistim"}, "X": {"bistim"},
    "B": {"rapid"}, "D": {"rapid"}, "[": {"rapid"}, "^": {"rapid"}, "_": {"rapid"}, "b": {"rapid"},
    "\\": {"rapid"}, "N": {"rapid"}, "I": {"rapid"}, "x": {"rapid9"}, "n": {"rapid9"}, "o": {"rapid9"},
}


def event_for(frame: bytes) -> str | None:
    """``arm``/``fire``/``disarm`` for ``EB``/``EH``/``EA`` frames."""
    if len(frame) == 3 and frame[:1] == b"E":
        return {"A": "disarm", "B": "arm", "H": "fire"}.get(chr(frame[1]))
    return None


def _available(d: MagstimDevice, command: str) -> bool:
    kinds = AVAILABLE.get(command, set())
    return d.kind in kinds or ("rapid9" in kinds and d.kind == "rapid" and d.major >= 9)


def handle(d: MagstimDevice, frame: bytes) -> list[bytes]:
    """Act on one command frame; return the reply frames."""
    command = chr(frame[0])
    if len(frame) == 1 or not _available(d, command):
        return [mc.error(None, "?")]
    if not mc.valid(frame):
        return [mc.error(command, "data")]  # our choice: the TDbs do not say what a bad checksum gets
    data = frame[1:-1]
    if command in NEEDS_REMOTE and not d.remote and data != b"A":
        return [] if d.no_reply_without_remote else [mc.error(command, "state")]
    d.last_command = d.clock.monotonic()
    return HANDLERS[command](d, data)


def _q(d: MagstimDevice, data: bytes) -> list[bytes]:
    wanted = d.unlock_code.encode("latin-1") if d.kind == "rapid" and d.major >= 9 and d.unlock_code else b"@"
    if data != wanted:
        return [mc.error("Q", "data")]
    d.remote = True
    return d.reply("Q")


def _r(d: MagstimDevice, data: bytes) -> list[bytes]:
    d.remote = False
    d.disarm()
    return d.reply("R")


def _e(d: MagstimDevice, data: bytes) -> list[bytes]:
    before = d.reply("E")
    mode = data.decode("latin-1")
    if mode == "A":
        d.disarm()
    elif mode == "B":
        if not d.arm():
            return [mc.error("E", "state")]
    elif mode == "H":
        if not d.fire():
            return [mc.error("E", "state")]
    else:
        return [mc.error("E", "data")]
    return before


def _power(d: MagstimDevice, data: bytes, channel: int, command: str) -> list[bytes]:
    value = mc.number(data)
    top = 110 if d.enhanced else d.profile.max_output_percent
    if value is None or value > top:
        return [mc.error(command, "data")]
    if d.kind == "rapid" and d.busy():
        return [mc.error(command, "state")]
    before = d.reply(command)
    change, d.power[channel] = value - d.power[channel], value
    if d.state != "standby":  # settling: about 10 ms per % up, 100 ms per % down (MagPy docstring)
        d.state = "armed"
        d.ready_at = d.clock.monotonic() + (0.01 * change if change > 0 else 0.1 * -change)
    return before


def _interval(d: MagstimDevice, data: bytes) -> list[bytes]:
    value = mc.number(data)
    if value is None:
        return [mc.error("C", "data")]
    before = d.reply("C")
    d.interval = value
    return before


def _hires(d: MagstimDevice, on: bool, command: str) -> list[bytes]:
    if d.state != "standby":
        return [mc.error(command, "state")]
    before = d.reply(command)
    d.high_resolution, d.interval = on, 10
    return before


def _params_200(d: MagstimDevice, data: bytes) -> list[bytes]:
    rest = mc.digits(d.power[1], 3) + mc.digits(d.interval, 3) if d.kind == "bistim" else b"000000"
    return d.reply("J", mc.digits(d.power[0], 3) + rest)


def _temperature(d: MagstimDevice, data: bytes) -> list[bytes]:
    return d.reply("F", mc.digits(round(d.temps[0] * 10), 3) + mc.digits(round(d.temps[1] * 10), 3))


def _rapid_setting(d: MagstimDevice, data: bytes, command: str, check: Callable[[int], bool],
                   apply: Callable[[int], None]) -> list[bytes]:
    value = mc.number(data)
    if value is None or not check(value):
        return [mc.error(command, "data")]
    if d.busy():
        return [mc.error(command, "state")]
    before = d.reply(command, d.rapid_byte())
    apply(value)
    return before


def _frequency(d: MagstimDevice, data: bytes) -> list[bytes]:
    rapid = d.profile.rapid
    assert rapid is not None
    return _rapid_setting(d, data, "B", lambda v: 0 < v <= rapid.absolute_max_frequency_hz[d.supply] * 10,
                          lambda v: setattr(d, "freq_tenths", v))


def _pulses(d: MagstimDevice, data: bytes) -> list[bytes]:
    rapid = d.profile.rapid
    assert rapid is not None
    top = rapid.max_pulses[rapid.firmware_key(d.major)]
    return _rapid_setting(d, data, "D", lambda v: 0 < v <= top, lambda v: setattr(d, "n_pulses", v))


def _duration(d: MagstimDevice, data: bytes) -> list[bytes]:
    rapid = d.profile.rapid
    assert rapid is not None
    top = rapid.max_duration_s[rapid.firmware_key(d.major)] * 10
    return _rapid_setting(d, data, "[", lambda v: v <= top, lambda v: setattr(d, "duration_tenths", v))


def _enhanced(d: MagstimDevice, on: bool, command: str) -> list[bytes]:
    if d.duration_tenths:
        return [mc.error(command, "state")]
    before = d.reply(command, d.rapid_byte())
    d.enhanced = on
    return before


def _rapid_params(d: MagstimDevice, data: bytes) -> list[bytes]:
    rapid = d.profile.rapid
    assert rapid is not None
    wait = rapid.min_wait_between_trains_s(d.power[0], d.freq_tenths / 10, d.n_pulses)
    major = d.major
    body = (mc.digits(d.power[0], 3) + mc.digits(d.freq_tenths, 4)
            + mc.digits(d.n_pulses, 5 if major >= 9 else 4) + mc.digits(d.duration_tenths, 4 if major >= 9 else 3)
            + mc.digits(math.ceil(wait * 10), 4 if major >= 7 else 3))
    return d.reply("\\", d.rapid_byte(), body)


def _version(d: MagstimDevice, data: bytes) -> list[bytes]:
    if data != b"D":
        return [mc.error("N", "data")]
    text = ".".join(str(n) for n in d.firmware)
    return [mc.build("N", b"V" + text.encode() + b"\x00")]


def _system_type(d: MagstimDevice, data: bytes) -> list[bytes]:
    return [mc.build("K", b"3012" if d.kind == "rapid" else b"3010")]


def _error_code(d: MagstimDevice, data: bytes) -> list[bytes]:
    return d.reply("I", b"E" + (b"13" if d.fatal else b"07" if d.error else b"00"))


def _system_status(d: MagstimDevice, data: bytes) -> list[bytes]:
    return d.reply("x", d.rapid_byte(), 0, 4 if d.charge_delay else 0)


def _set_charge_delay(d: MagstimDevice, data: bytes) -> list[bytes]:
    value = mc.number(data)
    if value is None or not 1 <= value <= (10000 if d.major >= 10 else 2000):
        return [mc.error("n", "data")]
    d.charge_delay = value
    if d.major >= 10:
        return d.reply("n", d.rapid_byte(), 0, 4)
    return d.reply("n", d.rapid_byte())


def _ignore_interlock(d: MagstimDevice, data: bytes) -> list[bytes]:
    before = d.reply("b")
    d.ignore_interlock = True
    return before


HANDLERS: dict[str, Handler] = {
    "Q": _q, "R": _r, "E": _e, "J": _params_200, "F": _temperature, "K": _system_type,
    "@": lambda d, data: _power(d, data, 0, "@"), "A": lambda d, data: _power(d, data, 1, "A"),
    "C": _interval, "Y": lambda d, data: _hires(d, True, "Y"), "Z": lambda d, data: _hires(d, False, "Z"),
    "X": lambda d, data: d.reply("X", b"4" if d.high_resolution else b"2"),
    "B": _frequency, "D": _pulses, "[": _duration,
    "^": lambda d, data: _enhanced(d, True, "^"), "_": lambda d, data: _enhanced(d, False, "_"),
    "b": _ignore_interlock,
    "\\": _rapid_params, "N": _version, "I": _error_code, "x": _system_status,
    "n": _set_charge_delay, "o": lambda d, data: d.reply("o", mc.digits(d.charge_delay, 5 if d.major >= 10 else 4)),
}
