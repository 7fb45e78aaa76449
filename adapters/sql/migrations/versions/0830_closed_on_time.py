"""按期结案 recomputed: the close against the case's own deadline

Until now ``closed_on_time`` was a copy of ``handled_on_time`` at the close, so 按期结案率
equalled 按期处置率 in every unit. A case is now closed on time when its (last) handling kept
its deadline and it was closed within the 核查 and 结案 stage limits after that deadline
(``adapters.sql.workflow.closed_on_time``). The new flag implies the old one, so only closed
cases flagged on time can change: each is checked with the city's calendar, class limits and
stage limits (the ``CC_*`` settings the app runs with), and those closed late are cleared.

Then the rollup rows of closed cases are rebuilt from the cases (day and month rollups) or from
their monthly twins (year rollups), with a frozen copy of the rollup SQL; rows of other
statuses do not count ``closed_on_time`` and stay as they are.

Revision ID: 0830_closed_on_time
Revises: 0700_rollup_yearly
Create Date: 2026-12-02 01:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0830_closed_on_time"
down_revision = "0820_audit_chain"
branch_labels = None
depends_on = None

BATCH = 20_000

_GRID = ("district_code", "street_code", "community_code", "grid_code")
_CLASS = ("kind", "big_class_code", "class_code")
#: rollup: (its period column, its dimensions, the monthly twin it sums, or None), as of 0700
ROLLUPS: dict[str, tuple[str, tuple[str, ...], str | None]] = {
    "case_rollup_class_monthly": ("month", _CLASS, None),
    "case_rollup_source": ("day", ("source",), None),
    "case_rollup_department": ("day", ("department_code",), None),
    "case_rollup_hour": ("day", ("hour_of_week",), None),
    "case_rollup_class": ("day", _CLASS, None),
    "case_rollup_street": ("day", ("district_code", "street_code"), None),
    "case_rollup_grid_monthly": ("month", _GRID, None),
    "case_rollup_grid_yearly": ("year", _GRID, "case_rollup_grid_monthly"),
    "case_rollup_grid_class_monthly": ("month", _GRID + _CLASS, None),
    "case_rollup_grid_class_yearly": ("year", _GRID + _CLASS, "case_rollup_grid_class_monthly"),
    "case_rollup_daily": (
        "day",
        ("district_code", "street_code", "community_code", *_CLASS, "source", "department_code"),
        None,
    ),
}
COUNTERS = ("reported", "registered", "dispatched", "handled", "handled_on_time", "closed",
            "closed_on_time", "reworked", "extended", "returned", "voided",
            "accept_timed", "accepted_on_time", "register_timed", "registered_on_time",
            "dispatch_timed", "dispatched_on_time", "verify_timed", "verified_on_time",
            "evaluated", "satisfied")  # fmt: skip
STAGE_FLAGS = ("accepted_on_time", "registered_on_time", "dispatched_on_time", "verified_on_time")


def recompute_cases(bind: sa.Connection) -> int:
    """Clear ``closed_on_time`` of the closed cases closed late; how many were cleared."""
    from adapters.sql.workflow import closed_on_time
    from command_center.domain.calendar import load_calendar
    from command_center.domain.classes import load_catalogue
    from command_center.domain.workflow import stage_limits
    from command_center.settings import Settings

    settings = Settings()
    calendar = load_calendar(settings.calendar_file, settings.workday_start, settings.workday_end)
    catalogue = load_catalogue(settings.case_classes_file)
    limits = stage_limits(settings.case_options.get("stage_limits"))
    # typed columns: SQLite hands back text for a plain SELECT of DATETIME columns
    cases = sa.table(
        "cases",
        sa.column("id", sa.Integer()),
        sa.column("kind", sa.String()),
        sa.column("class_code", sa.String()),
        sa.column("status", sa.String()),
        sa.column("urgent", sa.Boolean()),
        sa.column("deadline", sa.DateTime()),
        sa.column("closed_at", sa.DateTime()),
        sa.column("handled_on_time", sa.Boolean()),
        sa.column("closed_on_time", sa.Boolean()),
    )
    c = cases.c
    rows = bind.execute(
        sa.select(
            c.id, c.kind, c.class_code, c.urgent, c.deadline, c.closed_at, c.handled_on_time
        )  # fmt: skip
        .where(c.status == "closed", c.closed_on_time.is_(True))
        .order_by(c.id)
    )
    late: list[int] = []
    for row in rows.mappings():
        try:
            cls = catalogue.get(row["kind"], row["class_code"])
        except Exception:  # noqa: BLE001 - a class the city has dropped: keep the flag
            continue
        if not closed_on_time(dict(row), cls, row["closed_at"], calendar, limits):
            late.append(row["id"])
    update = sa.text("UPDATE cases SET closed_on_time = :off WHERE id = :id")
    for i in range(0, len(late), BATCH):
        bind.execute(update, [{"off": False, "id": case_id} for case_id in late[i : i + BATCH]])
    return len(late)


def _period(bind: sa.Connection, grain: str, column: str) -> str:
    if grain == "day":
        return column
    if bind.dialect.name == "sqlite":
        return f"date({column}, 'start of {grain}')"
    return f"CAST(date_trunc('{grain}', {column}) AS DATE)"


def _case_sums(bind: sa.Connection) -> list[str]:
    """The SQL of each counter over ``cases`` (frozen ``rollup.counter_exprs``)."""
    true = "1" if bind.dialect.name == "sqlite" else "true"

    def flag(condition: str) -> str:
        return f"SUM(CASE WHEN {condition} THEN 1 ELSE 0 END)"

    sums = [
        "COUNT(*)",
        flag("registered_at IS NOT NULL"),
        flag("dispatched_at IS NOT NULL"),
        flag("handled_at IS NOT NULL"),
        flag(f"handled_on_time IS {true}"),
        flag("status = 'closed'"),
        flag(f"status = 'closed' AND closed_on_time IS {true}"),
        flag("rework_count > 0"),
        flag("extension_count > 0"),
        flag("return_count > 0"),
        flag("status = 'voided'"),
    ]
    for column in STAGE_FLAGS:
        sums += [flag(f"{column} IS NOT NULL"), flag(f"{column} IS {true}")]
    sums += [flag("satisfaction IS NOT NULL"), flag("satisfaction IN (1, 2)")]
    return sums


def rebuild_closed_rows(bind: sa.Connection, table: str) -> None:
    """Rebuild the rows of closed cases in one rollup."""
    period, dims, twin = ROLLUPS[table]
    columns = ", ".join((period, *dims, "status", *COUNTERS))
    bind.execute(sa.text(f"DELETE FROM {table} WHERE status = 'closed'"))
    if twin is not None:
        twin_period = ROLLUPS[twin][0]
        key = ", ".join((_period(bind, period, twin_period), *dims, "status"))
        sums = ", ".join(f"SUM({c})" for c in COUNTERS)
        source, where = twin, "status = 'closed'"
    else:
        dim_sql = ["COALESCE(department_code, '')" if d == "department_code" else d for d in dims]
        key = ", ".join((_period(bind, period, "reported_day"), *dim_sql, "status"))
        sums = ", ".join(_case_sums(bind))
        source, where = "cases", "status = 'closed'"
    bind.execute(
        sa.text(
            f"INSERT INTO {table} ({columns}) SELECT {key}, {sums} FROM {source} "
            f"WHERE {where} GROUP BY {key}"
        )
    )


def upgrade() -> None:
    bind = op.get_bind()
    recompute_cases(bind)
    # monthly twins before their yearly sums: the dict lists them in that order
    for table in ROLLUPS:
        rebuild_closed_rows(bind, table)


def downgrade() -> None:
    # the old flag was a copy of handled_on_time; the rollups follow the cases
    true = "1" if op.get_bind().dialect.name == "sqlite" else "true"
    op.execute(
        f"UPDATE cases SET closed_on_time = (handled_on_time IS {true}) WHERE status = 'closed'"
    )
    for table in ROLLUPS:
        rebuild_closed_rows(op.get_bind(), table)
