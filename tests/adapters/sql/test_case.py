"""The built-in case adapter: workflow, SLA clocks, validation of reports, statistics."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from adapters.base import AdapterError, NotFound
from adapters.case.contract import (
    CaseAction,
    CaseFilter,
    CaseSource,
    CaseStatus,
    NewCase,
    SlaState,
)
from adapters.sql.models import ROLLUP_TABLES, CaseRow, CaseStepRow
from command_center.domain.coords import from_wgs84
from command_center.domain.workflow import TransitionError

from .conftest import NOW

A, S = CaseAction, CaseStatus
_ids = itertools.count(1)


def a_grid_point(cases) -> tuple[float, float, str]:  # noqa: ANN001
    index = cases.grid_index
    code = index.codes[len(index.codes) // 2]
    p = index.geometry(code).representative_point()
    return p.x, p.y, code


def new_case(cases, **changes) -> NewCase:  # noqa: ANN001
    lon, lat, _ = a_grid_point(cases)
    fields = dict(
        kind="event",
        class_code="0102",  # 暴露垃圾: 1 working day
        source=CaseSource.SUPERVISOR,
        description="东四北大街12号门前暴露垃圾",
        lon=lon,
        lat=lat,
        reporter="监督员-test",
    )
    fields.update(changes)
    return NewCase(**fields)


def footprint(cases) -> tuple:  # noqa: ANN001
    """Everything a failed write must leave untouched."""
    with cases.engine.connect() as conn:
        counts = [
            conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in (CaseRow.__table__, CaseStepRow.__table__)
        ]
        rollup_sum = conn.execute(
            select(func.sum(ROLLUP_TABLES["case_rollup_daily"].c.reported))
        ).scalar_one()
    return (*counts, rollup_sum)


def walk(cases, case_id: int, *actions: CaseAction, **kw) -> None:  # noqa: ANN001
    for action in actions:
        extra = {}
        if action is A.DISPATCH:
            extra["department_code"] = kw.get("department_code", "D02")
        if action is A.EXTEND:
            extra["extend_hours"] = kw.get("extend_hours", 9)
        cases.act(case_id, action, "tester", **extra)


# ------------------------------------------------------------------------------ workflow


def test_full_workflow_through_the_adapter_records_every_step(cases, clock) -> None:
    case = cases.report_case(new_case(cases, external_id=f"wf-{next(_ids)}"))
    assert case.status is S.REPORTED and case.number.startswith(case.district_code + "-")
    expected = [
        (A.ACCEPT, S.ACCEPTED),
        (A.REGISTER, S.REGISTERED),
        (A.DISPATCH, S.DISPATCHED),
        (A.URGE, S.DISPATCHED),
        (A.ESCALATE, S.DISPATCHED),
        (A.EXTEND, S.DISPATCHED),
        (A.REPORT_BACK, S.HANDLED),
        (A.REWORK, S.DISPATCHED),
        (A.REPORT_BACK, S.HANDLED),
        (A.VERIFY, S.VERIFIED),
        (A.CLOSE, S.CLOSED),
    ]
    for action, status in expected:
        clock.now += timedelta(minutes=10)
        extra = {"department_code": "D02"} if action is A.DISPATCH else {}
        if action is A.EXTEND:
            extra = {"extend_hours": 4}
        case = cases.act(case.id, action, "tester", f"note {action}", **extra)
        assert case.status is status, action
    detail = cases.get_case(case.id)
    assert [s.action for s in detail.history] == ["report", *(a.value for a, _ in expected)]
    assert detail.history[-1].from_status is S.VERIFIED
    assert detail.history[-1].to_status is S.CLOSED
    assert all(s.actor for s in detail.history[1:])
    c = detail.case
    assert c.rework_count == 1 and c.extended and c.closed_at == clock.now
    assert c.registered_at and c.dispatched_at and c.handled_at and c.department_code == "D02"
    assert c.sla_state is None  # no clock runs on a closed case


def test_reject_voids_and_return_goes_back_to_registered(cases) -> None:
    voided = cases.report_case(new_case(cases))
    assert cases.act(voided.id, A.REJECT, "acceptor").status is S.VOIDED
    case = cases.report_case(new_case(cases))
    walk(cases, case.id, A.ACCEPT, A.REGISTER, A.DISPATCH)
    returned = cases.act(case.id, A.RETURN, "D02", "非本部门职责")
    assert returned.status is S.REGISTERED and returned.deadline is None
    assert returned.department_code is None
    again = cases.act(case.id, A.DISPATCH, "dispatcher", department_code="D01")
    assert again.status is S.DISPATCHED and again.department_code == "D01"
    total = cases.case_stats([], CaseFilter(since=NOW, until=NOW + timedelta(days=1)))[0]
    assert total.returned >= 1 and total.voided >= 1


@pytest.mark.parametrize(
    ("done", "forbidden"),
    [
        ((), [A.REGISTER, A.DISPATCH, A.REPORT_BACK, A.CLOSE, A.VERIFY, A.REWORK, A.CONFIRM]),
        ((A.ACCEPT,), [A.ACCEPT, A.DISPATCH, A.CLOSE, A.RETURN]),
        (
            (A.ACCEPT, A.REGISTER),
            [A.ACCEPT, A.REGISTER, A.REPORT_BACK, A.REJECT, A.EXTEND, A.MERGE],
        ),
        ((A.ACCEPT, A.REGISTER, A.DISPATCH), [A.DISPATCH, A.VERIFY, A.CLOSE, A.REJECT]),
        ((A.ACCEPT, A.REGISTER, A.DISPATCH, A.REPORT_BACK), [A.CLOSE, A.DISPATCH, A.EXTEND]),
        ((A.ACCEPT, A.REJECT), list(A)),
    ],
)
def test_forbidden_transitions_change_nothing(cases, done, forbidden) -> None:
    case = cases.report_case(new_case(cases))
    walk(cases, case.id, *done)
    before = cases.get_case(case.id)
    stats_before = footprint(cases)
    for action in forbidden:
        with pytest.raises(TransitionError):
            cases.act(case.id, action, "tester", department_code="D02", extend_hours=2)
    after = cases.get_case(case.id)
    assert after.case == before.case
    assert after.history == before.history
    assert footprint(cases) == stats_before


def test_second_extension_is_refused(cases) -> None:
    case = cases.report_case(new_case(cases))
    walk(cases, case.id, A.ACCEPT, A.REGISTER, A.DISPATCH, A.EXTEND)
    with pytest.raises(TransitionError):
        cases.act(case.id, A.EXTEND, "tester", extend_hours=2)


def test_dispatch_needs_a_known_department_and_unknown_case_is_not_found(cases) -> None:
    case = cases.report_case(new_case(cases))
    walk(cases, case.id, A.ACCEPT, A.REGISTER)
    before = footprint(cases)
    with pytest.raises(AdapterError):
        cases.act(case.id, A.DISPATCH, "tester")
    with pytest.raises(AdapterError):
        cases.act(case.id, A.DISPATCH, "tester", department_code="NOPE")
    assert footprint(cases) == before
    with pytest.raises(NotFound):
        cases.act(10**9, A.ACCEPT, "tester")
    with pytest.raises(NotFound):
        cases.get_case(10**9)


# ------------------------------------------------------------------------------ SLA clocks


def test_dispatch_starts_the_clock_and_states_follow_the_injected_clock(cases, clock) -> None:
    clock.now = datetime(2026, 11, 25, 10, 0)  # Wednesday
    case = cases.report_case(new_case(cases))
    walk(cases, case.id, A.ACCEPT, A.REGISTER, A.DISPATCH)
    case = cases.get_case(case.id).case
    # 暴露垃圾: 1 working day (9 working hours) from Wednesday 10:00
    assert case.deadline == datetime(2026, 11, 26, 10, 0)
    assert case.sla_state is SlaState.ON_TIME
    clock.now = datetime(2026, 11, 26, 8, 45)  # 1.25 working hours left < 20% of 9
    assert cases.get_case(case.id).case.sla_state is SlaState.DUE_SOON
    clock.now = datetime(2026, 11, 26, 10, 1)
    assert cases.get_case(case.id).case.sla_state is SlaState.OVERDUE
    overdue = cases.list_cases(CaseFilter(sla_states=[SlaState.OVERDUE], limit=None))
    assert case.id in {c.id for c in overdue}
    key = {"grid_code": case.grid_code}
    row = cases.case_stats(["grid_code"], CaseFilter(region_code=case.grid_code))[0]
    assert row.key == key and row.overdue_open >= 1


def test_working_hour_clock_skips_the_weekend_and_extension_pushes_it(cases, clock) -> None:
    clock.now = datetime(2026, 11, 27, 16, 0)  # Friday
    case = cases.report_case(new_case(cases, class_code="0104"))  # 道路不洁: 5 working hours
    walk(cases, case.id, A.ACCEPT, A.REGISTER, A.DISPATCH)
    # 1.5 h on Friday, 3.5 h on Monday from 08:30
    assert cases.get_case(case.id).case.deadline == datetime(2026, 11, 30, 12, 0)
    extended = cases.act(case.id, A.EXTEND, "leader", extend_hours=9)
    assert extended.deadline == datetime(2026, 12, 1, 12, 0) and extended.extended


def test_danger_items_run_on_wall_clock_hours(cases, clock) -> None:
    clock.now = datetime(2026, 11, 28, 22, 0)  # Saturday night
    case = cases.report_case(new_case(cases, class_code="0403", urgent=True))  # 燃气泄漏
    walk(cases, case.id, A.ACCEPT, A.REGISTER, A.DISPATCH)
    assert cases.get_case(case.id).case.deadline == datetime(2026, 11, 28, 23, 0)


# ------------------------------------------------------------------------------ bad reports


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"class_code": "0999"}, "unknown event class"),
        ({"kind": "incident"}, "unknown case kind"),
        ({"class_code": "12"}, "malformed class code"),
        ({"lon": 100.0, "lat": 30.0}, "outside every grid"),
        ({"grid_code": "1101010010", "lon": None, "lat": None}, "网格编码"),
        ({"grid_code": "11010100100199", "lon": None, "lat": None}, "no unit grid"),
        ({"kind": "component", "class_code": "0101", "component_code": "12345"}, "部件编码"),
        (
            {"kind": "component", "class_code": "0101", "component_code": "1101010102000001"},
            "not 0101",
        ),
        ({"datum": "mars"}, "unknown datum"),
    ],
)
def test_bad_reports_are_refused_and_leave_nothing(cases, changes, message) -> None:
    before = footprint(cases)
    with pytest.raises(AdapterError, match=message):
        cases.report_case(new_case(cases, **changes))
    assert footprint(cases) == before


def test_duplicate_external_id_is_refused_per_source(cases) -> None:
    ext = f"12345-dup-{next(_ids)}"
    first = cases.report_case(new_case(cases, source=CaseSource.HOTLINE, external_id=ext))
    before = footprint(cases)
    with pytest.raises(AdapterError, match="duplicate"):
        cases.report_case(new_case(cases, source=CaseSource.HOTLINE, external_id=ext))
    assert footprint(cases) == before
    # another source may use the same id
    other = cases.report_case(new_case(cases, source=CaseSource.PUBLIC, external_id=ext))
    assert other.id != first.id


def test_gcj02_report_lands_in_the_grid_of_its_wgs84_point(cases) -> None:
    lon, lat, code = a_grid_point(cases)
    glon, glat = from_wgs84(lon, lat, "gcj02")
    case = cases.report_case(new_case(cases, lon=glon, lat=glat, datum="gcj02"))
    assert case.grid_code == code
    assert abs(case.lon - lon) < 1e-5 and abs(case.lat - lat) < 1e-5
    assert case.community_code == code[:12] and case.street_code == code[:9]


def test_report_by_grid_code_or_component(cases) -> None:
    _, _, code = a_grid_point(cases)
    by_grid = cases.report_case(new_case(cases, lon=None, lat=None, grid_code=code))
    assert by_grid.grid_code == code
    from adapters.sql.models import ComponentRow

    with cases.engine.connect() as conn:
        comp = conn.execute(select(ComponentRow.code, ComponentRow.class_code)).first()
    case = cases.report_case(
        new_case(cases, kind="component", class_code=comp.class_code, component_code=comp.code,
                 lon=None, lat=None)
    )  # fmt: skip
    assert case.component_code == comp.code and case.kind == "component"


# ------------------------------------------------------------------------------ statistics

GROUPINGS = [
    [],
    ["status"],
    ["class_code"],
    ["big_class_code", "source"],
    ["street_code"],
    ["community_code"],
    ["grid_code"],
    ["day"],
    ["hour_of_week"],
    ["department_code", "status"],
    ["district_code", "day"],
    ["grid_code", "class_code"],  # hotspots of a class, recurring candidates
]
FILTERS = [
    CaseFilter(),
    CaseFilter(since=datetime(2026, 6, 1), until=datetime(2026, 9, 1)),  # month-aligned
    CaseFilter(since=datetime(2025, 1, 1), until=datetime(2027, 1, 1)),  # year-aligned
    CaseFilter(since=datetime(2026, 1, 1), region_code="110101002"),  # a year, open-ended
    CaseFilter(since=datetime(2026, 7, 15), until=datetime(2026, 11, 26)),  # day-aligned
    CaseFilter(since=datetime(2026, 7, 15, 12, 30)),  # not aligned: months + cut days
    CaseFilter(since=datetime(2026, 6, 10), until=datetime(2026, 9, 20)),  # cut both ends
    CaseFilter(since=datetime(2026, 10, 27), until=datetime(2026, 11, 26)),  # last 30 days
    CaseFilter(since=datetime(2026, 3, 3), until=datetime(2026, 3, 28)),  # inside one month
    CaseFilter(since=datetime(2026, 4, 28), until=datetime(2026, 6, 2), top_groups=3),
    CaseFilter(region_code="110101001", sources=[CaseSource.SUPERVISOR, CaseSource.HOTLINE]),
    CaseFilter(statuses=[S.CLOSED, S.DISPATCHED], big_class_codes=["01", "05"]),
    CaseFilter(open_only=True),
    CaseFilter(department_code="D02", class_codes=["0102", "0104"]),
    CaseFilter(sla_states=[SlaState.OVERDUE]),
    CaseFilter(kind="component", since=datetime(2026, 1, 1), until=datetime(2026, 11, 1)),
    CaseFilter(class_codes=["0102"], kind="event", since=datetime(2025, 12, 1)),
    CaseFilter(grid_codes=["11010100100204", "11010100200215"], since=datetime(2026, 1, 1)),
]


def test_case_stats_from_rollups_equal_a_raw_group_by(cases, clock) -> None:
    # some live changes first, so the incremental upkeep is checked too
    clock.now = NOW + timedelta(hours=1)
    for i, actions in enumerate(
        [(A.ACCEPT,), (A.ACCEPT, A.REGISTER, A.DISPATCH), (A.ACCEPT, A.REJECT),
         (A.ACCEPT, A.REGISTER, A.DISPATCH, A.RETURN),
         (A.ACCEPT, A.REGISTER, A.DISPATCH, A.REPORT_BACK, A.REWORK, A.REPORT_BACK, A.VERIFY,
          A.CLOSE)]
    ):  # fmt: skip
        case = cases.report_case(new_case(cases, source=CaseSource.HOTLINE, external_id=f"st{i}"
                                          f"-{next(_ids)}"))  # fmt: skip
        walk(cases, case.id, *actions)
        if A.DISPATCH in actions and A.RETURN not in actions and A.CLOSE not in actions:
            master = case
    cases.evaluate(case.id, 1, "12345回访")  # the closed one: a 综合评价 moves counters too
    # a duplicate merged into the dispatched one (合并): it counts nowhere, on either path
    dup = cases.report_case(new_case(cases, source=CaseSource.HOTLINE, external_id="st-dup"))
    walk(cases, dup.id, A.ACCEPT, A.URGE)
    cases.act(dup.id, A.MERGE, "tester", master_case_id=master.id)
    clock.now = NOW + timedelta(days=3)
    used_rollup = planned = 0
    for group, flt in itertools.product(GROUPINGS, FILTERS):
        cuboid = cases.choose_rollup(group, flt)
        used_rollup += cuboid is not None and not flt.sla_states
        # grid levels over cut periods: whole months from a rollup, cut days added/subtracted
        counted = not (flt.sla_states or flt.open_only)
        planned += counted and not cuboid and cases._month_plan(group, flt, clock.now) is not None
        fast = cases.case_stats(group, flt)
        raw = cases.raw_case_stats(group, flt)
        assert fast == raw, (group, flt)
    assert used_rollup > len(GROUPINGS) * 4  # most of these are served by rollups
    assert planned >= 10, planned
    total = cases.case_stats([], CaseFilter())[0]
    assert total.reported > 300 and total.closed > 0.8 * total.reported
    # 平均处置时长's sums are compared too, and they are not all zeros
    assert 0 < total.handling_timed <= total.handled
    assert 0 < total.handling_work_seconds < total.handling_seconds


def test_a_caller_may_ask_for_some_counters_and_the_top_groups_only(cases) -> None:
    for flt in (CaseFilter(since=datetime(2026, 1, 1)), CaseFilter(since=datetime(2026, 1, 1, 8))):
        full = cases.case_stats(["grid_code"], flt)  # month rollup, then the live table
        lean = cases.case_stats(["grid_code"], replace(flt, counters=["reported", "closed"]))
        assert [(r.key, r.reported, r.closed) for r in lean] == [
            (r.key, r.reported, r.closed) for r in full
        ]
        assert all(r.dispatched == r.open == 0 for r in lean)
        top = cases.case_stats(["grid_code"], replace(flt, top_groups=3))
        best = sorted(full, key=lambda r: (-r.reported, r.key["grid_code"]))[:3]
        assert sorted(top, key=lambda r: (-r.reported, r.key["grid_code"])) == best


def test_grouping_by_class_keeps_event_and_component_classes_apart(cases) -> None:
    rows = cases.case_stats(["class_code"], CaseFilter())
    assert all(set(r.key) == {"kind", "class_code"} for r in rows)
    assert len({(r.key["kind"], r.key["class_code"]) for r in rows}) == len(rows)
    with pytest.raises(AdapterError):
        cases.case_stats(["colour"], CaseFilter())


def test_list_cases_filters_and_orders(cases) -> None:
    newest = cases.list_cases(CaseFilter(limit=20))
    assert [c.reported_at for c in newest] == sorted((c.reported_at for c in newest), reverse=True)
    street = cases.list_cases(CaseFilter(region_code="110101002", limit=None))
    assert street and all(c.street_code == "110101002" for c in street)
    open_ = cases.list_cases(CaseFilter(open_only=True, limit=None))
    assert all(c.status not in (S.CLOSED, S.VOIDED) for c in open_)
    with pytest.raises(AdapterError):
        cases.list_cases(CaseFilter(region_code="12x"))
    assert {d.kind for d in cases.departments()} == {"department", "street"}
    assert cases.health().up


# ------------------------------------------------------------------ stage limits, evaluation


def test_stage_limits_are_recorded_per_step_in_working_hours(cases, clock) -> None:
    clock.now = datetime(2026, 11, 27, 17, 0)  # a Friday, half an hour before closing
    case = cases.report_case(new_case(cases))
    clock.now = datetime(2026, 11, 30, 9, 0)  # Monday 09:00: 30 working minutes later
    cases.act(case.id, A.ACCEPT, "受理员")
    clock.now += timedelta(hours=2)  # 立案 limit is 1 working hour after acceptance: late
    cases.act(case.id, A.REGISTER, "值班长")
    clock.now += timedelta(minutes=20)
    walk(cases, case.id, A.DISPATCH)
    clock.now += timedelta(hours=1)
    walk(cases, case.id, A.RETURN)
    clock.now += timedelta(hours=3)
    walk(cases, case.id, A.DISPATCH)  # the re-dispatch does not change 按期派遣
    clock.now += timedelta(hours=1)
    walk(cases, case.id, A.REPORT_BACK)
    clock.now += timedelta(hours=1, minutes=30)
    walk(cases, case.id, A.VERIFY)
    with cases.engine.connect() as conn:
        row = conn.execute(select(CaseRow.__table__).where(CaseRow.id == case.id)).one()
    assert (row.accepted_on_time, row.registered_on_time) == (True, False)
    assert (row.dispatched_on_time, row.verified_on_time) == (True, True)
    assert row.satisfaction is None


def test_a_city_sets_its_own_stage_limits_and_bad_ones_name_the_setting(city, clock) -> None:
    from adapters.sql.case import SqlCaseAdapter

    strict = SqlCaseAdapter(database_url=city.url, now=clock, stage_limits={"accept": 0.25})
    try:
        assert strict.stage_limits["accept"] == 0.25 and strict.stage_limits["verify"] == 2.0
        case = strict.report_case(new_case(strict))
        clock.now += timedelta(minutes=30)
        strict.act(case.id, A.ACCEPT, "受理员")
        with strict.engine.connect() as conn:
            flag = conn.execute(
                select(CaseRow.accepted_on_time).where(CaseRow.id == case.id)
            ).scalar_one()
        assert flag is False
    finally:
        strict.close()
    for bad in ({"approve": 1}, {"accept": 0}, {"verify": "soon"}):
        with pytest.raises(AdapterError, match="CC_CASE_OPTIONS: stage_limits"):
            SqlCaseAdapter(database_url=city.url, now=clock, stage_limits=bad)


def test_evaluation_of_a_closed_case_counts_in_the_satisfaction_counters(cases, clock) -> None:
    case = cases.report_case(new_case(cases, source=CaseSource.HOTLINE))
    flt = CaseFilter(region_code=case.grid_code, since=datetime(2026, 11, 1))
    before = cases.case_stats([], flt)[0]
    with pytest.raises(TransitionError, match="only a closed case"):
        cases.evaluate(case.id, 2, "12345回访")
    walk(cases, case.id, A.ACCEPT, A.REGISTER, A.DISPATCH, A.REPORT_BACK, A.VERIFY, A.CLOSE)
    with pytest.raises(AdapterError, match="satisfaction must be one of"):
        cases.evaluate(case.id, 5, "12345回访")
    cases.evaluate(case.id, 0, "12345回访")
    after = cases.case_stats([], flt)[0]
    assert (after.evaluated - before.evaluated, after.satisfied - before.satisfied) == (1, 0)
    cases.evaluate(case.id, 2, "12345回访", "第二次回访")  # a later 回访 replaces the rating
    again = cases.case_stats([], flt)[0]
    assert (again.evaluated - before.evaluated, again.satisfied - before.satisfied) == (1, 1)
    history = cases.get_case(case.id).history
    assert [(s.action, s.note) for s in history[-2:]] == [
        ("evaluate", "不满意"),
        ("evaluate", "第二次回访"),
    ]
    assert again == cases.raw_case_stats([], flt)[0]


def test_kind_filter_tells_event_classes_from_component_classes(cases) -> None:
    events = cases.case_stats(["class_code"], CaseFilter(kind="event"))
    components = cases.case_stats(["class_code"], CaseFilter(kind="component"))
    assert events and components
    assert {r.key["kind"] for r in events} == {"event"}
    assert {r.key["kind"] for r in components} == {"component"}
    listed = cases.list_cases(CaseFilter(kind="component", limit=None))
    assert listed and {c.kind for c in listed} == {"component"}


def test_closed_on_time_is_the_close_against_the_deadline_not_a_copy_of_handled_on_time(
    cases, clock
) -> None:
    """按期结案 ≠ 按期处置: handled within its 1 working day, but verified and closed two
    working days later, the case is closed late; closed within the 核查 + 结案 limits (2 + 1
    working hours) after its deadline, it is on time."""
    ids = {}
    for name in ("late", "prompt"):
        clock.now = datetime(2026, 11, 30, 9, 0)  # Monday
        case = cases.report_case(new_case(cases, external_id=f"close-{name}-{next(_ids)}"))
        walk(cases, case.id, A.ACCEPT, A.REGISTER, A.DISPATCH)  # deadline Tue 09:00
        clock.now = datetime(2026, 11, 30, 16, 0)
        walk(cases, case.id, A.REPORT_BACK)
        clock.now = datetime(2026, 12, 2, 10, 0) if name == "late" else datetime(2026, 12, 1, 9, 0)
        walk(cases, case.id, A.VERIFY)
        clock.now += timedelta(hours=1, minutes=30)  # prompt: Tue 10:30, within 09:00 + 3 h
        walk(cases, case.id, A.CLOSE)
        ids[name] = case.id
    with cases.engine.connect() as conn:
        rows = {
            name: conn.execute(select(CaseRow.__table__).where(CaseRow.id == i)).one()
            for name, i in ids.items()
        }
    assert rows["late"].deadline == datetime(2026, 12, 1, 9, 0)
    assert (rows["late"].handled_on_time, rows["late"].closed_on_time) == (True, False)
    assert (rows["prompt"].handled_on_time, rows["prompt"].closed_on_time) == (True, True)
