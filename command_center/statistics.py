"""统计分析 statistics: trends, mix by class and source, regions, hour-of-week, hotspots and
recurring problems, over any period and under the screen's filters.

Every figure comes from ``CaseAdapter.case_stats``, so the sql backend answers from its
rollups where one holds the dimensions (trend: any daily rollup; class: ``case_rollup_class``;
source; hour-of-week: ``case_rollup_hour``; street; community and grid over whole months or
years: ``case_rollup_grid_monthly`` / ``_yearly``; hotspots of one class likewise:
``case_rollup_grid_class_monthly`` / ``_yearly``). Recurring problems (grid × class × day)
take their candidates from those and check the likeliest ones case by case (see
``recurring``). What no rollup holds (periods cut mid-month at grid level) is one indexed
range scan over the period, and the data service caches every answer until new data arrives.

Counting rule (the backend's): cases count on the day they were reported; ``closed`` in a
trend is how many of that day's cases are closed now.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal

import numpy as np
import pandas as pd

from adapters.case.contract import CaseAdapter, CaseFilter, CaseSource, CaseStats
from command_center.appraisal import Period
from command_center.domain.indicators import indicators

TrendGrain = Literal["day", "week", "month"]
RegionLevel = Literal["street", "community", "grid"]

COUNTERS = ("reported", "registered", "dispatched", "closed", "open", "overdue_open")


@dataclass(frozen=True)
class StatsFilter:
    """What a screen is filtered to by clicks: a class (``"event:0102"``, or a big class
    ``"event:01"``), a source, a region (any level's code)."""

    class_key: str | None = None
    source: str | None = None
    region_code: str | None = None

    @classmethod
    def from_store(cls, data: dict | None, region: dict | None = None) -> StatsFilter:
        """From the page's ``cc-filter`` and ``cc-region`` stores."""
        data = data or {}
        return cls(
            class_key=data.get("class") or None,
            source=data.get("source") or None,
            region_code=(region or {}).get("code") or None,
        )

    @property
    def kind(self) -> str | None:
        return self.class_key.partition(":")[0] if self.class_key else None

    @property
    def class_code(self) -> str | None:
        return self.class_key.partition(":")[2] if self.class_key else None

    def case_filter(self, period: Period, *, since: date | None = None) -> CaseFilter:
        """The contract's filter. A 2-digit code is a big class, 4 digits a small class.
        ``CaseFilter`` has no ``kind``: a class filter also matches the component class with
        the same code; results grouped by class are narrowed to the kind afterwards."""
        flt = CaseFilter(
            region_code=self.region_code,
            since=period.since if since is None else pd.Timestamp(since).to_pydatetime(),
            until=period.until,
            limit=None,
        )
        code = self.class_code
        if code:
            if len(code) <= 2:
                flt.big_class_codes = [code]
            else:
                flt.class_codes = [code]
        if self.source:
            flt.sources = [CaseSource(self.source)]
        return flt

    def key(self) -> tuple:
        return (self.class_key, self.source, self.region_code)


def _frame(rows: list[CaseStats], dims: list[str]) -> pd.DataFrame:
    dims = list(dict.fromkeys([*dims, *(k for r in rows for k in r.key)]))
    records = [
        {**{d: r.key.get(d) for d in dims}, **{c: getattr(r, c) for c in COUNTERS}} for r in rows
    ]
    if not records:
        return pd.DataFrame(columns=[*dims, *COUNTERS])
    return pd.DataFrame.from_records(records)


def _narrow_kind(frame: pd.DataFrame, flt: StatsFilter) -> pd.DataFrame:
    if flt.kind and "kind" in frame.columns:
        return frame[frame["kind"] == flt.kind]
    return frame


def trend(
    case: CaseAdapter, period: Period, grain: TrendGrain = "day", flt: StatsFilter | None = None
) -> pd.DataFrame:
    """Reported and closed per day, week (Monday) or month, every bucket present (zeros)."""
    flt = flt or StatsFilter()
    rows = case.case_stats(["day"], flt.case_filter(period))
    frame = _frame(rows, ["day"])
    days = pd.date_range(period.start, period.end - timedelta(days=1), freq="D")
    counts = (
        frame.assign(day=pd.to_datetime(frame["day"]))
        .set_index("day")[["reported", "closed"]]
        .astype(int)
        .reindex(days, fill_value=0)
    )
    if grain == "week":
        counts = counts.groupby(counts.index.to_period("W-SUN").start_time).sum()
    elif grain == "month":
        counts = counts.groupby(counts.index.to_period("M").start_time).sum()
    counts.index.name = "bucket"
    out = counts.reset_index()
    out["bucket"] = out["bucket"].dt.date.map(date.isoformat)
    return out


def summary(
    case: CaseAdapter, period: Period, flt: StatsFilter | None = None
) -> dict[str, float | int | None]:
    """The period's totals under the screen's filters: reported, closed, and 平均处置时长 in
    working and wall-clock hours over the ``handled`` cases reported back (``None``: none)."""
    flt = flt or StatsFilter()
    cf = flt.case_filter(period)
    cf.kind = flt.kind  # a class filter means that kind's class (codes overlap)
    cf.counters = ["reported", "closed", "handling_timed", "handling_seconds",
                   "handling_work_seconds"]  # fmt: skip
    rows = case.case_stats([], cf)
    stats = rows[0] if rows else CaseStats(key={})
    ind = indicators(stats)
    return {
        "reported": stats.reported,
        "closed": stats.closed,
        "handled": stats.handling_timed,
        "avg_handling_work_hours": ind["avg_handling_work_hours"],
        "avg_handling_hours": ind["avg_handling_hours"],
    }


def by_class(case: CaseAdapter, period: Period, flt: StatsFilter | None = None) -> pd.DataFrame:
    """Reported per small class with its big class (``kind`` tells event from component)."""
    flt = flt or StatsFilter()
    rows = case.case_stats(["big_class_code", "class_code"], flt.case_filter(period))
    frame = _narrow_kind(_frame(rows, ["kind", "big_class_code", "class_code"]), flt)
    return frame.sort_values("reported", ascending=False).reset_index(drop=True)


def by_source(case: CaseAdapter, period: Period, flt: StatsFilter | None = None) -> pd.DataFrame:
    flt = flt or StatsFilter()
    rows = case.case_stats(["source"], flt.case_filter(period))
    frame = _frame(rows, ["source"])
    return frame.sort_values("reported", ascending=False).reset_index(drop=True)


def by_region(
    case: CaseAdapter,
    period: Period,
    level: RegionLevel = "street",
    flt: StatsFilter | None = None,
) -> pd.DataFrame:
    """Reported, open and overdue per street, community or grid (``code`` column)."""
    flt = flt or StatsFilter()
    dim = f"{level}_code"
    # The region filter of the screen narrows *which* regions; the choropleth keeps showing
    # the level asked for.
    rows = case.case_stats([dim], flt.case_filter(period))
    frame = _frame(rows, [dim]).rename(columns={dim: "code"})
    frame["code"] = frame["code"].astype(str)
    return frame.sort_values("reported", ascending=False).reset_index(drop=True)


def hour_of_week(case: CaseAdapter, period: Period, flt: StatsFilter | None = None) -> np.ndarray:
    """A 7 × 24 matrix of reported cases: rows Monday..Sunday, columns 0..23 h."""
    flt = flt or StatsFilter()
    rows = case.case_stats(["hour_of_week"], flt.case_filter(period))
    matrix = np.zeros((7, 24), dtype=int)
    for row in rows:
        how = int(row.key["hour_of_week"])
        matrix[how // 24, how % 24] += row.reported
    return matrix


def hotspots(
    case: CaseAdapter, period: Period, flt: StatsFilter | None = None, top: int = 10
) -> pd.DataFrame:
    """The grids with the most cases (of the filtered class, if any), most first."""
    flt = flt or StatsFilter()
    group = ["grid_code", "class_code"] if flt.kind else ["grid_code"]
    cf = flt.case_filter(period)
    cf.counters = ["reported", "open"]  # what the panel shows
    if not flt.kind:
        cf.top_groups = top  # one row per grid: the adapter may cut the list itself
    rows = case.case_stats(group, cf)
    frame = _narrow_kind(_frame(rows, group), flt)
    if frame.empty:
        return pd.DataFrame(columns=["grid_code", *COUNTERS])
    frame = frame.groupby("grid_code", as_index=False)[list(COUNTERS)].sum()
    return frame.sort_values(["reported", "grid_code"], ascending=[False, True]).head(top)


RECURRING_COLUMNS = ["grid_code", "kind", "class_code", "cases", "repeats", "first_day", "last_day"]
_PAIR = ["grid_code", "kind", "class_code"]
#: Up to this many cases in the period (and its look-back), ``recurring`` simply reads them
#: all by grid, class and day; beyond, it checks candidates (see there).
RECURRING_SCAN_MAX = 60_000
#: How many (grid, class) candidates it checks before it gives up and scans after all.
RECURRING_CANDIDATES = 400
#: Periods of at most this many days bound their candidates by their own cases (a read of
#: the cases table); longer ones by the whole months around them (the rollups).
RECURRING_EXACT_DAYS = 10
_RECURRING_BATCH = 40  # candidates per query
_RECURRING_BATCH_CASES = 20_000  # ... or fewer, when their bounds add up to more cases than this
_RECURRING_SEED_CASES = 5_000  # the hottest grids checked whole first hold about this many


def recurring(
    case: CaseAdapter,
    period: Period,
    flt: StatsFilter | None = None,
    within_days: int = 7,
    top: int = 10,
) -> pd.DataFrame:
    """Recurring problems: the same class in the same grid again within ``within_days``.

    A case *recurs* when an earlier case of its class and grid was reported at most
    ``within_days`` days before it (same day included). Cases of the ``within_days`` before
    the period are read too, so the first case of the period can recur. One row per
    (grid, class) with at least one recurrence: ``cases`` in the period, ``repeats`` among
    them, first and last day; the ``top`` with most repeats.

    A (grid, class) cannot have more repeats than cases in the period, and its cases in the
    whole months around the period bound those from above; so do its grid's cases. In a large
    city, over several months, the hottest grids (by the grid rollup) are checked whole first;
    that sets a repeat count to beat, and only the pairs of grids with at least that many
    cases are candidates (by the grid × class rollup); within a month every pair is. They
    are checked in order of their cases, a few per indexed query, until the ``top``-th
    repeat count beats the next bound: the same answer as scanning every case of the period
    by grid, class and day, which is what a source filter (not in those rollups) still does.
    """
    flt = flt or StatsFilter()
    scan = flt.case_filter(period, since=period.start - timedelta(days=within_days))
    scan.counters = ["reported"]
    if not flt.source:
        size = sum(r.reported for r in case.case_stats([], scan))
        if size > RECURRING_SCAN_MAX:
            # grids first pays off over several months; within a month the pairs are few
            # enough to rank directly (10 M city: 140 vs 193 ms a month, 365 vs 474 ms a year;
            # a week bounded by its month's grid totals never settled)
            for by_grid in (True, False) if period.days > 31 else (False,):
                found = _recurring_pruned(case, period, flt, within_days, top, by_grid)
                if found is not None:
                    return found
    rows = case.case_stats(["grid_code", "class_code", "day"], scan)
    return _top_recurring(_recurrences(_day_frame(rows, flt), period, within_days), top)


def _day_frame(rows: list[CaseStats], flt: StatsFilter) -> pd.DataFrame:
    # lean frame: only the columns needed (a month of a large city is ~50k groups)
    frame = pd.DataFrame(
        [
            (r.key["grid_code"], r.key["kind"], r.key["class_code"], r.key["day"], r.reported)
            for r in rows
        ],
        columns=[*_PAIR, "day", "n"],
    )
    return _narrow_kind(frame, flt)


def _recurrences(frame: pd.DataFrame, period: Period, within_days: int) -> pd.DataFrame:
    """Per (grid, kind, class) of ``frame`` (one row per pair and day, ``n`` cases): cases and
    repeats in the period, first and last day; only pairs that recur."""
    if frame.empty:
        return pd.DataFrame(columns=RECURRING_COLUMNS)
    # vectorised: one sort and one shift, however many grids and classes (a Python loop
    # per group took seconds for a year of the demo city)
    frame = frame.copy()
    frame["day"] = pd.to_datetime(frame["day"], format="%Y-%m-%d")
    frame["group"] = frame.groupby(_PAIR, sort=False).ngroup()
    frame = frame.sort_values(["group", "day"], kind="stable")
    same = frame["group"].eq(frame["group"].shift(1))
    gap = (frame["day"] - frame["day"].shift(1)).dt.days.where(same)
    inside = frame["day"] >= pd.Timestamp(period.start)
    # the day's first case recurs when the previous case of its grid and class is close
    # enough; every further case of the same day recurs
    frame["repeats"] = (frame["n"] - 1) + (gap <= within_days).astype(int)
    frame = frame[inside]
    grouped = frame.groupby(["group", *_PAIR], sort=False).agg(
        cases=("n", "sum"),
        repeats=("repeats", "sum"),
        first_day=("day", "min"),
        last_day=("day", "max"),
    )
    grouped = grouped[grouped["repeats"] > 0].reset_index().drop(columns="group")
    if grouped.empty:
        return pd.DataFrame(columns=RECURRING_COLUMNS)
    grouped["first_day"] = grouped["first_day"].dt.date
    grouped["last_day"] = grouped["last_day"].dt.date
    return grouped[RECURRING_COLUMNS]


def _top_recurring(found: pd.DataFrame, top: int) -> pd.DataFrame:
    return (
        found.sort_values(["repeats", "cases", *_PAIR], ascending=[False, False, True, True, True])
        .head(top)
        .reset_index(drop=True)
    )


def _month_start(d: date) -> date:
    return d.replace(day=1)


def _recurring_pruned(
    case: CaseAdapter,
    period: Period,
    flt: StatsFilter,
    within_days: int,
    top: int,
    by_grid: bool = True,
) -> pd.DataFrame | None:
    """``recurring`` by candidates (see there); ``None`` when the candidates ran out before
    the answer was certain.

    ``by_grid``: first the grids by their cases (every class of a grid is bounded by the
    grid's cases): the hottest are checked whole, which sets a repeat count to beat, and only
    the (grid, class) pairs of the grids whose cases reach it are candidates. Without it the
    candidates are every pair of the city, which over a year of a large city is a GROUP BY
    of every (grid, class, month) row of the rollup.
    """
    cover = flt.case_filter(period)
    if period.days > RECURRING_EXACT_DAYS:
        # the whole months around the period: the monthly (yearly) rollups answer
        last = period.end - timedelta(days=1)
        months_end = (_month_start(last) + timedelta(days=32)).replace(day=1)
        cover.since = pd.Timestamp(_month_start(period.start)).to_pydatetime()
        cover.until = pd.Timestamp(months_end).to_pydatetime()
    # else a few days' cases bound them exactly (a month's counts would dwarf a day's repeats)
    cover.top_groups = RECURRING_CANDIDATES
    cover.counters = ["reported"]
    if flt.kind:
        cover.kind = flt.kind
    since = pd.Timestamp(period.start - timedelta(days=within_days)).to_pydatetime()
    found = _recurrences(pd.DataFrame(columns=[*_PAIR, "day", "n"]), period, within_days)

    def check(grids: set[str], pairs: list[tuple] | None = None) -> None:
        """Add the recurrences of these grids (every class the screen lets through) or of
        only these (grid, kind, class) pairs: one indexed query."""
        nonlocal found
        query = CaseFilter(
            grid_codes=sorted(grids),
            kind=flt.kind,
            since=since,
            until=period.until,
            limit=None,
            counters=["reported"],
        )
        if pairs is None:
            query.class_codes, query.big_class_codes = cover.class_codes, cover.big_class_codes
        else:
            query.class_codes = sorted({p[2] for p in pairs})
        frame = _day_frame(case.case_stats(["grid_code", "class_code", "day"], query), flt)
        if pairs is not None:
            wanted = pd.MultiIndex.from_tuples(pairs)
            frame = frame[pd.MultiIndex.from_frame(frame[_PAIR]).isin(wanted)]
        more = _recurrences(frame, period, within_days)
        if not more.empty:
            found = more if found.empty else pd.concat([found, more], ignore_index=True)

    def settled(bound: int) -> pd.DataFrame | None:
        """The answer, if nothing with at most ``bound`` cases can enter it (a pair with as
        many repeats as the last one but more cases, or the same and a smaller key, would)."""
        best = _top_recurring(found, top)
        if len(best) < top:
            return best if bound == 0 else None
        last = best.iloc[-1]
        return best if (bound, bound) < (last["repeats"], last["cases"]) else None

    floor = 0  # cases of the most any pair outside the candidates can hold
    grid_codes: list[str] | None = None
    if by_grid:
        grids = sorted(
            ((r.reported, str(r.key["grid_code"])) for r in case.case_stats(["grid_code"], cover)),
            key=lambda b: (-b[0], b[1]),
        )
        floor = grids[-1][0] if len(grids) >= RECURRING_CANDIDATES else 0  # the unlisted ones
        size = _batch(grids, _RECURRING_SEED_CASES)
        check({g for _b, g in grids[:size]})  # the hottest grids, whole
        rest = grids[size:]
        best = _top_recurring(found, top)
        beat = int(best["repeats"].iloc[-1]) if len(best) >= top else 0
        grid_codes = [g for b, g in rest if b >= beat]
        if len(grid_codes) < len(rest):
            floor = rest[len(grid_codes)][0]  # the first grid that cannot reach ``beat``
        if not grid_codes:
            return settled(floor)
    pairs = [
        (r.reported, (str(r.key["grid_code"]), str(r.key["kind"]), str(r.key["class_code"])))
        for r in case.case_stats(["grid_code", "class_code"], replace(cover, grid_codes=grid_codes))
        if not flt.kind or r.key["kind"] == flt.kind
    ]
    pairs.sort(key=lambda b: (-b[0], b[1]))
    if len(pairs) >= RECURRING_CANDIDATES:  # the unlisted pairs hold at most the last one's
        floor = max(floor, pairs[-1][0])
    first = 0
    while first < len(pairs):
        size = _batch(pairs[first:])
        batch = [p for _b, p in pairs[first : first + size]]
        first += size
        check({g for g, _k, _c in batch}, batch)
        nxt = pairs[first][0] if first < len(pairs) else 0
        answer = settled(max(nxt, floor))
        if answer is not None:
            return answer
    return settled(floor)


def _batch(bounds: list[tuple], most_cases: int = 0) -> int:
    """How many of these candidates (bound first, most first) to check in one query: up to
    ``_RECURRING_BATCH``, fewer where their bounds add up to more than ``most_cases``
    (default ``_RECURRING_BATCH_CASES``; the hottest grids of a year hold thousands each)."""
    most_cases = most_cases or _RECURRING_BATCH_CASES
    size, cases_in = 0, 0
    while (
        size < len(bounds)
        and size < _RECURRING_BATCH
        and (size == 0 or cases_in + bounds[size][0] <= most_cases)
    ):
        cases_in += bounds[size][0]
        size += 1
    return size


# ----------------------------------------------------------------------------- periods

PeriodOption = Literal["today", "last7", "last30", "week", "month", "quarter", "year"]
PICKER_GRAINS = ("day", "week", "month", "quarter", "year")


def resolve_period(option: str, today: date, picked: dict | None = None) -> Period:
    """The period a panel shows: the console's picker (``{"grain", "date"}`` in the page's
    ``cc-filter``) when there is one, else the panel's fixed ``option`` as of ``today``."""
    from command_center.appraisal import last_days, period_of

    if picked and picked.get("grain") in PICKER_GRAINS:
        day = date.fromisoformat(str(picked.get("date") or today.isoformat())[:10])
        return period_of(picked["grain"], day)
    if option == "today":
        return period_of("day", today)
    if option == "last7":
        return last_days(7, today)
    if option == "last30":
        return last_days(30, today)
    return period_of(option, today)  # type: ignore[arg-type]
