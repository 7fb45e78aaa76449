"""users: the department a 专业部门 user speaks for (it acts on that department's cases only)

Revision ID: 0310_user_department
Revises: 0300_users_audit
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0310_user_department"
down_revision = "0300_users_audit"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cc_users") as batch:
        batch.add_column(
            sa.Column("department_code", sa.String(20), nullable=False, server_default="")
        )


def downgrade() -> None:
    with op.batch_alter_table("cc_users") as batch:
        batch.drop_column("department_code")
