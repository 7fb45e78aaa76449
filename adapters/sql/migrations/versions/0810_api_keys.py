"""alarm API keys: one row per key, stored as a SHA-256 hash, revocable

A frozen copy of the table of ``command_center.api_keys`` at the time (never import it
here: it moves on). A key is ``cc_<key_id>_<secret>``: ``key_id`` is public (the CLI lists
it, the audit log names it), the secret is 256 random bits and only its hash is kept.

Revision ID: 0810_api_keys
Revises: 0700_rollup_yearly
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0810_api_keys"
down_revision = "0800_sessions"
branch_labels = None
depends_on = "0100_alarms"  # the index on alarms(source, id)


def upgrade() -> None:
    op.create_table(
        "cc_api_keys",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("name", sa.String(64), nullable=False, server_default=""),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_cc_api_keys_source", "cc_api_keys", ["source"])
    # a key lists its own source's alarms only: GET /api/alarms?since= by source and id
    op.create_index("ix_alarms_source_id", "alarms", ["source", "id"])


def downgrade() -> None:
    op.drop_index("ix_alarms_source_id", "alarms")
    op.drop_index("ix_cc_api_keys_source", "cc_api_keys")
    op.drop_table("cc_api_keys")
