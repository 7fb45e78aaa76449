"""平均处置时长: each case's handling time, and its sums in every rollup

Cases get ``handling_seconds`` and ``handling_work_seconds``: from the (last) 派遣 to the (last)
处置反馈, wall-clock and within the working calendar
(``command_center.domain.indicators.handling_seconds``). Working time needs the calendar, so
the app sets them at the report-back and this migration computes them for the cases already
reported back, with the city's calendar (the ``CC_*`` settings the app runs with).

Every rollup gets ``handling_timed`` (cases with a handling time) and the two sums (BIGINT: a
year of a city's seconds overflows INT), then is rebuilt from the cases (day and month
rollups) or from its monthly twin (year rollups), with a frozen copy of the rollup SQL.

Revision ID: 0840_handling_time
Revises: 0830_closed_on_time
Create Date: 2026-12-08 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0840_handling_time"
down_revision = "0830_closed_on_time"
branch_labels = None
depends_on = None

BATCH = 20_000

_GRID = ("district_code", "street_code", "community_code", "grid_code")
_CLASS = ("kind", "big_class_code", "class_code")
#: rollup: (its period column, its dimensions, the monthly twin it sums, or None), as of 0830
ROLLUPS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "case_rollup_class_monthly": ("month", _CLASS, None),
    "case_rollup_source": ("day", ("source",), None),
    "case_rollup_department": ("day", ("department_code",), None),
    "case_rollup_hour": ("day", ("hour_of_week",), None),
    "case_rollup_class": ("day", _CLASS, None),
    "case_rollup_street": ("day", ("district_code", "street_code"), None),
    "case_rollup_grid_monthly": ("month", _GRID, None),
    "case_rollup_grid_yearly": ("year", _GRID, "case_rollup_grid_monthly"),
    "case_rollup_grid_class_monthly": ("month", _GRID + _CLASS, None),
    "case_rollup_grid_class_yearly": ("year", _GRID + _CLASS, "case_rollup_grid_class_monthly"),
    "case_rollup_daily": (
        "day",
        ("district_code", "street_code", "community_code", *_CLASS, "source", "department_code"),
        None,
    ),
}
OLD_COUNTERS = ("reported", "registered", "dispatched", "handled", "handled_on_time", "closed",
                "closed_on_time", "reworked", "extended", "returned", "voided",
                "accept_timed", "accepted_on_time", "register_timed", "registered_on_time",
                "dispatch_timed", "dispatched_on_time", "verify_timed", "verified_on_time",
                "evaluated", "satisfied")  # fmt: skip
NEW_COUNTERS = ("handling_timed", "handling_seconds", "handling_work_seconds")
COUNTERS = OLD_COUNTERS + NEW_COUNTERS
STAGE_FLAGS = ("accepted_on_time", "registered_on_time", "dispatched_on_time", "verified_on_time")


def backfill_cases(bind: sa.Connection) -> int:
    """Set the handling seconds of every case reported back after a dispatch; how many."""
    from command_center.domain.calendar import load_calendar
    from command_center.domain.indicators import handling_seconds
    from command_center.settings import Settings

    settings = Settings()
    calendar = load_calendar(settings.calendar_file, settings.workday_start, settings.workday_end)
    # typed columns: SQLite hands back text for a plain SELECT of DATETIME columns
    cases = sa.table(
        "cases",
        sa.column("id", sa.Integer()),
        sa.column("dispatched_at", sa.DateTime()),
        sa.column("handled_at", sa.DateTime()),
    )
    c = cases.c
    rows = bind.execute(
        sa.select(c.id, c.dispatched_at, c.handled_at)
        .where(c.handled_at.is_not(None), c.dispatched_at.is_not(None))
        .order_by(c.id)
    ).all()
    update = sa.text(
        "UPDATE cases SET handling_seconds = :wall, handling_work_seconds = :work WHERE id = :id"
    )
    values = []
    for row in rows:
        wall, work = handling_seconds(row.dispatched_at, row.handled_at, calendar)
        values.append({"wall": wall, "work": work, "id": row.id})
    for i in range(0, len(values), BATCH):
        bind.execute(update, values[i : i + BATCH])
    return len(values)


def _period(bind: sa.Connection, grain: str, column: str) -> str:
    if grain == "day":
        return column
    if bind.dialect.name == "sqlite":
        return f"date({column}, 'start of {grain}')"
    return f"CAST(date_trunc('{grain}', {column}) AS DATE)"


def _case_sums(bind: sa.Connection) -> list[str]:
    """The SQL of each counter over ``cases`` (frozen ``rollup.counter_exprs``)."""
    true = "1" if bind.dialect.name == "sqlite" else "true"

    def flag(condition: str) -> str:
        return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    sums = [
        "COUNT(*)",
        flag("registered_at IS NOT NULL"),
        flag("dispatched_at IS NOT NULL"),
        flag("handled_at IS NOT NULL"),
        flag(f"handled_on_time IS {true}"),
        flag("status = 'closed'"),
        flag(f"status = 'closed' AND closed_on_time IS {true}"),
        flag("rework_count > 0"),
        flag("extension_count > 0"),
        flag("return_count > 0"),
        flag("status = 'voided'"),
    ]
    for column in STAGE_FLAGS:
        sums += [flag(f"{column} IS NOT NULL"), flag(f"{column} IS {true}")]
    sums += [flag("satisfaction IS NOT NULL"), flag("satisfaction IN (1, 2)")]
    sums += [
        flag("handling_seconds IS NOT NULL"),
        "SUM(COALESCE(handling_seconds, 0))",
        "SUM(COALESCE(handling_work_seconds, 0))",
    ]
    return sums


def rebuild_rollup(bind: sa.Connection, table: str) -> None:
    """Rebuild one rollup from the cases, or a yearly one from its monthly twin."""
    period, dims, twin = ROLLUPS[table]
    columns = ", ".join((period, *dims, "status", *COUNTERS))
    bind.execute(sa.text(f"DELETE FROM {table}"))
    if twin is not None:
        key = ", ".join((_period(bind, period, ROLLUPS[twin][0]), *dims, "status"))
        sums = ", ".join(f"SUM({c})" for c in COUNTERS)
        source = twin
    else:
        dim_sql = ["COALESCE(department_code, '')" if d == "department_code" else d for d in dims]
        key = ", ".join((_period(bind, period, "reported_day"), *dim_sql, "status"))
        sums = ", ".join(_case_sums(bind))
        source = "cases"
    bind.execute(
        sa.text(
            f"INSERT INTO {table} ({columns}) SELECT {key}, {sums} FROM {source} GROUP BY {key}"
        )
    )


def upgrade() -> None:
    # plain ADD COLUMN, never a table copy: the cases table may hold millions of rows
    op.add_column("cases", sa.Column("handling_seconds", sa.Integer(), nullable=True))
    op.add_column("cases", sa.Column("handling_work_seconds", sa.Integer(), nullable=True))
    for table in ROLLUPS:
        op.add_column(
            table, sa.Column("handling_timed", sa.Integer(), nullable=False, server_default="0")
        )
        for counter in ("handling_seconds", "handling_work_seconds"):
            op.add_column(
                table, sa.Column(counter, sa.BigInteger(), nullable=False, server_default="0")
            )
    bind = op.get_bind()
    backfill_cases(bind)
    # monthly twins before their yearly sums: the dict lists them in that order
    for table in ROLLUPS:
        rebuild_rollup(bind, table)


def downgrade() -> None:
    for table in ROLLUPS:
        with op.batch_alter_table(table) as batch:
            for counter in NEW_COUNTERS:
                batch.drop_column(counter)
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("handling_seconds")
        batch.drop_column("handling_work_seconds")
