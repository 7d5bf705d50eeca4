"""The prescription's pulses, not its trains, are the budget: a resume delivers at most what remains, by the count
the record trusts (the unit's own counter where it keeps one, the estimate where it does not), and refuses when
nothing remains. Open trains after a crash are estimated, flagged, and listed in the review queue.
"""

from __future__ import annotations

from datetime import timedelta

from tests.agent.flow import Treatable, check_in_and_ready, treatable_booking
from tests.builders.agent_script import ScriptedRun, deliver_command
from tests.builders.clinic import WRITE, ok
from tests.conftest import PASSWORD, T0, Tenant

PLANNED, PER_TRAIN, TRAIN_S, ITI_S = 3000, 40, 4.0, 26.0


def _started(tenant: Tenant, model: str) -> tuple[Treatable, int]:
    t = treatable_booking(tenant, model=model)
    session = check_in_and_ready(t)
    ok(t.tech.post(f"/api/v1/sessions/{session['id']}/start", headers=WRITE))
    return t, int(session["id"])


def _record(t: Treatable, session_id: int) -> dict:
    return dict(ok(t.tech.get(f"/api/v1/sessions/{session_id}")))


def test_resume_after_the_unit_outlived_its_agent_delivers_only_what_the_unit_left(tenant: Tenant) -> None:
    """A MagPro went on alone after its agent died: its counter shows 370 pulses in the run, 220 of them recorded.
    The resume gets 2630 pulses (65 trains, then one of 30), never the 70 whole trains the record would suggest."""
    t, sid = _started(tenant, "magventure-x100")
    agent = tenant.client("agent")
    assert deliver_command(agent, t.chair_id)["trains"] == 75
    run = ScriptedRun(sid, "run-1", T0)
    run.start(device_count=1000)
    run.trains(1, 5, PER_TRAIN, TRAIN_S, ITI_S, per_pulse=True)
    run.add("train_started", after_s=ITI_S, train=6, planned_pulses=PER_TRAIN)
    for _ in range(20):
        run.add("pulses_delivered", after_s=0.1, count=1, train=6)
    # The restarted agent closes the run with the unit's own counter.
    run.add("run_ended", after_s=30, status="interrupted", reason="the chair agent stopped during delivery",
            unrecorded_pulses=150, device_count={"at_start": 1000, "after": 1370})
    run.send(agent)
    record = _record(t, sid)
    assert record["status"] == "interrupted"
    assert record["pulse_counts"] == {"unit": 370, "recorded": 220, "estimated": 0, "unit_only": 150,
                                      "trusted": "unit", "delivered": 370, "planned": PLANNED, "remaining": 2630}

    resumed = ok(t.tech.post(f"/api/v1/sessions/{sid}/resume", headers=WRITE))
    assert resumed["status"] == "programming"
    program = deliver_command(agent, t.chair_id)
    assert (program["trains"], program["pulses_per_train"]) == (65, PER_TRAIN)

    run2 = ScriptedRun(sid, "run-2", T0 + timedelta(minutes=10))
    run2.start()
    run2.trains(1, 65, PER_TRAIN, TRAIN_S, ITI_S)
    run2.add("run_ended", status="completed", reason=None)
    run2.send(agent)
    assert _record(t, sid)["status"] == "programming"  # the shortened last train is on its way
    last = deliver_command(agent, t.chair_id)
    assert (last["trains"], last["pulses_per_train"]) == (1, 30)

    run3 = ScriptedRun(sid, "run-3", T0 + timedelta(minutes=40))
    run3.start()
    run3.trains(1, 1, 30, 3.0, 0)
    run3.add("run_ended", status="completed", reason=None)
    run3.send(agent)
    final = _record(t, sid)
    assert (final["status"], final["pulses_delivered"]) == ("completed", PLANNED)
    assert final["pulse_counts"]["remaining"] == 0


def _chair_page(tenant: Tenant, t: Treatable) -> str:
    browser = tenant.anonymous()
    signed = browser.post("/login", data={"username": tenant.usernames["technician"], "password": PASSWORD},
                          follow_redirects=False)
    assert signed.status_code == 303, signed.text
    page = browser.get(f"/chair/bookings/{t.booking_id}")
    assert page.status_code == 200, page.text
    return page.text


def _magpro_line_lost(tenant: Tenant, *, runs_on: bool) -> tuple[Treatable, int]:
    """A MagPro runs its 75-train sequence alone: the line to it is lost 10 pulses into train 6
    (``runs_on``: the agent says nothing confirmed the unit stopped)."""
    t, sid = _started(tenant, "magventure-x100")
    agent = tenant.client("agent")
    program = deliver_command(agent, t.chair_id)
    run = ScriptedRun(sid, "run-lost", T0)
    run.start(device_count=1000, protocol=program)
    run.trains(1, 5, PER_TRAIN, TRAIN_S, ITI_S, per_pulse=True)
    run.add("train_started", after_s=ITI_S, train=6, planned_pulses=PER_TRAIN)
    for _ in range(10):
        run.add("pulses_delivered", after_s=0.1, count=1, train=6)
    run.add("run_ended", after_s=0.5, status="interrupted", unit_may_continue=runs_on,
            reason="Disconnected: the port is gone")
    run.send(agent)
    return t, sid


def test_a_magpro_that_may_run_on_after_its_line_is_lost_counts_its_whole_program(tenant: Tenant) -> None:
    """Nothing stops a MagPro's sequence when its line goes: the whole run's program (3000) is counted, the 2790
    pulses no report named estimated, so a resume cannot give the patient pulses the unit may already have given."""
    t, sid = _magpro_line_lost(tenant, runs_on=True)
    record = _record(t, sid)
    assert record["status"] == "interrupted"
    assert record["pulse_counts"] == {"unit": None, "recorded": 210, "estimated": PLANNED - 210, "unit_only": 0,
                                      "trusted": "estimate", "delivered": PLANNED, "planned": PLANNED,
                                      "remaining": 0}
    flags = ok(t.tech.get("/api/v1/review-flags", params={"kind": "pulses_estimated"}))
    assert [f["booking_id"] for f in flags] == [t.booking_id]
    assert "lost the unit" in flags[0]["message"]
    refused = t.tech.post(f"/api/v1/sessions/{sid}/resume", headers=WRITE)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "prescription_delivered", refused.text
    page = _chair_page(tenant, t)
    assert "Nothing remains to resume" in page and "Resume remaining trains" not in page
    trains = _record(t, sid)["trains"]
    assert [(r["train"], r["delivered_pulses"], r["estimated"]) for r in trains[4:7]] == [
        (5, 40, False), (6, 40, True), (7, 40, True)]  # train 6: 10 reported, the rest of it estimated
    assert [r["train"] for r in trains[6:]] == list(range(7, 76))  # the trains the unit had not begun
    assert all(r["estimated"] and not r["completed"] and r["started_at"] is None for r in trains[6:])


def test_a_run_that_stopped_for_sure_counts_only_the_open_train(tenant: Tenant) -> None:
    """The same loss where the unit's stop was confirmed: only the open train is estimated (whole: no disarm
    bounds its end), and the resume may give the rest."""
    t, sid = _magpro_line_lost(tenant, runs_on=False)
    counts = _record(t, sid)["pulse_counts"]
    assert (counts["recorded"], counts["estimated"], counts["delivered"], counts["remaining"]) == (
        210, 30, 240, PLANNED - 240), counts


def _rapid_crash_in_last_train(tenant: Tenant, seconds_to_restart: float,
                               disarmed: bool = True) -> tuple[Treatable, int]:
    """A Rapid² (no counter of its own) delivered 74 trains; its agent died in train 75 and restarted later
    (``disarmed``: the restarted agent confirmed the unit disarmed before it ended the run)."""
    t, sid = _started(tenant, "magstim-rapid2")
    agent = tenant.client("agent")
    deliver_command(agent, t.chair_id)
    run = ScriptedRun(sid, "run-r", T0)
    run.start()
    run.trains(1, 74, PER_TRAIN, TRAIN_S, ITI_S)
    run.add("train_started", after_s=ITI_S, train=75, planned_pulses=PER_TRAIN)
    run.add("run_ended", after_s=seconds_to_restart, status="interrupted", disarmed=disarmed,
            reason="the chair agent stopped during delivery (process restarted)")
    run.send(agent)
    return t, sid


def test_an_open_train_on_a_rapid2_is_estimated_flagged_and_budgets_the_resume(tenant: Tenant) -> None:
    """Train 75 ran at most 1.6 s at 10 Hz before the restarted agent disarmed the unit and ended the run: a pulse
    at its start and one every 0.1 s after, 17 pulses estimated, not 0."""
    t, sid = _rapid_crash_in_last_train(tenant, 1.6)
    record = _record(t, sid)
    assert record["status"] == "interrupted"
    assert record["pulse_counts"] == {"unit": None, "recorded": 2960, "estimated": 17, "unit_only": 0,
                                      "trusted": "estimate", "delivered": 2977, "planned": PLANNED, "remaining": 23}
    last = record["trains"][-1]
    assert (last["train"], last["delivered_pulses"], last["estimated"], last["completed"]) == (75, 17, True, False)
    flags = ok(t.tech.get("/api/v1/review-flags", params={"kind": "pulses_estimated"}))
    assert [f["booking_id"] for f in flags] == [t.booking_id]
    page = _chair_page(tenant, t)  # the chair's page for the booking says it too
    assert "Counted by estimate: 2960 recorded" in page and "<strong>17 estimated</strong>" in page
    assert "Resume remaining trains" in page

    ok(t.tech.post(f"/api/v1/sessions/{sid}/resume", headers=WRITE))
    program = deliver_command(tenant.client("agent"), t.chair_id)
    assert (program["trains"], program["pulses_per_train"]) == (1, 23)


def test_an_open_train_whose_end_no_disarm_bounds_is_estimated_whole(tenant: Tenant) -> None:
    """The restarted agent could not open the unit (so never saw it disarmed) when it ended the run 1.6 s after
    train 75 began: nothing bounds that train's end but its plan, so all 40 of its pulses are estimated."""
    t, sid = _rapid_crash_in_last_train(tenant, 1.6, disarmed=False)
    record = _record(t, sid)
    assert record["pulse_counts"] == {"unit": None, "recorded": 2960, "estimated": PER_TRAIN, "unit_only": 0,
                                      "trusted": "estimate", "delivered": PLANNED, "planned": PLANNED,
                                      "remaining": 0}


def test_resume_refuses_when_the_prescription_was_given(tenant: Tenant) -> None:
    """The restart came long after train 75 would have ended: all 40 estimated; nothing remains to give."""
    t, sid = _rapid_crash_in_last_train(tenant, 20)
    record = _record(t, sid)
    assert record["pulse_counts"]["remaining"] == 0, (record["status"], record["pulse_counts"], record["end_reason"])
    refused = t.tech.post(f"/api/v1/sessions/{sid}/resume", headers=WRITE)
    assert refused.status_code == 409, refused.text
    error = refused.json()["error"]
    assert error["code"] == "prescription_delivered"
    assert "3000 of its 3000 prescribed pulses" in error["message"] and "beyond the prescription" in error["message"]
    assert _record(t, sid)["status"] == "interrupted"  # refused: nothing changed
    assert ok(tenant.client("agent").get("/api/v1/agent/commands", params={"chair_id": t.chair_id})) == []
