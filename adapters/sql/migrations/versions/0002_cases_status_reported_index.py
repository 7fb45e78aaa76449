"""index cases on (status, reported_at) for the live open/overdue counts

The open and overdue counters of ``case_stats`` read the live table for the open statuses
within a reporting period; without this index SQLite drove that query by street or grid
and scanned every case of the period.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 23:20:00
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_cases_status_reported", "cases", ["status", "reported_at"])


def downgrade() -> None:
    op.drop_index("ix_cases_status_reported", table_name="cases")
