"""patrol: grid workers' positions over the day (巡查轨迹), for attendance and coverage

Revision ID: 0200_patrol
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0200_patrol"
down_revision = "0001"
branch_labels = ("patrol",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "patrol_positions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("worker_id", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_patrol_positions"),
    )
    op.create_index("ix_patrol_positions_at_grid", "patrol_positions", ["at", "grid_code"])
    op.create_index("ix_patrol_positions_worker_at", "patrol_positions", ["worker_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_patrol_positions_worker_at", table_name="patrol_positions")
    op.drop_index("ix_patrol_positions_at_grid", table_name="patrol_positions")
    op.drop_table("patrol_positions")
