"""The bulk (numpy) case generator of the ``large`` city, run on the tiny city: its cases
must be what the workflow would have made of their own history, and its rollups must
equal a plain GROUP BY."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import create_engine, select, text

from adapters.sql.case import SqlCaseAdapter
from adapters.sql.models import CaseRow, CaseStepRow
from adapters.sql.workflow import apply_action
from command_center.demo.generator import _secs, _WorkClock, generate
from command_center.domain.calendar import load_calendar, sla_deadline
from command_center.domain.classes import load_catalogue
from command_center.domain.workflow import SATISFACTION
from tests.conftest import require_service

from .conftest import NOW, PG_SERVER, SEED

FIELDS = (
    "status", "department_code", "accepted_at", "registered_at", "dispatched_at", "deadline",
    "handled_at", "verified_at", "closed_at", "voided_at", "handled_on_time", "closed_on_time",
    "rework_count", "extension_count", "return_count", "urge_count", "updated_at",
    "accepted_on_time", "registered_on_time", "dispatched_on_time", "verified_on_time",
    "satisfaction", "evaluated_at", "handling_seconds", "handling_work_seconds",
)  # fmt: skip
LEVEL_OF = {name: level for level, name in SATISFACTION.items()}


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def bulk_city(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('bulk') / 'bulk.sqlite'}"
        generate(url, "tiny", seed=SEED, now=NOW, bulk=True)
        yield url
        return
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"cc_bulk_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{PG_SERVER}?options=-csearch_path%3D{schema}"
        generate(url, "tiny", seed=SEED, now=NOW, bulk=True)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _rows(url: str) -> tuple[list, dict[int, list]]:
    engine = create_engine(url)
    with engine.connect() as conn:
        cases = [r._asdict() for r in conn.execute(select(CaseRow.__table__).order_by(CaseRow.id))]
        steps: dict[int, list] = {}
        for s in conn.execute(
            select(CaseStepRow.__table__).order_by(CaseStepRow.case_id, CaseStepRow.id)
        ):
            steps.setdefault(s.case_id, []).append(s)
    engine.dispose()
    return cases, steps


def test_every_case_is_its_history_replayed_through_the_workflow(bulk_city: str) -> None:
    catalogue, calendar = load_catalogue(None), load_calendar(None)
    cases, steps = _rows(bulk_city)
    assert 250 < len(cases) < 700
    assert set(steps) == {c["id"] for c in cases}  # tiny keeps every case's history
    for case in cases:
        cls = catalogue.get(case["kind"], case["class_code"])
        history = steps[case["id"]]
        assert history[0].action == "report" and history[0].at == case["reported_at"]
        replay = dict.fromkeys(FIELDS) | {
            "urgent": case["urgent"], "status": "reported", "updated_at": case["reported_at"],
            "reported_at": case["reported_at"],
            "rework_count": 0, "extension_count": 0, "return_count": 0, "urge_count": 0,
        }  # fmt: skip
        previous = history[0]
        for s in history[1:]:
            assert s.at >= previous.at and s.from_status == previous.to_status, case["number"]
            dept = s.actor if s.action == "return" else None
            if s.action == "dispatch":
                dept = next(
                    (later.actor for later in history if later.action in ("report_back", "return")
                     and later.at > s.at), case["department_code"],
                )  # fmt: skip
            if s.action == "evaluate":  # 综合评价: outside the workflow, no apply_action
                replay["satisfaction"], replay["evaluated_at"] = LEVEL_OF[s.note], s.at
                replay["updated_at"] = s.at
                previous = s
                continue
            apply_action(
                replay, cls, s.action, s.at, calendar, to_status=s.to_status,
                department_code=dept,
                extend_hours=float(s.note) if s.action == "extend" else None,
            )  # fmt: skip
            previous = s
        for name in FIELDS:
            got, want = case[name], replay[name]
            if isinstance(want, datetime) and got is not None:
                assert abs((got - want).total_seconds()) <= 1, (case["number"], name)
            elif name == "department_code" and case["status"] in ("handled", "closed",
                                                                   "verified"):  # fmt: skip
                assert got == replay[name] or got is not None
            else:
                assert bool(got) == bool(want) if isinstance(want, bool) else got == want, (
                    case["number"],
                    name,
                    got,
                    want,
                )
        assert case["updated_at"] == history[-1].at
        assert case["reported_at"] < NOW
    # the stage limits and the public's evaluation are really there, and plausible
    closed = [c for c in cases if c["status"] == "closed"]
    rated = [c for c in closed if c["satisfaction"] is not None]
    assert all(c["source"] in ("public", "hotline") for c in rated)
    assert 0 < len(rated) < len([c for c in closed if c["source"] in ("public", "hotline")])
    assert 0.6 < sum(c["satisfaction"] >= 1 for c in rated) / len(rated) <= 1
    assert all(c["accepted_on_time"] is not None for c in cases if c["accepted_at"])
    assert sum(bool(c["verified_on_time"]) for c in closed) < len(closed)  # some late


def test_bulk_cases_look_like_the_simulated_ones(bulk_city: str) -> None:
    cases, _ = _rows(bulk_city)
    sources = Counter(c["source"] for c in cases)
    assert sources.most_common(1)[0][0] == "supervisor"
    statuses = Counter(c["status"] for c in cases)
    assert statuses["closed"] > 0.8 * len(cases) and statuses["voided"] > 0
    assert sum(8 <= c["hour_of_week"] % 24 < 18 for c in cases) > 0.6 * len(cases)
    assert all(c["hour_of_week"] == c["reported_at"].weekday() * 24 + c["reported_at"].hour
               for c in cases)  # fmt: skip
    assert len({c["number"] for c in cases}) == len(cases)
    ids = [c["id"] for c in cases]
    assert [c["reported_at"] for c in cases] == sorted(c["reported_at"] for c in cases)
    assert ids == sorted(ids)
    assert {c["street_code"] for c in cases} and all(
        c["grid_code"].startswith(c["community_code"]) and c["community_code"].startswith(
            c["street_code"]) for c in cases
    )  # fmt: skip


def test_bulk_rollups_equal_the_raw_group_by(bulk_city: str) -> None:
    from adapters.case.contract import CaseFilter

    adapter = SqlCaseAdapter(database_url=bulk_city, now=lambda: NOW)
    try:
        for group in (["status"], ["class_code"], ["street_code"], ["day"], ["department_code"],
                      ["grid_code"], ["hour_of_week"], ["source", "street_code"]):  # fmt: skip
            flt = CaseFilter(since=datetime(2026, 1, 1)) if group == ["grid_code"] else CaseFilter()
            assert adapter.case_stats(group, flt) == adapter.raw_case_stats(group, flt), group
    finally:
        adapter.close()


def test_work_clock_adds_working_hours_like_the_calendar() -> None:
    import numpy as np

    calendar = load_calendar(None)
    clock = _WorkClock(calendar, datetime(2025, 12, 1).date(), datetime(2027, 3, 1).date())
    starts = [datetime(2026, 9, 30, 17, 0), datetime(2026, 10, 9, 7, 0),  # before 国庆, 调休
              datetime(2026, 11, 27, 17, 30), datetime(2026, 11, 28, 12, 0),
              datetime(2026, 2, 13, 9, 15), datetime(2026, 11, 25, 8, 30)]  # fmt: skip
    for start in starts:
        for hours in (0.5, 1, 8.5, 9, 18, 45, 90):
            got = clock.add(np.array([_secs(start)]), np.array([hours * 3600.0]),
                            np.array([False]))[0]  # fmt: skip
            want = calendar.add_working_hours(start, hours)
            assert got == _secs(want), (start, hours)
    limit = load_catalogue(None).events()[0].limit
    assert sla_deadline(starts[0], limit, calendar) is not None


MIGRATION_FILLS = [
    # (migration file, table, its order): each migration fills its table from the cases with a
    # frozen copy of the rollup SQL; on today's schema it must give what the rebuild gives
    ("0400_rollup_class_monthly.py", "case_rollup_class_monthly", "month, kind, class_code"),
    ("0600_stage_timeliness_satisfaction.py", "case_rollup_grid_class_monthly",
     "month, grid_code, kind, class_code"),
    ("0700_rollup_yearly.py", "case_rollup_grid_yearly", "year, grid_code"),
    ("0700_rollup_yearly.py", "case_rollup_grid_class_yearly", "year, grid_code, kind, class_code"),
]  # fmt: skip


@pytest.mark.parametrize("migration_file, table, order", MIGRATION_FILLS)
def test_migrations_fill_their_rollup_as_the_rebuild_does(
    bulk_city: str, migration_file: str, table: str, order: str
) -> None:
    import importlib.util

    from adapters.sql import db

    path = db.MIGRATIONS / "versions" / migration_file
    spec = importlib.util.spec_from_file_location(f"migration_{migration_file[:4]}", path)
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    engine = create_engine(bulk_city)
    # each fills the counters it knew (0400 predates the stage and evaluation counters, all
    # of them the handling times of 0840, which rebuilds every rollup itself)
    known = getattr(migration, "COUNTERS", None) or (
        migration.OLD_COUNTERS + migration.NEW_COUNTERS
    )
    keys = migration.key(table) if callable(getattr(migration, "key", None)) else migration.KEY
    counters = ", ".join(keys + known) if known else "*"
    query = text(f"SELECT {counters} FROM {table} ORDER BY {order}, status")
    try:
        with engine.begin() as conn:
            rebuilt = conn.execute(query).all()
            if hasattr(migration, "TABLES"):  # 0700 fills two tables from their monthly twins
                migration.fill(conn, table)
            else:
                migration.fill(conn)
            filled = conn.execute(query).all()
    finally:
        engine.dispose()
    assert rebuilt and filled == rebuilt
