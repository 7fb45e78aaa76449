"""merging duplicate reports (合并) and 核实 as a stage of its own

A duplicate report merged into the open case it repeats keeps its row, with the status
``merged`` and ``merged_into`` naming its master; it counts in no rollup (every counter 0),
so the master counts once. Where a city runs 核实 (on-site confirmation before 立案) as a
stage, ``confirmed_at`` and ``confirmed_on_time`` record it, and every rollup counts it
(``confirm_timed``, ``confirmed_on_time``: 按期核实率).

No stored case is merged or confirmed yet: the new columns start NULL and the new counters 0,
which is right, so nothing is rebuilt.

Revision ID: 0850_case_merge
Revises: 0840_handling_time
Create Date: 2026-12-08 00:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0850_case_merge"
down_revision = "0840_handling_time"
branch_labels = None
depends_on = None

#: the rollups as of 0840
ROLLUPS = ("case_rollup_class_monthly", "case_rollup_source", "case_rollup_department",
           "case_rollup_hour", "case_rollup_class", "case_rollup_street",
           "case_rollup_grid_monthly", "case_rollup_grid_yearly",
           "case_rollup_grid_class_monthly", "case_rollup_grid_class_yearly",
           "case_rollup_daily")  # fmt: skip
NEW_COUNTERS = ("confirm_timed", "confirmed_on_time")


def upgrade() -> None:
    # plain ADD COLUMN, never a table copy: the cases table may hold millions of rows
    op.add_column("cases", sa.Column("confirmed_at", sa.DateTime(), nullable=True))
    op.add_column("cases", sa.Column("confirmed_on_time", sa.Boolean(), nullable=True))
    op.add_column("cases", sa.Column("merged_into", sa.BigInteger(), nullable=True))
    op.create_index("ix_cases_merged_into", "cases", ["merged_into"])
    for table in ROLLUPS:
        for counter in NEW_COUNTERS:
            op.add_column(
                table, sa.Column(counter, sa.Integer(), nullable=False, server_default="0")
            )


def downgrade() -> None:
    for table in ROLLUPS:
        with op.batch_alter_table(table) as batch:
            for counter in NEW_COUNTERS:
                batch.drop_column(counter)
    op.drop_index("ix_cases_merged_into", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        for column in ("confirmed_at", "confirmed_on_time", "merged_into"):
            batch.drop_column(column)
