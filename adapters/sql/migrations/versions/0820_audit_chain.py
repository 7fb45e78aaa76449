"""tamper-evident audit log: a keyed hash chain over cc_audit, and its head

A frozen copy of ``command_center.audit`` at the time. Every row gets ``prev_hash`` and
``hash`` (HMAC-SHA256 with a key that is not in the database; the app computes them), and
``cc_audit_head`` keeps the chain's count, last id and last hash so that a truncated table is
told apart from a short one. Rows already in the table keep NULL hashes here: the migration
does not know the key. The app seals them once, at its first append after this migration
(its start does one), in an ``audit_chain_start`` row that carries their count and digest.

On PostgreSQL ``TRUNCATE cc_audit`` is refused by a statement trigger too (the row triggers of
0300 do not see it), and the head may be updated but never deleted or truncated.

Revision ID: 0820_audit_chain
Revises: 0700_rollup_yearly
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0820_audit_chain"
down_revision = "0810_api_keys"
branch_labels = None
depends_on = ("0300_users_audit",)  # the audit table lives on the collab branch


def upgrade() -> None:
    op.add_column("cc_audit", sa.Column("prev_hash", sa.String(64), nullable=True))
    op.add_column("cc_audit", sa.Column("hash", sa.String(64), nullable=True))
    op.create_table(
        "cc_audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("last_id", sa.Integer(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("last_hash", sa.String(64), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER cc_audit_head_no_delete BEFORE DELETE ON cc_audit_head "
            "BEGIN SELECT RAISE(ABORT, 'cc_audit_head is kept'); END"
        )
    elif dialect == "postgresql":
        op.execute(
            "CREATE TRIGGER cc_audit_no_truncate BEFORE TRUNCATE ON cc_audit "
            "FOR EACH STATEMENT EXECUTE FUNCTION cc_audit_append_only()"
        )
        op.execute(
            "CREATE FUNCTION cc_audit_head_kept() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'cc_audit_head is kept'; END $$"
        )
        op.execute(
            "CREATE TRIGGER cc_audit_head_no_delete BEFORE DELETE ON cc_audit_head "
            "FOR EACH ROW EXECUTE FUNCTION cc_audit_head_kept()"
        )
        op.execute(
            "CREATE TRIGGER cc_audit_head_no_truncate BEFORE TRUNCATE ON cc_audit_head "
            "FOR EACH STATEMENT EXECUTE FUNCTION cc_audit_head_kept()"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS cc_audit_head_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS cc_audit_no_truncate ON cc_audit")
        op.execute("DROP TABLE cc_audit_head")  # its triggers go with it
        op.execute("DROP FUNCTION IF EXISTS cc_audit_head_kept()")
    if dialect != "postgresql":
        op.drop_table("cc_audit_head")
    op.drop_column("cc_audit", "hash")
    op.drop_column("cc_audit", "prev_hash")
