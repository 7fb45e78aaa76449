"""业务协同: every drawer action from the service function through the case adapter to the
audit log, refused transitions and roles, the drawer's content, the queue and the
department board, and a case put on a wall (command_center.collaboration)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from adapters.case.contract import CaseSource, CaseStatus, NewCase
from command_center.audit import OK, REFUSED
from command_center.auth import User

NOW = datetime(2026, 11, 25, 10, 0)


@pytest.fixture()
def cc(city_copy: str, tmp_path: Path) -> Iterator[object]:
    from command_center.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(city_copy, tmp_path, cache_seconds=0.0), start_background=False)
    yield app
    app.stop()


def add_user(cc: object, name: str, role: str) -> User:
    return cc.collab.users.add(name, role, "password-1", now=NOW)  # type: ignore[attr-defined]


def new_case(cc: object, kind: str = "event", class_code: str = "0102") -> int:
    """A fresh report at the place of an existing case (so it lands in a grid)."""
    case_adapter = cc.services.adapters.case  # type: ignore[attr-defined]
    some = case_adapter.list_cases(
        __import__("adapters.case.contract").case.contract.CaseFilter(limit=1)
    )[0]
    case = case_adapter.report_case(
        NewCase(
            kind=kind,
            class_code=class_code,
            source=CaseSource.PUBLIC,
            description="路边暴露垃圾，影响通行",
            lon=some.lon,
            lat=some.lat,
            address="测试路 1 号",
            reporter="张三",
        )
    )
    return case.id


def status(cc: object, case_id: int) -> CaseStatus:
    return cc.services.case_detail(case_id).case.status  # type: ignore[attr-defined]


def test_every_action_goes_through_the_adapter_and_the_audit_log(cc: object) -> None:
    admin = add_user(cc, "root", "admin")
    collab = cc.collab  # type: ignore[attr-defined]
    case_id = new_case(cc)
    dept = collab.suggested_departments(cc.services.case_detail(case_id).case)[0]  # type: ignore[attr-defined]
    steps = [
        ("accept", {}, CaseStatus.ACCEPTED),
        ("register", {}, CaseStatus.REGISTERED),
        ("dispatch", {"department_code": dept.department.code}, CaseStatus.DISPATCHED),
        ("return", {}, CaseStatus.REGISTERED),
        ("dispatch", {"department_code": "D02"}, CaseStatus.DISPATCHED),
        ("urge", {}, CaseStatus.DISPATCHED),
        ("escalate", {}, CaseStatus.DISPATCHED),
        ("extend", {"extend_hours": 4}, CaseStatus.DISPATCHED),
        ("report_back", {}, CaseStatus.HANDLED),
        ("rework", {}, CaseStatus.DISPATCHED),
        ("report_back", {}, CaseStatus.HANDLED),
        ("verify", {}, CaseStatus.VERIFIED),
        ("close", {}, CaseStatus.CLOSED),
    ]
    for action, kw, after in steps:
        outcome = collab.perform(admin, case_id, action, f"{action} note", screen="duty", **kw)
        assert outcome.ok, (action, outcome.message)
        assert outcome.case.status is after and status(cc, case_id) is after
    history = cc.services.case_detail(case_id).history  # type: ignore[attr-defined]
    assert [s.action for s in history] == ["report"] + [a for a, _, _ in steps]
    assert history[-1].actor == "root" and history[-1].note == "close note"
    audit = list(reversed(collab.audit.entries(case_id=case_id)))
    assert [(e.action, e.result, e.screen, e.user_name) for e in audit] == [
        (a, OK, "duty", "root") for a, _, _ in steps
    ]


def test_reject_voids_a_report(cc: object) -> None:
    officer = add_user(cc, "wang", "duty_officer")
    case_id = new_case(cc)
    assert cc.collab.perform(officer, case_id, "reject", "重复上报").ok  # type: ignore[attr-defined]
    assert status(cc, case_id) is CaseStatus.VOIDED


def test_a_forbidden_transition_is_explained_changes_nothing_and_is_audited(cc: object) -> None:
    admin = add_user(cc, "root", "admin")
    case_id = new_case(cc)
    before = cc.services.case_detail(case_id)  # type: ignore[attr-defined]
    outcome = cc.collab.perform(admin, case_id, "close", "", screen="duty")  # type: ignore[attr-defined]
    assert not outcome.ok and "不能结案" in outcome.message
    after = cc.services.case_detail(case_id)  # type: ignore[attr-defined]
    assert after.case.status is CaseStatus.REPORTED and len(after.history) == len(before.history)
    entry = cc.collab.audit.entries(case_id=case_id)[0]  # type: ignore[attr-defined]
    assert (entry.action, entry.result) == ("close", REFUSED) and "不能结案" in entry.detail


def test_a_role_may_only_take_its_own_actions(cc: object) -> None:
    officer = add_user(cc, "wang", "acceptor")  # 受理员: accepts, the shift leader registers
    leader = add_user(cc, "boss", "leader")
    case_id = new_case(cc)
    assert cc.collab.perform(officer, case_id, "accept").ok  # type: ignore[attr-defined]
    refused = cc.collab.perform(officer, case_id, "register")  # type: ignore[attr-defined]
    assert not refused.ok and "岗位无权" in refused.message
    assert not cc.collab.perform(leader, case_id, "register").ok  # type: ignore[attr-defined]
    kiosk = cc.collab.perform(None, case_id, "register")  # type: ignore[attr-defined]
    assert not kiosk.ok and "登录" in kiosk.message
    assert status(cc, case_id) is CaseStatus.ACCEPTED


def test_dispatch_without_a_department_is_refused(cc: object) -> None:
    admin = add_user(cc, "root", "admin")
    case_id = new_case(cc)
    cc.collab.perform(admin, case_id, "accept")  # type: ignore[attr-defined]
    cc.collab.perform(admin, case_id, "register")  # type: ignore[attr-defined]
    outcome = cc.collab.perform(admin, case_id, "dispatch")  # type: ignore[attr-defined]
    assert not outcome.ok and "部门" in outcome.message
    assert status(cc, case_id) is CaseStatus.REGISTERED


def test_the_drawer_offers_only_what_the_state_and_the_role_allow(cc: object) -> None:
    officer = add_user(cc, "wang", "duty_officer")
    dispatcher = add_user(cc, "zhao", "dispatcher")
    admin = add_user(cc, "root", "admin")
    case_id = new_case(cc)
    collab = cc.collab  # type: ignore[attr-defined]
    officer_actions = [a.value for a in collab.drawer(case_id, officer).actions]
    # the hall desk's: 催办/督办 at every open stage come with its dispatcher's rights
    assert officer_actions == ["accept", "reject", "urge", "escalate", "merge"]
    assert [a.value for a in collab.drawer(case_id, dispatcher).actions] == ["urge", "escalate"]
    kiosk = collab.drawer(case_id, None)
    assert kiosk.actions == [] and [a.value for a in kiosk.state_actions] == [
        "accept",
        "reject",
        "urge",
        "escalate",
        "merge",
    ]
    collab.perform(admin, case_id, "accept")
    collab.perform(admin, case_id, "register")
    drawer = collab.drawer(case_id, dispatcher)
    assert [a.value for a in drawer.actions] == ["dispatch", "urge", "escalate"]
    assert drawer.departments and drawer.limit_text == "1工作日"  # 暴露垃圾: 1 working day
    assert drawer.detail.case.class_name == "暴露垃圾"


def test_departments_follow_the_responsibility_rule(cc: object) -> None:
    collab = cc.collab  # type: ignore[attr-defined]
    event = cc.services.case_detail(new_case(cc, "event", "0102")).case  # type: ignore[attr-defined]
    first = collab.suggested_departments(event)
    # 事件先属地后属主: the street first, then the class's department
    assert first[0].reason == "territorial" and first[0].department.code == event.street_code
    assert first[1].reason == "owner" and first[1].department.code == "D02"
    comp = cc.services.case_detail(new_case(cc, "component", "0101")).case  # type: ignore[attr-defined]
    order = collab.suggested_departments(comp)
    # 部件先属主后属地: the owner department first
    assert order[0].reason == "owner" and order[1].department.code == comp.street_code


@pytest.mark.clock  # its SLA clock counts from now
def test_the_queue_puts_each_case_under_its_step_with_a_clock(cc: object) -> None:
    admin = add_user(cc, "root", "admin")
    collab = cc.collab  # type: ignore[attr-defined]
    waiting = new_case(cc)
    dispatched = new_case(cc)
    for action, kw in [("accept", {}), ("register", {}), ("dispatch", {"department_code": "D02"})]:
        assert collab.perform(admin, dispatched, action, **kw).ok
    queue = collab.queue()
    assert waiting in [i.case.id for i in queue["accept"]]
    item = next(i for i in queue["handle"] if i.case.id == dispatched)
    assert item.clock is not None and item.clock.deadline == item.case.deadline
    only_d02 = collab.queue(department_code="D02")
    assert all(i.case.department_code == "D02" for items in only_d02.values() for i in items)
    assert dispatched in [i.case.id for i in only_d02["handle"]]


@pytest.mark.clock  # today's funnel is the city's today
def test_department_board_counts_open_cases_and_todays_funnel(cc: object) -> None:
    admin = add_user(cc, "root", "admin")
    collab = cc.collab  # type: ignore[attr-defined]
    before = collab.department_board()
    case_id = new_case(cc)
    for action, kw in [("accept", {}), ("register", {}), ("dispatch", {"department_code": "D05"})]:
        collab.perform(admin, case_id, action, **kw)
    board = collab.department_board()
    d05 = next(r for r in board["departments"] if r["code"] == "D05")
    assert d05["open"] >= 1 and d05["name"] == "住建委"
    assert board["funnel"]["reported"] == before["funnel"]["reported"] + 1
    assert board["funnel"]["dispatched"] == before["funnel"]["dispatched"] + 1


def test_department_board_average_handling_time_is_the_appraisal_indicator(
    at_city_now: None, cc: object
) -> None:
    """平均处置时长 on the duty console: the cases reported in the last 30 days and reported
    back, from last dispatch to last report-back, in working and in wall-clock hours."""
    from datetime import timedelta

    from adapters.case.contract import CaseFilter
    from command_center.domain.calendar import load_calendar
    from command_center.domain.indicators import handling_seconds

    collab = cc.collab  # type: ignore[attr-defined]
    now = collab.clock()
    since = datetime.combine(now.date(), datetime.min.time()) - timedelta(days=30)
    calendar = load_calendar(None)
    spent: dict[str, list[tuple[int, int]]] = {}
    for case in cc.services.adapters.case.list_cases(CaseFilter(since=since, limit=None)):  # type: ignore[attr-defined]
        if case.department_code and case.dispatched_at and case.handled_at:
            spent.setdefault(case.department_code, []).append(
                handling_seconds(case.dispatched_at, case.handled_at, calendar)
            )
    board = {r["code"]: r for r in collab.department_board()["departments"]}
    assert spent and set(spent) <= set(board)
    for code, times in spent.items():
        wall = sum(w for w, _ in times) / len(times) / 3600
        work = sum(k for _, k in times) / len(times) / 3600
        assert board[code]["avg_hours"] == pytest.approx(wall), code
        assert board[code]["avg_work_hours"] == pytest.approx(work), code


def test_a_case_put_on_the_wall_shows_there_for_a_while(cc: object) -> None:
    officer = add_user(cc, "wang", "duty_officer")
    collab = cc.collab  # type: ignore[attr-defined]
    case_id = new_case(cc)
    assert not collab.put_on_wall(None, case_id=case_id).ok
    assert collab.put_on_wall(officer, case_id=case_id, seconds=30, from_screen="duty").ok
    focus = collab.wall_focus("main")
    assert focus is not None and focus.case_id == case_id
    assert collab.wall_focus("briefing") is None
    collab.put_on_wall(officer, case_id=case_id, seconds=-1)
    assert collab.wall_focus("main") is None


def test_an_alarm_becomes_a_case_linked_and_acknowledged_at_once(cc: object) -> None:
    from command_center.alarms import AlarmIn

    collab = cc.collab  # type: ignore[attr-defined]
    leader = add_user(cc, "sun", "shift_leader")
    some = cc.services.adapters.case.list_cases(  # type: ignore[attr-defined]
        __import__("adapters.case.contract").case.contract.CaseFilter(limit=1)
    )[0]
    alarm = cc.alarms.ingest(  # type: ignore[attr-defined]
        AlarmIn(
            source="video",
            source_id="cam-7-0001",
            level="warn",
            class_code="0502",
            title="占道经营",
            lon=some.lon,
            lat=some.lat,
            camera_id="CAM007",
        )
    ).alarm
    assert not collab.case_from_alarm(None, alarm.id).ok  # a kiosk cannot
    made = collab.case_from_alarm(leader, alarm.id, screen="duty")
    assert made.ok and made.case is not None
    case = cc.services.case_detail(made.case.id).case  # type: ignore[attr-defined]
    assert case.class_code == "0502" and case.source == "video"
    assert "CAM007" in case.description and case.grid_code
    assert case.address.endswith(f"社区第{case.grid_code[12:]}网格")  # a place, not blank
    # the shift leader accepts and registers at once: the next click dispatches
    assert case.status is CaseStatus.REGISTERED
    stored = cc.alarms.store.get(alarm.id)  # type: ignore[attr-defined]
    assert stored.case_id == case.id and stored.status != "open"
    assert stored.acknowledged_by == "sun"
    actions = [e.action for e in reversed(collab.audit.entries(case_id=case.id))]
    assert actions == ["case_from_alarm", "accept", "register"]
    # the same alarm again: the same case, not a second one
    again = collab.case_from_alarm(leader, alarm.id)
    assert again.ok and again.case.id == case.id
    assert [a["id"] for a in collab.linked_alarms(case.id)] == [alarm.id]


def test_a_department_acts_on_its_own_cases_only(cc: object) -> None:
    """专业部门: 处置反馈 and 回退 on the cases dispatched to it; another department's case
    shows it no action and refuses one, audited."""
    from command_center.auth import AuthError

    collab = cc.collab  # type: ignore[attr-defined]
    with pytest.raises(AuthError, match="department"):
        add_user(cc, "nodept", "department")  # which department's cases?
    d02 = collab.users.add("huanwei", "department", "password-1", now=NOW, department_code="D02")
    assert collab.users.get("huanwei").department_code == "D02"
    desk = add_user(cc, "desk", "duty_officer")
    ours, theirs = new_case(cc), new_case(cc)
    for case_id, dept in ((ours, "D02"), (theirs, "D05")):
        for action, kw in [
            ("accept", {}),
            ("register", {}),
            ("dispatch", {"department_code": dept}),
        ]:
            assert collab.perform(desk, case_id, action, **kw).ok, (action, case_id)
    assert [a.value for a in collab.drawer(ours, d02).actions] == ["return", "report_back"]
    assert collab.drawer(theirs, d02).actions == []
    refused = collab.perform(d02, theirs, "report_back", "已处理")
    assert not refused.ok and "本部门" in refused.message
    assert status(cc, theirs) is CaseStatus.DISPATCHED
    assert collab.perform(d02, ours, "report_back", "已清运").ok
    assert status(cc, ours) is CaseStatus.HANDLED
    entry = collab.audit.entries(case_id=theirs)[0]
    assert (entry.user_name, entry.action, entry.result) == ("huanwei", "report_back", REFUSED)
