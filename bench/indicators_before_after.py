"""Indicators before and after issue 14 (items 4-7) on the demo city: prints figures, asserts
nothing.

For one month (the last full month before "now" unless ``--month``), on the demo city
generated with a fixed seed at ``--now`` (default 2026-12-02 10:30, the 2nd of a month, when
month-to-date figures are thinnest), or on an existing database (``--db``):

4. 按期处置率 and 按期结案率. Before: closed on time was a copy of handled on time (the script
   recounts the cohort by that rule); after: the close against the deadline and the 核查/结案
   stage limits, as stored.
5. 平均处置时长 (new), city and per department, in 工作时 and 小时.
6. Units tied at rank 1: before, every unit ranked whatever its count; after, only units with
   at least ``CC_RANK_MIN_CASES`` (10) cases due.
7. The main wall's 本月按期结案率 on the day of ``--now``: before, a bare rate; after, labelled
   with its n (``label``), or the last full month (``last_month``). And each past month's
   结案率, which the demo no longer closes at exactly 100 %.

    .venv/bin/python bench/indicators_before_after.py [--db URL] [--now 2026-12-02T10:30]
        [--month 2026-11]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import and_, func, select  # noqa: E402

from adapters.case.contract import CaseFilter  # noqa: E402
from adapters.sql.case import SqlCaseAdapter  # noqa: E402
from adapters.sql.models import CaseRow  # noqa: E402
from command_center.appraisal import (  # noqa: E402
    DEFAULT_RANK_MIN_CASES,
    AppraisalConfig,
    Level,
    Period,
    appraise,
    period_of,
    totals,
)
from command_center.domain.indicators import indicators  # noqa: E402

SEED = 20261125
LEVELS: tuple[Level, ...] = ("department", "street", "community", "grid")


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:5.1f} %"


def hours(work: float | None, wall: float | None) -> str:
    return "—" if work is None or wall is None else f"{work:.1f} 工作时 / {wall:.1f} 小时"


def old_closed_on_time(cases: SqlCaseAdapter, period: Period) -> tuple[int, int]:
    """The cohort's (closed and handled on time, of them closed late by today's rule)."""
    c = CaseRow.__table__.c
    cohort = and_(c.reported_at >= period.since, c.reported_at < period.until)
    closed_handled = and_(cohort, c.status == "closed", c.handled_on_time.is_(True))
    with cases.engine.connect() as conn:
        old = conn.execute(select(func.count()).where(closed_handled)).scalar_one()
        late = conn.execute(
            select(func.count()).where(closed_handled, c.closed_on_time.is_not(True))
        ).scalar_one()
    return old, late


def item4(cases: SqlCaseAdapter, period: Period) -> None:
    counts, rates = totals(cases, period)
    old, late = old_closed_on_time(cases, period)
    due = counts["dispatched"]
    print(f"\n4. 按期结案率 ({period.label()}, 应结案 n={due:,})")
    print(f"   {'':24}{'before':>12}{'after':>12}")
    print(f"   {'按期处置率':20}{pct(rates['on_time_disposal_rate']):>12}"
          f"{pct(rates['on_time_disposal_rate']):>12}")  # fmt: skip
    print(f"   {'按期结案率':20}{pct(old / due if due else None):>12}"
          f"{pct(rates['on_time_closure_rate']):>12}")  # fmt: skip
    print(f"   {'按期结案数':20}{old:>12,}{counts['closed_on_time']:>12,}")
    print(f"   closed late yet counted on time before: {late:,} of {old:,}")
    for level in LEVELS[:2]:
        units = appraise(cases, level, period, compare=False)
        same_after = sum(
            u.rates["on_time_closure_rate"] == u.rates["on_time_disposal_rate"] for u in units
        )
        print(f"   {level}s with 按期结案率 = 按期处置率: before {len(units)} of {len(units)} "
              f"(the old rule's copy), after {same_after} of {len(units)}")  # fmt: skip


def item5(cases: SqlCaseAdapter, period: Period) -> None:
    _, rates = totals(cases, period)
    stats = cases.case_stats([], CaseFilter(since=period.since, until=period.until, limit=None))[0]
    print(f"\n5. 平均处置时长 ({period.label()}, 派遣 → 处置反馈; before: not shown)")
    print(f"   city: {hours(rates['avg_handling_work_hours'], rates['avg_handling_hours'])} "
          f"over n={stats.handling_timed:,} cases reported back")  # fmt: skip
    units = appraise(cases, "department", period, compare=False)
    names = {d.code: d.name for d in cases.departments()}
    for u in sorted(units, key=lambda u: -(u.rates["avg_handling_work_hours"] or 0))[:6]:
        work, wall = u.rates["avg_handling_work_hours"], u.rates["avg_handling_hours"]
        print(f"   {names.get(u.code, u.code):14}{hours(work, wall):>28}  "
              f"(n={u.stats.handling_timed})")  # fmt: skip


def item6(cases: SqlCaseAdapter, period: Period) -> None:
    print(f"\n6. Units tied at rank 1 ({period.label()}; before: no minimum; after: "
          f"≥ {DEFAULT_RANK_MIN_CASES} cases due)")  # fmt: skip
    print(f"   {'level':12}{'units':>7}{'ranked before':>15}{'at #1 before':>14}"
          f"{'ranked after':>14}{'at #1 after':>13}")  # fmt: skip
    for level in LEVELS:
        before = appraise(cases, level, period, config=AppraisalConfig(min_dispatched=0),
                          compare=False)  # fmt: skip
        after = appraise(cases, level, period, compare=False)
        firsts_before = [u for u in before if u.rank == 1]
        firsts_after = [u for u in after if u.rank == 1]
        print(f"   {level:12}{len(before):>7}{sum(u.rank is not None for u in before):>15}"
              f"{len(firsts_before):>14}{sum(u.rank is not None for u in after):>14}"
              f"{len(firsts_after):>13}")  # fmt: skip
        small = [u for u in firsts_before if u.stats.dispatched < DEFAULT_RANK_MIN_CASES]
        if small:
            sizes = sorted({u.stats.dispatched for u in small})
            print(f"   {'':12}before, {len(small)} of the #1s had only {sizes} cases due")


def item7(cases: SqlCaseAdapter, now: datetime) -> None:
    month_start = datetime(now.year, now.month, 1)
    mtd = cases.case_stats([], CaseFilter(since=month_start, until=now, limit=None))[0]
    last = (month_start - timedelta(days=1)).replace(day=1)
    full = cases.case_stats([], CaseFilter(since=last, until=month_start, limit=None))[0]
    ind, ind_last = indicators(mtd), indicators(full)
    print(f"\n7. The main wall's 本月按期结案率 at {now:%Y-%m-%d %H:%M}")
    print(f"   before:                 本月按期结案率 {pct(ind['on_time_closure_rate']).strip()}")
    print(f"   after (label):          本月至今 n={mtd.dispatched}  "
          f"{pct(ind['on_time_closure_rate']).strip()}")  # fmt: skip
    last_rate = pct(ind_last["on_time_closure_rate"]).strip()
    print(f"   after (last_month):     上月按期结案率 {last_rate}"
          f"  ({last.month}月全月 n={full.dispatched:,})")  # fmt: skip
    print("   结案率 of past months (due = dispatched cases reported in the month):")
    month = last
    line = []
    for _ in range(6):
        period = period_of("month", month.date())
        _, rates = totals(cases, period)
        line.append(f"{month:%Y-%m} {pct(rates['closure_rate']).strip()}")
        month = (month - timedelta(days=1)).replace(day=1)
    print("   " + ", ".join(reversed(line)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="an existing database (default: generate the demo city)")
    parser.add_argument("--now", default="2026-12-02T10:30", help="the city's now")
    parser.add_argument("--month", help="YYYY-MM (default: the last full month before now)")
    args = parser.parse_args()
    now = datetime.fromisoformat(args.now)
    url = args.db
    if url is None:
        from command_center.demo.generator import generate

        folder = Path(tempfile.mkdtemp(prefix="cc-indicators-"))
        url = f"sqlite:///{folder / 'demo.sqlite'}"
        started = time.perf_counter()
        generate(url, "demo", seed=SEED, now=now, progress=lambda _m: None)
        print(f"demo city (seed {SEED}, now {now:%Y-%m-%d %H:%M}) generated in "
              f"{time.perf_counter() - started:.0f} s: {url}")  # fmt: skip
    if args.month:
        year, month = (int(x) for x in args.month.split("-"))
        period = period_of("month", date(year, month, 1))
    else:
        period = period_of("month", (now.replace(day=1) - timedelta(days=1)).date())
    cases = SqlCaseAdapter(database_url=url, now=lambda: now)
    try:
        item4(cases, period)
        item5(cases, period)
        item6(cases, period)
        item7(cases, now)
    finally:
        cases.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
