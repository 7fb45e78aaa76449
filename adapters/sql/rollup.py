"""The case rollups: how one case counts, and how those counts are kept and rebuilt.

A case contributes a vector of counters (``ROLLUP_COUNTERS``: 0/1 flags, and the seconds of
its handling time) to one row of every rollup, keyed by its reported day (or month), a few
dimensions and its current status. The same definition exists twice, once in Python
(``counters_of``, for the incremental upkeep in ``report_case``/``act``) and once in SQL
(``counter_exprs``, for bulk rebuilds and the raw GROUP BY fallback); the tests hold the two
equal.

A merged duplicate (status ``merged``) is not a case of its own: it counts nothing anywhere,
not even as reported; its master case counts once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Date, and_, case, cast, delete, func, insert, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement

from adapters.sql.models import CUBOIDS, ROLLUP_COUNTERS, ROLLUP_TABLES, CaseRow, Cuboid
from command_center.domain.workflow import SATISFIED_LEVELS, STAGE_CLOCKS

#: (stage, the case column of its on-time flag), in workflow order
STAGE_FLAGS = tuple((stage, flag) for stage, (_since, flag) in STAGE_CLOCKS.items())

OPEN_STATUSES = (
    "reported",
    "confirming",
    "accepted",
    "registered",
    "dispatched",
    "handled",
    "verified",
)
#: the status of a merged duplicate: every counter 0
MERGED = "merged"

cases = CaseRow.__table__


def counters_of(row: Mapping[str, Any]) -> dict[str, int]:
    """How one case counts, from its column values (a ``cases`` row as a mapping)."""
    status = row["status"]
    if status == MERGED:
        return dict.fromkeys(ROLLUP_COUNTERS, 0)
    return {
        "reported": 1,
        "registered": int(row.get("registered_at") is not None),
        "dispatched": int(row.get("dispatched_at") is not None),
        "handled": int(row.get("handled_at") is not None),
        "handled_on_time": int(bool(row.get("handled_on_time"))),
        "closed": int(status == "closed"),
        "closed_on_time": int(status == "closed" and bool(row.get("closed_on_time"))),
        "reworked": int((row.get("rework_count") or 0) > 0),
        "extended": int((row.get("extension_count") or 0) > 0),
        "returned": int((row.get("return_count") or 0) > 0),
        "voided": int(status == "voided"),
        **{
            counter: value
            for stage, flag in STAGE_FLAGS
            for counter, value in (
                (f"{stage}_timed", int(row.get(flag) is not None)),
                (flag, int(bool(row.get(flag)))),
            )
        },
        "evaluated": int(row.get("satisfaction") is not None),
        "satisfied": int(row.get("satisfaction") in SATISFIED_LEVELS),
        "handling_timed": int(row.get("handling_seconds") is not None),
        "handling_seconds": int(row.get("handling_seconds") or 0),
        "handling_work_seconds": int(row.get("handling_work_seconds") or 0),
    }


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return case((condition, 1), else_=0)


def counter_exprs(t=cases) -> dict[str, ColumnElement[int]]:  # noqa: ANN001 - a Table
    """The SQL twin of ``counters_of`` over table ``t``, for the rows ``counted`` keeps (a
    merged duplicate counts 0 in every counter: leaving its rows out is the same sum, and
    cheaper than a guard in each counter)."""
    c = t.c
    return {
        "reported": literal(1),
        "registered": _flag(c.registered_at.is_not(None)),
        "dispatched": _flag(c.dispatched_at.is_not(None)),
        "handled": _flag(c.handled_at.is_not(None)),
        "handled_on_time": _flag(c.handled_on_time.is_(True)),
        "closed": _flag(c.status == "closed"),
        "closed_on_time": _flag(and_(c.status == "closed", c.closed_on_time.is_(True))),
        "reworked": _flag(c.rework_count > 0),
        "extended": _flag(c.extension_count > 0),
        "returned": _flag(c.return_count > 0),
        "voided": _flag(c.status == "voided"),
        **{
            counter: expr
            for stage, flag in STAGE_FLAGS
            for counter, expr in (
                (f"{stage}_timed", _flag(c[flag].is_not(None))),
                (flag, _flag(c[flag].is_(True))),
            )
        },
        "evaluated": _flag(c.satisfaction.is_not(None)),
        "satisfied": _flag(c.satisfaction.in_(sorted(SATISFIED_LEVELS))),
        "handling_timed": _flag(c.handling_seconds.is_not(None)),
        "handling_seconds": func.coalesce(c.handling_seconds, 0),
        "handling_work_seconds": func.coalesce(c.handling_work_seconds, 0),
    }


def counted(t=cases) -> ColumnElement[bool]:  # noqa: ANN001 - a Table
    """The cases that count at all: every one but a merged duplicate (``counters_of`` is 0
    for it), the WHERE of every SQL sum over ``counter_exprs``."""
    return t.c.status != MERGED


def period_of(grain: str, day: date) -> date:
    """The key of ``day`` in a rollup of that grain: the day, its month's or its year's first."""
    if grain == "day":
        return day
    return day.replace(day=1) if grain == "month" else day.replace(month=1, day=1)


def dim_value(row: Mapping[str, Any], dim: str) -> Any:
    value = row.get(dim)
    if dim == "department_code":
        return value or ""  # NULL would defeat the unique key; "" means not dispatched
    return value


def key_of(cuboid: Cuboid, row: Mapping[str, Any]) -> tuple:
    day = row["reported_day"]
    if isinstance(day, datetime):
        day = day.date()
    return (period_of(cuboid.period, day), *(dim_value(row, d) for d in cuboid.dims), row["status"])


def apply_change(
    conn: Connection, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> None:
    """Move one case's contribution from its old rows (``before``) to its new ones (``after``).

    Call inside the transaction that writes the case, so the rollups never drift from it.
    """
    for cuboid in CUBOIDS:
        deltas: dict[tuple, dict[str, int]] = {}
        for row, sign in ((before, -1), (after, 1)):
            if row is None:
                continue
            vector = deltas.setdefault(key_of(cuboid, row), dict.fromkeys(ROLLUP_COUNTERS, 0))
            for name, value in counters_of(row).items():
                vector[name] += sign * value
        for key, vector in deltas.items():
            if any(vector.values()):
                _upsert(conn, cuboid, key, vector)


def _upsert(conn: Connection, cuboid: Cuboid, key: tuple, vector: dict[str, int]) -> None:
    table = ROLLUP_TABLES[cuboid.name]
    key_cols = (cuboid.period, *cuboid.dims, "status")
    values = dict(zip(key_cols, key, strict=True)) | vector
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(table).values(values)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(values)
    else:  # pragma: no cover - only the two supported databases
        raise NotImplementedError(dialect)
    stmt = stmt.on_conflict_do_update(
        index_elements=list(key_cols),
        set_={name: table.c[name] + stmt.excluded[name] for name in ROLLUP_COUNTERS},
    )
    conn.execute(stmt)


def period_expr(conn: Connection, grain: str, column: Any = cases.c.reported_day) -> Any:
    """SQL for ``period_of(grain, column)``."""
    if grain == "day":
        return column
    if conn.dialect.name == "sqlite":
        return func.date(column, f"start of {grain}")
    return cast(func.date_trunc(grain, column), Date)


def rebuild(conn: Connection) -> dict[str, int]:
    """Recompute every rollup from the cases table (after a bulk load); rows per rollup."""
    sizes = {}
    exprs = counter_exprs()
    # the finer rollups first: a coarser one is summed from its finer twin
    for cuboid in sorted(CUBOIDS, key=lambda c: c.coarsens is not None):
        table = ROLLUP_TABLES[cuboid.name]
        conn.execute(delete(table))
        if cuboid.coarsens:
            finer = ROLLUP_TABLES[cuboid.coarsens.name]
            period = period_expr(conn, cuboid.period, finer.c[cuboid.coarsens.period])
            select_cols = [period, *(finer.c[d] for d in cuboid.dims), finer.c.status]
            sums = [func.sum(finer.c[name]) for name in ROLLUP_COUNTERS]
        else:
            dims = [
                func.coalesce(cases.c.department_code, "") if d == "department_code" else cases.c[d]
                for d in cuboid.dims
            ]
            select_cols = [period_expr(conn, cuboid.period), *dims, cases.c.status]
            sums = [func.sum(exprs[name]) for name in ROLLUP_COUNTERS]
        query = select(*select_cols, *sums).group_by(*select_cols)
        if not cuboid.coarsens:
            query = query.where(counted())
        columns = [cuboid.period, *cuboid.dims, "status", *ROLLUP_COUNTERS]
        conn.execute(insert(table).from_select(columns, query))
        sizes[cuboid.name] = conn.execute(select(func.count()).select_from(table)).scalar_one()
    return sizes
