"""平均处置时长: each case's handling time, stored at the report-back, summed by the rollups
and the raw GROUP BY alike, and brought to an existing database by migration 0840."""

from __future__ import annotations

import importlib.util
from datetime import datetime
from types import ModuleType

import pytest
from sqlalchemy import create_engine, select, text

from adapters.case.contract import CaseAction, CaseFilter, CaseStats
from adapters.sql import db, rollup
from adapters.sql.models import ROLLUP_TABLES, CaseRow
from command_center.domain.calendar import load_calendar
from command_center.domain.indicators import handling_seconds, indicators

from .test_case import new_case, walk
from .test_closed_on_time import _rollups, fresh_city  # noqa: F401 - a fixture

A = CaseAction


def migration() -> ModuleType:
    path = db.MIGRATIONS / "versions" / "0840_handling_time.py"
    spec = importlib.util.spec_from_file_location("migration_0840", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_report_back_stores_the_handling_time_in_working_and_wall_clock_seconds(
    cases, clock
) -> None:  # noqa: ANN001
    clock.now = datetime(2026, 11, 27, 16, 0)  # a Friday, 1.5 working hours before closing
    case = cases.report_case(new_case(cases))
    flt = CaseFilter(region_code=case.grid_code, since=datetime(2026, 11, 27))
    before = cases.case_stats([], flt)[0]
    walk(cases, case.id, A.ACCEPT, A.REGISTER, A.DISPATCH)
    clock.now = datetime(2026, 11, 30, 10, 0)  # Monday 10:00: 66 h, 1.5 + 1.5 working hours
    walk(cases, case.id, A.REPORT_BACK)
    after = cases.case_stats([], flt)[0]
    assert after.handling_timed - before.handling_timed == 1
    assert after.handling_seconds - before.handling_seconds == 66 * 3600
    assert after.handling_work_seconds - before.handling_work_seconds == 3 * 3600
    # 返工: the dispatch stays, the last report-back counts (Monday 15:00: 71 h, 8 工作时)
    walk(cases, case.id, A.REWORK)
    clock.now = datetime(2026, 11, 30, 15, 0)
    walk(cases, case.id, A.REPORT_BACK, A.VERIFY, A.CLOSE)
    with cases.engine.connect() as conn:
        row = conn.execute(select(CaseRow.__table__).where(CaseRow.id == case.id)).one()
    assert (row.handling_seconds, row.handling_work_seconds) == (71 * 3600, 8 * 3600)
    again = cases.case_stats([], flt)[0]
    assert again.handling_timed - before.handling_timed == 1
    assert again.handling_seconds - before.handling_seconds == 71 * 3600
    assert again == cases.raw_case_stats([], flt)[0]
    # other tests file cases in the same grid: the indicator of this case alone is its delta
    delta = CaseStats(
        key={},
        handling_timed=again.handling_timed - before.handling_timed,
        handling_seconds=again.handling_seconds - before.handling_seconds,
        handling_work_seconds=again.handling_work_seconds - before.handling_work_seconds,
    )
    ind = indicators(delta)
    assert ind["avg_handling_hours"] == pytest.approx(71.0)
    assert ind["avg_handling_work_hours"] == pytest.approx(8.0)


def test_every_handled_case_of_the_demo_city_has_its_handling_time(fresh_city: str) -> None:  # noqa: F811
    calendar = load_calendar(None)
    engine = create_engine(fresh_city)
    with engine.connect() as conn:
        c = CaseRow.__table__.c
        rows = conn.execute(
            select(c.dispatched_at, c.handled_at, c.handling_seconds, c.handling_work_seconds)
        ).all()
    engine.dispose()
    handled = [r for r in rows if r.handled_at is not None]
    assert len(handled) > 100
    for r in rows:
        if r.handled_at is None:
            assert r.handling_seconds is None and r.handling_work_seconds is None
            continue
        wall, work = handling_seconds(r.dispatched_at, r.handled_at, calendar)
        assert abs(r.handling_seconds - wall) <= 1 and abs(r.handling_work_seconds - work) <= 1
    # nights, weekends and holidays: far fewer working hours than wall-clock ones
    assert sum(r.handling_work_seconds for r in handled) < 0.6 * sum(
        r.handling_seconds for r in handled
    )


def test_migration_0840_backfills_the_handling_times_and_the_rollups(fresh_city: str) -> None:  # noqa: F811
    m = migration()
    engine = create_engine(fresh_city)
    try:
        with engine.begin() as conn:
            c = CaseRow.__table__.c
            times = select(c.id, c.handling_seconds, c.handling_work_seconds).order_by(c.id)
            want_cases, want_rollups = conn.execute(times).all(), _rollups(conn)
            # the database as 0840 finds it: no handling times, rollup sums of 0
            conn.execute(
                text("UPDATE cases SET handling_seconds = NULL, handling_work_seconds = NULL")
            )
            rollup.rebuild(conn)
            zero = conn.execute(
                select(ROLLUP_TABLES["case_rollup_daily"].c.handling_seconds).where(
                    ROLLUP_TABLES["case_rollup_daily"].c.handling_seconds != 0
                )
            ).first()
            assert zero is None and _rollups(conn) != want_rollups
            filled = m.backfill_cases(conn)
            for table in m.ROLLUPS:
                m.rebuild_rollup(conn, table)
            assert filled == sum(r.handling_seconds is not None for r in want_cases)
            assert conn.execute(times).all() == want_cases
            assert _rollups(conn) == want_rollups
    finally:
        engine.dispose()
