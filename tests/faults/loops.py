"""The kill loops: deliver session after session while SIGKILLing the service or the agent at seeded points.

Each round starts a session on the rig's chair, kills (and restarts) the process one or more times at
points drawn from the seeded generator, waits for the session to end, and judges it (evidence.py):
every event of the agent's outbox stored once and nothing else, a session that says what its events
say, and a chair that reports a disarmed device afterwards. A round that goes wrong is recorded and the
loop goes on, so one run shows every kind of failure it met; the caller asserts on the tally.
"""

from __future__ import annotations

import contextlib
import os
import random
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from service.core.clock import as_utc
from service.models.sessions import ChairStatus
from tests.faults.evidence import judge as judge_delivery
from tests.faults.evidence import outbox_kinds, wait_for_end, wait_until
from tests.faults.processes import AgentProcess, ServiceProcess
from tests.faults.rig import Rig, protocol


@dataclass
class Tally:
    """What a loop did and found; ``clean`` when nothing was lost, doubled or misreported."""

    name: str
    seed: int
    rounds: int = 0
    kills: int = 0
    events: int = 0
    lost: int = 0
    duplicated: int = 0
    foreign: int = 0
    lying: int = 0
    armed: int = 0
    phases: Counter[str] = field(default_factory=Counter)
    outcomes: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    ended: list[tuple[str, str, str | None]] = field(default_factory=list)  # (first kill's phase, status, reason)

    @property
    def clean(self) -> bool:
        return not (self.lost or self.duplicated or self.foreign or self.lying or self.armed or self.problems)

    def report(self) -> str:
        lines = [f"{self.name}: seed {self.seed} (rerun with TMS_FAULT_SEED={self.seed}); {self.rounds} rounds, "
                 f"{self.kills} kills, {self.events} events, {self.lost} lost, {self.duplicated} duplicated, "
                 f"{self.foreign} not from the outbox, {self.lying} lying sessions, {self.armed} chairs not disarmed",
                 f"  kills by phase: {dict(self.phases)}", f"  sessions ended: {dict(self.outcomes)}"]
        return "\n".join(lines + [f"  {p}" for p in self.problems])


BEFORE_TAKE = "before the agent took the command"
AFTER_TAKE = "after the agent took the command, before run_started"
PROGRAMMING = "programming the device"
MID_TRAIN = "mid-train"
BETWEEN_TRAINS = "between trains"
FINAL_FLUSH = "during the final flush"
AFTER_RUN = "after the run was sent"


def phase(rig: Rig, session_id: int, outbox: Path) -> str:
    """Where the delivery stood, as far as the agent had durably recorded it."""
    kinds = outbox_kinds(outbox, session_id)
    if not kinds:
        return BEFORE_TAKE if rig.command_status(session_id) == "pending" else AFTER_TAKE
    if any(kind == "run_ended" for kind, _ in kinds):
        return FINAL_FLUSH if not all(sent for _, sent in kinds) else AFTER_RUN
    open_train = False
    trains_ended = 0
    for kind, _ in kinds:
        if kind == "train_started":
            open_train = True
        elif kind == "train_ended":
            open_train, trains_ended = False, trains_ended + 1
    if open_train:
        return MID_TRAIN
    return BETWEEN_TRAINS if trains_ended else PROGRAMMING


def finish_round(rig: Rig, tally: Tally, session_id: int, agent: AgentProcess, service: ServiceProcess,
                 what: str, first_kill: str, end_timeout_s: float = 60) -> None:
    """Wait for the session to end; judge it and the chair; add the verdict to the tally."""
    tally.rounds += 1
    try:
        ts = wait_for_end(rig.engine, session_id, end_timeout_s)
    except AssertionError as exc:
        tally.lying += 1
        tally.problems.append(f"round {tally.rounds} ({what}): {exc}\n--- service:\n{service.tail()}\n"
                              f"--- agent:\n{agent.tail()}")
        return
    tally.outcomes[ts.status] += 1
    tally.ended.append((first_kill, ts.status, ts.end_reason))
    verdict = judge_delivery(rig.engine, session_id, agent.outbox)
    tally.events += verdict.events
    tally.lost += verdict.lost
    tally.duplicated += verdict.duplicated
    tally.foreign += verdict.foreign
    if verdict.lies:
        tally.lying += 1
    if not verdict.ok:
        tally.problems.append(f"round {tally.rounds} ({what}), session {session_id} {ts.status} "
                              f"({ts.end_reason}): {verdict}")
    ended_at = as_utc(ts.ended_at) if ts.ended_at else None

    def disarmed_since_end() -> bool:
        with Session(rig.engine) as s:
            status = s.get(ChairStatus, rig.chair_id)
            return (status is not None and (ended_at is None or as_utc(status.seen_at) > ended_at)
                    and status.state in ("disarmed", None) and status.active_session_id is None)

    try:
        wait_until(disarmed_since_end, 20, "a heartbeat reporting the chair disarmed")
    except AssertionError as exc:
        tally.armed += 1
        tally.problems.append(f"round {tally.rounds} ({what}), session {session_id}: {exc}")


def service_kill_loop(rig: Rig, service: ServiceProcess, agent: AgentProcess, rng: random.Random,
                      kills: int, tally: Tally, rounds: int = 0) -> Tally:
    """SIGKILL and restart the service 2-3 times per delivery, at seeded moments, for ``kills`` kills and ``rounds``."""
    while tally.kills < kills or tally.rounds < rounds:
        session_id = rig.start_session(protocol(rng.randint(3, 8), 20))
        done: list[str] = []
        first = ""
        for _ in range(rng.randint(2, 3)):  # several per delivery: a round's drain is what costs time
            at = rng.uniform(0.0, 1.0)
            time.sleep(at)
            where = phase(rig, session_id, agent.outbox)
            service.kill()
            done.append(f"at +{at:.2f} s {where}")
            first = first or where
            tally.kills += 1
            tally.phases[where] += 1
            time.sleep(rng.uniform(0.0, 0.4))  # the service is away; the agent goes on and buffers
            service.start()
        finish_round(rig, tally, session_id, agent, service, "service killed " + "; ".join(done), first)
    return tally


# Where the agent is aimed at; every fast run meets each named point (the train, pulse and moment are drawn).
AIMS = {AFTER_TAKE: "frozen in its poll", MID_TRAIN: "aiming mid-train", BETWEEN_TRAINS: "aiming between trains",
        FINAL_FLUSH: "aiming the final flush", "any moment": "at a random moment"}


def _reached(rng: random.Random, aim: str, trains: int, pulses_per_train: int,
             per_pulse: bool) -> Callable[[list[str]], bool]:
    """A predicate over the session's outbox kinds that holds once the agent reached (or passed) the aim.

    ``per_pulse``: the device reports each pulse (MagPro); a Rapid² reports a train's pulses when it ends,
    so there the train's start is the mid-train aim.
    """
    if aim == MID_TRAIN:
        train, pulse = rng.randint(1, trains), rng.randint(1, pulses_per_train - 1)

        def reached(kinds: list[str]) -> bool:
            if kinds.count("train_ended") >= train or "run_ended" in kinds:
                return True  # passed it: kill now
            if kinds.count("train_started") < train:
                return False
            since = kinds[len(kinds) - 1 - kinds[::-1].index("train_started"):]
            return since.count("pulses_delivered") >= pulse if per_pulse else True
        return reached
    if aim == BETWEEN_TRAINS:
        after = rng.randint(1, max(1, trains - 1))
        return lambda kinds: kinds.count("train_ended") >= after or "run_ended" in kinds
    return lambda kinds: "run_ended" in kinds  # the final flush


def kill_agent_at(rig: Rig, agent: AgentProcess, rng: random.Random, aim: str, proto: dict[str, Any]) -> int:
    """Start a session and SIGKILL the agent at the aimed point; returns the session id."""
    if aim == AFTER_TAKE:
        # Frozen inside its long poll, the agent is handed the command it will never read: it dies
        # between taking the command and recording run_started.
        agent.pause()
        session_id = rig.start_session(proto)
        with contextlib.suppress(AssertionError):  # frozen between two polls: the next agent takes it
            wait_until(lambda: rig.command_status(session_id) == "taken", 5, "the frozen agent's poll")
    elif aim in (MID_TRAIN, BETWEEN_TRAINS, FINAL_FLUSH):
        reached = _reached(rng, aim, proto["trains"], proto["pulses_per_train"], rig.model.startswith("magventure"))
        session_id = rig.start_session(proto)
        deadline = time.monotonic() + 15
        while not reached([k for k, _ in outbox_kinds(agent.outbox, session_id)]) and time.monotonic() < deadline:
            time.sleep(0.002)
    else:
        session_id = rig.start_session(proto)
        time.sleep(rng.uniform(0.0, 2.0))
    agent.kill()
    return session_id


def agent_kill_loop(rig: Rig, service: ServiceProcess, agent: AgentProcess, rng: random.Random,
                    kills: int, tally: Tally, rounds: int = 0, pulses_per_train: int = 20) -> Tally:
    """SIGKILL and restart the agent once or twice per delivery for ``kills`` kills, ``rounds``, and every aim hit."""
    aims: list[str] = []
    named = [a for a in AIMS if a != "any moment"]

    def unmet() -> bool:
        # Every named point hit by some kill, and a round whose first kill came after the take: the freeze can
        # miss it (the frozen agent had not taken the command yet), and a second kill may land there instead.
        firsts = {first for first, _, _ in tally.ended}
        return bool(set(named) - set(tally.phases)) or AFTER_TAKE not in firsts

    while tally.kills < kills or tally.rounds < rounds or (unmet() and tally.rounds < 3 * max(kills, rounds)):
        aims = aims or rng.sample(list(AIMS), len(AIMS))
        aim = aims.pop()
        session_id = kill_agent_at(rig, agent, rng, aim, protocol(rng.randint(3, 6), pulses_per_train))
        done = [(AIMS[aim], phase(rig, session_id, agent.outbox))]
        agent.start()
        if rng.random() < 0.4:  # again while it recovers, flushes, or takes the command afresh
            at = rng.uniform(0.2, 1.2)
            time.sleep(at)
            agent.kill()
            done.append((f"restarted, killed at +{at:.2f} s", phase(rig, session_id, agent.outbox)))
            agent.start()
        tally.kills += len(done)
        tally.phases.update(where for _, where in done)
        finish_round(rig, tally, session_id, agent, service,
                     "agent " + "; ".join(f"{how}: killed {where}" for how, where in done), done[0][1])
    return tally


def audit_verify(database_url: str) -> subprocess.CompletedProcess[str]:
    """`tmsops audit verify` on the database the loops used."""
    env = os.environ | {"TMS_DATABASE_URL": database_url, "TMS_ENVIRONMENT": "test"}
    return subprocess.run([sys.executable, "-m", "service.cli", "audit", "verify"], env=env, capture_output=True,
                          text=True, timeout=300)
