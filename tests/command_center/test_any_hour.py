"""The app at any hour of any day: with the whole process's clock at each instant of
``CLOCK_INSTANTS`` (before the workday, just after midnight, the last evening of a month and
of a year, a holiday eve, a 调休 Saturday), a case reported *now* counts today and in the
trend, its SLA deadline follows the working calendar from *now*, and an alarm without a time
is stored at *now*: nothing here pins a clock of its own."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from adapters.case.contract import CaseFilter, CaseSource, NewCase
from command_center.alarms import AlarmIn
from command_center.domain.calendar import local_now
from tests.conftest import CLOCK_INSTANTS, make_settings

pytestmark = pytest.mark.clock

# When 1 工作日 (9 working hours, 08:30-17:30) started at each instant runs out.
ONE_WORKING_DAY_FROM = {
    CLOCK_INSTANTS["before-workday"]: datetime(2026, 12, 3, 17, 30),  # the whole Thursday
    CLOCK_INSTANTS["after-midnight"]: datetime(2026, 12, 4, 17, 30),
    CLOCK_INSTANTS["month-end-evening"]: datetime(2026, 12, 1, 17, 30),
    # 1 January is a holiday (2027 is not in the package yet: the fixed-date fallback), then
    # the weekend
    CLOCK_INSTANTS["year-end-evening"]: datetime(2027, 1, 4, 17, 30),
    # half an hour on the eve, then National Day 10-01..10-07, then 8.5 h on Thursday
    CLOCK_INSTANTS["holiday-eve"]: datetime(2026, 10, 8, 17, 0),
    # the 调休 Saturday works 7.5 h; Sunday does not; 1.5 h on Monday
    CLOCK_INSTANTS["makeup-saturday"]: datetime(2026, 10, 12, 10, 0),
}


@pytest.fixture()
def cc(city_copy: str, tmp_path: Path) -> Iterator[object]:
    from command_center.app import create_app

    app = create_app(make_settings(city_copy, tmp_path, cache_seconds=0.0), start_background=False)
    yield app
    app.stop()


def report_now(cc: object) -> int:
    case_adapter = cc.services.adapters.case  # type: ignore[attr-defined]
    some = case_adapter.list_cases(CaseFilter(limit=1))[0]
    return case_adapter.report_case(
        NewCase(
            kind="event",
            class_code="0102",  # 暴露垃圾: 1 工作日
            source=CaseSource.PUBLIC,
            description="路边暴露垃圾",
            lon=some.lon,
            lat=some.lat,
            address="测试路 1 号",
            reporter="张三",
        )
    ).id


def test_a_case_reported_now_counts_today_and_in_the_trend(
    cc: object, city_clock: datetime
) -> None:
    services = cc.services  # type: ignore[attr-defined]
    before = services.kpis().value
    trend_before = services.daily_trend(days=7).value
    case_id = report_now(cc)
    case = services.case_detail(case_id).case
    assert case.reported_at.date() == city_clock.date()  # the city's day, not the server's
    after = services.kpis().value
    assert after["reported"] == before["reported"] + 1
    assert after["open"] == before["open"] + 1
    trend = services.daily_trend(days=7).value
    assert trend["day"].iloc[-1] == city_clock.date().isoformat()
    assert trend["reported"].iloc[-1] == trend_before["reported"].iloc[-1] + 1


def test_a_case_dispatched_now_runs_out_after_one_working_day_of_the_calendar(
    cc: object, city_clock: datetime
) -> None:
    if city_clock not in ONE_WORKING_DAY_FROM:
        pytest.skip(f"no expected deadline for {city_clock} (--at)")
    collab = cc.collab  # type: ignore[attr-defined]
    admin = collab.users.add("root", "admin", "password-1", now=local_now())
    case_id = report_now(cc)
    for action in ("accept", "register"):
        assert collab.perform(admin, case_id, action, "", screen="duty").ok
    assert collab.perform(admin, case_id, "dispatch", "", screen="duty", department_code="D02").ok
    case = cc.services.case_detail(case_id).case  # type: ignore[attr-defined]
    expected = ONE_WORKING_DAY_FROM[city_clock]
    assert abs(case.deadline - expected) < timedelta(minutes=2), (case.deadline, expected)
    clock = collab.sla_clock(case)
    assert clock is not None and 0 < clock.remaining_s <= 9 * 3600
    assert case.sla_state.value != "overdue"


def test_an_alarm_without_a_time_is_stored_at_the_city_s_now(
    cc: object, city_clock: datetime
) -> None:
    alarm = cc.alarms.ingest(  # type: ignore[attr-defined]
        AlarmIn(source="iot", source_id="now-1", level="warn", class_code="0404", title="积水")
    ).alarm
    assert abs(alarm.at - city_clock) < timedelta(minutes=2)
    assert alarm.at.date() == city_clock.date()
