"""Statistics on a small fixed set of cases filed through the sql case adapter.

grid 1 (street 1), 暴露垃圾 0102, supervisors: 09-28 09:00, 10-01 09:00 (a Thursday),
10-03 09:00 (closed later), 10-20 09:00. grid 2 (street 2), 道路不洁 0104, hotline: two on
10-05 08:00.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from test_appraisal import Clock, empty_city, grids_of_two_streets

from adapters.case.contract import CaseAction, CaseSource, NewCase
from adapters.sql.case import SqlCaseAdapter
from command_center.appraisal import period_of
from command_center.statistics import (
    StatsFilter,
    by_class,
    by_region,
    by_source,
    hotspots,
    hour_of_week,
    recurring,
    trend,
)

OCT = period_of("month", date(2026, 10, 1))
A = CaseAction


@pytest.fixture(scope="module")
def city(tiny_city_url: str, tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    url = empty_city(tiny_city_url, tmp_path_factory.mktemp("stats"))
    cases = SqlCaseAdapter(database_url=url, now=Clock(datetime(2026, 10, 25, 10)))
    g1, g2 = grids_of_two_streets(cases)

    def report(at: datetime, grid: str, code: str, source: CaseSource) -> int:
        return cases.report_case(
            NewCase(
                kind="event",
                class_code=code,
                source=source,
                description="统计测试",
                grid_code=grid,
                reported_at=at,
            )
        ).id

    for day in (datetime(2026, 9, 28, 9), datetime(2026, 10, 1, 9), datetime(2026, 10, 20, 9)):
        report(day, g1, "0102", CaseSource.SUPERVISOR)
    closed = report(datetime(2026, 10, 3, 9), g1, "0102", CaseSource.SUPERVISOR)
    for action, kw in (
        (A.ACCEPT, {}),
        (A.REGISTER, {}),
        (A.DISPATCH, {"department_code": "D02"}),
        (A.REPORT_BACK, {}),
        (A.VERIFY, {}),
        (A.CLOSE, {}),
    ):
        cases.act(closed, action, "t", at=datetime(2026, 10, 8, 10), **kw)
    for _ in range(2):
        report(datetime(2026, 10, 5, 8), g2, "0104", CaseSource.HOTLINE)
    yield cases, g1, g2
    cases.close()


def test_daily_trend_has_every_day_and_counts_closed_on_the_reported_day(city) -> None:  # noqa: ANN001
    cases, _, _ = city
    frame = trend(cases, OCT, "day")
    assert len(frame) == 31 and frame["reported"].sum() == 5
    day = frame.set_index("bucket")
    assert day.loc["2026-10-03", "closed"] == 1
    assert day.loc["2026-10-05", "reported"] == 2
    assert day.loc["2026-10-02", "reported"] == 0


def test_weekly_and_monthly_trend_add_up_the_days(city) -> None:  # noqa: ANN001
    cases, _, _ = city
    weeks = trend(cases, OCT, "week").set_index("bucket")["reported"].to_dict()
    assert weeks == {
        "2026-09-28": 2,
        "2026-10-05": 2,
        "2026-10-12": 0,
        "2026-10-19": 1,
        "2026-10-26": 0,
    }
    months = trend(cases, period_of("year", date(2026, 1, 1)), "month")
    assert len(months) == 12
    assert months.set_index("bucket").loc["2026-09-01", "reported"] == 1


def test_class_and_source_mix(city) -> None:  # noqa: ANN001
    cases, _, _ = city
    classes = by_class(cases, OCT)
    assert list(zip(classes["kind"], classes["class_code"], classes["reported"], strict=True)) == [
        ("event", "0102", 3),
        ("event", "0104", 2),
    ]
    sources = by_source(cases, OCT).set_index("source")["reported"].to_dict()
    assert sources == {"supervisor": 3, "hotline": 2}


def test_filters_narrow_every_statistic(city) -> None:  # noqa: ANN001
    cases, g1, g2 = city
    hotline = StatsFilter(source="hotline")
    assert trend(cases, OCT, "day", hotline)["reported"].sum() == 2
    road = StatsFilter(class_key="event:0104")
    assert list(hotspots(cases, OCT, road)["grid_code"]) == [g2]
    big = StatsFilter(class_key="event:01")  # 暴露垃圾 and 道路不洁 are both 市容环境
    assert by_class(cases, OCT, big)["reported"].sum() == 5
    assert by_class(cases, OCT, StatsFilter(class_key="event:02")).empty
    street = StatsFilter(region_code=g1[:9])
    assert by_source(cases, OCT, street)["reported"].sum() == 3
    regions = by_region(cases, OCT, "street").set_index("code")["reported"].to_dict()
    assert regions == {g1[:9]: 3, g2[:9]: 2}


def test_hour_of_week_puts_a_thursday_nine_oclock_case_in_its_cell(city) -> None:  # noqa: ANN001
    cases, _, _ = city
    matrix = hour_of_week(cases, OCT)
    assert matrix.shape == (7, 24) and matrix.sum() == 5
    assert matrix[3, 9] == 1  # 10-01 Thursday 09h
    assert matrix[0, 8] == 2  # 10-05 Monday 08h


def test_recurring_problems_count_repeats_within_the_window_and_look_back(city) -> None:  # noqa: ANN001
    cases, g1, g2 = city
    frame = recurring(cases, OCT, within_days=7)
    rows = {(r.grid_code, r.class_code): r for r in frame.itertuples()}
    # 10-01 recurs (09-28 is 3 days before), 10-03 recurs, 10-20 does not (17 days)
    assert rows[(g1, "0102")].cases == 3 and rows[(g1, "0102")].repeats == 2
    assert rows[(g2, "0104")].repeats == 1  # two on the same day
    short = recurring(cases, OCT, within_days=1)
    assert {(r.grid_code, r.repeats) for r in short.itertuples()} == {(g2, 1)}


def test_statistics_of_an_empty_period_are_empty_not_errors(city) -> None:  # noqa: ANN001
    cases, _, _ = city
    aug = period_of("month", date(2026, 8, 1))
    assert trend(cases, aug)["reported"].sum() == 0
    assert by_class(cases, aug).empty and hotspots(cases, aug).empty
    assert recurring(cases, aug).empty and hour_of_week(cases, aug).sum() == 0


def test_the_picker_overrides_a_panels_fixed_period() -> None:
    from command_center.statistics import resolve_period

    today = date(2026, 11, 25)
    assert resolve_period("month", today).start == date(2026, 11, 1)
    assert resolve_period("last7", today).start == date(2026, 11, 19)
    picked = resolve_period("month", today, {"grain": "week", "date": "2026-10-07"})
    assert (picked.start, picked.end) == (date(2026, 10, 5), date(2026, 10, 12))


@pytest.fixture(scope="module")
def tiny_cases(tiny_city_url: str):  # noqa: ANN201
    cases = SqlCaseAdapter(database_url=tiny_city_url, now=Clock(datetime(2026, 11, 25, 10, 30)))
    yield cases
    cases.close()


@pytest.mark.parametrize(
    "period, flt, within",
    [
        (period_of("month", date(2026, 10, 1)), StatsFilter(), 30),
        (period_of("quarter", date(2026, 7, 1)), StatsFilter(), 45),
        (period_of("year", date(2026, 1, 1)), StatsFilter(), 14),
        (period_of("week", date(2026, 11, 16)), StatsFilter(), 60),  # cut mid-month
        (period_of("year", date(2026, 1, 1)), StatsFilter(class_key="event:01"), 60),
        (period_of("year", date(2026, 1, 1)), StatsFilter(class_key="component:01"), 90),
        (period_of("year", date(2026, 1, 1)), StatsFilter(region_code="110101001"), 60),
    ],
)
def test_recurring_by_candidates_gives_the_full_scans_answer(
    tiny_cases, monkeypatch, period, flt, within  # noqa: ANN001
) -> None:
    import command_center.statistics as stats

    scanned = recurring(tiny_cases, period, flt, within_days=within, top=5)  # small: a scan
    # the tiny city is sparse: a week, or its few component cases, may have no repeat
    assert len(scanned) >= 1 or period.grain == "week" or flt.kind == "component"
    monkeypatch.setattr(stats, "RECURRING_SCAN_MAX", 0)  # as in a large city: candidates
    pruned = recurring(tiny_cases, period, flt, within_days=within, top=5)
    assert pruned.to_dict("records") == scanned.to_dict("records")
    for by_grid in (True, False):  # grids first, or every pair of the city
        alone = stats._recurring_pruned(tiny_cases, period, flt, within, 5, by_grid)
        assert alone is not None and alone.to_dict("records") == scanned.to_dict("records")
    # the tiny city's grids all fit the seed: seed with the hottest grid alone, so the
    # threshold and the candidate pairs of the other grids decide
    monkeypatch.setattr(stats, "_RECURRING_SEED_CASES", 1)
    seeded = stats._recurring_pruned(tiny_cases, period, flt, within, 5, True)
    assert seeded is not None and seeded.to_dict("records") == scanned.to_dict("records")
    # one candidate per batch, one grid as the seed: the earliest stops, the same answer
    monkeypatch.setattr(stats, "_RECURRING_BATCH", 1)
    for by_grid in (True, False):
        stepwise = stats._recurring_pruned(tiny_cases, period, flt, within, 5, by_grid)
        assert stepwise is not None and stepwise.to_dict("records") == scanned.to_dict("records")


def test_recurring_falls_back_to_the_scan_when_candidates_run_out(tiny_cases, monkeypatch) -> None:  # noqa: ANN001
    import command_center.statistics as stats

    year = period_of("year", date(2026, 1, 1))
    want = recurring(tiny_cases, year, StatsFilter(), within_days=60, top=50)
    monkeypatch.setattr(stats, "RECURRING_SCAN_MAX", 0)
    monkeypatch.setattr(stats, "RECURRING_CANDIDATES", 3)  # far fewer pairs than it needs
    for by_grid in (True, False):
        assert stats._recurring_pruned(tiny_cases, year, StatsFilter(), 60, 50, by_grid) is None
    got = recurring(tiny_cases, year, StatsFilter(), within_days=60, top=50)
    assert len(want) > 3 and got.to_dict("records") == want.to_dict("records")


class ListedCases:
    """``case_stats`` over a list of (grid, kind, class, day) cases, for the filters and
    groupings ``recurring`` asks for: its pruning tested on data made to mislead it."""

    def __init__(self, rows: list[tuple[str, str, str, date]]) -> None:
        self.rows = rows

    def case_stats(self, group_by, flt):  # noqa: ANN001, ANN201
        from collections import Counter

        from adapters.case.contract import CaseStats

        group = list(group_by)
        if "class_code" in group:
            group.insert(group.index("class_code"), "kind")
        counts: Counter = Counter()
        for grid, kind, code, day in self.rows:
            at = datetime.combine(day, datetime.min.time())
            if (flt.since and at < flt.since) or (flt.until and at >= flt.until):
                continue
            if flt.grid_codes is not None and grid not in flt.grid_codes:
                continue
            if flt.kind and kind != flt.kind:
                continue
            if flt.class_codes and code not in flt.class_codes:
                continue
            if flt.big_class_codes and code[:2] not in flt.big_class_codes:
                continue
            if flt.region_code and not grid.startswith(flt.region_code):
                continue
            values = {"grid_code": grid, "kind": kind, "class_code": code, "day": day.isoformat()}
            counts[tuple(values[g] for g in group)] += 1
        ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        if flt.top_groups:
            ranked = ranked[: flt.top_groups]
        return [CaseStats(key=dict(zip(group, key, strict=True)), reported=n) for key, n in ranked]


def misleading_city(seed: int) -> list[tuple[str, str, str, date]]:
    """Grids whose many cases seldom recur (spread over the year) beside grids with fewer
    cases that mostly do (bursts), several classes each, ties on purpose."""
    import random

    rng = random.Random(seed)
    start = date(2026, 1, 1)
    rows = []
    for g in range(rng.randint(8, 30)):
        grid = f"1101010010{g // 10:02d}{g % 10:02d}"
        for code in rng.sample(["0101", "0102", "0104", "0201", "0502"], rng.randint(1, 4)):
            kind = rng.choice(["event", "event", "component"])
            if rng.random() < 0.5:  # spread: one case every 8..30 days, many cases, no repeat
                day, step = rng.randint(0, 20), rng.randint(8, 30)
                days = list(range(day, 365, step))
            else:  # bursts: a few days in a row, fewer cases
                days = []
                for _ in range(rng.randint(1, 4)):
                    first = rng.randint(0, 360)
                    days += [first + rng.randint(0, 5) for _ in range(rng.randint(2, 8))]
            rows += [(grid, kind, code, start + timedelta(days=d)) for d in days if d < 365]
    return rows


@pytest.mark.parametrize("seed", range(12))
def test_recurring_candidates_are_not_misled_by_cases_that_do_not_recur(seed, monkeypatch) -> None:  # noqa: ANN001
    import command_center.statistics as stats

    cases = ListedCases(misleading_city(seed))
    for period, flt in [
        (period_of("year", date(2026, 1, 1)), StatsFilter()),
        (period_of("quarter", date(2026, 4, 1)), StatsFilter(class_key="event:01")),
        (period_of("month", date(2026, 6, 1)), StatsFilter(region_code="110101001001")),
        (period_of("week", date(2026, 3, 4)), StatsFilter()),  # bounded by its own cases
        (period_of("day", date(2026, 8, 3)), StatsFilter(class_key="event:0102")),
    ]:
        want = recurring(cases, period, flt, within_days=7, top=4).to_dict("records")
        for batch, seed_cases, candidates in [(1, 1, 400), (3, 40, 400), (40, 5000, 400)]:
            monkeypatch.setattr(stats, "_RECURRING_BATCH", batch)
            monkeypatch.setattr(stats, "_RECURRING_SEED_CASES", seed_cases)
            monkeypatch.setattr(stats, "RECURRING_CANDIDATES", candidates)
            for by_grid in (True, False):
                got = stats._recurring_pruned(cases, period, flt, 7, 4, by_grid)
                assert got is not None and got.to_dict("records") == want, (batch, by_grid)
        # few candidates: an answer is the right one, or none (then recurring scans)
        monkeypatch.setattr(stats, "RECURRING_CANDIDATES", 3)
        for by_grid in (True, False):
            got = stats._recurring_pruned(cases, period, flt, 7, 4, by_grid)
            assert got is None or got.to_dict("records") == want


def test_recurring_candidates_settle_a_tie_by_the_smaller_key(monkeypatch) -> None:  # noqa: ANN001
    """Q has more cases in the month (3) than P (2), so it is checked first; both repeat twice
    in the period with two cases, and P's smaller grid code ranks it first: the check must go
    on to P although no pair left can repeat *more* often than Q."""
    import command_center.statistics as stats
    from command_center.appraisal import Period

    p, q = "11010100100101", "11010100100102"
    cases = ListedCases(
        [(p, "event", "0102", date(2026, 5, d)) for d in (31,)]
        + [(p, "event", "0102", date(2026, 6, 2))] * 2
        + [(q, "event", "0102", date(2026, 5, 30))]
        + [(q, "event", "0102", date(2026, 6, 1))] * 2
        + [(q, "event", "0102", date(2026, 6, 20))]
    )
    period = Period(date(2026, 6, 1), date(2026, 6, 8))
    want = recurring(cases, period, within_days=7, top=1).to_dict("records")
    assert [(r["grid_code"], r["repeats"], r["cases"]) for r in want] == [(p, 2, 2)]
    monkeypatch.setattr(stats, "_RECURRING_SEED_CASES", 1)
    monkeypatch.setattr(stats, "_RECURRING_BATCH", 1)
    for by_grid in (True, False):
        got = stats._recurring_pruned(cases, period, StatsFilter(), 7, 1, by_grid)
        assert got is not None and got.to_dict("records") == want
