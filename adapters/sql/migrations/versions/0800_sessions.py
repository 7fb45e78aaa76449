"""server-side sessions of the duty consoles

``cc_sessions`` holds one row per browser session: the cookie carries only a random id, the
row (keyed by the id's SHA-256, so a copy of the table opens no session) holds the session's
data, its user and its expiry. Logout, expiry, a password change, disabling a user and an
admin's "sign out everywhere" delete rows; every process of a deployment sees the same rows.

Revision ID: 0800_sessions
Revises: 0700_rollup_yearly
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0800_sessions"
down_revision = "0700_rollup_yearly"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cc_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_cc_sessions_user", "cc_sessions", ["user_id"])
    op.create_index("ix_cc_sessions_expires", "cc_sessions", ["expires_at"])


def downgrade() -> None:
    op.drop_table("cc_sessions")
