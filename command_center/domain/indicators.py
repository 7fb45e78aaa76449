"""Appraisal indicators (监督考核指标) from case counts, a configurable composite score and
red/amber/green against targets.

Denominators: the standard divides by 应处置数 (cases that should be handled) and 应结案数
(cases that should be closed). In this app both are the cases dispatched in the group
(``CaseStats.dispatched``): a case enters the handling clock when it is dispatched, and every
dispatched case should end up closed. Rates are fractions in 0..1, ``None`` when nothing was
dispatched (no denominator, no rate).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from adapters.case.contract import CaseStats
from command_center.domain.calendar import WorkingCalendar

INDICATOR_KEYS: tuple[str, ...] = (
    "disposal_rate",  # 处置率 = 处置数 / 应处置数
    "on_time_disposal_rate",  # 按期处置率 = 按期处置数 / 应处置数
    "closure_rate",  # 结案率 = 结案数 / 应结案数
    "on_time_closure_rate",  # 按期结案率 = 按期结案数 / 应结案数
    "rework_rate",  # 返工率 = 返工数 / 应结案数
    "extension_rate",  # 延期率 = 延期数 / 应处置数
    "overdue_open_rate",  # 超期待处置率 = 超期未处置数 / 应处置数
    "overdue_open",  # 超期未处置数 (a count, not a rate)
    "avg_handling_work_hours",  # 平均处置时长 in 工作时 (see ``handling_seconds``)
    "avg_handling_hours",  # 平均处置时长 in wall-clock hours
)

#: The indicators that are not rates: they cannot be weighted into a score.
NON_RATES: frozenset[str] = frozenset(
    {"overdue_open", "avg_handling_work_hours", "avg_handling_hours"}
)
RATE_KEYS: tuple[str, ...] = tuple(k for k in INDICATOR_KEYS if k not in NON_RATES)

#: Indicators where less is better: a composite score counts them as (1 - value).
LOWER_IS_BETTER: frozenset[str] = frozenset({"rework_rate", "extension_rate", "overdue_open_rate"})

#: One city's choice, not a national standard: Chengdu Jinniu district's 100-point score,
#: 处置率×30 + 按期处置率×20 + (1−返工率)×20 + (1−超期待处置率)×20 + (1−延期率)×10.
JINNIU_WEIGHTS: Mapping[str, float] = {
    "disposal_rate": 30.0,
    "on_time_disposal_rate": 20.0,
    "rework_rate": 20.0,
    "overdue_open_rate": 20.0,
    "extension_rate": 10.0,
}
DEFAULT_WEIGHTS = JINNIU_WEIGHTS


def _ratio(numerator: int, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def handling_seconds(
    dispatched_at: datetime, handled_at: datetime, calendar: WorkingCalendar
) -> tuple[int, int]:
    """处置时长 of one case: (wall-clock seconds, working seconds) from its (last) 派遣 to its
    (last) 处置反馈.

    The one definition of 平均处置时长, for the rollups, the raw counts and the department
    board alike. A rework (返工) keeps the dispatch time and moves the report-back, so the
    department's second round counts in: the case was not handled until then. Working
    seconds are those inside the working calendar (nights, weekends and holidays excluded),
    whatever the class's limit is counted in, so cities can compare departments on one scale.
    """
    wall = max(round((handled_at - dispatched_at).total_seconds()), 0)
    work = max(round(calendar.working_hours_between(dispatched_at, handled_at) * 3600), 0)
    return wall, work


def _hours(seconds: int, count: int) -> float | None:
    return seconds / 3600 / count if count else None


def indicators(stats: CaseStats) -> dict[str, float | None]:
    """The appraisal indicators of one group of cases (see ``INDICATOR_KEYS``).

    平均处置时长 averages ``handling_seconds`` over the group's cases that were reported back
    (``handling_timed``); ``None`` when none was.
    """
    due = stats.dispatched  # 应处置数 = 应结案数 in this app
    return {
        "disposal_rate": _ratio(stats.handled, due),
        "on_time_disposal_rate": _ratio(stats.handled_on_time, due),
        "closure_rate": _ratio(stats.closed, due),
        "on_time_closure_rate": _ratio(stats.closed_on_time, due),
        "rework_rate": _ratio(stats.reworked, due),
        "extension_rate": _ratio(stats.extended, due),
        "overdue_open_rate": _ratio(stats.overdue_open, due),
        "overdue_open": stats.overdue_open,
        "avg_handling_work_hours": _hours(stats.handling_work_seconds, stats.handling_timed),
        "avg_handling_hours": _hours(stats.handling_seconds, stats.handling_timed),
    }


def composite_score(
    ind: Mapping[str, float | None], weights: Mapping[str, float] = DEFAULT_WEIGHTS
) -> float | None:
    """Sum of weight × indicator (× (1 − indicator) for ``LOWER_IS_BETTER`` ones).

    With weights adding up to 100 the score is out of 100. ``None`` when a weighted indicator
    is ``None`` (nothing dispatched): no score rather than a misleading one.
    """
    score = 0.0
    for key, weight in weights.items():
        if key not in RATE_KEYS:
            raise ValueError(f"cannot weight {key!r}: use one of the rates {RATE_KEYS}")
        value = ind.get(key)
        if value is None:
            return None
        score += weight * ((1.0 - value) if key in LOWER_IS_BETTER else value)
    return score


# Rates like 0.85 vs 0.9 are not exact in binary; a boundary value must not flip colour.
_EPSILON = 1e-9

Rag = Literal["green", "amber", "red"]


def rag(
    value: float, target: float, higher_is_better: bool = True, amber_margin: float = 0.05
) -> Rag:
    """Green when the target is met, amber within ``amber_margin`` of it (same units as the
    value, e.g. 0.05 = five percentage points for a rate), red beyond. Check for ``None``
    (no data) before calling."""
    shortfall = (target - value) if higher_is_better else (value - target)
    if shortfall <= _EPSILON:
        return "green"
    if shortfall <= amber_margin + _EPSILON:
        return "amber"
    return "red"
