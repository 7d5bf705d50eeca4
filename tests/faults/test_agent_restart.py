"""A chair agent killed while it waits for commands: the next command goes to its next process."""

from __future__ import annotations

import time
from collections.abc import Callable

from tests.faults.evidence import judge, wait_for_end
from tests.faults.processes import AgentProcess
from tests.faults.rig import Rig, protocol


def test_a_command_queued_after_the_agent_died_goes_to_its_next_process(
        rig: Rig, start_agent: Callable[[float], AgentProcess]) -> None:
    first = start_agent(0)
    first.kill()  # SIGKILL in the middle of its long poll
    time.sleep(0.5)  # the service has seen the connection close; the command comes after that
    session_id = rig.start_session(protocol(3))
    nxt = start_agent(0)
    ts = wait_for_end(rig.engine, session_id, 60)
    # Before the fix the dead agent's poll took the command and the session ended 'lost' (or never).
    assert ts.status == "completed", ts.end_reason
    assert (ts.pulses_delivered, ts.trains_delivered) == (120, 3)
    assert judge(rig.engine, session_id, nxt.outbox).ok
