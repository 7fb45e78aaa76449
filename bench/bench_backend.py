"""Figures for the embedded ``sql`` backend: generation, size, statistics, point-to-grid.

    .venv/bin/python bench/bench_backend.py                 # demo city, SQLite + PostgreSQL
    .venv/bin/python bench/bench_backend.py --backends sqlite
    .venv/bin/python bench/bench_backend.py --large --backends postgres   # 10M cases: long

For each backend it generates the city into a fresh database (a temporary SQLite file, a
fresh PostgreSQL schema), then times ``case_stats`` served from the rollups against the
same numbers from a plain GROUP BY over the cases table, the overdue list, and an indicator
table; finally point-to-grid throughput over a 10,000-grid index.
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

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.case.contract import CaseFilter, SlaState  # noqa: E402
from adapters.sql.case import SqlCaseAdapter  # noqa: E402
from command_center.demo.generator import PRESETS, build_city, generate  # noqa: E402

NOW = datetime(2026, 11, 25, 10, 0)
PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of ``fn`` in milliseconds (one warm-up call first)."""
    fn()
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs)


def fresh_database(backend: str, name: str, workdir: Path) -> tuple[str, Callable[[], int]]:
    if backend == "sqlite":
        path = workdir / f"{name}.sqlite"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)

        def sqlite_size() -> int:
            return sum(
                Path(f"{path}{s}").stat().st_size
                for s in ("", "-wal")
                if Path(f"{path}{s}").exists()
            )

        return f"sqlite:///{path}", sqlite_size
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


def bench_stats(url: str, repeat: int) -> list[tuple[str, float, float | None]]:
    adapter = SqlCaseAdapter(database_url=url, now=lambda: NOW)
    month_start = datetime(NOW.year, NOW.month, 1)
    last_30 = datetime.combine((NOW - timedelta(days=30)).date(), datetime.min.time())
    year = CaseFilter(since=datetime(NOW.year - 1, NOW.month, 1), until=month_start)
    queries = [
        ("count by status (all)", ["status"], CaseFilter()),
        ("count by class (all)", ["class_code"], CaseFilter()),
        ("count by street (12 months)", ["street_code"], year),
        ("count by day (all)", ["day"], CaseFilter()),
        ("count by grid (12 months)", ["grid_code"], year),
        ("indicator table by department (30 d)", ["department_code"], CaseFilter(since=last_30)),
        ("indicator table by street (30 d)", ["street_code"], CaseFilter(since=last_30)),
        ("class by street (30 d, combined)", ["street_code", "class_code"],
         CaseFilter(since=last_30)),
        ("hour of week (all)", ["hour_of_week"], CaseFilter()),
    ]  # fmt: skip
    out = []
    for label, group, flt in queries:
        assert adapter.case_stats(group, flt) == adapter.raw_case_stats(group, flt), label
        fast = timed(lambda g=group, f=flt: adapter.case_stats(g, f), repeat)
        raw = timed(lambda g=group, f=flt: adapter.raw_case_stats(g, f), repeat)
        out.append((label, fast, raw))
    overdue = CaseFilter(sla_states=[SlaState.OVERDUE], limit=200)
    out.append(("overdue list (200)", timed(lambda: adapter.list_cases(overdue), repeat), None))
    open_board = CaseFilter(open_only=True, limit=500)
    out.append(("open-case board (500)", timed(lambda: adapter.list_cases(open_board), repeat),
                None))  # fmt: skip
    adapter.close()
    return out


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
    parser.add_argument("--large", action="store_true", help="also the 10-million-case city")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cc-bench")
    parser.add_argument("--points", type=int, default=100_000)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    sizes = ["demo"] + (["large"] if args.large else [])
    for size in sizes:
        for backend in args.backends.split(","):
            print(f"\n== {size} city on {backend} ==", flush=True)
            url, db_size = fresh_database(backend, size, args.workdir)
            report = generate(url, size, now=NOW, progress=lambda m: print(m, flush=True))
            print(report.summary())
            print(f"generation: {report.seconds:.1f} s  phases: {report.phases}")
            print(f"database size: {db_size() / 1e6:.0f} MB")
            print(f"{'query':42} {'rollup ms':>10} {'raw GROUP BY ms':>16} {'speed-up':>9}")
            for label, fast, raw in bench_stats(url, args.repeat):
                raw_s = f"{raw:16.1f}" if raw is not None else f"{'-':>16}"
                ratio = f"{raw / fast:8.1f}x" if raw else f"{'':>9}"
                print(f"{label:42} {fast:10.1f} {raw_s} {ratio}")
    print("\n== point-to-grid ==")
    figures = bench_locate(args.points)
    print(
        f"{figures['grids']:,} grids (geometry built in {figures['city_geometry_s']:.1f} s): "
        f"locate_many {figures['locate_many_per_s']:,.0f} points/s, "
        f"locate {figures['locate_per_s']:,.0f} points/s"
    )


if __name__ == "__main__":
    main()
