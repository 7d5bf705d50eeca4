"""The chair agent's loops: take commands, drive or observe the stimulator, heartbeat, drain the outbox.

Threads: the main loop long-polls for commands; a delivery runs in its own thread (so a stop command
is heard while it runs); a sender drains the outbox; a heartbeat reports the chair. Every device
event is written to the outbox before anything else happens to it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from device_adapters.agent.client import ServiceClient, ServiceUnavailable
from device_adapters.agent.outbox import OpenRun, Outbox
from device_adapters.clock import Clock
from device_adapters.errors import DeviceError, Disconnected, ParameterMismatch
from device_adapters.events import DeliveryEvent, WireKind
from device_adapters.stimulator import Stimulator
from device_adapters.values import DeliveryReport, TrainProtocol

log = logging.getLogger("tmsops.agent")
RESTARTED = "the chair agent stopped during delivery (process restarted)"


@dataclass
class AgentConfig:
    chair_id: int
    device_url: str
    model: str
    service_url: str
    username: str
    password: str
    outbox_path: Path
    device_options: dict[str, Any] = field(default_factory=dict)
    clock: Clock | None = None
    heartbeat_s: float = 2.0
    poll_wait_s: float = 10.0
    # How long a run whose unit went on alone after its line was lost waits for the line to come back, so that
    # it can stop the unit and end the run with the unit's own count rather than an estimate of its program.
    reconnect_s: float = 5.0
    batch_size: int = 200


class ChairAgent:
    """One agent per chair; ``run()`` until ``shutdown()``."""

    def __init__(self, config: AgentConfig) -> None:
        self.config = config
        self.outbox = Outbox(config.outbox_path)
        self.client = ServiceClient(config.service_url, config.username, config.password)
        self._stop = threading.Event()
        self._stim: Stimulator | None = None
        self._stim_lock = threading.Lock()
        self._device_detail: str | None = None
        self._identity: dict[str, Any] = {}
        self._active_session: int | None = None
        self._run_stop = threading.Event()
        self._stop_reason: str | None = None
        self._run_thread: threading.Thread | None = None
        self._last_temp: float | None = None
        self._last_state: str | None = None
        self._unit_started = False  # the run's delivery began: the unit may have pulses of it to give

    # ----- lifecycle -------------------------------------------------------------------------

    def run(self) -> None:
        """Close runs a previous process left open, then serve until shut down."""
        self._recover()
        threads = [threading.Thread(target=self._sender, name="agent-sender", daemon=True),
                   threading.Thread(target=self._heartbeat, name="agent-heartbeat", daemon=True)]
        for t in threads:
            t.start()
        try:
            self._command_loop()
        finally:
            self._stop.set()
            self._abort_run("the chair agent is shutting down")
            if self._run_thread is not None:
                self._run_thread.join(timeout=30)
            for t in threads:
                t.join(timeout=10)
            self._close_device()
            self.client.close()
            self.outbox.close()

    def shutdown(self) -> None:
        self._stop.set()

    def _recover(self) -> None:
        for run in self.outbox.open_runs():
            log.warning("closing run %s left open by a previous agent process", run.device_session)
            self._emit(run.device_session, "run_ended", {"status": "interrupted", **self._unrecorded(run, RESTARTED)})

    def _unrecorded(self, run: OpenRun, why: str) -> dict[str, Any]:
        """What the device delivered in a run beyond what was recorded, from its own counter where it keeps one.

        The device outlives its agent, and its line: a MagPro runs its sequence on its own until an agent disarms
        it (opening the device does that first), so the record alone can fall short of what the patient received.
        ``disarmed`` says the unit confirmed a disarm before the run's end is dated: only then does that end
        bound a train left open (the service estimates it from its start to this end). ``why``: the run's cause
        of ending, which the reason names first.
        """
        started = self.outbox.first_payload(run.device_session, "run_started") or {}
        before = started.get("device_count")
        stim = self._device()
        disarmed = stim is not None and run.device == self._device_key()
        after = self._device_count(stim)
        recorded = self.outbox.pulses_recorded(run.device_session)
        # A lower count than the start plus what was recorded means another unit, or one restarted since.
        if isinstance(before, int) and after is not None and self._device_key() == run.device \
                and after >= before + recorded:
            unrecorded = after - before - recorded
            return {"unrecorded_pulses": unrecorded, "device_count": {"at_start": before, "after": after},
                    "disarmed": disarmed,
                    "reason": f"{why}; the device's own counter shows {after - before} pulses in this run, "
                              f"{unrecorded} of them delivered while no agent recorded them"}
        # Programmed, the unit may have been started; one that runs its protocol alone went on until disarmed.
        may_continue = started.get("unit_runs_alone", True) is not False and \
            self.outbox.first_payload(run.device_session, "programmed") is not None
        return {"disarmed": disarmed, "unit_may_continue": may_continue,
                "reason": f"{why}; pulses are counted from the device's reports before the stop: it may have "
                          "delivered more before it was disarmed, and no device count tells "
                          "(the unit keeps none, or it was restarted or replaced)"}

    def _device_count(self, stim: Stimulator | None) -> int | None:
        if stim is None:
            return None
        try:
            return stim.stimulus_count()
        except (DeviceError, OSError):
            log.exception("reading the device's stimulus count failed")
            return None

    # ----- the device ------------------------------------------------------------------------

    def _device(self) -> Stimulator | None:
        with self._stim_lock:
            if self._stim is None:
                self._stim = self._open()
            return self._stim

    def _open(self) -> Stimulator | None:
        from device_adapters import open_stimulator

        try:
            stim = open_stimulator(self.config.device_url, self.config.model, clock=self.config.clock,
                                   **self.config.device_options)
            stim.disarm()  # whatever state a previous process left it in
            ident = stim.identify()
            self._identity = {"model": ident.model, "serial": ident.serial_number, "firmware": ident.firmware}
            self._device_detail = None
            return stim
        except (DeviceError, OSError, ValueError) as exc:
            self._device_detail = f"cannot open {self.config.device_url}: {exc}"[:300]
            return None

    def _close_device(self) -> None:
        with self._stim_lock:
            if self._stim is not None:
                try:
                    self._stim.close()
                except (DeviceError, OSError):
                    log.exception("closing the stimulator failed")
                self._stim = None

    def _device_key(self) -> str:
        return str(self._identity.get("serial") or f"chair-{self.config.chair_id}-{self.config.model}")

    # ----- commands --------------------------------------------------------------------------

    def _command_loop(self) -> None:
        while not self._stop.is_set():
            try:
                response = self.client.request(
                    "GET", "/api/v1/agent/commands", params={"chair_id": self.config.chair_id,
                                                            "wait": self.config.poll_wait_s},
                    timeout_s=self.config.poll_wait_s + 10)
            except ServiceUnavailable as exc:
                log.info("service unavailable: %s", exc)
                self._stop.wait(1.0)
                continue
            if response.status_code != 200:
                log.error("commands: %s %s", response.status_code, response.text[:300])
                self._stop.wait(2.0)
                continue
            for command in response.json():
                self._dispatch(command)

    def _dispatch(self, command: dict[str, Any]) -> None:
        if command["kind"] == "stop":
            if self._active_session == command["session_id"]:
                self._abort_run(str((command.get("payload") or {}).get("reason") or "stopped from the chair page"))
            return
        if command["kind"] == "deliver":
            if self._run_thread is not None and self._run_thread.is_alive():
                log.error("deliver for session %s refused: session %s is running",
                          command["session_id"], self._active_session)
                return
            self._run_stop.clear()
            self._stop_reason = None
            self._active_session = int(command["session_id"])
            self._run_thread = threading.Thread(target=self._deliver, args=(command,), name="agent-delivery",
                                                daemon=True)
            self._run_thread.start()

    def _abort_run(self, reason: str) -> None:
        if self._active_session is None:
            return
        self._stop_reason = reason
        self._run_stop.set()
        stim = self._stim
        if stim is not None:
            stim.abort()

    # ----- one delivery ----------------------------------------------------------------------

    def _deliver(self, command: dict[str, Any]) -> None:
        session_id = int(command["session_id"])
        payload = command.get("payload") or {}
        mode = payload.get("mode", "control")
        protocol = TrainProtocol(**payload["protocol"])
        run = f"s{session_id}-{uuid.uuid4().hex[:10]}"
        stim = self._device()
        count = self._device_count(stim)  # so that an agent restarted mid-run can learn what it missed
        # At the console the technician runs the protocol; in control mode a MagPro runs its sequence itself.
        runs_alone = mode == "record" or (stim is not None and stim.runs_protocol_alone)
        device = self._device_key()
        self.outbox.begin_run(run, session_id, device)
        self._emit(run, "run_started", {"mode": mode, "device": self._identity, "protocol": payload["protocol"],
                                        "device_count": count, "unit_runs_alone": runs_alone})
        report: DeliveryReport | None = None
        status, reason = "aborted", None
        self._unit_started = may_continue = False
        closing: dict[str, Any] = {}
        try:
            if stim is None:
                raise Disconnected(self._device_detail or "stimulator not connected")
            unsubscribe = stim.events.subscribe(lambda ev: self._on_device_event(run, ev))
            try:
                report = self._execute(stim, mode, protocol, run)
            finally:
                unsubscribe()
            status = "completed" if report.completed else "interrupted"
            # A stop asked for from the page carries the technician's reason; the device's own otherwise.
            reason = (self._stop_reason if self._run_stop.is_set() else None) or report.reason
        except DeviceError as exc:
            reason = f"{type(exc).__name__}: {exc}"
            status = "aborted" if isinstance(exc, ParameterMismatch) else "interrupted"
            stopped = self._after_device_error(exc)
            # A unit that runs its protocol alone goes on without us unless a disarm stopped it: the line was lost,
            # or the disarm failed. Its pulses from here on reach no report, so the service counts the rest of
            # the run as given.
            may_continue = runs_alone and self._unit_started and not stopped
            if may_continue and isinstance(exc, Disconnected) and self._reopen(self.config.reconnect_s):
                # The line came back: opening disarmed the unit, and its counter tells what it gave meanwhile.
                closing = self._unrecorded(OpenRun(run, session_id, device), f"{reason}; the line came back")
                may_continue = bool(closing.pop("unit_may_continue", False))  # False: its counter covers the run
            elif may_continue:
                reason += "; the unit runs its protocol on its own and nothing confirmed it stopped: press its stop"
        finally:
            self._emit(run, "run_ended", {"status": status, "reason": reason, "unit_may_continue": may_continue,
                                          "delivered_pulses": report.delivered_pulses if report else None,
                                          **closing})
            self._active_session = None

    def _execute(self, stim: Stimulator, mode: str, protocol: TrainProtocol, run: str) -> DeliveryReport:
        """Program from the prescription and read it back (never re-typed); then deliver or observe.

        Control mode: the agent starts the trains and stops at the prescribed count. Record mode: the
        technician starts the protocol at the device's console; the agent records what the device reports.
        """
        params = stim.program(protocol)  # raises ParameterMismatch before anything is delivered
        self._emit(run, "programmed", {"parameters": params.as_dict()})
        self._unit_started = True
        if mode == "control":
            return stim.run_protocol(protocol, stop=self._run_stop)
        return stim.record(expected_pulses=protocol.total_pulses, stop=self._run_stop)

    def _reopen(self, within_s: float) -> bool:
        """Try to open the device again until ``within_s`` (real seconds) have passed; True once it is open."""
        if within_s <= 0:
            return False
        deadline = time.monotonic() + within_s
        while self._device() is None:
            if time.monotonic() >= deadline or self._stop.wait(0.25):
                return False
        return True

    def _after_device_error(self, exc: DeviceError) -> bool:
        """Disarm after an error (the line lost: close the port instead); True when the unit confirmed a disarm."""
        stim = self._stim
        if isinstance(exc, Disconnected) or stim is None:
            self._close_device()
            return False
        try:
            stim.disarm()
            return True
        except (DeviceError, OSError):
            log.exception("disarm after a device error failed")
            return False

    def _on_device_event(self, run: str, event: DeliveryEvent) -> None:
        data = event.to_dict()
        if event.kind == "coil_temperature":
            self._last_temp = data.get("celsius")
        if event.kind == "state_changed":
            self._last_state = data.get("state")
        self._emit(run, event.kind, data, at=event.at)

    def _emit(self, run: str, kind: WireKind, payload: dict[str, Any], at: datetime | None = None) -> None:
        self.outbox.append(run, kind, (at or datetime.now(UTC)).isoformat(), payload)

    # ----- background loops ------------------------------------------------------------------

    def _sender(self) -> None:
        backoff = 0.2
        while True:
            batch = self.outbox.pending(self.config.batch_size)
            if not batch:
                if self._stop.is_set() and not (self._run_thread and self._run_thread.is_alive()):
                    return
                time.sleep(0.1)
                continue
            try:
                response = self.client.request("POST", "/api/v1/agent/events",
                                               json={"events": [e.wire() for e in batch]})
            except ServiceUnavailable:
                if self._stop.is_set():
                    return  # the outbox keeps them for the next start
                time.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if response.status_code == 200:
                self.outbox.mark_sent([e.id for e in batch])
                backoff = 0.2
            else:
                log.error("events refused: %s %s", response.status_code, response.text[:300])
                time.sleep(2.0)

    def _heartbeat(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(ServiceUnavailable):  # the next beat will try again
                self.client.request("POST", "/api/v1/agent/heartbeat", json=self._status())
            self._stop.wait(self.config.heartbeat_s)

    def _status(self) -> dict[str, Any]:
        running = self._run_thread is not None and self._run_thread.is_alive()
        stim = None if running else self._device()
        state, temp = self._last_state, self._last_temp
        if stim is not None:
            try:
                status = stim.status()
                state, temp = status.state, status.coil_temperature_c
                # Kept for the heartbeats sent while a run holds the device: a driver reports the coil's
                # temperature during a run only when it changes, so a steady coil would otherwise read as unknown.
                self._last_state, self._last_temp = state, temp
            except DeviceError as exc:
                self._device_detail = str(exc)[:300]
                self._close_device()
                stim = None
        # During a run the delivery thread holds the device: connected unless it lost the line (and waits for it).
        connected = self._stim is not None if running else stim is not None
        unsent, _ = self.outbox.counts()
        return {"chair_id": self.config.chair_id, "connected": connected, "model": self._identity.get("model"),
                "serial": self._identity.get("serial"), "firmware": self._identity.get("firmware"),
                "coil_temp_c": temp, "state": "delivering" if running else state,
                "active_session_id": self._active_session, "outbox_unsent": unsent,
                "detail": None if connected else self._device_detail}
