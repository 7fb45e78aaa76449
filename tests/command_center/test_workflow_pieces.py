"""The standard's workflow pieces at the service the duty console calls: 合并 a duplicate
(linked, counted once, out of the queue, audited), 催办/督办 at every open stage with the
notice to whoever holds the case, and 核实 as a stage where the city wants it
(``CC_WORKFLOW_VERIFY_STAGE``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from adapters.case.contract import CaseAction, CaseFilter, CaseStatus
from command_center.audit import OK, REFUSED
from tests.command_center.test_collaboration import NOW, add_user, new_case, status

S = CaseStatus


def make_app(city_copy: str, tmp_path: Path, **overrides) -> object:  # noqa: ANN003
    from command_center.app import create_app
    from tests.conftest import make_settings

    settings = make_settings(city_copy, tmp_path, cache_seconds=0.0, **overrides)
    return create_app(settings, start_background=False)


@pytest.fixture()
def cc(city_copy: str, tmp_path: Path) -> Iterator[object]:
    app = make_app(city_copy, tmp_path)
    yield app
    app.stop()


@pytest.fixture()
def cc_verify(city_copy: str, tmp_path: Path) -> Iterator[object]:
    app = make_app(city_copy, tmp_path, workflow_verify_stage=True)
    yield app
    app.stop()


def reported_today(cc: object, region: str) -> int:
    flt = CaseFilter(region_code=region, since=NOW.replace(hour=0), limit=None)
    return cc.services.adapters.case.case_stats([], flt)[0].reported  # type: ignore[attr-defined]


def test_a_duty_officer_merges_a_duplicate_into_the_open_case_it_repeats(cc: object) -> None:
    collab = cc.collab  # type: ignore[attr-defined]
    officer = add_user(cc, "wang", "duty_officer")
    master_id = new_case(cc)
    assert collab.perform(officer, master_id, "accept").ok
    master = cc.services.case_detail(master_id).case  # type: ignore[attr-defined]
    dup_id = new_case(cc)
    before = reported_today(cc, master.grid_code)
    drawer = collab.drawer(dup_id, officer)
    assert CaseAction.MERGE in drawer.actions
    assert drawer.masters and drawer.masters[0].id == master_id  # same class, same grid
    refused = collab.perform(officer, dup_id, "merge", "")
    assert not refused.ok and status(cc, dup_id) is S.REPORTED
    done = collab.perform(officer, dup_id, "merge", "同一处", master_case_id=master_id)
    assert done.ok, done.message
    assert status(cc, dup_id) is S.MERGED and done.case.merged_into == master_id
    assert reported_today(cc, master.grid_code) == before - 1  # counted once
    queue = collab.queue()
    assert dup_id not in {i.case.id for items in queue.values() for i in items}
    assert master_id in {i.case.id for i in queue["register"]}
    # the drawer of each names the other
    dup_drawer = collab.drawer(dup_id, officer)
    assert dup_drawer.merged_into is not None and dup_drawer.merged_into.id == master_id
    assert dup_drawer.actions == []
    master_steps = cc.services.case_detail(master_id).history  # type: ignore[attr-defined]
    assert master_steps[-1].action == "merge_in"
    entry = collab.audit.entries(case_id=dup_id)[0]
    assert (entry.action, entry.result) == ("merge", OK) and f"#{master_id}" in entry.detail
    # a dispatcher may not merge
    other = new_case(cc)
    disp = add_user(cc, "li", "dispatcher")
    assert not collab.perform(disp, other, "merge", master_case_id=master_id).ok
    assert collab.audit.entries(case_id=other)[0].result == REFUSED


def test_urge_and_escalate_at_every_open_stage_notify_whoever_holds_the_case(cc: object) -> None:
    collab = cc.collab  # type: ignore[attr-defined]
    for desk, mobile in (
        ("acceptor", "13800000001"),
        ("shift_leader", "13800000002"),
        ("dispatcher", "13800000003"),
        ("supervisor", "13800000004"),
        ("D02", "13800000005"),
    ):
        collab.sms.set_contact(desk, mobile, desk)
    leader = add_user(cc, "zhao", "shift_leader")
    case_id = new_case(cc)
    held_by = []
    for action, kw in [
        (None, {}),  # 待受理: the acceptor
        ("accept", {}),  # 待立案: the shift leader
        ("register", {}),  # 待派遣: the dispatcher
        ("dispatch", {"department_code": "D02"}),  # 处置中: the department
    ]:
        if action:
            assert collab.perform(leader, case_id, action, **kw).ok
        urged = collab.perform(leader, case_id, "urge", "请尽快")
        assert urged.ok, urged.message
        escalated = collab.perform(leader, case_id, "escalate")
        assert escalated.ok and escalated.case.status is urged.case.status
        [sms] = [s for s in collab.sms.for_case(case_id) if s.id == urged.sms_ids[0]]
        held_by.append((urged.case.status, sms.department_code, sms.mobile))
        assert len(escalated.sms_ids) == 1
    assert held_by == [
        (S.REPORTED, "acceptor", "13800000001"),
        (S.ACCEPTED, "shift_leader", "13800000002"),
        (S.REGISTERED, "dispatcher", "13800000003"),
        (S.DISPATCHED, "D02", "13800000005"),
    ]
    history = cc.services.case_detail(case_id).history  # type: ignore[attr-defined]
    urges = [(s.action, s.from_status) for s in history if s.action in ("urge", "escalate")]
    assert urges[:2] == [("urge", S.REPORTED), ("escalate", S.REPORTED)] and len(urges) == 8
    audit = [e for e in collab.audit.entries(case_id=case_id) if e.action == "urge"]
    assert all(e.result == OK for e in audit) and len(audit) == 4
    assert any("acceptor @ reported, 1 SMS" in e.detail for e in audit)
    texts = [s.params for s in collab.sms.for_case(case_id) if s.action == "urge"]
    assert any("待受理" in str(p) for p in texts)


def test_with_the_verify_stage_a_supervisor_confirms_before_registration(
    cc_verify: object,
) -> None:
    cc = cc_verify
    collab = cc.collab  # type: ignore[attr-defined]
    officer = add_user(cc, "wang", "duty_officer")  # 受理员 and 监督员
    leader = add_user(cc, "zhao", "shift_leader")
    case_id = new_case(cc)
    assert collab.perform(officer, case_id, "accept").case.status is S.CONFIRMING
    queue = collab.queue()
    assert case_id in {i.case.id for i in queue["confirm"]}
    drawer = collab.drawer(case_id, leader)
    assert CaseAction.REGISTER not in drawer.state_actions
    assert CaseAction.CONFIRM not in drawer.actions  # the shift leader is no supervisor
    assert not collab.perform(leader, case_id, "confirm").ok
    assert CaseAction.CONFIRM in collab.drawer(case_id, officer).actions
    assert collab.perform(officer, case_id, "confirm", "现场属实").case.status is S.ACCEPTED
    assert collab.perform(leader, case_id, "register").ok
    steps = [s.action for s in cc.services.case_detail(case_id).history]  # type: ignore[attr-defined]
    assert steps == ["report", "accept", "confirm", "register"]


def test_without_the_setting_there_is_no_confirm_step(cc: object) -> None:
    assert "confirm" not in cc.collab.queue()  # type: ignore[attr-defined]


def test_an_alarm_made_a_case_with_the_verify_stage_waits_for_a_supervisor(
    cc_verify: object,
) -> None:
    """The alarm's evidence stands for 核实 only in a role that may confirm: an admin's case
    goes on to 待派遣, a shift leader's waits at 待核实 (nothing refused on the way)."""
    from command_center.alarms import AlarmIn

    cc = cc_verify
    collab = cc.collab  # type: ignore[attr-defined]
    some = cc.services.adapters.case.list_cases(CaseFilter(limit=1))[0]  # type: ignore[attr-defined]
    made = {}
    for n, role in enumerate(("admin", "shift_leader")):
        user = add_user(cc, f"user{n}", role)
        alarm = cc.alarms.ingest(  # type: ignore[attr-defined]
            AlarmIn(
                source="video",
                source_id=f"cam-v-{n}",
                level="warn",
                class_code="0502",
                title="占道经营",
                lon=some.lon,
                lat=some.lat,
            )
        ).alarm
        outcome = collab.case_from_alarm(user, alarm.id, screen="duty")
        assert outcome.ok, outcome.message
        actions = [e.action for e in reversed(collab.audit.entries(case_id=outcome.case.id))]
        made[role] = (outcome.case.status, actions)
    assert made["admin"] == (
        S.REGISTERED,
        ["case_from_alarm", "accept", "confirm", "register"],
    )
    assert made["shift_leader"] == (S.CONFIRMING, ["case_from_alarm", "accept"])
