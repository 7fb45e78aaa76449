"""case photos: photos of a case (上报, 取证, 处置前, 处置后, 核查) and their image bytes

A frozen copy of ``PhotoBlobRow`` and ``CasePhotoRow`` in ``adapters/sql/models.py`` at the
time. Images are stored once per distinct content (SHA-256) in ``photo_blobs``; the database
is the one thing a hall backs up, so the photos go with the cases.

Revision ID: 0500_case_photos
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0500_case_photos"
down_revision = "0001"
branch_labels = ("photos",)
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "photo_blobs",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_photo_blobs"),
        sa.UniqueConstraint("sha256", name="uq_photo_blobs_sha256"),
    )
    op.create_table(
        "case_photos",
        sa.Column("id", BIG_ID, nullable=False),
        sa.Column("case_id", BIG_ID, nullable=False),
        sa.Column("blob_id", BIG_ID, nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("taken_at", sa.DateTime(), nullable=False),
        sa.Column("taken_by", sa.String(length=64), nullable=False),
        sa.Column("caption", sa.String(length=200), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("illustrative", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_photos_case_id_cases", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["blob_id"], ["photo_blobs.id"], name="fk_case_photos_blob_id_photo_blobs"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_case_photos"),
    )
    op.create_index("ix_case_photos_case_taken", "case_photos", ["case_id", "taken_at"])


def downgrade() -> None:
    op.drop_index("ix_case_photos_case_taken", table_name="case_photos")
    op.drop_table("case_photos")
    op.drop_table("photo_blobs")
