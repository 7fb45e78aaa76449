"""Appraisal indicators against hand-computed values on a small fixed set of cases.

The tiny city's regions and departments are kept; its generated cases are removed, and
seven cases are filed and worked through the sql case adapter with an injected clock, so
every count below can be checked by reading the story of each case:

===  ======  ==========  =======================================================  =========
case dept    reported    story                                                    state now
===  ======  ==========  =======================================================  =========
c1   D01     10-08 09:00 dispatched, back 10-09 08:00 (deadline 10-09 09:00),     closed on
                         closed                                                   time
c2   D01     09-30 16:00 dispatched 16:00; the 国庆 holiday stops the clock:       closed on
                         deadline 10-08 16:00, back 10-08 15:00, closed           time (Sep)
c3   D01     10-12 09:00 back late 10-14 10:00, 返工, back 10-14 12:00, closed      closed
c4   D01     10-13 09:00 延期 9 working hours, never handled                       overdue
c5   D02     10-15 09:00 back 10-15 10:00, waiting for verification               open
c6   —       10-16 09:00 rejected (作废)                                           voided
c7   D02     10-16 09:00 hotline; dispatched, 回退, dispatched again 10-16 10:00   overdue
                         (deadline Mon 10-19 10:00: the weekend does not count)
===  ======  ==========  =======================================================  =========

"now" is Tuesday 2026-10-20 10:00. c1-c6 come from supervisors, c7 from the hotline; c5
and c7 are in the second street. Accept, register and dispatch happen at the report's time
(all within their stage limits); verification is due 2 working hours after the last
report-back: c1 (back 08:00, before the working day, verified 10:00: 1.5 h) and c3 (back
12:00, verified 14:00: exactly 2 h) on time, c2 (back 10-08 15:00, verified 10-09 10:00: 2.5 h)
late. The public rated c1 满意 and c3 不满意.
"""

from __future__ import annotations

import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, delete

from adapters.case.contract import CaseAction, CaseSource, NewCase
from adapters.sql.case import SqlCaseAdapter
from adapters.sql.models import ROLLUP_TABLES, CaseRow, CaseStepRow
from command_center.appraisal import (
    AppraisalConfig,
    Period,
    appraise,
    overdue_cases,
    period_of,
    supervisor_indicators,
    totals,
)

A = CaseAction
NOW = datetime(2026, 10, 20, 10, 0)
OCT = period_of("month", date(2026, 10, 5))
SEP = period_of("month", date(2026, 9, 5))


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def empty_city(tiny_city_url: str, tmp_path: Path) -> str:
    """The tiny city's regions and departments without any case."""
    dst = tmp_path / "appraisal.sqlite"
    shutil.copy(tiny_city_url.removeprefix("sqlite:///"), dst)
    url = f"sqlite:///{dst}"
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(delete(CaseStepRow.__table__))
        conn.execute(delete(CaseRow.__table__))
        for table in ROLLUP_TABLES.values():
            conn.execute(delete(table))
    engine.dispose()
    return url


def grids_of_two_streets(cases: SqlCaseAdapter) -> tuple[str, str]:
    codes = sorted(cases.grid_index.codes)
    first = codes[0]
    second = next(c for c in codes if c[:9] != first[:9])
    return first, second


@pytest.fixture(scope="module")
def story(tiny_city_url: str, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    url = empty_city(tiny_city_url, tmp_path_factory.mktemp("appraisal"))
    clock = Clock(NOW)
    cases = SqlCaseAdapter(database_url=url, now=clock)
    grid1, grid2 = grids_of_two_streets(cases)
    ids: dict[str, int] = {}

    def report(name: str, at: datetime, grid: str, source=CaseSource.SUPERVISOR) -> int:  # noqa: ANN001
        case = cases.report_case(
            NewCase(
                kind="event",
                class_code="0102",  # 暴露垃圾: 1 working day
                source=source,
                description=f"测试案件 {name}",
                grid_code=grid,
                reported_at=at,
                reporter="监督员-甲",
            )
        )
        ids[name] = case.id
        return case.id

    def act(cid: int, action: A, at: str, **kw) -> None:  # noqa: ANN003
        cases.act(cid, action, "tester", at=datetime.fromisoformat(f"2026-{at}"), **kw)

    def dispatch(cid: int, at: str, dept: str) -> None:
        act(cid, A.ACCEPT, at)
        act(cid, A.REGISTER, at)
        act(cid, A.DISPATCH, at, department_code=dept)

    def finish(cid: int, back: str, close: str) -> None:
        act(cid, A.REPORT_BACK, back)
        act(cid, A.VERIFY, close)
        act(cid, A.CLOSE, close)

    c1 = report("c1", datetime(2026, 10, 8, 9), grid1)
    dispatch(c1, "10-08 09:00", "D01")
    finish(c1, "10-09 08:00", "10-09 10:00")

    c2 = report("c2", datetime(2026, 9, 30, 16), grid1)
    dispatch(c2, "09-30 16:00", "D01")
    finish(c2, "10-08 15:00", "10-09 10:00")

    c3 = report("c3", datetime(2026, 10, 12, 9), grid1)
    dispatch(c3, "10-12 09:00", "D01")
    act(c3, A.REPORT_BACK, "10-14 10:00")
    act(c3, A.REWORK, "10-14 11:00")
    finish(c3, "10-14 12:00", "10-14 14:00")

    c4 = report("c4", datetime(2026, 10, 13, 9), grid1)
    dispatch(c4, "10-13 09:00", "D01")
    act(c4, A.EXTEND, "10-13 10:00", extend_hours=9)

    c5 = report("c5", datetime(2026, 10, 15, 9), grid2)
    dispatch(c5, "10-15 09:00", "D02")
    act(c5, A.REPORT_BACK, "10-15 10:00")

    c6 = report("c6", datetime(2026, 10, 16, 9), grid1)
    act(c6, A.REJECT, "10-16 09:30")

    c7 = report("c7", datetime(2026, 10, 16, 9), grid2, CaseSource.HOTLINE)
    dispatch(c7, "10-16 09:00", "D01")
    act(c7, A.RETURN, "10-16 09:30")
    act(c7, A.DISPATCH, "10-16 10:00", department_code="D02")

    # 综合评价 by the 12345 回访: c1 满意, c3 不满意 (counted in the cohort they were reported in)
    cases.evaluate(c1, 2, "12345回访", at=datetime(2026, 10, 12, 10))
    cases.evaluate(c3, 0, "12345回访", at=datetime(2026, 10, 16, 10))

    yield cases, ids, (grid1, grid2)
    cases.close()


def by_code(rows):  # noqa: ANN001, ANN201
    return {r.code: r for r in rows}


def test_holiday_stops_the_clock_of_a_case_dispatched_before_national_day(story) -> None:  # noqa: ANN001
    cases, ids, _ = story
    c2 = cases.get_case(ids["c2"]).case
    assert c2.deadline == datetime(2026, 10, 8, 16, 0)
    c7 = cases.get_case(ids["c7"]).case
    assert c7.deadline == datetime(2026, 10, 19, 10, 0)  # Friday 10:00 + 9 h over a weekend


def test_department_counts_and_rates_for_october(story) -> None:  # noqa: ANN001
    cases, _, _ = story
    rows = by_code(appraise(cases, "department", OCT))
    assert set(rows) == {"D01", "D02"}
    d1, d2 = rows["D01"], rows["D02"]
    assert d1.counts["dispatched"] == 3  # c1 c3 c4 (c2 was reported in September)
    assert d1.counts["handled"] == 2 and d1.counts["handled_on_time"] == 2
    assert d1.counts["closed"] == 2 and d1.counts["closed_on_time"] == 2
    assert d1.counts["reworked"] == 1 and d1.counts["extended"] == 1
    assert d1.counts["overdue_open"] == 1
    third = pytest.approx(2 / 3)
    assert d1.rates["disposal_rate"] == third
    assert d1.rates["on_time_disposal_rate"] == third
    assert d1.rates["closure_rate"] == third
    assert d1.rates["on_time_closure_rate"] == third
    assert d1.rates["rework_rate"] == pytest.approx(1 / 3)
    assert d1.rates["extension_rate"] == pytest.approx(1 / 3)
    assert d1.rates["overdue_open_rate"] == pytest.approx(1 / 3)
    assert d1.rates["unclosed_rate"] == pytest.approx(1 / 3)
    # Jinniu: 30·⅔ + 20·⅔ + 20·(1−⅓) + 20·(1−⅓) + 10·(1−⅓) = 66.67
    assert d1.score == pytest.approx(200 / 3)

    assert d2.counts["dispatched"] == 2 and d2.counts["handled"] == 1
    assert d2.counts["closed"] == 0 and d2.counts["returned"] == 1
    assert d2.counts["overdue_open"] == 1  # c7, deadline Monday 10:00
    assert d2.rates["closure_rate"] == 0.0
    assert d2.rates["on_time_closure_rate"] == 0.0
    # 30·½ + 20·½ + 20·1 + 20·½ + 10·1 = 65
    assert d2.score == pytest.approx(65.0)


#: The story's units have 1-3 cases: rank them as a city ranking its few cases would.
RANK_ALL = AppraisalConfig(min_dispatched=1)


def test_ranking_colours_and_change_since_previous_month(story) -> None:  # noqa: ANN001
    cases, _, _ = story
    rows = appraise(cases, "department", OCT, config=RANK_ALL)
    assert [r.code for r in rows] == ["D01", "D02"]
    d1, d2 = rows
    assert (d1.rank, d2.rank) == (1, 2)
    assert d1.previous_rank == 1 and d1.previous_score == pytest.approx(100.0)
    assert d1.score_change == pytest.approx(200 / 3 - 100)
    assert d1.rank_change == 0
    assert d2.previous_rank is None and d2.rank_change is None  # nothing in September
    assert d1.rag["on_time_closure_rate"] == "red"  # 66.7% vs 90%
    assert d1.rag["score"] == "red"
    assert d2.rag["extension_rate"] == "green"  # 0% vs at most 5%


def test_config_changes_weights_targets_and_rank_key(story, tmp_path: Path) -> None:  # noqa: ANN001
    cases, _, _ = story
    path = tmp_path / "appraisal.yaml"
    path.write_text(
        "weights: {closure_rate: 100}\n"
        "targets: {on_time_closure_rate: 0.6}\n"
        "amber_margin: 0.1\n"
        "rank_by: overdue_open_rate\n"
        "min_dispatched: 1\n",
        encoding="utf-8",
    )
    config = AppraisalConfig.load(path)
    rows = by_code(appraise(cases, "department", OCT, config=config))
    assert rows["D01"].score == pytest.approx(200 / 3)  # closure_rate × 100
    assert rows["D02"].score == pytest.approx(0.0)
    assert rows["D01"].rag["on_time_closure_rate"] == "green"  # 66.7% ≥ 60%
    assert rows["D02"].rag["on_time_closure_rate"] == "red"
    assert rows["D01"].rank == 1  # ⅓ overdue beats ½: lower is better
    with pytest.raises(ValueError, match="cannot weight"):
        AppraisalConfig(weights={"overdue_open": 10})


def test_street_and_grid_levels_split_the_same_cases(story) -> None:  # noqa: ANN001
    cases, _, (grid1, grid2) = story
    streets = by_code(appraise(cases, "street", OCT))
    assert set(streets) == {grid1[:9], grid2[:9]}
    assert streets[grid1[:9]].counts["reported"] == 4  # c1 c3 c4 c6
    assert streets[grid1[:9]].counts["voided"] == 1
    assert streets[grid2[:9]].counts["reported"] == 2  # c5 c7
    grids = by_code(appraise(cases, "grid", OCT))
    assert grids[grid1].counts["dispatched"] == 3
    communities = by_code(appraise(cases, "community", OCT))
    assert sum(u.counts["reported"] for u in communities.values()) == 6


def test_totals_and_supervisor_valid_report_rate(story) -> None:  # noqa: ANN001
    cases, _, _ = story
    counts, rates = totals(cases, OCT)
    assert counts["reported"] == 6 and counts["registered"] == 5  # 立案数: c6 never registered
    assert counts["voided"] == 1
    assert rates["valid_report_rate"] == pytest.approx(5 / 6)
    assert rates["satisfaction_rate"] == 0.5  # c1 满意, c3 不满意
    # stage limits: c1 c3 c4 c5 c7 accepted, registered, dispatched at once (c6 rejected)
    assert rates["on_time_accept_rate"] == 1.0 and rates["on_time_register_rate"] == 1.0
    assert rates["on_time_dispatch_rate"] == 1.0  # c7's first dispatch counts, not the second
    assert rates["on_time_verify_rate"] == 1.0  # c1 and c3
    sup = supervisor_indicators(cases, OCT)
    assert sup["reported"] == 5 and sup["valid"] == 4  # c7 came from the hotline
    assert sup["valid_report_rate"] == pytest.approx(0.8)
    assert sup["on_time_verify_rate"] == 1.0
    _, sep = totals(cases, SEP)
    assert sep["on_time_verify_rate"] == 0.0  # c2: 2.5 working hours
    assert sep["satisfaction_rate"] is None  # nobody rated c2: no data, not 0 %
    assert supervisor_indicators(cases, SEP)["on_time_verify_rate"] == 0.0


def test_average_handling_time_by_hand_in_working_and_wall_clock_hours(story) -> None:  # noqa: ANN001
    """平均处置时长, from the (last) 派遣 to the (last) 处置反馈, over the cases reported back:
    c1 10-08 09:00 → 10-09 08:00: 23 h, 8.5 工作时 (the next morning is before 08:30);
    c3 10-12 09:00 → (返工) 10-14 12:00: 51 h, 8.5 + 9 + 3.5 = 21 工作时;
    c5 10-15 09:00 → 10:00: 1 h, 1 工作时; c4 and c7 were never reported back.
    c2 (September) 09-30 16:00 → 10-08 15:00: 191 h over 国庆, of them 1.5 + 6.5 = 8 工作时."""
    cases, _, _ = story
    _, rates = totals(cases, OCT)
    assert rates["avg_handling_hours"] == pytest.approx((23 + 51 + 1) / 3)
    assert rates["avg_handling_work_hours"] == pytest.approx((8.5 + 21 + 1) / 3)
    rows = by_code(appraise(cases, "department", OCT))
    assert rows["D01"].rates["avg_handling_hours"] == pytest.approx(37.0)  # (23 + 51) / 2
    assert rows["D01"].rates["avg_handling_work_hours"] == pytest.approx(14.75)
    assert rows["D02"].rates["avg_handling_hours"] == pytest.approx(1.0)
    assert rows["D02"].rates["avg_handling_work_hours"] == pytest.approx(1.0)
    _, sep = totals(cases, SEP)
    assert sep["avg_handling_hours"] == pytest.approx(191.0)
    assert sep["avg_handling_work_hours"] == pytest.approx(8.0)
    # a period with nothing reported back has no average, not 0 h
    _, aug = totals(cases, period_of("month", date(2026, 8, 1)))
    assert aug["avg_handling_hours"] is None and aug["avg_handling_work_hours"] is None


def test_case_spanning_two_periods_counts_in_the_month_it_was_reported(story) -> None:  # noqa: ANN001
    cases, _, _ = story
    sep = by_code(appraise(cases, "department", SEP))
    assert set(sep) == {"D01"}
    assert sep["D01"].counts["closed_on_time"] == 1  # c2, closed in October
    assert sep["D01"].rates["on_time_closure_rate"] == 1.0


def test_a_period_without_cases_gives_no_rates_rather_than_zero(story) -> None:  # noqa: ANN001
    cases, _, _ = story
    aug = period_of("month", date(2026, 8, 1))
    assert appraise(cases, "department", aug) == []
    counts, rates = totals(cases, aug)
    assert counts["reported"] == 0
    assert rates["closure_rate"] is None and rates["valid_report_rate"] is None
    assert supervisor_indicators(cases, aug)["valid_report_rate"] is None


def test_drill_from_a_department_to_its_overdue_cases(story) -> None:  # noqa: ANN001
    cases, ids, (_, grid2) = story
    assert [c.id for c in overdue_cases(cases, "department", "D01", OCT)] == [ids["c4"]]
    assert [c.id for c in overdue_cases(cases, "department", "D02", OCT)] == [ids["c7"]]
    assert [c.id for c in overdue_cases(cases, "street", grid2[:9], OCT)] == [ids["c7"]]


def test_periods_step_back_by_their_own_grain() -> None:
    assert period_of("week", date(2026, 10, 21)) == Period(
        date(2026, 10, 19), date(2026, 10, 26), "week"
    )
    assert period_of("month", date(2026, 1, 31)).previous() == Period(
        date(2025, 12, 1), date(2026, 1, 1), "month"
    )
    assert period_of("quarter", date(2026, 5, 2)).previous().start == date(2026, 1, 1)
    assert period_of("year", date(2026, 5, 2)).previous().start == date(2025, 1, 1)
    assert period_of("day", date(2026, 3, 1)).previous().start == date(2026, 2, 28)
    assert OCT.label("zh") == "2026年10月"


def test_units_with_fewer_cases_than_the_minimum_are_listed_unranked_with_their_count(
    story,
    monkeypatch,  # noqa: ANN001
) -> None:
    """On 2-3 cases every rate is 0 or 100 %: by default (10 cases due) nobody ranks, and the
    table still lists both departments with their counts; the setting lowers the bar."""
    from command_center.appraisal import config_of
    from command_center.settings import Settings

    cases, _, _ = story
    rows = by_code(appraise(cases, "department", OCT))
    assert {code: (u.rank, u.counts["dispatched"]) for code, u in rows.items()} == {
        "D01": (None, 3),
        "D02": (None, 2),
    }
    monkeypatch.setenv("CC_RANK_MIN_CASES", "3")
    config = config_of(Settings())
    assert config.min_dispatched == 3
    rows = by_code(appraise(cases, "department", OCT, config=config))
    assert (rows["D01"].rank, rows["D02"].rank) == (1, None)


def test_the_ranking_panel_shows_the_score_formula_and_the_minimum(story) -> None:  # noqa: ANN001
    from command_center.screens.registry import PanelContext
    from layouts.appraisal import AppraisalRankingOptions, render_appraisal_ranking

    cases, _, _ = story
    data = {
        "units": appraise(cases, "department", OCT),
        "period_label": "2026年10月",
        "previous_label": "2026年9月",
    }
    for lang, formula, minimum in (
        (
            "zh",
            "综合得分 = 处置率×30 + 按期处置率×20 + (1−返工率)×20 + (1−超期待处置率)×20 "
            "+ (1−延期率)×10",
            "应处置少于 10 件的单位不参与排名",
        ),
        (
            "en",
            "Score = Handled×30 + Handled on time×20 + (1−Rework)×20 + (1−Overdue open)×20 "
            "+ (1−Extended)×10",
            "fewer than 10 cases due are not ranked",
        ),
    ):
        ctx = PanelContext("appraisal", "r", "appraisal_ranking", AppraisalRankingOptions(),
                           lang=lang)  # fmt: skip
        text = str(render_appraisal_ranking(data, ctx))
        assert formula in text and minimum in text
        assert "'—'" in text  # the unranked rows' rank


def test_the_three_screens_show_the_average_handling_time_with_its_units(story) -> None:  # noqa: ANN001
    """October by hand (see the average handling test): 10.2 工作时 / 25.0 小时 over the
    three cases reported back; D01 14.8 / 37.0."""
    from command_center import statistics
    from command_center.screens.registry import PanelContext
    from layouts.appraisal import (
        AppraisalRankingOptions,
        AppraisalSummaryOptions,
        render_appraisal_ranking,
        render_appraisal_summary,
    )
    from layouts.statistics import trend_summary

    cases, _, (_, grid2) = story
    counts, rates = totals(cases, OCT)
    data = {"counts": counts, "rates": rates, "supervisor": supervisor_indicators(cases, OCT),
            "grades": {}}  # fmt: skip
    ctx = PanelContext("appraisal", "s", "appraisal_summary", AppraisalSummaryOptions())
    tile = str(render_appraisal_summary(data, ctx))
    assert "平均处置时长" in tile and "10.2 工作时" in tile and "25.0 小时" in tile
    en = PanelContext("appraisal", "s", "appraisal_summary", AppraisalSummaryOptions(), lang="en")
    tile = str(render_appraisal_summary(data, en))
    assert "10.2 working h" in tile and "25.0 h" in tile
    ranking = {"units": appraise(cases, "department", OCT), "period_label": "10",
               "previous_label": "9"}  # fmt: skip
    rctx = PanelContext("appraisal", "r", "appraisal_ranking", AppraisalRankingOptions())
    table = str(render_appraisal_ranking(ranking, rctx))
    assert "平均处置时长" in table and "工作时/小时" in table and "14.8 / 37.0" in table

    # 统计分析: the trend's summary line, under the screen's filters
    summary = statistics.summary(cases, OCT)
    assert (summary["reported"], summary["closed"], summary["handled"]) == (6, 2, 3)
    assert summary["avg_handling_hours"] == pytest.approx(25.0)
    line = trend_summary(summary, "zh")
    assert "平均处置时长 10.2 工作时 / 25.0 小时" in line and "n=3" in line
    street2 = statistics.summary(cases, OCT, statistics.StatsFilter(region_code=grid2[:9]))
    assert street2["handled"] == 1 and street2["avg_handling_work_hours"] == pytest.approx(1.0)


def test_the_printed_briefing_shows_the_average_handling_time(story) -> None:  # noqa: ANN001
    from adapters.sql.gis import SqlGisAdapter
    from command_center import briefing
    from layouts.briefing import briefing_html

    cases, _, _ = story

    gis = SqlGisAdapter(engine=cases.engine)
    try:
        data = briefing.collect(cases, gis, date(2026, 10, 20), now=NOW)
    finally:
        gis.close()
    page = briefing_html(data, {"trend": "", "sources": "", "region": ""}, "A4", "zh")
    assert "平均处置时长" in page and "10.2 工作时 / 25.0 小时" in page
    assert "工作时/小时" in page and "14.8 / 37.0" in page  # the departments' column


def test_on_time_confirm_rate_where_confirmation_is_a_stage_and_merged_reports_do_not_count(
    tiny_city_url: str, tmp_path: Path
) -> None:
    """With 核实 as a stage: d1 confirmed 40 min after its acceptance (on time), d2 after 2
    working hours (late): 按期核实率 50 %. d3 is a supervisor's duplicate of d1, merged into
    it: no report of its own, so the supervisors still reported 2, both valid."""
    url = empty_city(tiny_city_url, tmp_path)
    cases = SqlCaseAdapter(database_url=url, now=Clock(NOW), verify_stage=True)
    try:
        grid, _ = grids_of_two_streets(cases)

        def report(name: str) -> int:
            return cases.report_case(
                NewCase(
                    kind="event",
                    class_code="0102",
                    source=CaseSource.SUPERVISOR,
                    description=f"测试案件 {name}",
                    grid_code=grid,
                    reported_at=datetime(2026, 10, 13, 9),
                    reporter="监督员-甲",
                )
            ).id

        def act(cid: int, action: A, at: str, **kw) -> None:  # noqa: ANN003
            cases.act(cid, action, "tester", at=datetime.fromisoformat(f"2026-{at}"), **kw)

        d1, d2, d3 = report("d1"), report("d2"), report("d3")
        for cid, confirmed in ((d1, "10-13 09:50"), (d2, "10-13 11:10")):
            act(cid, A.ACCEPT, "10-13 09:10")
            act(cid, A.CONFIRM, confirmed)
        act(d3, A.MERGE, "10-13 09:20", master_case_id=d1)
        sup = supervisor_indicators(cases, OCT)
        assert sup["on_time_confirm_rate"] == 0.5
        assert (sup["reported"], sup["valid"], sup["valid_report_rate"]) == (2, 2, 1.0)
        counts, _ = totals(cases, OCT)
        assert (counts["reported"], counts["voided"]) == (2, 0)
    finally:
        cases.close()
    plain = SqlCaseAdapter(database_url=url, now=Clock(NOW))
    try:  # without the stage there is no 核实 to time: no data, not 0 %
        assert supervisor_indicators(plain, SEP)["on_time_confirm_rate"] is None
    finally:
        plain.close()
