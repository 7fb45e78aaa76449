"""alarms: the alarm store, its idempotency keys and escalation SMS records

A frozen copy of ``command_center.alarms`` tables at the time (never import the models
from a migration).

Revision ID: 0100_alarms
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0100_alarms"
down_revision = "0001"
branch_labels = ("alarms",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "alarms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("level", sa.String(length=12), nullable=False),
        sa.Column("class_code", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("camera_id", sa.String(length=64), nullable=True),
        sa.Column("fold_key", sa.String(length=200), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("acknowledged_by", sa.String(length=64), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(), nullable=True),
        sa.Column("ack_note", sa.String(length=500), nullable=True),
        sa.Column("escalated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_alarms"),
    )
    op.create_index("ix_alarms_fold", "alarms", ["fold_key", "status", "last_at"])
    op.create_index("ix_alarms_status_level", "alarms", ["status", "level"])
    op.create_table(
        "alarm_keys",
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alarm_id"], ["alarms.id"], name="fk_alarm_keys_alarm_id_alarms", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("source", "source_id", name="pk_alarm_keys"),
    )
    op.create_index("ix_alarm_keys_alarm_id", "alarm_keys", ["alarm_id"])
    op.create_table(
        "alarm_sms",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("alarm_id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=64), nullable=False),
        sa.Column("to", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["alarm_id"], ["alarms.id"], name="fk_alarm_sms_alarm_id_alarms", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_alarm_sms"),
        sa.UniqueConstraint("message_id", name="uq_alarm_sms_message_id"),
    )
    op.create_index("ix_alarm_sms_alarm_id", "alarm_sms", ["alarm_id"])


def downgrade() -> None:
    op.drop_table("alarm_sms")
    op.drop_table("alarm_keys")
    op.drop_table("alarms")
