import pytest

from adapters.case.contract import CaseStats
from command_center.domain.indicators import (
    INDICATOR_KEYS,
    JINNIU_WEIGHTS,
    composite_score,
    indicators,
    rag,
)


def tianmen_dec_2016() -> CaseStats:
    # DOMAIN.md: 受理 1,054, 立案 996, 应结案 972, 结案 911, 按期结案 737.
    return CaseStats(
        key={},
        reported=1054,
        registered=996,
        dispatched=972,
        handled=930,
        handled_on_time=760,
        closed=911,
        closed_on_time=737,
        reworked=19,
        extended=10,
        overdue_open=12,
    )


def test_tianmen_closure_rates_match_the_published_figures():
    ind = indicators(tianmen_dec_2016())
    assert round(ind["closure_rate"] * 100, 1) == 93.7
    assert round(ind["on_time_closure_rate"] * 100, 1) == 75.8


def test_every_indicator_is_computed_over_dispatched_cases():
    ind = indicators(tianmen_dec_2016())
    assert set(ind) == set(INDICATOR_KEYS)
    assert ind["disposal_rate"] == pytest.approx(930 / 972)
    assert ind["on_time_disposal_rate"] == pytest.approx(760 / 972)
    assert ind["rework_rate"] == pytest.approx(19 / 972)
    assert ind["extension_rate"] == pytest.approx(10 / 972)
    assert ind["overdue_open_rate"] == pytest.approx(12 / 972)
    assert ind["overdue_open"] == 12


def test_rates_are_none_when_nothing_was_dispatched():
    ind = indicators(CaseStats(key={"street_code": "110101001"}, reported=3, overdue_open=0))
    assert all(ind[k] is None for k in INDICATOR_KEYS if k != "overdue_open")
    assert ind["overdue_open"] == 0


def test_a_perfect_month_scores_full_marks_with_jinniu_weights():
    stats = CaseStats(key={}, dispatched=100, handled=100, handled_on_time=100, closed=100)
    assert composite_score(indicators(stats)) == pytest.approx(100.0)
    assert sum(JINNIU_WEIGHTS.values()) == 100


def test_jinniu_score_follows_its_formula():
    ind = indicators(tianmen_dec_2016())
    expected = (
        930 / 972 * 30
        + 760 / 972 * 20
        + (1 - 19 / 972) * 20
        + (1 - 12 / 972) * 20
        + (1 - 10 / 972) * 10
    )
    assert composite_score(ind, JINNIU_WEIGHTS) == pytest.approx(expected)


def test_weights_are_configurable():
    ind = indicators(tianmen_dec_2016())
    weights = {"closure_rate": 60, "on_time_closure_rate": 40}
    assert composite_score(ind, weights) == pytest.approx(911 / 972 * 60 + 737 / 972 * 40)


def test_no_score_without_dispatched_cases():
    assert composite_score(indicators(CaseStats(key={}))) is None


def test_unknown_weight_key_is_refused():
    with pytest.raises(ValueError, match="cannot weight"):
        composite_score(indicators(tianmen_dec_2016()), {"happiness": 10})


@pytest.mark.parametrize(
    ("value", "target", "colour"),
    [(0.96, 0.95, "green"), (0.95, 0.95, "green"), (0.92, 0.95, "amber"), (0.90, 0.95, "amber")],
)
def test_rag_higher_is_better(value, target, colour):
    assert rag(value, target) == colour


def test_rag_red_beyond_the_margin():
    assert rag(0.899, 0.95) == "red"
    assert rag(0.937, 0.95, amber_margin=0.01) == "red"


def test_rag_lower_is_better():
    assert rag(0.02, 0.03, higher_is_better=False) == "green"
    assert rag(0.05, 0.03, higher_is_better=False) == "amber"
    assert rag(0.09, 0.03, higher_is_better=False) == "red"


def test_handling_time_counts_working_hours_within_the_calendar_and_wall_clock_hours() -> None:
    from datetime import datetime

    from command_center.domain.calendar import load_calendar
    from command_center.domain.indicators import handling_seconds

    calendar = load_calendar(None)
    # Friday 16:00 to Monday 10:00: 66 h on the clock, 1.5 + 1.5 工作时
    friday, monday = datetime(2026, 11, 27, 16), datetime(2026, 11, 30, 10)
    assert handling_seconds(friday, monday, calendar) == (66 * 3600, 3 * 3600)
    # 国庆 2026 (10-01..10-07) stops the working clock, not the wall clock
    assert handling_seconds(datetime(2026, 9, 30, 16), datetime(2026, 10, 8, 15), calendar) == (
        191 * 3600,
        8 * 3600,
    )


def test_average_handling_time_is_the_sums_over_the_cases_reported_back() -> None:
    stats = CaseStats(
        key={}, dispatched=4, handled=3, handling_timed=3,
        handling_seconds=3 * 30 * 3600, handling_work_seconds=3 * 12 * 3600,
    )  # fmt: skip
    ind = indicators(stats)
    assert ind["avg_handling_hours"] == pytest.approx(30.0)
    assert ind["avg_handling_work_hours"] == pytest.approx(12.0)
    with pytest.raises(ValueError, match="cannot weight"):
        composite_score(ind, {"avg_handling_hours": 10})
