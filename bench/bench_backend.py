"""Figures for the embedded ``sql`` backend: generation, size, statistics, point-to-grid.

    .venv/bin/python bench/bench_backend.py                 # demo city, SQLite + PostgreSQL
    .venv/bin/python bench/bench_backend.py --backends sqlite
    .venv/bin/python bench/bench_backend.py --large         # the 10-million-case city
    .venv/bin/python bench/bench_backend.py --large --generate   # (re)build it first: ~12 min idle

The demo city is generated into a fresh database each run (a temporary SQLite file, a fresh
PostgreSQL schema). The ``large`` city lives in ``/tmp/cc-large/large.sqlite`` and the
PostgreSQL database ``cc_large`` (``--sqlite-url``/``--pg-url`` to point elsewhere); it is
reused when it holds cases, and built with ``--generate`` (the PostgreSQL database is created
when missing).

For each backend it times the dashboard aggregates through ``SqlCaseAdapter.case_stats``
(served from the rollups) against the same numbers from a plain GROUP BY over the cases
table (``raw_case_stats``), checks that both agree, and times the overdue list and the
open-case board. "cold" is the first call on a fresh adapter (new connections: empty SQLite
page cache, new PostgreSQL backend; the operating system's file cache may be warm), "warm"
the median of the calls after it. Finally point-to-grid throughput over a 10,000-grid index.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.case.contract import CaseFilter, SlaState  # noqa: E402
from adapters.sql.case import SqlCaseAdapter  # noqa: E402
from command_center.demo.generator import PRESETS, build_city, generate  # noqa: E402

NOW = datetime(2026, 11, 25, 10, 0)
PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432"
PG = f"{PG_SERVER}/test"
LARGE_SQLITE = "sqlite:////tmp/cc-large/large.sqlite"
LARGE_PG = f"{PG_SERVER}/cc_large"


def ms_since(t: float) -> float:
    return (time.perf_counter() - t) * 1000


def cold_warm(make: Callable[[], SqlCaseAdapter], call: Callable[[SqlCaseAdapter], object],
              repeat: int) -> tuple[float, float, object]:  # fmt: skip
    """(cold ms, warm median ms, result): the first call on a fresh adapter, then ``repeat``."""
    adapter = make()
    try:
        t = time.perf_counter()
        result = call(adapter)
        cold = ms_since(t)
        runs = []
        for _ in range(repeat):
            t = time.perf_counter()
            call(adapter)
            runs.append(ms_since(t))
    finally:
        adapter.close()
    return cold, statistics.median(runs) if runs else cold, result


def fresh_database(backend: str, name: str, workdir: Path) -> tuple[str, Callable[[], int]]:
    if backend == "sqlite":
        path = workdir / f"{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return f"sqlite:///{path}", lambda: sqlite_size(f"sqlite:///{path}")
    schema = f"bench_{name}"
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def pg_size() -> int:
        with admin.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT COALESCE(SUM(pg_total_relation_size(c.oid)), 0) FROM pg_class c "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "WHERE n.nspname = :s AND c.relkind = 'r'"
                    ),
                    {"s": schema},
                ).scalar_one()
            )

    return f"{PG}?options=-csearch_path%3D{schema}", pg_size


def sqlite_size(url: str) -> int:
    path = make_url(url).database
    return sum(Path(f"{path}{s}").stat().st_size for s in ("", "-wal")
               if Path(f"{path}{s}").exists())  # fmt: skip


def large_database(backend: str, url: str, regenerate: bool) -> tuple[str, Callable[[], int], bool]:
    """The large city's URL, its size function, and whether it must be generated."""
    if backend == "sqlite":
        path = Path(make_url(url).database)
        if regenerate:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return url, lambda: sqlite_size(url), regenerate or not path.exists()
    name = make_url(url).database
    admin = create_engine(PG, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
        ).first()
        if regenerate and exists:
            conn.execute(text(f'DROP DATABASE "{name}"'))
            exists = None
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{name}"'))

    def pg_size() -> int:
        with admin.connect() as conn:
            return int(conn.execute(text("SELECT pg_database_size(:n)"), {"n": name}).scalar_one())

    return url, pg_size, not exists


def stats_queries(now: datetime) -> list[tuple[str, list[str], CaseFilter]]:
    month = datetime(now.year, now.month, 1)
    year = CaseFilter(since=datetime(now.year - 1, now.month, 1), until=month)
    last_month = CaseFilter(since=(month - timedelta(days=1)).replace(day=1), until=month)
    last_30 = datetime.combine((now - timedelta(days=30)).date(), datetime.min.time())
    return [
        ("count by status (all)", ["status"], CaseFilter()),
        ("count by class (all)", ["class_code"], CaseFilter()),
        ("count by street (12 months)", ["street_code"], year),
        ("count by day (all)", ["day"], CaseFilter()),
        ("count by grid (12 months)", ["grid_code"], year),
        ("indicators by department (last month)", ["department_code"], last_month),
        ("indicators by department (12 months)", ["department_code"], year),
        ("indicators by department (30 d)", ["department_code"], CaseFilter(since=last_30)),
        ("indicators by street (30 d)", ["street_code"], CaseFilter(since=last_30)),
        ("class by street (30 d, combined)", ["street_code", "class_code"],
         CaseFilter(since=last_30)),
        ("hour of week (all)", ["hour_of_week"], CaseFilter()),
        ("grid x class (last month)", ["grid_code", "class_code"], last_month),
        ("grids of class 0102 (12 months)", ["grid_code", "class_code"],
         CaseFilter(since=year.since, until=month, class_codes=["0102"], kind="event")),
        ("top 10 grids (12 months)", ["grid_code"],
         CaseFilter(since=year.since, until=month, top_groups=10)),
    ]  # fmt: skip


def bench_stats(url: str, repeat: int, raw_repeat: int) -> list[tuple]:
    """Rows (label, rollup cold, rollup warm, raw cold, raw warm) in ms."""

    def make() -> SqlCaseAdapter:
        return SqlCaseAdapter(database_url=url, now=lambda: NOW)

    out = []
    for label, group, flt in stats_queries(NOW):
        cold, warm, fast = cold_warm(make, lambda a, g=group, f=flt: a.case_stats(g, f), repeat)
        if raw_repeat < 0:
            out.append((label, cold, warm, None, None))
            continue
        raw_cold, raw_warm, raw = cold_warm(
            make, lambda a, g=group, f=flt: a.raw_case_stats(g, f), raw_repeat
        )
        assert fast == raw, f"{label}: rollups and the raw GROUP BY disagree"
        out.append((label, cold, warm, raw_cold, raw_warm))
        # A raw GROUP BY on the large city takes minutes: show each row as it is measured.
        print_row(out[-1], file=sys.stderr)
    overdue = CaseFilter(sla_states=[SlaState.OVERDUE], limit=200)
    cold, warm, _ = cold_warm(make, lambda a: a.list_cases(overdue), repeat)
    out.append(("overdue list (200)", cold, warm, None, None))
    board = CaseFilter(open_only=True, limit=500, newest_first=True)
    cold, warm, _ = cold_warm(make, lambda a: a.list_cases(board), repeat)
    out.append(("open-case board (500 newest)", cold, warm, None, None))
    return out


def print_stats(rows: list[tuple]) -> None:
    print(f"{'query (ms)':40} {'rollup cold':>11} {'warm':>7} {'GROUP BY cold':>14} "
          f"{'warm':>8} {'speed-up':>9}")  # fmt: skip
    for row in rows:
        print_row(row)


def print_row(row: tuple, file=None) -> None:
    label, cold, warm, raw_cold, raw_warm = row
    raw = (f"{raw_cold:14.0f} {raw_warm:8.0f} {raw_warm / warm:8.0f}x"
           if raw_cold is not None else f"{'-':>14} {'-':>8} {'':>9}")  # fmt: skip
    print(f"{label:40} {cold:11.1f} {warm:7.1f} {raw}", file=file or sys.stdout, flush=True)


def bench_locate(points: int) -> dict[str, float]:
    import numpy as np

    from command_center.domain.grid_index import GridIndex

    t = time.perf_counter()
    city = build_city(PRESETS["large"], "110101", 1, 2)
    built = time.perf_counter() - t
    index = GridIndex((g.code, city.plane.to_lonlat(g.metric)) for g in city.grids)
    lons_all = [p[0] for g in city.grids for p in g.pool[:2]]
    lats_all = [p[1] for g in city.grids for p in g.pool[:2]]
    rng = np.random.default_rng(1)
    pick = rng.integers(0, len(lons_all), points)
    lons = [lons_all[i] for i in pick]
    lats = [lats_all[i] for i in pick]
    t = time.perf_counter()
    found = index.locate_many(lons, lats)
    bulk = time.perf_counter() - t
    n_single = min(points, 20_000)
    t = time.perf_counter()
    for lon, lat in zip(lons[:n_single], lats[:n_single], strict=True):
        index.locate(lon, lat)
    single = time.perf_counter() - t
    assert all(found)
    return {
        "grids": len(city.grids),
        "city_geometry_s": built,
        "locate_many_per_s": points / bulk,
        "locate_per_s": n_single / single,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--large", action="store_true",
                        help="the 10-million-case city instead of the demo one")  # fmt: skip
    parser.add_argument("--generate", action="store_true",
                        help="with --large: (re)build the large city first")  # fmt: skip
    parser.add_argument("--sqlite-url", default=LARGE_SQLITE)
    parser.add_argument("--pg-url", default=LARGE_PG)
    parser.add_argument("--cases-per-month", type=int, default=None,
                        help="with --generate: fewer cases than the preset's 280,000")  # fmt: skip
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--raw-repeat", type=int, default=None,
                        help="warm runs of the raw GROUP BY (default: 1 large, 5 demo; "
                        "-1 skips it)")  # fmt: skip
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cc-bench")
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--no-locate", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    size = "large" if args.large else "demo"
    raw_repeat = args.raw_repeat if args.raw_repeat is not None else (1 if args.large else 5)
    for backend in args.backends.split(","):
        print(f"\n== {size} city on {backend} ==", flush=True)
        if args.large:
            url = args.sqlite_url if backend == "sqlite" else args.pg_url
            url, db_size, build = large_database(backend, url, args.generate)
        else:
            (url, db_size), build = fresh_database(backend, size, args.workdir), True
        print(f"database: {make_url(url).render_as_string(hide_password=True)}")
        if build:
            report = generate(
                url,
                size,
                now=NOW,
                progress=lambda m: print(m, flush=True),
                cases_per_month=args.cases_per_month,
            )
            print(report.summary())
            print(f"generation: {report.seconds:.1f} s  phases: {report.phases}")
        print(f"database size: {db_size() / 1e6:,.0f} MB", flush=True)
        print_stats(bench_stats(url, args.repeat, raw_repeat))
    if not args.no_locate:
        print("\n== point-to-grid ==")
        figures = bench_locate(args.points)
        print(
            f"{figures['grids']:,} grids (geometry built in {figures['city_geometry_s']:.1f} s): "
            f"locate_many {figures['locate_many_per_s']:,.0f} points/s, "
            f"locate {figures['locate_per_s']:,.0f} points/s"
        )


if __name__ == "__main__":
    main()
