"""Two officers acting on the same case at once: only one may succeed where only one should,
and the loser is told why (optimistic locking through ``expected_status``, checked inside
the adapter's write transaction). On SQLite and PostgreSQL."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from adapters.case.contract import CaseFilter, CaseSource, CaseStatus, NewCase
from tests.conftest import require_service

NOW = datetime(2026, 11, 25, 10, 0)
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def city_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    from command_center.demo.generator import generate

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('race') / 'tiny.sqlite'}"
        generate(url, "tiny", seed=7, now=NOW)
        yield url
        return
    require_service("PostgreSQL", "127.0.0.1", 5432)
    schema = f"cc_race_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_SERVER, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = f"{PG_SERVER}?options=-csearch_path%3D{schema}"
        generate(url, "tiny", seed=7, now=NOW)
        yield url
    finally:
        if not os.environ.get("CC_KEEP_TEST_SCHEMA"):
            with admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture()
def cc(city_url: str, tmp_path: Path) -> Iterator[object]:
    from command_center.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(city_url, tmp_path, cache_seconds=0.0), start_background=False)
    yield app
    app.stop()


def registered_case(cc: object) -> int:
    case_adapter = cc.services.adapters.case  # type: ignore[attr-defined]
    some = case_adapter.list_cases(CaseFilter(limit=1))[0]
    case = case_adapter.report_case(
        NewCase(
            kind="event",
            class_code="0102",
            source=CaseSource.HOTLINE,
            description="并发测试",
            lon=some.lon,
            lat=some.lat,
        )
    )
    for action in ("accept", "register"):
        case_adapter.act(case.id, action, "setup")
    return case.id


def race(calls: list) -> list:  # noqa: ANN001 - callables
    """Run the calls at the same instant in threads; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    return results


def test_two_officers_dispatching_the_same_case_one_wins_the_other_is_told(cc: object) -> None:
    collab = cc.collab  # type: ignore[attr-defined]
    a = collab.users.add("a", "dispatcher", "password-1", now=NOW)
    b = collab.users.add("b", "dispatcher", "password-1", now=NOW)
    for _ in range(3):  # a few rounds: the outcome must not depend on timing luck
        case_id = registered_case(cc)
        results = race(
            [
                lambda a=a, c=case_id: collab.perform(
                    a, c, "dispatch", department_code="D01", expected_status="registered"
                ),
                lambda b=b, c=case_id: collab.perform(
                    b, c, "dispatch", department_code="D02", expected_status="registered"
                ),
            ]
        )
        winners = [r for r in results if r.ok]
        losers = [r for r in results if not r.ok]
        assert len(winners) == 1 and len(losers) == 1
        assert "他人" in losers[0].message or "不能派遣" in losers[0].message
        detail = cc.services.case_detail(case_id)  # type: ignore[attr-defined]
        assert detail.case.status is CaseStatus.DISPATCHED
        assert [s.action for s in detail.history].count("dispatch") == 1
        assert detail.case.department_code == winners[0].case.department_code
        results_audited = sorted(e.result for e in collab.audit.entries(case_id=case_id))
        assert results_audited == ["ok", "refused"]


def test_a_stale_view_is_refused_even_when_the_transition_itself_is_allowed(cc: object) -> None:
    """A returns the case (dispatched → registered) while B, who still sees it dispatched to
    the wrong department, would dispatch it again from an outdated card: with the status B
    saw, B's action is refused instead of silently applying to a case that moved on."""
    collab = cc.collab  # type: ignore[attr-defined]
    admin = collab.users.add("root", "admin", "password-1", now=NOW)
    case_id = registered_case(cc)
    assert collab.perform(admin, case_id, "dispatch", department_code="D01").ok
    assert collab.perform(admin, case_id, "return", "派错了").ok
    stale = collab.perform(admin, case_id, "urge", expected_status="dispatched")
    assert not stale.ok and "他人" in stale.message
    fresh = collab.perform(
        admin, case_id, "dispatch", department_code="D02", expected_status="registered"
    )
    assert fresh.ok and fresh.case.department_code == "D02"
