"""合并 and 核实 in the built-in case adapter, on SQLite and PostgreSQL: a merged duplicate is
linked to its master both ways and counts in no statistic (rollups and the raw GROUP BY
agree, also after a rebuild); 核实 as a stage of its own sits between 受理 and 立案, with its
own stage limit."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from adapters.base import AdapterError
from adapters.case.contract import CaseAction, CaseFilter, CaseSource, CaseStatus
from adapters.sql import rollup
from adapters.sql.models import CaseRow
from command_center.domain.workflow import TransitionError

from .conftest import NOW
from .test_case import new_case, walk

A, S = CaseAction, CaseStatus
_ids = itertools.count(1)

GROUPS = ([], ["status"], ["source"], ["street_code"], ["grid_code"], ["class_code"], ["day"])


def _filters(case) -> list[CaseFilter]:  # noqa: ANN001
    month = datetime(2026, 11, 1)
    return [
        CaseFilter(),
        CaseFilter(since=month),
        CaseFilter(since=month, until=datetime(2026, 12, 1)),
        CaseFilter(since=datetime(2026, 11, 20), until=datetime(2026, 11, 28)),  # a cut period
        CaseFilter(region_code=case.grid_code, since=month),
        CaseFilter(region_code=case.street_code, sources=[CaseSource.PUBLIC]),
        CaseFilter(statuses=[S.MERGED, S.REPORTED, S.ACCEPTED]),
    ]


def _totals(cases, flt: CaseFilter) -> tuple[int, int, int]:  # noqa: ANN001
    t = cases.case_stats([], flt)[0]
    return t.reported, t.open, t.voided


def test_a_merged_duplicate_is_linked_both_ways_and_counted_once(cases, clock) -> None:
    master = cases.report_case(new_case(cases, source=CaseSource.PUBLIC, external_id="m-1"))
    walk(cases, master.id, A.ACCEPT, A.REGISTER, A.DISPATCH)
    flt = CaseFilter(region_code=master.grid_code, since=datetime(2026, 11, 1))
    before = _totals(cases, flt)
    clock.now = NOW + timedelta(minutes=10)
    dup = cases.report_case(new_case(cases, source=CaseSource.PUBLIC, external_id="m-2"))
    assert _totals(cases, flt) == (before[0] + 1, before[1] + 1, before[2])
    clock.now += timedelta(minutes=5)
    cases.act(dup.id, A.ACCEPT, "受理员")
    merged = cases.act(dup.id, A.MERGE, "受理员", "同一处垃圾", master_case_id=master.id)
    assert merged.status is S.MERGED and merged.merged_into == master.id
    # counted once: as before the duplicate came in, not as one more voided case
    assert _totals(cases, flt) == before
    assert cases.raw_case_stats([], flt)[0] == cases.case_stats([], flt)[0]
    # the queue (open cases) no longer holds it; the master is unchanged
    open_ids = {c.id for c in cases.list_cases(CaseFilter(open_only=True, limit=None))}
    assert dup.id not in open_ids and master.id in open_ids
    dup_steps = cases.get_case(dup.id).history
    master_detail = cases.get_case(master.id)
    assert (dup_steps[-1].action, dup_steps[-1].to_status) == ("merge", S.MERGED)
    assert dup_steps[-1].note == f"→ {master.number} · 同一处垃圾"
    last = master_detail.history[-1]
    assert (last.action, last.from_status, last.to_status) == (
        "merge_in",
        S.DISPATCHED,
        S.DISPATCHED,
    )
    assert last.note == f"← {dup.number}"
    assert master_detail.case.status is S.DISPATCHED
    # a merged case is final
    with pytest.raises(TransitionError):
        cases.act(dup.id, A.ACCEPT, "受理员")


def test_merge_is_refused_into_itself_a_closed_case_or_from_a_registered_one(cases) -> None:
    closed = cases.report_case(new_case(cases, external_id=f"mc-{next(_ids)}"))
    walk(cases, closed.id, A.ACCEPT, A.REGISTER, A.DISPATCH, A.REPORT_BACK, A.VERIFY, A.CLOSE)
    dup = cases.report_case(new_case(cases, external_id=f"mc-{next(_ids)}"))
    with pytest.raises(TransitionError, match="not into itself"):
        cases.act(dup.id, A.MERGE, "受理员", master_case_id=dup.id)
    with pytest.raises(TransitionError, match="merge into an open case"):
        cases.act(dup.id, A.MERGE, "受理员", master_case_id=closed.id)
    with pytest.raises(AdapterError, match="master_case_id"):
        cases.act(dup.id, A.MERGE, "受理员")
    registered = cases.report_case(new_case(cases, external_id=f"mc-{next(_ids)}"))
    walk(cases, registered.id, A.ACCEPT, A.REGISTER)
    with pytest.raises(TransitionError, match="cannot merge"):
        cases.act(registered.id, A.MERGE, "受理员", master_case_id=dup.id)
    assert cases.get_case(dup.id).case.status is S.REPORTED  # nothing changed
    # a duplicate of a duplicate joins the first one's master
    other = cases.report_case(new_case(cases, external_id=f"mc-{next(_ids)}"))
    cases.act(dup.id, A.MERGE, "受理员", master_case_id=registered.id)
    assert cases.act(other.id, A.MERGE, "受理员", master_case_id=dup.id).merged_into == (
        registered.id
    )


def test_a_case_with_duplicates_merged_elsewhere_takes_them_along(cases) -> None:
    first = cases.report_case(new_case(cases, external_id=f"mt-{next(_ids)}"))
    dup = cases.report_case(new_case(cases, external_id=f"mt-{next(_ids)}"))
    cases.act(dup.id, A.MERGE, "受理员", master_case_id=first.id)
    final = cases.report_case(new_case(cases, external_id=f"mt-{next(_ids)}"))
    walk(cases, final.id, A.ACCEPT, A.REGISTER)
    flt = CaseFilter(region_code=final.grid_code, since=datetime(2026, 11, 1))
    before = cases.case_stats([], flt)[0].reported
    cases.act(first.id, A.MERGE, "受理员", master_case_id=final.id)
    # the earlier duplicate follows: the problem is still counted once, in ``final``
    assert cases.get_case(dup.id).case.merged_into == final.id
    assert cases.case_stats([], flt)[0].reported == before - 1


def test_rollups_equal_the_raw_group_by_with_merged_and_confirmed_cases(city, clock) -> None:
    from adapters.sql.case import SqlCaseAdapter

    cases = SqlCaseAdapter(database_url=city.url, now=clock, verify_stage=True)
    try:
        clock.now = NOW + timedelta(hours=2)
        master = cases.report_case(new_case(cases, source=CaseSource.PUBLIC, external_id="rm-0"))
        walk(cases, master.id, A.ACCEPT, A.CONFIRM, A.REGISTER, A.DISPATCH)
        for i, actions in enumerate([(), (A.ACCEPT,), (A.ACCEPT, A.CONFIRM)]):
            dup = cases.report_case(
                new_case(cases, source=CaseSource.PUBLIC, external_id=f"rm-{i + 1}")
            )
            walk(cases, dup.id, *actions)
            cases.act(dup.id, A.MERGE, "受理员", master_case_id=master.id)
        waiting = cases.report_case(new_case(cases, source=CaseSource.PUBLIC, external_id="rm-9"))
        walk(cases, waiting.id, A.ACCEPT, A.URGE, A.ESCALATE)
        clock.now = NOW + timedelta(days=2)
        for group, flt in itertools.product(GROUPS, _filters(master)):
            assert cases.case_stats(group, flt) == cases.raw_case_stats(group, flt), (group, flt)
        statuses = {r.key["status"] for r in cases.case_stats(["status"], CaseFilter())}
        assert "merged" not in statuses and "confirming" in statuses
        flt = CaseFilter(since=datetime(2026, 11, 1))
        incremental = {g: cases.case_stats(g, flt) for g in map(tuple, GROUPS)}
        with cases.engine.begin() as conn:  # a bulk rebuild counts them the same way
            rollup.rebuild(conn)
        assert {g: cases.case_stats(g, flt) for g in map(tuple, GROUPS)} == incremental
    finally:
        cases.close()


def test_confirm_is_a_stage_of_its_own_with_its_limit(city, clock) -> None:
    from adapters.sql.case import SqlCaseAdapter

    cases = SqlCaseAdapter(database_url=city.url, now=clock, verify_stage=True)
    try:
        clock.now = datetime(2026, 11, 30, 9, 0)  # a Monday
        case = cases.report_case(new_case(cases, external_id=f"cf-{next(_ids)}"))
        flt = CaseFilter(region_code=case.grid_code, since=datetime(2026, 11, 30))
        accepted = cases.act(case.id, A.ACCEPT, "受理员")
        assert accepted.status is S.CONFIRMING
        with pytest.raises(TransitionError, match="cannot register"):
            cases.act(case.id, A.REGISTER, "值班长")
        clock.now += timedelta(hours=1, minutes=30)  # 核实 limit: 1 working hour: late
        assert cases.act(case.id, A.CONFIRM, "监督员").status is S.ACCEPTED
        clock.now += timedelta(minutes=40)  # 立案 within 1 working hour of the confirmation
        cases.act(case.id, A.REGISTER, "值班长")
        with cases.engine.connect() as conn:
            row = conn.execute(select(CaseRow.__table__).where(CaseRow.id == case.id)).one()
        assert row.confirmed_at == datetime(2026, 11, 30, 10, 30)
        assert (row.confirmed_on_time, row.registered_on_time) == (False, True)
        totals = cases.case_stats([], flt)[0]
        assert (totals.confirm_timed, totals.confirmed_on_time) == (1, 0)
        assert totals == cases.raw_case_stats([], flt)[0]
        history = [(s.action, s.to_status) for s in cases.get_case(case.id).history]
        assert history[1:] == [
            ("accept", S.CONFIRMING),
            ("confirm", S.ACCEPTED),
            ("register", S.REGISTERED),
        ]
    finally:
        cases.close()
    # without the stage (the default) 受理 goes straight to 待立案
    plain = SqlCaseAdapter(database_url=city.url, now=clock)
    try:
        other = plain.report_case(new_case(plain, external_id=f"cf-{next(_ids)}"))
        assert plain.act(other.id, A.ACCEPT, "受理员").status is S.ACCEPTED
        with pytest.raises(TransitionError, match="cannot confirm"):
            plain.act(other.id, A.CONFIRM, "监督员")
    finally:
        plain.close()
