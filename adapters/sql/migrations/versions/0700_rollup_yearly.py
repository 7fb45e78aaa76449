"""yearly grid and grid x class rollups

``case_rollup_grid_yearly`` and ``case_rollup_grid_class_yearly`` hold one row per year (and
unit grid, class, status) instead of twelve: a year's grid ranking and hotspots read ~11,000
rows per status, and recurring problems find the candidate (grid, class) pairs of a few
hundred grids through the grid index instead of summing every month of every pair. Both are
filled by summing their monthly twins, as the rebuild does.

Revision ID: 0700_rollup_yearly
Revises: 0600_stage_timeliness
Create Date: 2026-11-26 05:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0700_rollup_yearly"
down_revision = "0600_stage_timeliness"
branch_labels = None
depends_on = None

GRID = ("district_code", "street_code", "community_code", "grid_code")
CLASS = ("kind", "big_class_code", "class_code")
#: table: (its monthly source, its dimensions, its secondary indexes)
TABLES = {
    "case_rollup_grid_yearly": ("case_rollup_grid_monthly", GRID, ()),
    "case_rollup_grid_class_yearly": (
        "case_rollup_grid_class_monthly",
        GRID + CLASS,
        (
            ("class_code", "year", "grid_code", "kind", "reported"),
            ("grid_code", "year", "kind", "class_code", "reported"),
        ),
    ),
}
DIM_TYPES = {
    "district_code": sa.String(6), "street_code": sa.String(9), "community_code": sa.String(12),
    "grid_code": sa.String(15), "kind": sa.String(10), "big_class_code": sa.String(4),
    "class_code": sa.String(8),
}  # fmt: skip
COUNTERS = ("reported", "registered", "dispatched", "handled", "handled_on_time", "closed",
            "closed_on_time", "reworked", "extended", "returned", "voided",
            "accept_timed", "accepted_on_time", "register_timed", "registered_on_time",
            "dispatch_timed", "dispatched_on_time", "verify_timed", "verified_on_time",
            "evaluated", "satisfied")  # fmt: skip


def key(table: str) -> tuple[str, ...]:
    return ("year", *TABLES[table][1], "status")


def fill(bind: sa.Connection, table: str) -> None:
    """Fill ``table`` from its monthly twin (frozen SQL)."""
    source, dims, _indexes = TABLES[table]
    year = (
        "date(month, 'start of year')"
        if bind.dialect.name == "sqlite"
        else "CAST(date_trunc('year', month) AS DATE)"
    )
    group = ", ".join((year, *dims, "status"))
    bind.execute(sa.text(f"DELETE FROM {table}"))
    bind.execute(
        sa.text(
            f"INSERT INTO {table} ({', '.join(key(table) + COUNTERS)}) "
            f"SELECT {group}, {', '.join(f'SUM({c})' for c in COUNTERS)} "
            f"FROM {source} GROUP BY {group}"
        )
    )


def upgrade() -> None:
    for table, (_source, dims, indexes) in TABLES.items():
        op.create_table(
            table,
            sa.Column("year", sa.Date(), nullable=False),
            *(sa.Column(d, DIM_TYPES[d], nullable=False) for d in dims),
            sa.Column("status", sa.String(length=12), nullable=False),
            *(sa.Column(c, sa.Integer(), nullable=False) for c in COUNTERS),
            sa.UniqueConstraint(*key(table), name=f"uq_{table}_key"),
        )
        for columns in indexes:
            op.create_index(f"ix_{table}_by_{columns[0]}", table, list(columns))
        fill(op.get_bind(), table)
    if op.get_bind().dialect.name == "sqlite":
        op.execute("PRAGMA analysis_limit=2000")  # a sample per index is enough
    for table in TABLES:
        op.execute(f"ANALYZE {table}")


def downgrade() -> None:
    for table, (_source, _dims, indexes) in TABLES.items():
        for columns in indexes:
            op.drop_index(f"ix_{table}_by_{columns[0]}", table_name=table)
        op.drop_table(table)
