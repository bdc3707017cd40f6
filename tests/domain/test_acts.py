"""The acts on a call (accept, T2 need, T1 warn, T3 terminate, immediate terminate, T5 callback task)
against a FakeUnitOfWork and the simulated platform: what each records, the outbox jobs that follow
from its event, and the live events published after commit. No Flask, no database server."""
import subprocess
import sys

import pytest
from sqlalchemy import select

from call_flows.calls import control
from call_flows.clock import utcnow
from call_flows.errors import CallEnded, WarningRequired
from call_flows.models import (CallbackTask, CallWarning, CaseNote, EmailDelivery, Incident, PlatformAction,
                               RecoveryPeriod)


def _accepted(world):
    uow = world["uow"]
    with uow:
        control.accept(uow.session, world["call"].call_sid, world["handler"], utcnow())
        uow.commit()
    uow.jobs.clear()
    uow.published.clear()
    return uow


def _warned(world):
    uow = _accepted(world)
    with uow:
        control.warn(uow.session, world["call"].call_sid, world["handler"], "abuse", "shouting", utcnow())
        uow.commit()
    uow.jobs.clear()
    uow.published.clear()
    return uow


def _terminate(world, **extra):
    uow = world["uow"]
    act = {"reason": "abuse", "immediate_reason": None, "immediate_detail": None, **extra}
    with uow:
        result = control.terminate(uow.session, world["call"].call_sid, world["handler"], act["reason"],
                                   act["immediate_reason"], act["immediate_detail"], None,
                                   {"spoke_to": "Mr Smith"}, utcnow())
        uow.commit()
    return result


def _tasks(uow) -> list[str]:
    """The task names of the jobs handed over (a job names its task by its dotted path)."""
    return [path.rsplit(".", 1)[-1] for path in uow.jobs]


def test_accept_rings_the_handlers_phone_in_and_publishes_call_accepted(world):
    uow = world["uow"]
    with uow:
        call = control.accept(uow.session, world["call"].call_sid, world["handler"], utcnow())
        uow.commit()
    assert call.handler_id == world["handler"].id and call.status == "in-progress"
    assert _tasks(uow) == ["connect_handler"]
    assert uow.published == [{"kind": "call_accepted", "call_sid": call.call_sid, "handler_id": world["handler"].id,
                              "team_id": world["handler"].team_id}]
    actions = list(uow.session.scalars(select(PlatformAction.action)))
    assert actions  # the simulated platform was asked to ring the handler in


def test_t2_a_need_is_recorded_with_nothing_further(world):
    uow = _accepted(world)
    with uow:
        call = control.note_need(uow.session, world["call"].call_sid, world["handler"], "hard of hearing")
        uow.commit()
    assert call.needs_note == "hard of hearing"
    assert _tasks(uow) == [] and uow.published == []


def test_t1_a_warning_is_stored_played_to_the_caller_and_published(world):
    uow = _accepted(world)
    with uow:
        warning = control.warn(uow.session, world["call"].call_sid, world["handler"], "abuse", "shouting", utcnow())
        uow.commit()
    assert _tasks(uow) == ["play_warning"]
    assert uow.published == [{"kind": "call_warned", "call_sid": world["call"].call_sid, "reason": "abuse",
                              "handler_id": world["handler"].id, "team_id": world["handler"].team_id}]
    uow.session.refresh(warning)
    assert warning.platform_status == "played"
    assert [e["kind"] for e in world["bus"].events] == ["warning_played"]
    assert uow.session.scalar(select(Incident.call_id)) == world["call"].id  # I6: opened by the first warning


def test_t3_terminate_without_a_warning_is_refused_and_nothing_follows(world):
    uow = _accepted(world)
    with pytest.raises(WarningRequired):
        _terminate(world)
    assert _tasks(uow) == [] and uow.published == [] and uow.commits == 1  # only the accept's


def test_t3_t4_t5_a_termination_plays_the_final_notice_first_then_the_write_up_follows(world):
    uow = _warned(world)
    result = _terminate(world)
    termination = result.termination
    assert result.created and uow.commits == 2 + 2  # accept, warn, then the termination's two commits (9.16)
    assert _tasks(uow)[0] == "end_call"  # handed over before the write-up's jobs
    assert {"notify_manager", "alert_team_lead", "send_email"} <= set(_tasks(uow)[1:])
    assert uow.published == [{"kind": "call_terminated", "call_sid": world["call"].call_sid, "reason": "abuse",
                              "serious": False, "handler_id": world["handler"].id,
                              "team_id": world["handler"].team_id}]
    uow.session.refresh(termination)
    assert termination.platform_status == "played"
    note = uow.session.get(CaseNote, termination.case_note_id)
    assert note.kind == "termination" and note.fields == {"spoke_to": "Mr Smith"}  # T4
    task = uow.session.get(CallbackTask, termination.callback_task_id)
    assert task.manager_id == world["manager"].id  # T5
    period = uow.session.scalar(select(RecoveryPeriod))
    assert period.user_id == world["handler"].id and period.termination_id == termination.id  # issue 6
    assert {"termination_played", "team_lead_alert", "callback_created"} <= {e["kind"] for e in world["bus"].events}


def test_t3_i7_an_immediate_termination_needs_no_warning_and_is_serious(world):
    uow = _accepted(world)
    result = _terminate(world, reason="threats", immediate_reason="threat_of_violence")
    assert result.created
    assert uow.published[0]["kind"] == "call_terminated" and uow.published[0]["serious"] is True
    incident = uow.session.get(Incident, result.termination.incident_id)
    assert incident.serious  # I7
    assert uow.session.scalar(select(CallWarning.id)) is None


def test_t5_a_callback_task_tells_its_line_manager_once(world):
    _warned(world)
    _terminate(world)
    uow = world["uow"]
    task = uow.session.scalar(select(CallbackTask))
    mail = list(uow.session.scalars(select(EmailDelivery).where(EmailDelivery.purpose == "new_callback")))
    assert [m.status for m in mail] == ["sent"] and task.case_reference in mail[0].subject
    told = [to for to, subject in world["mailer"].sent if subject.startswith("New callback task")]
    assert told == [mail[0].to_address]


def test_a_repeated_termination_is_the_same_act_and_nothing_follows_again(world):
    uow = _warned(world)
    first = _terminate(world)
    uow.jobs.clear()
    uow.published.clear()
    again = _terminate(world)
    assert not again.created and again.termination.id == first.termination.id
    assert _tasks(uow) == [] and uow.published == []


def test_an_act_refused_after_its_events_were_recorded_publishes_nothing(world):
    uow = _accepted(world)
    with pytest.raises(RuntimeError), uow:
        control.warn(uow.session, world["call"].call_sid, world["handler"], "abuse", None, utcnow())
        raise RuntimeError("the view failed before commit")
    assert _tasks(uow) == [] and uow.published == []
    assert uow.session.scalar(select(CallWarning.id)) is None
    with uow:
        uow.commit()  # a later commit does not publish the discarded act
    assert uow.published == []


def test_warn_on_an_ended_call_is_refused(world):
    uow = _accepted(world)
    world["call"].status = "completed"
    uow.session.commit()
    with pytest.raises(CallEnded), uow:
        control.warn(uow.session, world["call"].call_sid, world["handler"], "abuse", None, utcnow())
    assert _tasks(uow) == [] and uow.published == []


def test_the_domain_and_its_write_path_import_no_flask():
    code = ("import sys, call_flows.unit_of_work, call_flows.follow_ups, call_flows.jobs.handover, "
            "call_flows.calls.control, call_flows.live_events; "
            "assert 'flask' not in sys.modules and 'app' not in sys.modules, sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
