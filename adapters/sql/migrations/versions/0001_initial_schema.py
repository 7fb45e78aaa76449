"""initial schema: regions, people/houses/organisations, devices, cases, steps, rollups

A frozen copy of the models at the time (never import the models from a migration: they
move on, this file must not).

Revision ID: 0001
Revises:
Create Date: 2026-11-25 22:43:44.394472
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_rollup_class",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("big_class_code", sa.String(length=4), nullable=False),
        sa.Column("class_code", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.Column("dispatched", sa.Integer(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("handled_on_time", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("closed_on_time", sa.Integer(), nullable=False),
        sa.Column("reworked", sa.Integer(), nullable=False),
        sa.Column("extended", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("voided", sa.Integer(), nullable=False),
        sa.UniqueConstraint(
            "day", "kind", "big_class_code", "class_code", "status", name="uq_case_rollup_class_key"
        ),
    )
    op.create_table(
        "case_rollup_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("big_class_code", sa.String(length=4), nullable=False),
        sa.Column("class_code", sa.String(length=8), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("department_code", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.Column("dispatched", sa.Integer(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("handled_on_time", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("closed_on_time", sa.Integer(), nullable=False),
        sa.Column("reworked", sa.Integer(), nullable=False),
        sa.Column("extended", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("voided", sa.Integer(), nullable=False),
        sa.UniqueConstraint(
            "day",
            "district_code",
            "street_code",
            "community_code",
            "kind",
            "big_class_code",
            "class_code",
            "source",
            "department_code",
            "status",
            name="uq_case_rollup_daily_key",
        ),
    )
    op.create_table(
        "case_rollup_department",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("department_code", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.Column("dispatched", sa.Integer(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("handled_on_time", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("closed_on_time", sa.Integer(), nullable=False),
        sa.Column("reworked", sa.Integer(), nullable=False),
        sa.Column("extended", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("voided", sa.Integer(), nullable=False),
        sa.UniqueConstraint(
            "day", "department_code", "status", name="uq_case_rollup_department_key"
        ),
    )
    op.create_table(
        "case_rollup_grid_monthly",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.Column("dispatched", sa.Integer(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("handled_on_time", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("closed_on_time", sa.Integer(), nullable=False),
        sa.Column("reworked", sa.Integer(), nullable=False),
        sa.Column("extended", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("voided", sa.Integer(), nullable=False),
        sa.UniqueConstraint(
            "month",
            "district_code",
            "street_code",
            "community_code",
            "grid_code",
            "status",
            name="uq_case_rollup_grid_monthly_key",
        ),
    )
    op.create_table(
        "case_rollup_hour",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("hour_of_week", sa.SmallInteger(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.Column("dispatched", sa.Integer(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("handled_on_time", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("closed_on_time", sa.Integer(), nullable=False),
        sa.Column("reworked", sa.Integer(), nullable=False),
        sa.Column("extended", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("voided", sa.Integer(), nullable=False),
        sa.UniqueConstraint("day", "hour_of_week", "status", name="uq_case_rollup_hour_key"),
    )
    op.create_table(
        "case_rollup_source",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.Column("dispatched", sa.Integer(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("handled_on_time", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("closed_on_time", sa.Integer(), nullable=False),
        sa.Column("reworked", sa.Integer(), nullable=False),
        sa.Column("extended", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("voided", sa.Integer(), nullable=False),
        sa.UniqueConstraint("day", "source", "status", name="uq_case_rollup_source_key"),
    )
    op.create_table(
        "case_rollup_street",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reported", sa.Integer(), nullable=False),
        sa.Column("registered", sa.Integer(), nullable=False),
        sa.Column("dispatched", sa.Integer(), nullable=False),
        sa.Column("handled", sa.Integer(), nullable=False),
        sa.Column("handled_on_time", sa.Integer(), nullable=False),
        sa.Column("closed", sa.Integer(), nullable=False),
        sa.Column("closed_on_time", sa.Integer(), nullable=False),
        sa.Column("reworked", sa.Integer(), nullable=False),
        sa.Column("extended", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("voided", sa.Integer(), nullable=False),
        sa.UniqueConstraint(
            "day", "district_code", "street_code", "status", name="uq_case_rollup_street_key"
        ),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("class_code", sa.String(length=8), nullable=False),
        sa.Column("big_class_code", sa.String(length=4), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("street_code", sa.String(length=9), nullable=False),
        sa.Column("district_code", sa.String(length=6), nullable=False),
        sa.Column("reported_at", sa.DateTime(), nullable=False),
        sa.Column("reported_day", sa.Date(), nullable=False),
        sa.Column("hour_of_week", sa.SmallInteger(), nullable=False),
        sa.Column("urgent", sa.Boolean(), nullable=False),
        sa.Column("department_code", sa.String(length=16), nullable=True),
        sa.Column("accepted_at", sa.DateTime(), nullable=True),
        sa.Column("registered_at", sa.DateTime(), nullable=True),
        sa.Column("dispatched_at", sa.DateTime(), nullable=True),
        sa.Column("deadline", sa.DateTime(), nullable=True),
        sa.Column("handled_at", sa.DateTime(), nullable=True),
        sa.Column("verified_at", sa.DateTime(), nullable=True),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.Column("voided_at", sa.DateTime(), nullable=True),
        sa.Column("handled_on_time", sa.Boolean(), nullable=True),
        sa.Column("closed_on_time", sa.Boolean(), nullable=True),
        sa.Column("rework_count", sa.SmallInteger(), nullable=False),
        sa.Column("extension_count", sa.SmallInteger(), nullable=False),
        sa.Column("return_count", sa.SmallInteger(), nullable=False),
        sa.Column("urge_count", sa.SmallInteger(), nullable=False),
        sa.Column("escalated", sa.Boolean(), nullable=False),
        sa.Column("component_code", sa.String(length=16), nullable=True),
        sa.Column("external_id", sa.String(length=64), nullable=True),
        sa.Column("reporter", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cases")),
        sa.UniqueConstraint("number", name=op.f("uq_cases_number")),
        sa.UniqueConstraint("source", "external_id", name="uq_cases_source_external_id"),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.create_index(
            "ix_cases_class_reported", ["class_code", "reported_at"], unique=False
        )
        batch_op.create_index(
            "ix_cases_community_reported", ["community_code", "reported_at"], unique=False
        )
        batch_op.create_index(
            "ix_cases_department_status", ["department_code", "status"], unique=False
        )
        batch_op.create_index("ix_cases_grid_reported", ["grid_code", "reported_at"], unique=False)
        batch_op.create_index("ix_cases_reported_at", ["reported_at"], unique=False)
        batch_op.create_index("ix_cases_status_deadline", ["status", "deadline"], unique=False)
        batch_op.create_index(
            "ix_cases_street_reported", ["street_code", "reported_at"], unique=False
        )

    op.create_table(
        "departments",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_departments")),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("sensor_type", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_devices")),
    )
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_devices_grid_code"), ["grid_code"], unique=False)
        batch_op.create_index("ix_devices_kind_grid", ["kind", "grid_code"], unique=False)

    op.create_table(
        "key_places",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_places")),
    )
    with op.batch_alter_table("key_places", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_places_grid_code"), ["grid_code"], unique=False)

    op.create_table(
        "regions",
        sa.Column("code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("level", sa.String(length=10), nullable=False),
        sa.Column("parent_code", sa.String(length=15), nullable=True),
        sa.Column("geometry", sa.Text(), nullable=False),
        sa.Column("centroid_lon", sa.Float(), nullable=False),
        sa.Column("centroid_lat", sa.Float(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("social_grid_code", sa.String(length=20), nullable=True),
        sa.Column("synthetic", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_regions")),
    )
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.create_index("ix_regions_level_parent", ["level", "parent_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_regions_parent_code"), ["parent_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_regions_social_grid_code"), ["social_grid_code"], unique=False
        )

    op.create_table(
        "social_grids",
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("community_code", sa.String(length=12), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_social_grids")),
    )
    with op.batch_alter_table("social_grids", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_social_grids_community_code"), ["community_code"], unique=False
        )

    op.create_table(
        "workers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("role", sa.String(length=12), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=True),
        sa.Column("social_grid_code", sa.String(length=20), nullable=True),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_workers_grid_code"), ["grid_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_workers_social_grid_code"), ["social_grid_code"], unique=False
        )

    op.create_table(
        "case_steps",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("from_status", sa.String(length=12), nullable=True),
        sa.Column("to_status", sa.String(length=12), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_steps_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_steps")),
    )
    with op.batch_alter_table("case_steps", schema=None) as batch_op:
        batch_op.create_index("ix_case_steps_case_at", ["case_id", "at"], unique=False)

    op.create_table(
        "components",
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("class_code", sa.String(length=4), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("state", sa.String(length=4), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("supervising_dept", sa.String(length=16), nullable=True),
        sa.Column("owning_dept", sa.String(length=16), nullable=True),
        sa.Column("maintaining_dept", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["grid_code"], ["regions.code"], name=op.f("fk_components_grid_code_regions")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_components")),
    )
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_components_class_code"), ["class_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_components_grid_code"), ["grid_code"], unique=False)

    op.create_table(
        "houses",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("compound", sa.String(length=100), nullable=False),
        sa.Column("building", sa.String(length=20), nullable=False),
        sa.Column("unit", sa.String(length=20), nullable=False),
        sa.Column("room", sa.String(length=20), nullable=False),
        sa.Column("usage", sa.String(length=12), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grid_code"], ["regions.code"], name=op.f("fk_houses_grid_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_houses")),
    )
    with op.batch_alter_table("houses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_houses_grid_code"), ["grid_code"], unique=False)

    op.create_table(
        "organisations",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("grid_code", sa.String(length=15), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("lon", sa.Float(), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grid_code"], ["regions.code"], name=op.f("fk_organisations_grid_code_regions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisations_grid_code"), ["grid_code"], unique=False)

    op.create_table(
        "households",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("house_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("size", sa.SmallInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["house_id"], ["houses.id"], name=op.f("fk_households_house_id_houses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_households")),
    )
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_households_house_id"), ["house_id"], unique=False)

    op.create_table(
        "people",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column(
            "household_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("citizen_id", sa.String(length=18), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("gender", sa.String(length=2), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("relation", sa.String(length=10), nullable=False),
        sa.Column("tags", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_people_household_id_households")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("citizen_id", name=op.f("uq_people_citizen_id")),
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_people_household_id"), ["household_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_people_household_id"))

    op.drop_table("people")
    with op.batch_alter_table("households", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_households_house_id"))

    op.drop_table("households")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisations_grid_code"))

    op.drop_table("organisations")
    with op.batch_alter_table("houses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_houses_grid_code"))

    op.drop_table("houses")
    with op.batch_alter_table("components", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_components_grid_code"))
        batch_op.drop_index(batch_op.f("ix_components_class_code"))

    op.drop_table("components")
    with op.batch_alter_table("case_steps", schema=None) as batch_op:
        batch_op.drop_index("ix_case_steps_case_at")

    op.drop_table("case_steps")
    with op.batch_alter_table("workers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_workers_social_grid_code"))
        batch_op.drop_index(batch_op.f("ix_workers_grid_code"))

    op.drop_table("workers")
    with op.batch_alter_table("social_grids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_social_grids_community_code"))

    op.drop_table("social_grids")
    with op.batch_alter_table("regions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_regions_social_grid_code"))
        batch_op.drop_index(batch_op.f("ix_regions_parent_code"))
        batch_op.drop_index("ix_regions_level_parent")

    op.drop_table("regions")
    with op.batch_alter_table("key_places", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_places_grid_code"))

    op.drop_table("key_places")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_index("ix_devices_kind_grid")
        batch_op.drop_index(batch_op.f("ix_devices_grid_code"))

    op.drop_table("devices")
    op.drop_table("departments")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index("ix_cases_street_reported")
        batch_op.drop_index("ix_cases_status_deadline")
        batch_op.drop_index("ix_cases_reported_at")
        batch_op.drop_index("ix_cases_grid_reported")
        batch_op.drop_index("ix_cases_department_status")
        batch_op.drop_index("ix_cases_community_reported")
        batch_op.drop_index("ix_cases_class_reported")

    op.drop_table("cases")
    op.drop_table("case_rollup_street")
    op.drop_table("case_rollup_source")
    op.drop_table("case_rollup_hour")
    op.drop_table("case_rollup_grid_monthly")
    op.drop_table("case_rollup_department")
    op.drop_table("case_rollup_daily")
    op.drop_table("case_rollup_class")
