"""按期结案 is its own indicator: the demo city's flags follow the close against the deadline,
and migration 0830 brings a database of the old flags (a copy of 按期处置) to the same."""

from __future__ import annotations

import importlib.util
import uuid
from collections.abc import Iterator
from datetime import timedelta
from types import ModuleType

import pytest
from sqlalchemy import create_engine, select, text

from adapters.sql import db, rollup
from adapters.sql.models import ROLLUP_COUNTERS, ROLLUP_TABLES, CaseRow
from adapters.sql.workflow import closure_deadline
from command_center.demo.generator import generate
from command_center.domain.calendar import load_calendar
from command_center.domain.classes import load_catalogue
from tests.conftest import require_service

from .conftest import NOW, PG_SERVER, SEED


def migration() -> ModuleType:
    path = db.MIGRATIONS / "versions" / "0830_closed_on_time.py"
    spec = importlib.util.spec_from_file_location("migration_0830", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(
    scope="module",
    params=["sqlite", "bulk", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def fresh_city(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A tiny city of its own (the tests rewrite it): simulated, bulk, or on PostgreSQL."""
    if request.param != "postgres":
        url = f"sqlite:///{tmp_path_factory.mktemp('closed') / 'city.sqlite'}"
        generate(url, "tiny", seed=SEED, now=NOW, bulk=request.param == "bulk")
        yield url
        return
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"cc_closed_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{PG_SERVER}?options=-csearch_path%3D{schema}"
        generate(url, "tiny", seed=SEED, now=NOW)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _closed(conn) -> list:  # noqa: ANN001
    c = CaseRow.__table__.c
    return conn.execute(
        select(c.id, c.kind, c.class_code, c.urgent, c.deadline, c.closed_at, c.handled_on_time,
               c.closed_on_time).where(c.status == "closed").order_by(c.id)
    ).all()  # fmt: skip


def _rollups(conn, counters: tuple[str, ...] | None = None) -> dict[str, list]:  # noqa: ANN001
    """Every rollup's rows; only their keys and ``counters`` when given (what a migration of
    that time knew: later counters are a later migration's business)."""
    out = {}
    for name, table in ROLLUP_TABLES.items():
        columns = [
            c
            for c in table.c
            if counters is None or c.name in counters or c.name not in ROLLUP_COUNTERS
        ]
        out[name] = sorted(tuple(r) for r in conn.execute(select(*columns)))
    return out


def test_the_demo_city_closes_on_time_only_within_the_verify_and_close_limits(
    fresh_city: str,
) -> None:
    catalogue, calendar = load_catalogue(None), load_calendar(None)
    engine = create_engine(fresh_city)
    with engine.connect() as conn:
        closed = _closed(conn)
    engine.dispose()
    assert len(closed) > 100
    late_closes = 0
    for row in closed:
        cls = catalogue.get(row.kind, row.class_code)
        due = closure_deadline(row.deadline, cls, bool(row.urgent), calendar)
        within = bool(row.handled_on_time) and row.closed_at <= due
        assert bool(row.closed_on_time) == within, row.id
        late_closes += bool(row.handled_on_time) and not within
    # handled on time, closed late: the cases that made 按期结案率 a copy of 按期处置率
    assert late_closes > 0


def test_migration_0830_recomputes_the_old_flags_and_the_rollups(fresh_city: str) -> None:
    m = migration()
    engine = create_engine(fresh_city)
    try:
        with engine.begin() as conn:
            want_cases, want_rollups = _closed(conn), _rollups(conn, m.COUNTERS)
            # the old rule: closed on time = handled on time; rollups rebuilt from it
            conn.execute(
                text("UPDATE cases SET closed_on_time = handled_on_time WHERE status = 'closed'")
            )
            rollup.rebuild(conn)
            assert _closed(conn) != want_cases and _rollups(conn, m.COUNTERS) != want_rollups
            cleared = m.recompute_cases(conn)
            for table in m.ROLLUPS:
                m.rebuild_closed_rows(conn, table)
            assert cleared == sum(
                bool(r.handled_on_time) and not r.closed_on_time for r in want_cases
            )
            assert _closed(conn) == want_cases
            assert _rollups(conn, m.COUNTERS) == want_rollups
    finally:
        engine.dispose()


def test_past_months_of_the_demo_city_are_closed_as_a_real_district_not_all(
    fresh_city: str,
) -> None:
    """疑难案件 drag on for weeks to months: a month past is 95-99.x % closed, never 100 %."""
    engine = create_engine(fresh_city)
    with engine.connect() as conn:
        due, closed = conn.execute(
            text(
                "SELECT count(*), sum(CASE WHEN status = 'closed' THEN 1 ELSE 0 END) FROM cases "
                "WHERE dispatched_at IS NOT NULL AND reported_at < :before"
            ),
            {"before": NOW - timedelta(days=30)},
        ).one()
    engine.dispose()
    assert due > 200
    assert 0.95 < closed / due < 1.0


def test_a_small_share_of_cases_is_held_up_for_days_to_months() -> None:
    import numpy as np

    from command_center.demo.generator import HARD_SHARE, hard_case_delay_days

    draws = np.random.default_rng(1).random((100_000, 2))
    held = hard_case_delay_days(draws[:, 0], draws[:, 1])
    assert (held > 0).mean() == pytest.approx(HARD_SHARE, abs=0.003)
    assert held[held > 0].min() >= 10 and held.max() <= 600
