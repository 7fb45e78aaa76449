"""监督考核 appraisal: the standard indicators per department, street, community and grid over
any period, a configurable composite score, red/amber/green against targets, ranking with the
change since the previous period, and the drill from a ranked unit to its overdue cases.

Everything is computed from ``CaseAdapter.case_stats`` (rollup-served on the sql backend), so
a year of a ten-million-case city is one GROUP BY over a rollup per ranking.

Counting rule (the backend's): a case counts in the period it was *reported* in (a cohort).
``closed`` is how many of those cases are closed now, ``overdue_open`` how many of them are
open and past their deadline now. The previous period is judged by the same rule, so a
comparison is like with like.

Stage timeliness (按时受理率, 按时立案率, 按期派遣率, 按期核查率) and 满意率 come from what the
case system recorded at each step (``CaseStats.*_timed`` / ``*_on_time``, ``evaluated`` /
``satisfied``): a period whose cases carry no such record gives ``None`` (无数据), never 0 %.

按期核实率 comes from the 核实 steps where a city runs 核实 as a stage of its own
(``CC_WORKFLOW_VERIFY_STAGE``; ``confirm_timed`` / ``confirmed_on_time``); elsewhere 核实 is
part of 受理 → 立案, timed as 按时立案, and the rate is ``None``.

What the data cannot give, and is therefore ``None`` rather than invented:
- 准确派遣率: the built-in workflow has no "wrongly dispatched" mark other than 回退
  (returned), which is counted;
- per-person figures for supervisors: ``case_stats`` groups by source, not by reporter, so
  有效上报率 is given for the supervisor *source* (all 监督员 together) per region.
"""

from __future__ import annotations

import calendar as _calendar
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import yaml

from adapters.case.contract import (
    Case,
    CaseAdapter,
    CaseFilter,
    CaseSource,
    CaseStats,
    SlaState,
)
from command_center.domain.indicators import (
    DEFAULT_WEIGHTS,
    LOWER_IS_BETTER,
    RATE_KEYS,
    Rag,
    composite_score,
    indicators,
    rag,
)
from command_center.i18n import t

Level = Literal["department", "street", "community", "grid"]
Grain = Literal["day", "week", "month", "quarter", "year"]

#: The case dimension each appraised level groups by. ``grid`` is the unit grid: a grid
#: worker is appraised by the cases of the grid he or she patrols.
LEVEL_DIMENSION: dict[str, str] = {
    "department": "department_code",
    "street": "street_code",
    "community": "community_code",
    "grid": "grid_code",
}

#: Counts shown beside the rates (CaseStats fields).
COUNT_KEYS: tuple[str, ...] = (
    "reported",  # 上报数
    "registered",  # 立案数
    "dispatched",  # 应处置数 = 应结案数
    "handled",  # 处置数
    "handled_on_time",  # 按期处置数
    "closed",  # 结案数
    "closed_on_time",  # 按期结案数
    "open",
    "overdue_open",  # 超期未处置数
    "reworked",  # 返工数
    "extended",  # 延期数
    "returned",  # 回退数
    "voided",  # 作废数
)

#: Rates appraisal adds to ``domain.indicators.INDICATOR_KEYS``.
EXTRA_RATES: tuple[str, ...] = (
    "unclosed_rate",  # 未结案率 = 1 − 结案率
    "valid_report_rate",  # 有效上报率 = (上报数 − 作废数) / 上报数
    "on_time_accept_rate",  # 按时受理率 = 按时受理数 / 计时受理数
    "on_time_register_rate",  # 按时立案率 = 按时立案数 / 计时立案数
    "on_time_dispatch_rate",  # 按期派遣率 = 按期派遣数 / 计时派遣数
    "on_time_verify_rate",  # 按期核查率 = 按期核查数 / 计时核查数 (监督员)
    "satisfaction_rate",  # 满意率 = (满意 + 基本满意) / 评价数
)
#: (rate, numerator counter, denominator counter) of the stage and evaluation rates
RECORDED_RATES: tuple[tuple[str, str, str], ...] = (
    ("on_time_accept_rate", "accepted_on_time", "accept_timed"),
    ("on_time_register_rate", "registered_on_time", "register_timed"),
    ("on_time_dispatch_rate", "dispatched_on_time", "dispatch_timed"),
    ("on_time_verify_rate", "verified_on_time", "verify_timed"),
    ("satisfaction_rate", "satisfied", "evaluated"),
)
EXTRA_LOWER_IS_BETTER = frozenset({"unclosed_rate"})

#: Sensible defaults; a city overrides them in its appraisal YAML (``CC_APPRAISAL_FILE``).
DEFAULT_TARGETS: dict[str, float] = {
    "disposal_rate": 0.95,
    "on_time_disposal_rate": 0.90,
    "closure_rate": 0.95,
    "on_time_closure_rate": 0.90,
    "rework_rate": 0.05,
    "extension_rate": 0.05,
    "overdue_open_rate": 0.02,
    "unclosed_rate": 0.05,
    "valid_report_rate": 0.90,
    "on_time_accept_rate": 0.95,
    "on_time_register_rate": 0.95,
    "on_time_dispatch_rate": 0.95,
    "on_time_verify_rate": 0.90,
    "satisfaction_rate": 0.90,
    "score": 85.0,
}


#: Units with fewer dispatched cases in the period are not ranked (``CC_RANK_MIN_CASES``).
DEFAULT_RANK_MIN_CASES = 10


def lower_is_better(key: str) -> bool:
    return key in LOWER_IS_BETTER or key in EXTRA_LOWER_IS_BETTER


@dataclass(frozen=True)
class AppraisalConfig:
    """Formulas and targets: weights of the composite score (keys are indicator rates;
    lower-is-better ones count as 1 − value), a target per indicator, the amber band, and
    which indicator ranks (``score`` or any rate)."""

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    targets: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_TARGETS))
    amber_margin: float = 0.05  # in the indicator's units: 5 points of a rate
    score_amber_margin: float = 5.0  # points of the composite score
    rank_by: str = "score"
    # a unit with fewer dispatched cases (应处置数) in the period is listed with its count but
    # not ranked: on 1-3 cases every rate is 0 or 100 % and units tie at the top
    min_dispatched: int = DEFAULT_RANK_MIN_CASES

    def __post_init__(self) -> None:
        rates = set(RATE_KEYS)
        bad = [k for k in self.weights if k not in rates]
        if bad:
            raise ValueError(f"cannot weight {bad}: use {sorted(rates)}")
        allowed = rates | set(EXTRA_RATES) | {"score"}
        if self.rank_by not in allowed:
            raise ValueError(f"cannot rank by {self.rank_by!r}: use one of {sorted(allowed)}")

    @classmethod
    def load(cls, path: Path | str | None, min_dispatched: int | None = None) -> AppraisalConfig:
        """Read a YAML file ``{weights: {...}, targets: {...}, amber_margin, rank_by, ...}``;
        targets missing from the file keep their defaults. ``None``: the defaults.
        ``min_dispatched`` (the ``CC_RANK_MIN_CASES`` setting) unless the file sets it."""
        base: dict[str, Any] = {} if min_dispatched is None else {"min_dispatched": min_dispatched}
        if path is None or str(path) == "":
            return cls(**base)
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path}: expected a mapping of weights/targets")
        targets = dict(DEFAULT_TARGETS) | dict(data.get("targets") or {})
        kwargs: dict[str, Any] = {**base, "targets": targets}
        if "weights" in data:
            kwargs["weights"] = dict(data["weights"] or {})
        for key in ("amber_margin", "score_amber_margin", "rank_by", "min_dispatched"):
            if key in data:
                kwargs[key] = data[key]
        return cls(**kwargs)


def config_of(settings: Any) -> AppraisalConfig:
    """The appraisal configuration the app runs with: ``CC_APPRAISAL_FILE`` and
    ``CC_RANK_MIN_CASES``."""
    return AppraisalConfig.load(settings.appraisal_file, min_dispatched=settings.rank_min_cases)


# --------------------------------------------------------------------------------- periods


@dataclass(frozen=True)
class Period:
    """Days ``start`` (inclusive) to ``end`` (exclusive), at midnight: rollups serve whole
    days. ``grain`` says how ``previous`` steps back."""

    start: date
    end: date
    grain: str = "custom"

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, datetime.min.time())

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end, datetime.min.time())

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def previous(self) -> Period:
        """The period just before, of the same grain (a month before a month ...)."""
        if self.grain in ("month", "quarter", "year"):
            months = {"month": 1, "quarter": 3, "year": 12}[self.grain]
            return period_of(self.grain, _add_months(self.start, -months))  # type: ignore[arg-type]
        return Period(self.start - (self.end - self.start), self.start, self.grain)

    def label(self, lang: str = "zh") -> str:
        last = self.end - timedelta(days=1)
        if self.grain == "day":
            return self.start.isoformat()
        if self.grain == "month":
            return t("period.month", lang, year=self.start.year, month=self.start.month)
        if self.grain == "year":
            return t("period.year", lang, year=self.start.year)
        if self.grain == "quarter":
            q = (self.start.month - 1) // 3 + 1
            return t("period.quarter", lang, year=self.start.year, q=q)
        return f"{self.start.isoformat()} ~ {last.isoformat()}"


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, 1)


def period_of(grain: Grain, day: date) -> Period:
    """The calendar period of ``grain`` holding ``day`` (weeks start on Monday)."""
    if grain == "day":
        return Period(day, day + timedelta(days=1), "day")
    if grain == "week":
        start = day - timedelta(days=day.weekday())
        return Period(start, start + timedelta(days=7), "week")
    if grain == "month":
        start = day.replace(day=1)
        return Period(start, _add_months(start, 1), "month")
    if grain == "quarter":
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
        return Period(start, _add_months(start, 3), "quarter")
    if grain == "year":
        return Period(date(day.year, 1, 1), date(day.year + 1, 1, 1), "year")
    raise ValueError(f"unknown period grain {grain!r}")


def last_days(days: int, today: date) -> Period:
    """The ``days`` days up to and including today."""
    return Period(today - timedelta(days=days - 1), today + timedelta(days=1), "custom")


def month_days(d: date) -> int:
    return _calendar.monthrange(d.year, d.month)[1]


# ------------------------------------------------------------------------------ indicators


def unit_indicators(stats: CaseStats) -> dict[str, float | None]:
    """Every rate of one group: the domain's ``indicators`` and appraisal's extra ones."""
    out = indicators(stats)
    closure = out["closure_rate"]
    out["unclosed_rate"] = None if closure is None else 1.0 - closure
    out["valid_report_rate"] = (
        (stats.reported - stats.voided) / stats.reported if stats.reported else None
    )
    for rate, numerator, denominator in RECORDED_RATES:
        total = getattr(stats, denominator)
        out[rate] = getattr(stats, numerator) / total if total else None
    return out


def counts_of(stats: CaseStats) -> dict[str, int]:
    return {k: int(getattr(stats, k)) for k in COUNT_KEYS}


@dataclass
class AppraisedUnit:
    """One row of a ranking table. Only the score and the ranked value are computed for every
    unit; counts, rates and grades when a table reads them (a grid ranking ranks 11,000 units
    and shows fifteen)."""

    code: str
    name: str
    level: str
    stats: CaseStats = field(repr=False)
    score: float | None
    config: AppraisalConfig = field(default_factory=lambda: AppraisalConfig(), repr=False)
    rank: int | None = None  # None: too few dispatched cases to rank
    previous_rank: int | None = None
    previous_score: float | None = None
    previous_stats: CaseStats | None = field(default=None, repr=False)

    @cached_property
    def counts(self) -> dict[str, int]:
        return counts_of(self.stats)

    @cached_property
    def rates(self) -> dict[str, float | None]:
        return unit_indicators(self.stats)

    @cached_property
    def previous_rates(self) -> dict[str, float | None]:
        return unit_indicators(self.previous_stats) if self.previous_stats is not None else {}

    @cached_property
    def rag(self) -> dict[str, Rag | None]:
        """Red/amber/green per rate with a target, and ``score``."""
        grades = {k: grade(k, self.rates.get(k), self.config) for k in self.config.targets}
        grades["score"] = grade("score", self.score, self.config)
        return grades

    @property
    def rank_change(self) -> int | None:
        """Places gained since the previous period (positive = moved up)."""
        if self.rank is None or self.previous_rank is None:
            return None
        return self.previous_rank - self.rank

    @property
    def score_change(self) -> float | None:
        if self.score is None or self.previous_score is None:
            return None
        return self.score - self.previous_score

    def value(self, key: str) -> float | None:
        return self.score if key == "score" else self.rates.get(key)

    def change(self, key: str) -> float | None:
        now, before = (
            self.value(key),
            (self.previous_score if key == "score" else self.previous_rates.get(key)),
        )
        return None if now is None or before is None else now - before


def grade(key: str, value: float | None, config: AppraisalConfig) -> Rag | None:
    """Red/amber/green of one value against its target; ``None`` without data or target."""
    target = config.targets.get(key)
    if value is None or target is None:
        return None
    margin = config.score_amber_margin if key == "score" else config.amber_margin
    return rag(value, target, higher_is_better=not lower_is_better(key), amber_margin=margin)


def _units(
    rows: Sequence[CaseStats], dimension: str, config: AppraisalConfig
) -> dict[str, tuple[CaseStats, float | None, float | None]]:
    """{code: (stats, the value ranked by, score)}; the other rates wait for a reader."""
    out = {}
    key = config.rank_by
    for row in rows:
        code = row.key.get(dimension)
        if code in (None, ""):  # "" = not dispatched yet: not a department's case
            continue
        core = indicators(row)
        score = composite_score(core, config.weights)
        if key == "score":
            value = score
        else:
            value = core[key] if key in core else unit_indicators(row)[key]
        out[str(code)] = (row, value, score)
    return out


def _rank(units: dict[str, Any], config: AppraisalConfig) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4) by ``config.rank_by``, best first; ties share a
    place. Units below ``min_dispatched`` or without a value are not ranked."""
    better_low = lower_is_better(config.rank_by)
    scored = []
    for code, (stats, value, _score) in units.items():
        if value is None or stats.dispatched < config.min_dispatched:
            continue
        scored.append((code, -value if better_low else value))
    scored.sort(key=lambda cv: -cv[1])
    ranks: dict[str, int] = {}
    for i, (code, value) in enumerate(scored):
        if i and abs(value - scored[i - 1][1]) < 1e-9:
            ranks[code] = ranks[scored[i - 1][0]]
        else:
            ranks[code] = i + 1
    return ranks


def appraise(
    case: CaseAdapter,
    level: Level,
    period: Period,
    *,
    region_code: str | None = None,
    config: AppraisalConfig | None = None,
    names: Mapping[str, str] | None = None,
    compare: bool = True,
) -> list[AppraisedUnit]:
    """The ranking table of ``level`` units over ``period``: best first, unranked last.

    Two ``case_stats`` calls (this period and the previous one) whatever the city's size.
    """
    config = config or AppraisalConfig()
    dimension = LEVEL_DIMENSION[level]
    flt = CaseFilter(region_code=region_code, since=period.since, until=period.until, limit=None)
    current = _units(case.case_stats([dimension], flt), dimension, config)
    previous: dict[str, Any] = {}
    if compare:
        before = period.previous()
        pflt = CaseFilter(
            region_code=region_code, since=before.since, until=before.until, limit=None
        )
        previous = _units(case.case_stats([dimension], pflt), dimension, config)
    ranks, previous_ranks = _rank(current, config), _rank(previous, config)
    names = names or {}
    out = []
    for code, (stats, _value, score) in current.items():
        prev = previous.get(code)
        out.append(
            AppraisedUnit(
                code=code,
                name=names.get(code, code),
                level=level,
                stats=stats,
                score=score,
                config=config,
                rank=ranks.get(code),
                previous_rank=previous_ranks.get(code),
                previous_score=prev[2] if prev else None,
                previous_stats=prev[0] if prev else None,
            )
        )
    out.sort(key=lambda u: (u.rank is None, u.rank or 0, -u.stats.dispatched, u.code))
    return out


def totals(
    case: CaseAdapter, period: Period, *, region_code: str | None = None
) -> tuple[dict[str, int], dict[str, float | None]]:
    """The whole city's (or region's) counts and rates over the period."""
    flt = CaseFilter(region_code=region_code, since=period.since, until=period.until, limit=None)
    rows = case.case_stats([], flt)
    stats = rows[0] if rows else CaseStats(key={})
    return counts_of(stats), unit_indicators(stats)


def supervisor_indicators(
    case: CaseAdapter, period: Period, *, region_code: str | None = None
) -> dict[str, Any]:
    """监督员 indicators the data allows: reports by supervisors (监督员上报), the valid ones
    (not voided; a merged duplicate is no report of its own and counts in neither), 有效上报率,
    and 按期核查率 and 按期核实率 over every case the supervisors verified or confirmed
    (whoever reported it); 按期核实率 is ``None`` where 核实 is no stage of its own."""
    flt = CaseFilter(
        region_code=region_code,
        since=period.since,
        until=period.until,
        sources=[CaseSource.SUPERVISOR],
        limit=None,
    )
    rows = case.case_stats([], flt)
    stats = rows[0] if rows else CaseStats(key={})
    valid = stats.reported - stats.voided
    all_rows = case.case_stats([], replace(flt, sources=None))
    everyone = all_rows[0] if all_rows else CaseStats(key={})
    return {
        "reported": stats.reported,
        "valid": valid,
        "voided": stats.voided,
        "valid_report_rate": valid / stats.reported if stats.reported else None,
        "on_time_confirm_rate": (
            everyone.confirmed_on_time / everyone.confirm_timed if everyone.confirm_timed else None
        ),
        "on_time_verify_rate": unit_indicators(everyone)["on_time_verify_rate"],
    }


def overdue_cases(
    case: CaseAdapter,
    level: Level,
    code: str,
    period: Period | None = None,
    *,
    limit: int | None = 200,
) -> list[Case]:
    """The drill: a ranked unit's cases open past their deadline now, the ones its
    超期未处置数 counts (reported within ``period`` when given), oldest deadline first."""
    flt = CaseFilter(
        sla_states=[SlaState.OVERDUE],
        open_only=True,
        limit=limit,
        newest_first=False,
    )
    if level == "department":
        flt.department_code = code
    else:
        flt.region_code = code
    if period is not None:
        flt.since, flt.until = period.since, period.until
    rows = case.list_cases(flt)
    return sorted(rows, key=lambda c: (c.deadline or datetime.max, c.id))
