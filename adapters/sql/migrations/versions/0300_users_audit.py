"""collaboration: users and roles, the append-only audit log, the SMS queue, department contacts

A frozen copy of the tables of ``command_center.auth``, ``command_center.audit`` and
``command_center.sms_queue`` at the time (never import them here: they move on).
The audit log refuses UPDATE and DELETE with a trigger on both SQLite and PostgreSQL, so
"append-only" holds for every client of the database, not only for our code.

Revision ID: 0300_users_audit
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0300_users_audit"
down_revision = "0001"
branch_labels = ("collab",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cc_users",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("display_name", sa.String(100), nullable=False, server_default=""),
        sa.Column("role", sa.String(20), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("created_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "cc_audit",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_name", sa.String(64), nullable=False),
        sa.Column("role", sa.String(20), nullable=False, server_default=""),
        sa.Column("action", sa.String(40), nullable=False),
        sa.Column("screen", sa.String(64), nullable=False, server_default=""),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_cc_audit_at", "cc_audit", ["at"])
    op.create_index("ix_cc_audit_case", "cc_audit", ["case_id"])
    op.create_table(
        "cc_sms_queue",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(20), nullable=False, server_default=""),
        sa.Column("department_code", sa.String(16), nullable=False, server_default=""),
        sa.Column("mobile", sa.String(20), nullable=False),
        sa.Column("template_id", sa.String(64), nullable=False),
        sa.Column("params", sa.Text(), nullable=False, server_default="{}"),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("next_try_at", sa.DateTime(), nullable=True),
        sa.Column("message_id", sa.String(64), nullable=True),
        sa.Column("error", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_cc_sms_queue_case", "cc_sms_queue", ["case_id"])
    op.create_index("ix_cc_sms_queue_due", "cc_sms_queue", ["status", "next_try_at"])
    op.create_table(
        "cc_department_contacts",
        sa.Column("department_code", sa.String(16), primary_key=True),
        sa.Column("contact_name", sa.String(64), nullable=False, server_default=""),
        sa.Column("mobile", sa.String(20), nullable=False),
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER cc_audit_no_{verb.lower()} BEFORE {verb} ON cc_audit "
                "BEGIN SELECT RAISE(ABORT, 'cc_audit is append-only'); END"
            )
    elif bind.dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION cc_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'cc_audit is append-only'; END $$"
        )
        op.execute(
            "CREATE TRIGGER cc_audit_no_change BEFORE UPDATE OR DELETE ON cc_audit "
            "FOR EACH ROW EXECUTE FUNCTION cc_audit_append_only()"
        )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS cc_audit_no_update")
        op.execute("DROP TRIGGER IF EXISTS cc_audit_no_delete")
    elif bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS cc_audit_no_change ON cc_audit")
        op.execute("DROP FUNCTION IF EXISTS cc_audit_append_only()")
    op.drop_table("cc_department_contacts")
    op.drop_index("ix_cc_sms_queue_due", "cc_sms_queue")
    op.drop_index("ix_cc_sms_queue_case", "cc_sms_queue")
    op.drop_table("cc_sms_queue")
    op.drop_index("ix_cc_audit_case", "cc_audit")
    op.drop_index("ix_cc_audit_at", "cc_audit")
    op.drop_table("cc_audit")
    op.drop_table("cc_users")
