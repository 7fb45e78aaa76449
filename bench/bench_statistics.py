"""Figures for 统计分析 / 监督考核 / 简报: per-panel time cold and warm, beside the raw SQL.

    .venv/bin/python bench/bench_statistics.py                       # a copy of var/ demo city
    .venv/bin/python bench/bench_statistics.py --url sqlite:////tmp/cc-large/large.sqlite
    .venv/bin/python bench/bench_statistics.py --no-briefing

For each panel's numbers, over this month and this year (the periods the walls show):
- ``cold``: the first call on a fresh adapter (new connection, empty SQLite page cache; the
  operating system's file cache may be warm);
- ``warm``: the median of three further calls through the adapter (no app cache);
- ``warm CPU``: the CPU time of those calls in this process (SQLite runs in-process, so this
  is close to the wall time on an idle machine; on a loaded one the wall time is not);
- ``cached``: the data service's answer (``DataServices._read``) on a wall's next refresh
  before any case event invalidates it;
- ``raw SQL``: the same counts by a plain GROUP BY over the cases table
  (``SqlCaseAdapter.raw_case_stats``), the cost without rollups.
Then the time and size of the day's briefing (PDF, A4).

The demo city is copied with SQLite's backup API first, so a running demo (with its live
simulator) is neither disturbed nor changing the figures.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics as stats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.case.contract import CaseFilter  # noqa: E402
from adapters.sql.case import SqlCaseAdapter  # noqa: E402
from command_center import appraisal, statistics  # noqa: E402
from command_center.appraisal import Period, period_of  # noqa: E402
from command_center.statistics import StatsFilter  # noqa: E402


def timed(fn: Callable[[], Any]) -> float:
    t0 = time.perf_counter()
    fn()
    return (time.perf_counter() - t0) * 1000


def cpu_timed(fn: Callable[[], Any]) -> float:
    """The CPU time this process spent (SQLite runs in-process): what the call costs on an
    idle machine, whatever else the machine is doing."""
    t0 = time.process_time()
    fn()
    return (time.process_time() - t0) * 1000


def copy_sqlite(url: str, into: Path) -> str:
    src = sqlite3.connect(url.removeprefix("sqlite:///"))
    dst = sqlite3.connect(into)
    src.backup(dst)
    src.close()
    dst.close()
    return f"sqlite:///{into}"


def panels(case: SqlCaseAdapter, period: Period) -> dict[str, Callable[[], Any]]:
    sf = StatsFilter()
    top_class = StatsFilter(class_key="event:0102")
    return {
        "trend (day)": lambda: statistics.trend(case, period, "day", sf),
        "by class": lambda: statistics.by_class(case, period, sf),
        "by source": lambda: statistics.by_source(case, period, sf),
        "by street (map)": lambda: statistics.by_region(case, period, "street", sf),
        "by community": lambda: statistics.by_region(case, period, "community", sf),
        "hour of week": lambda: statistics.hour_of_week(case, period, sf),
        "hotspots": lambda: statistics.hotspots(case, period, sf),
        "hotspots of 0102": lambda: statistics.hotspots(case, period, top_class),
        "recurring (7 d)": lambda: statistics.recurring(case, period, sf, 7),
        "ranking departments": lambda: appraisal.appraise(case, "department", period),
        "ranking streets": lambda: appraisal.appraise(case, "street", period),
        "ranking grids": lambda: appraisal.appraise(case, "grid", period),
        "summary": lambda: (
            appraisal.totals(case, period),
            appraisal.supervisor_indicators(case, period),
        ),
    }


def raw_equivalents(case: SqlCaseAdapter, period: Period) -> dict[str, Callable[[], Any]]:
    flt = CaseFilter(since=period.since, until=period.until, limit=None)
    back = period.previous()
    pflt = CaseFilter(since=back.since, until=back.until, limit=None)
    cls = CaseFilter(since=period.since, until=period.until, limit=None, class_codes=["0102"])

    def raw(group: list[str], f: CaseFilter = flt) -> Callable[[], Any]:
        return lambda: case.raw_case_stats(group, f)

    return {
        "trend (day)": raw(["day"]),
        "by class": raw(["big_class_code", "class_code"]),
        "by source": raw(["source"]),
        "by street (map)": raw(["street_code"]),
        "by community": raw(["community_code"]),
        "hour of week": raw(["hour_of_week"]),
        "hotspots": raw(["grid_code"]),
        "hotspots of 0102": raw(["grid_code", "class_code"], cls),
        "recurring (7 d)": raw(["grid_code", "class_code", "day"]),
        "ranking departments": lambda: (
            case.raw_case_stats(["department_code"], flt),
            case.raw_case_stats(["department_code"], pflt),
        ),
        "ranking streets": lambda: (
            case.raw_case_stats(["street_code"], flt),
            case.raw_case_stats(["street_code"], pflt),
        ),
        "ranking grids": lambda: (
            case.raw_case_stats(["grid_code"], flt),
            case.raw_case_stats(["grid_code"], pflt),
        ),
        "summary": raw([]),
    }


def bench_period(
    url: str, label: str, period: Period, skip: set[str], raw_repeats: int = 2
) -> None:
    print(f"\n{label}: {period.start} .. {period.end} (exclusive)")
    print(f"{'panel':22} {'cold ms':>9} {'warm ms':>9} {'warm CPU':>9} {'cached ms':>10} "
          f"{'raw SQL ms':>11}")  # fmt: skip
    names = [n for n in panels(SqlCaseAdapter(database_url=url), period) if n not in skip]
    for name in names:
        cold_adapter = SqlCaseAdapter(database_url=url)
        fn = panels(cold_adapter, period)[name]
        cold = timed(fn)
        warm = stats.median(timed(fn) for _ in range(3))
        cpu = stats.median(cpu_timed(fn) for _ in range(3))
        cache: dict[str, Any] = {}

        def cached(fn: Callable[[], Any] = fn, cache: dict[str, Any] = cache) -> Any:
            if "v" not in cache:
                cache["v"] = fn()
            return cache["v"]

        cached()
        hit = stats.median(timed(cached) for _ in range(3))
        raw_shown = "–"
        if raw_repeats:
            raw_adapter = SqlCaseAdapter(database_url=url)
            raw_fn = raw_equivalents(raw_adapter, period)[name]
            raw_shown = f"{stats.median(timed(raw_fn) for _ in range(raw_repeats)):.1f}"
            raw_adapter.close()
        print(f"{name:22} {cold:9.1f} {warm:9.1f} {cpu:9.1f} {hit:10.3f} {raw_shown:>11}",
              flush=True)  # fmt: skip
        cold_adapter.close()


def bench_briefing(url: str, day: date, out: Path) -> None:
    from adapters.sql.gis import SqlGisAdapter
    from command_center.briefing import generate

    case = SqlCaseAdapter(database_url=url)
    gis = SqlGisAdapter(database_url=url)
    for paper in ("A4", "A3"):
        t0 = time.perf_counter()
        path = generate(case, gis, day, fmt="pdf", paper=paper, out_dir=out)
        seconds = time.perf_counter() - t0
        print(f"briefing {paper} PDF: {seconds:.1f} s, {path.stat().st_size / 1024:.0f} KiB")
    t0 = time.perf_counter()
    path = generate(case, gis, day, fmt="png", paper="A4", out_dir=out)
    print(
        f"briefing A4 PNG: {time.perf_counter() - t0:.1f} s, {path.stat().st_size / 1024:.0f} KiB"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", help="database URL (default: a copy of var/ demo city)")
    parser.add_argument("--date", help="the 'today' of the periods (default: last case day)")
    parser.add_argument("--no-briefing", action="store_true")
    parser.add_argument("--skip", default="", help="comma-separated panels to leave out")
    parser.add_argument("--raw-repeats", type=int, default=2,
                        help="raw SQL runs (median); 0 leaves the raw GROUP BY out")  # fmt: skip
    parser.add_argument("--periods", default="month,year", help="month, year and/or last30")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cc-bench-stats-") as tmp:
        url = args.url
        if url is None:
            src = ROOT / "var" / "command_center.sqlite"
            t0 = time.perf_counter()
            url = copy_sqlite(f"sqlite:///{src}", Path(tmp) / "demo.sqlite")
            print(f"copied {src} in {time.perf_counter() - t0:.1f} s")
        case = SqlCaseAdapter(database_url=url)
        total = case.case_stats([], CaseFilter(limit=None))[0].reported
        if args.date:
            today = date.fromisoformat(args.date)
        else:
            days = case.case_stats(["day"], CaseFilter(limit=None))
            today = date.fromisoformat(str(max(r.key["day"] for r in days)))
        case.close()
        print(f"database: {url.split('?')[0]}  cases: {total:,}  today: {today}")
        skip = {s.strip() for s in args.skip.split(",") if s.strip()}
        for grain in args.periods.split(","):
            if grain == "last30":  # the walls' rolling window: cut mid-month
                period = appraisal.last_days(30, today)
            else:
                period = period_of(grain, today)  # type: ignore[arg-type]
            bench_period(url, f"this {grain}", period, skip, args.raw_repeats)
        if not args.no_briefing:
            bench_briefing(url, today, Path(tmp) / "briefings")
    return 0


if __name__ == "__main__":
    sys.exit(main())
