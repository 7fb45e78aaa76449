"""The built-in case system: cases and their closed-loop workflow in the ``sql`` backend.

Writes (``report_case``, ``act``) run in one transaction each, which also moves the case's
contribution in the rollups, so ``case_stats`` reads small pre-aggregated tables that are
never out of step with the cases. SLA states are computed at read time from the stored
deadline and "now" (injectable for tests and the generator).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, and_, case, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import ColumnElement

from adapters.base import AdapterError, NotFound
from adapters.case.contract import (
    GROUP_DIMENSIONS,
    Case,
    CaseAction,
    CaseAdapter,
    CaseDetail,
    CaseFilter,
    CasePhoto,
    CaseSource,
    CaseStats,
    CaseStatus,
    CaseStep,
    Department,
    NewCase,
    NewPhoto,
    PhotoContent,
    PhotoKind,
    SlaState,
)
from adapters.sql import rollup
from adapters.sql.common import (
    GridIndexCache,
    clock_option,
    engine_from_options,
    optional_path,
    ping,
    region_column,
)
from adapters.sql.db import IMMEDIATE
from adapters.sql.models import (
    CUBOIDS,
    ROLLUP_COUNTERS,
    ROLLUP_TABLES,
    CasePhotoRow,
    CaseRow,
    CaseStepRow,
    ComponentRow,
    Cuboid,
    DepartmentRow,
    PhotoBlobRow,
    RegionRow,
)
from adapters.sql.workflow import apply_action
from command_center.domain.calendar import load_calendar, sla_state, to_local_naive
from command_center.domain.classes import CaseClass, UnknownClass, load_catalogue
from command_center.domain.codes import InvalidCode, component_code, grid_code
from command_center.domain.coords import to_wgs84
from command_center.domain.grid_index import GridIndex
from command_center.domain.ids import record_id
from command_center.domain.workflow import (
    DEFAULT_MAX_EXTENSIONS,
    OPEN_STATUSES,
    SATISFACTION,
    TransitionError,
    next_status,
)
from command_center.domain.workflow import is_final as status_is_final
from command_center.domain.workflow import stage_limits as domain_stage_limits
from command_center.i18n import Term, localized_as

cases = CaseRow.__table__
steps_t = CaseStepRow.__table__
photos_t = CasePhotoRow.__table__
blobs_t = PhotoBlobRow.__table__

#: what a stored photo may be, recognised by its first bytes (the declared type must agree)
PHOTO_SIGNATURES = {
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/webp": (b"RIFF",),
}
MAX_PHOTO_BYTES = 8 * 1024 * 1024

OPEN = tuple(sorted(s.value for s in OPEN_STATUSES))
#: the SLA clock of the handling stage runs while a case is dispatched (派遣 → 处置反馈)
CLOCK_STATUS = CaseStatus.DISPATCHED.value
CLASS_DIMS = ("class_code", "big_class_code")


class SqlCaseAdapter(CaseAdapter):
    """Cases in the embedded SQLite/PostgreSQL database.

    Options (keyword, as the app passes them from ``CC_CASE_OPTIONS`` and the settings):
    ``database_url`` or ``engine``; ``calendar_file``, ``case_classes_file``,
    ``workday_start``, ``workday_end``, ``due_soon_fraction``, ``grid_seq_width``,
    ``max_extensions`` (延期 allowed per case, default 1), ``stage_limits`` (working hours
    for 受理/核实/立案/派遣/核查, e.g. ``{"accept": 0.5}``; see ``DEFAULT_STAGE_LIMITS``),
    ``verify_stage`` (核实 as a stage of its own: 受理 leads to 待核实; from
    ``CC_WORKFLOW_VERIFY_STAGE``) and ``now`` (a callable giving naive local time, for tests
    and the simulator).
    """

    def __init__(
        self,
        database_url: str = "",
        calendar_file: Any = None,
        case_classes_file: Any = None,
        workday_start: str = "08:30",
        workday_end: str = "17:30",
        due_soon_fraction: float = 0.2,
        grid_seq_width: int = 2,
        *,
        engine: Engine | None = None,
        now: Callable[[], datetime] | None = None,
        max_extensions: int = DEFAULT_MAX_EXTENSIONS,
        stage_limits: Mapping[str, float] | None = None,
        verify_stage: bool = False,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.verify_stage = bool(verify_stage)
        self.engine, self._owns_engine = engine_from_options(database_url, engine)
        self.catalogue = load_catalogue(optional_path(case_classes_file))
        self.calendar = load_calendar(optional_path(calendar_file), workday_start, workday_end)
        self.due_soon_fraction = float(due_soon_fraction)
        self.grid_seq_width = int(grid_seq_width)
        self.max_extensions = int(max_extensions)
        try:
            self.stage_limits = domain_stage_limits(stage_limits)
        except ValueError as exc:
            raise AdapterError(f"CC_CASE_OPTIONS: {exc}") from None
        self.now = clock_option(now)
        self._grids = GridIndexCache(self.engine)

    # ------------------------------------------------------------------------ plumbing

    def ping(self) -> None:
        ping(self.engine)

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    @property
    def grid_index(self) -> GridIndex:
        return self._grids.get()

    def _class_of(self, kind: str, code: str) -> CaseClass | None:
        return self.catalogue.find(kind, code)

    def _to_case(self, row: Any, now: datetime) -> Case:
        m = row._mapping if hasattr(row, "_mapping") else row
        cls = self._class_of(m["kind"], m["class_code"])
        state = None
        if m["status"] == CLOCK_STATUS and m["deadline"] is not None and cls is not None:
            state = sla_state(
                m["deadline"],
                now,
                cls.limit_for(bool(m["urgent"])),
                self.calendar,
                self.due_soon_fraction,
            )
        return Case(
            id=m["id"],
            number=m["number"],
            kind=m["kind"],
            class_code=m["class_code"],
            class_name=cls.name if cls else m["class_code"],
            big_class_code=m["big_class_code"],
            big_class_name=cls.big_name if cls else m["big_class_code"],
            source=CaseSource(m["source"]),
            status=CaseStatus(m["status"]),
            description=m["description"],
            address=m["address"],
            lon=m["lon"],
            lat=m["lat"],
            grid_code=m["grid_code"],
            community_code=m["community_code"],
            street_code=m["street_code"],
            district_code=m["district_code"],
            reported_at=m["reported_at"],
            urgent=bool(m["urgent"]),
            department_code=m["department_code"],
            registered_at=m["registered_at"],
            dispatched_at=m["dispatched_at"],
            deadline=m["deadline"],
            handled_at=m["handled_at"],
            closed_at=m["closed_at"],
            rework_count=m["rework_count"] or 0,
            extended=(m["extension_count"] or 0) > 0,
            sla_state=state,
            component_code=m["component_code"],
            merged_into=m.get("merged_into"),
        )

    # ------------------------------------------------------------------------ reading

    def _where(
        self,
        flt: CaseFilter,
        t=cases,  # noqa: ANN001 - a Table
        with_status: bool = True,
        by_status: bool = False,
    ) -> list[ColumnElement[bool]]:
        """Filters every path shares (live table, rollups: same column names).

        ``by_status``: the query also filters open statuses, and open cases are a few per cent
        of all. SQLite's averaged index statistics cannot see that skew and walk a region's
        or a class's index over every case it ever had (3 s for a class over a year of the
        large city) instead of the status index; ``column || ''`` keeps those dimensions out
        of the index choice. Open-only filters on the cases table always go that way.
        """
        by_status = by_status or (flt.open_only and t is cases)

        def col(name: str) -> Any:
            return t.c[name].concat("") if by_status else t.c[name]

        clauses: list[ColumnElement[bool]] = []
        if flt.region_code:
            clauses.append(col(region_column(flt.region_code)) == flt.region_code)
        if flt.grid_codes is not None:
            clauses.append(col("grid_code").in_(list(flt.grid_codes)))
        if flt.kind:
            clauses.append(t.c.kind == flt.kind)
        if flt.class_codes:
            clauses.append(col("class_code").in_(list(flt.class_codes)))
        if flt.big_class_codes:
            clauses.append(col("big_class_code").in_(list(flt.big_class_codes)))
        if flt.sources:
            clauses.append(t.c.source.in_([CaseSource(s).value for s in flt.sources]))
        if flt.department_code:
            clauses.append(col("department_code") == flt.department_code)
        statuses = self._statuses(flt) if with_status else None
        if statuses is not None:
            clauses.append(t.c.status.in_(statuses))
        return clauses

    @staticmethod
    def _statuses(flt: CaseFilter) -> list[str] | None:
        statuses = None
        if flt.statuses:
            statuses = [CaseStatus(s).value for s in flt.statuses]
        if flt.open_only:
            statuses = [s for s in (statuses or OPEN) if s in OPEN]
        return statuses

    def _time_where(self, flt: CaseFilter) -> list[ColumnElement[bool]]:
        clauses = []
        if flt.since is not None:
            clauses.append(cases.c.reported_at >= to_local_naive(flt.since))
        if flt.until is not None:
            clauses.append(cases.c.reported_at < to_local_naive(flt.until))
        return clauses

    def _sla_where(self, conn: Any, flt: CaseFilter, now: datetime) -> list[ColumnElement[bool]]:
        """SLA states: 超期 is one comparison; 临期/正常 depend on each class's limit, so
        those are decided in Python over the (few) cases whose clock runs."""
        if not flt.sla_states:
            return []
        wanted = {SlaState(s) for s in flt.sla_states}
        running = and_(cases.c.status == CLOCK_STATUS, cases.c.deadline.is_not(None))
        if wanted == {SlaState.OVERDUE}:
            return [running, cases.c.deadline < now]
        rows = conn.execute(
            select(
                cases.c.id, cases.c.kind, cases.c.class_code, cases.c.urgent, cases.c.deadline
            ).where(running, *self._where(flt), *self._time_where(flt))
        ).all()
        ids = []
        for row in rows:
            cls = self._class_of(row.kind, row.class_code)
            if cls is None:
                continue
            limit = cls.limit_for(bool(row.urgent))
            if sla_state(row.deadline, now, limit, self.calendar, self.due_soon_fraction) in wanted:
                ids.append(row.id)
        return [cases.c.id.in_(ids)]

    def list_cases(self, flt: CaseFilter) -> list[Case]:
        now = self.now()
        with self.engine.connect() as conn:
            order = cases.c.reported_at.desc() if flt.newest_first else cases.c.reported_at.asc()
            tie = cases.c.id.desc() if flt.newest_first else cases.c.id.asc()
            query = (
                select(cases)
                .where(*self._where(flt), *self._time_where(flt), *self._sla_where(conn, flt, now))
                .order_by(order, tie)
            )
            if flt.limit is not None:
                query = query.limit(flt.limit)
            return [self._to_case(row, now) for row in conn.execute(query)]

    def get_case(self, case_id: int) -> CaseDetail:
        if record_id(case_id) is None:  # no row has it; the driver would overflow
            raise NotFound(f"案件不存在 / no case {case_id}")
        now = self.now()
        with self.engine.connect() as conn:
            row = conn.execute(select(cases).where(cases.c.id == case_id)).first()
            if row is None:
                raise NotFound(f"案件不存在 / no case {case_id}")
            history = conn.execute(
                select(steps_t)
                .where(steps_t.c.case_id == case_id)
                .order_by(steps_t.c.at, steps_t.c.id)
            ).all()
            photos = self._photos(conn, case_id)
        return CaseDetail(
            self._to_case(row, now),
            [
                CaseStep(
                    at=s.at,
                    action=s.action,
                    actor=s.actor,
                    note=s.note,
                    from_status=CaseStatus(s.from_status) if s.from_status else None,
                    to_status=CaseStatus(s.to_status),
                )
                for s in history
            ],
            photos,
        )

    @staticmethod
    def _photos(conn: Any, case_id: int) -> list[CasePhoto]:
        query = (
            select(photos_t, blobs_t.c.media_type)
            .join(blobs_t, blobs_t.c.id == photos_t.c.blob_id)
            .where(photos_t.c.case_id == case_id)
            .order_by(photos_t.c.taken_at, photos_t.c.id)
        )
        return [_to_photo(row) for row in conn.execute(query)]

    def departments(self) -> list[Department]:
        d = DepartmentRow.__table__
        with self.engine.connect() as conn:
            rows = conn.execute(select(d.c.code, d.c.name, d.c.kind).order_by(d.c.kind, d.c.code))
            return [Department(r.code, r.name, r.kind) for r in rows]

    # ------------------------------------------------------------------------ statistics

    def case_stats(self, group_by: Sequence[str], flt: CaseFilter) -> list[CaseStats]:
        """Counts per group; reads a rollup when one can answer, else the cases table.

        Cases count in the period they were reported in (a cohort): ``closed`` is how many of
        the cases reported in the period are closed now. ``open`` and ``overdue_open`` always
        come from the live table (index on status, deadline). Grouping by a class adds
        ``kind`` to the key: event and component classes share 4-digit codes.
        """
        group = list(dict.fromkeys(group_by))
        bad = [g for g in group if g not in GROUP_DIMENSIONS]
        if bad:
            raise AdapterError(f"cannot group cases by {bad}; use {', '.join(GROUP_DIMENSIONS)}")
        if any(g in CLASS_DIMS for g in group) and "kind" not in group:
            group.insert(group.index(next(g for g in group if g in CLASS_DIMS)), "kind")
        now = self.now()
        with self.engine.connect() as conn:
            # open cases only: a rollup counts every case of a cohort, and the few open ones
            # are found faster by the status index than summed over every month
            counted = not (flt.sla_states or flt.open_only)
            cuboid = self.choose_rollup(group, flt) if counted else None
            plan = self._month_plan(group, flt, now) if counted and cuboid is None else None
            if plan is not None:
                rows = self._planned_stats(conn, group, flt, now, plan)
            elif cuboid is not None:
                rows = self._rollup_stats(conn, cuboid, group, flt)
            else:
                rows = self._raw_stats(conn, group, flt, now)
            if plan is not None or cuboid is not None:
                wanted = flt.counters is None or {"open", "overdue_open"} & set(flt.counters)
                live = self._live_open(conn, group, flt, now) if wanted else {}
                for key, (open_, overdue) in live.items():
                    if flt.top_groups and key not in rows:
                        continue  # a group outside the top N: not asked for
                    stats = rows.setdefault(key, dict.fromkeys(ROLLUP_COUNTERS, 0))
                    stats["open"], stats["overdue_open"] = open_, overdue
        if not group and not rows:
            rows[()] = {}
        return [
            CaseStats(key=dict(zip(group, key, strict=True)), **counts)
            for key, counts in sorted(rows.items(), key=lambda kv: tuple(map(str, kv[0])))
        ]

    def choose_rollup(self, group: Sequence[str], flt: CaseFilter) -> Cuboid | None:
        """The smallest rollup holding every dimension the query groups or filters by, at a
        time grain the period fits (``None``: use the live table)."""
        needed = {g for g in group if g not in ("status", "day")}
        if flt.region_code:
            needed.add(region_column(flt.region_code))
        if flt.kind:
            needed.add("kind")
        if flt.grid_codes is not None:
            needed.add("grid_code")
        if flt.class_codes:
            needed.add("class_code")
        if flt.big_class_codes:
            needed.add("big_class_code")
        if flt.sources:
            needed.add("source")
        if flt.department_code:
            needed.add("department_code")
        bounds = [b for b in (flt.since, flt.until) if b is not None]
        for cuboid in CUBOIDS:
            if not needed <= set(cuboid.dims):
                continue
            if cuboid.period != "day" and (
                "day" in group
                or any(rollup.period_of(cuboid.period, b.date()) != b.date() for b in bounds)
            ):
                continue
            if any(to_local_naive(b).time() != time(0) for b in bounds):
                continue
            return cuboid
        return None

    def _month_plan(
        self, group: Sequence[str], flt: CaseFilter, now: datetime
    ) -> tuple[CaseFilter, Cuboid, list[tuple[datetime, datetime, int]]] | None:
        """A period cut mid-month, at a level no daily rollup holds (unit grids: the last 30
        days, a week): its whole months from a monthly or yearly rollup, and the days cut at
        either end from the cases table, added, or subtracted from a month read whole where
        the month's other days are fewer (there are no cases after now). Returns the rollup's
        filter, the rollup, and the (since, until, +1/-1) ranges of the cases table; ``None``
        when that reads no fewer days of cases than the period itself."""
        if "day" in group or flt.since is None:
            return None
        since = to_local_naive(flt.since)
        until = to_local_naive(flt.until) if flt.until is not None else None

        def floor(d: datetime) -> datetime:
            return datetime(d.year, d.month, 1)

        def ceil(d: datetime) -> datetime:
            start = floor(d)
            return start if start == d else (start + timedelta(days=32)).replace(day=1)

        def days(a: datetime, b: datetime) -> float:  # of cases to read in [a, b)
            a, b = min(a, b), min(max(a, b), now)
            return max((b - a).total_seconds(), 0.0) / 86400

        lo = min((floor(since), ceil(since)), key=lambda m: (days(m, since), m))
        hi = (
            None
            if until is None
            else min((floor(until), ceil(until)), key=lambda m: (days(m, until), -m.timestamp()))
        )
        if hi is not None and lo >= hi:
            return None  # no whole month inside
        edges = [(min(lo, since), max(lo, since), 1 if lo > since else -1)] if lo != since else []
        if hi is not None and until is not None and hi != until:
            edges.append((min(hi, until), max(hi, until), 1 if hi < until else -1))
        if sum(days(a, b) for a, b, _sign in edges) >= days(since, until or now):
            return None
        whole = replace(flt, since=lo, until=hi, top_groups=None)
        cuboid = self.choose_rollup(group, whole)
        return None if cuboid is None else (whole, cuboid, edges)

    def _planned_stats(
        self,
        conn: Any,
        group: Sequence[str],
        flt: CaseFilter,
        now: datetime,
        plan: tuple[CaseFilter, Cuboid, list[tuple[datetime, datetime, int]]],
    ) -> dict[tuple, dict[str, int]]:
        """Counts by ``_month_plan``: the rollup's, plus and minus the cut days'."""
        whole, cuboid, edges = plan
        names = self._counter_names(flt, ROLLUP_COUNTERS)
        rows = self._rollup_stats(conn, cuboid, group, replace(whole, counters=list(names)))
        for since, until, sign in edges:
            part = replace(flt, since=since, until=until, top_groups=None, counters=list(names))
            for key, counts in self._raw_stats(conn, group, part, now).items():
                total = rows.setdefault(key, dict.fromkeys(names, 0))
                for name, value in counts.items():
                    total[name] += sign * value
        rows = {key: counts for key, counts in rows.items() if counts["reported"] > 0}
        if flt.top_groups:  # as ORDER BY reported DESC, the key columns (NULL first) would
            ranked = sorted(
                rows.items(),
                key=lambda kv: (-kv[1]["reported"], tuple((v is not None, v) for v in kv[0])),
            )
            rows = dict(ranked[: flt.top_groups])
        return rows

    def _key_columns(self, t, group: Sequence[str], period: str = "reported_day") -> list:  # noqa: ANN001
        cols = []
        for g in group:
            if g == "day":
                cols.append(t.c[period])
            elif g == "department_code" and t is cases:
                cols.append(func.coalesce(t.c.department_code, ""))
            else:
                cols.append(t.c[g])
        return cols

    @staticmethod
    def _keyer(group: Sequence[str]) -> Callable[[Sequence[Any]], tuple]:
        """Result row -> its group key (the first ``len(group)`` columns). A day is keyed by
        its ISO text; only that column is converted (tens of thousands of rows)."""
        n = len(group)
        day = group.index("day") if "day" in group else -1

        def key(row: Sequence[Any]) -> tuple:
            values = tuple(row[:n])
            if day >= 0 and isinstance(values[day], date):
                return (*values[:day], values[day].isoformat(), *values[day + 1 :])
            return values

        return key

    @staticmethod
    def _top(query: Any, flt: CaseFilter, reported: Any, keys: list) -> Any:
        """``flt.top_groups``: the N groups with the most reported cases, ties by key."""
        if not flt.top_groups:
            return query
        return query.order_by(reported.desc(), *keys).limit(flt.top_groups)

    def _rollup_stats(
        self, conn: Any, cuboid: Cuboid, group: Sequence[str], flt: CaseFilter
    ) -> dict[tuple, dict[str, int]]:
        t = ROLLUP_TABLES[cuboid.name]
        period = t.c[cuboid.period]
        where = self._where(flt, t)
        if flt.since is not None:
            where.append(period >= to_local_naive(flt.since).date())
        if flt.until is not None:
            where.append(period < to_local_naive(flt.until).date())
        keys = self._key_columns(t, group, cuboid.period)
        names = self._counter_names(flt, ROLLUP_COUNTERS)
        sums = [func.sum(t.c[c]) for c in names]
        query = select(*keys, *sums).where(*where)
        if keys:
            query = self._top(query.group_by(*keys), flt, sums[0], keys)
        # all cases moved away from a group: its rollup rows sum to 0, no group
        return self._rows_by_key(conn.execute(query).all(), group, names)

    def _live_open(
        self, conn: Any, group: Sequence[str], flt: CaseFilter, now: datetime
    ) -> dict[tuple, tuple[int, int]]:
        """Open and overdue counts from the live table.

        Open cases are few (a few per cent), so their keys are fetched through the
        (status, reported_at) index and counted here: a GROUP BY tempts SQLite's planner
        into walking a dimension index over every case of the period instead.
        """
        open_statuses = [s for s in (self._statuses(flt) or OPEN) if s in OPEN]
        if not open_statuses:
            return {}
        keys = self._key_columns(cases, group)
        query = select(*keys, cases.c.status, cases.c.deadline).where(
            cases.c.status.in_(open_statuses),
            *self._where(flt, with_status=False, by_status=True),
            *self._time_where(flt),
        )
        n = len(keys)
        key_of = self._keyer(group)
        counts: dict[tuple, list[int]] = {}
        for row in conn.execute(query):
            tally = counts.setdefault(key_of(row), [0, 0])
            tally[0] += 1
            deadline = row[n + 1]
            if row[n] == CLOCK_STATUS and deadline is not None and deadline < now:
                tally[1] += 1
        return {key: (c[0], c[1]) for key, c in counts.items()}

    def _raw_stats(
        self, conn: Any, group: Sequence[str], flt: CaseFilter, now: datetime
    ) -> dict[tuple, dict[str, int]]:
        """The plain GROUP BY over the cases table (also what the tests compare against)."""
        exprs = rollup.counter_exprs()
        is_open = cases.c.status.in_(OPEN)
        exprs["open"] = case((is_open, 1), else_=0)
        exprs["overdue_open"] = case(
            (and_(cases.c.status == CLOCK_STATUS, cases.c.deadline < now), 1), else_=0
        )
        keys = self._key_columns(cases, group)
        names = self._counter_names(flt, tuple(exprs))
        sums = [func.sum(exprs[name]) for name in names]
        query = select(*keys, *sums).where(
            rollup.counted(),  # a merged duplicate is no case of its own
            *self._where(flt),
            *self._time_where(flt),
            *self._sla_where(conn, flt, now),
        )
        if keys:
            query = self._top(query.group_by(*keys), flt, sums[0], keys)
        return self._rows_by_key(conn.execute(query).all(), group, names)

    @staticmethod
    def _counter_names(flt: CaseFilter, available: Sequence[str]) -> tuple[str, ...]:
        """The counters to sum: ``flt.counters`` (``reported`` always first) or all."""
        if flt.counters is None:
            return tuple(available)
        wanted = {"reported", *flt.counters}
        return tuple(c for c in available if c in wanted)

    @staticmethod
    def _rows_by_key(
        rows: Sequence[Any], group: Sequence[str], names: tuple[str, ...]
    ) -> dict[tuple, dict[str, int]]:
        """Result rows (the ``group`` key columns, then the sums of ``names``, ``reported``
        first) as {key: {counter: value}}, without the groups that count no case."""
        n = len(group)
        key_of = SqlCaseAdapter._keyer(group)
        return {
            # int(): PostgreSQL sums BIGINT columns (the handling seconds) as NUMERIC
            key_of(row): {name: int(v or 0) for name, v in zip(names, row[n:], strict=True)}
            for row in rows
            if row[n]
        }

    def raw_case_stats(self, group_by: Sequence[str], flt: CaseFilter) -> list[CaseStats]:
        """``case_stats`` without rollups: the reference the rollups must equal (tests, bench)."""
        group = list(dict.fromkeys(group_by))
        if any(g in CLASS_DIMS for g in group) and "kind" not in group:
            group.insert(group.index(next(g for g in group if g in CLASS_DIMS)), "kind")
        with self.engine.connect() as conn:
            rows = self._raw_stats(conn, group, flt, self.now())
        if not group and not rows:
            rows[()] = {}
        return [
            CaseStats(key=dict(zip(group, key, strict=True)), **counts)
            for key, counts in sorted(rows.items(), key=lambda kv: tuple(map(str, kv[0])))
        ]

    # ------------------------------------------------------------------------ writing

    def report_case(self, new: NewCase) -> Case:
        cls = self._check_class(new)
        try:
            source = CaseSource(new.source)
        except ValueError:
            raise AdapterError(f"未知的案件来源 / unknown case source {new.source!r}") from None
        reported_at = to_local_naive(new.reported_at) if new.reported_at else self.now()
        external_id = (new.external_id or "").strip() or None
        with self.engine.execution_options(**IMMEDIATE).begin() as conn:
            component = self._check_component(conn, new, cls)
            lon, lat, grid = self._locate(conn, new, component)
            if external_id is not None:
                dup = conn.execute(
                    select(cases.c.number).where(
                        cases.c.source == source.value, cases.c.external_id == external_id
                    )
                ).first()
                if dup is not None:
                    raise AdapterError(
                        f"重复上报 / duplicate report: {source.value} id {external_id!r} "
                        f"is already case {dup.number}"
                    )
            row = {
                "kind": cls.kind,
                "class_code": cls.code,
                "big_class_code": cls.big_code,
                "source": source.value,
                "status": CaseStatus.REPORTED.value,
                "description": new.description,
                "address": new.address,
                "lon": lon,
                "lat": lat,
                "grid_code": grid,
                "community_code": grid[:12],
                "street_code": grid[:9],
                "district_code": grid[:6],
                "reported_at": reported_at,
                "reported_day": reported_at.date(),
                "hour_of_week": reported_at.weekday() * 24 + reported_at.hour,
                "urgent": bool(new.urgent),
                "department_code": None,
                "accepted_at": None,
                "registered_at": None,
                "dispatched_at": None,
                "deadline": None,
                "handled_at": None,
                "verified_at": None,
                "closed_at": None,
                "voided_at": None,
                "handled_on_time": None,
                "closed_on_time": None,
                "rework_count": 0,
                "extension_count": 0,
                "return_count": 0,
                "urge_count": 0,
                "escalated": False,
                "handling_seconds": None,
                "handling_work_seconds": None,
                "component_code": component,
                "external_id": external_id,
                "reporter": new.reporter,
                "updated_at": reported_at,
                "confirmed_at": None,
                "confirmed_on_time": None,
                "merged_into": None,
            }
            row["number"] = self._next_number(conn, row["district_code"], reported_at.date())
            try:
                with conn.begin_nested():
                    row["id"] = conn.execute(
                        cases.insert().values(row).returning(cases.c.id)
                    ).scalar_one()
            except IntegrityError as exc:
                raise AdapterError(
                    f"案件未能保存 / the case could not be saved: {exc.orig}"
                ) from None
            conn.execute(
                steps_t.insert().values(
                    case_id=row["id"],
                    at=reported_at,
                    action="report",
                    actor=new.reporter,
                    note=new.description[:200],
                    from_status=None,
                    to_status=CaseStatus.REPORTED.value,
                )
            )
            for photo in new.photos:
                self._store_photo(conn, row["id"], photo, reported_at)
            rollup.apply_change(conn, None, row)
        return self._to_case(row, self.now())

    def _check_class(self, new: NewCase) -> CaseClass:
        code = new.class_code
        if not (isinstance(code, str) and len(code) == 4 and code.isdigit()):
            raise AdapterError(f"类别编码格式错误 / malformed class code {code!r}: 4 digits")
        try:
            return self.catalogue.get(new.kind, code)
        except UnknownClass as exc:
            raise localized_as(AdapterError(str(exc)), exc) from None

    def _check_component(self, conn: Any, new: NewCase, cls: CaseClass) -> str | None:
        if not new.component_code:
            return None
        try:
            parsed = component_code(new.component_code)
        except InvalidCode as exc:
            raise AdapterError(f"部件编码错误 / {exc}") from None
        if new.kind != "component":
            raise AdapterError("an event case has no component code")
        if parsed.class_code != cls.code:
            raise AdapterError(
                f"部件编码 {new.component_code} 属于类别 {parsed.class_code}，不是 {cls.code} / "
                f"component {new.component_code} is of class {parsed.class_code}, not {cls.code}"
            )
        return new.component_code

    def _locate(self, conn: Any, new: NewCase, component: str | None) -> tuple[float, float, str]:
        """WGS-84 point and unit grid of a report: from its point, its grid code or its
        component, in that order of trust."""
        if new.grid_code:
            try:
                grid_code(new.grid_code, self.grid_seq_width)
            except InvalidCode as exc:
                raise AdapterError(f"网格编码错误 / {exc}") from None
        if new.lon is not None and new.lat is not None:
            try:
                lon, lat = to_wgs84(float(new.lon), float(new.lat), new.datum)
            except ValueError as exc:
                raise AdapterError(str(exc)) from None
            grid = self.grid_index.locate(lon, lat)
            if grid is None:
                raise AdapterError(
                    f"位置不在任何网格内 / the point ({lon:.6f}, {lat:.6f}) is outside every grid"
                )
            return lon, lat, grid
        if new.grid_code:
            region = conn.execute(
                select(RegionRow.centroid_lon, RegionRow.centroid_lat).where(
                    RegionRow.code == new.grid_code, RegionRow.level == "grid"
                )
            ).first()
            if region is None:
                raise AdapterError(f"网格不存在 / no unit grid {new.grid_code}")
            return region.centroid_lon, region.centroid_lat, new.grid_code
        if component:
            comp = conn.execute(
                select(ComponentRow.lon, ComponentRow.lat, ComponentRow.grid_code).where(
                    ComponentRow.code == component
                )
            ).first()
            if comp is not None:
                return comp.lon, comp.lat, comp.grid_code
        raise AdapterError("a report needs a point (lon, lat) or a grid code")

    @staticmethod
    def _next_number(conn: Any, district: str, day: date) -> str:
        """Case number ``district-YYYYMMDD-NNNN``: the day's next free sequence.

        Counted on the reported_at index (a day is a few thousand rows at most), then
        checked against the unique number in case a back-dated report took one.
        """
        prefix = f"{district}-{day:%Y%m%d}-"
        start = datetime.combine(day, time(0))
        seq = (
            1
            + conn.execute(
                select(func.count()).where(
                    cases.c.reported_at >= start, cases.c.reported_at < start + timedelta(days=1)
                )
            ).scalar_one()
        )
        while conn.execute(
            select(cases.c.id).where(cases.c.number == f"{prefix}{seq:04d}")
        ).first():
            seq += 1
        return f"{prefix}{seq:04d}"

    @staticmethod
    def _locked_case(conn: Any, case_id: int) -> dict[str, Any]:
        """The case's row, locked for this write transaction (BEGIN IMMEDIATE on SQLite,
        FOR UPDATE on PostgreSQL)."""
        if record_id(case_id) is None:
            raise NotFound(f"案件不存在 / no case {case_id}")
        found = conn.execute(select(cases).where(cases.c.id == case_id).with_for_update()).first()
        if found is None:
            raise NotFound(f"案件不存在 / no case {case_id}")
        return dict(found._mapping)

    def act(
        self,
        case_id: int,
        action: CaseAction,
        actor: str,
        note: str = "",
        *,
        department_code: str | None = None,
        extend_hours: float | None = None,
        at: datetime | None = None,
        expected_status: CaseStatus | None = None,
        master_case_id: int | None = None,
    ) -> Case:
        try:
            action = CaseAction(action)
        except ValueError:
            raise AdapterError(f"未知的操作 / unknown action {action!r}") from None
        when = to_local_naive(at) if at is not None else self.now()
        with self.engine.execution_options(**IMMEDIATE).begin() as conn:
            before = self._locked_case(conn, case_id)
            if expected_status is not None and before["status"] != CaseStatus(expected_status):
                # The row is locked (BEGIN IMMEDIATE / FOR UPDATE): this check and the write
                # below are atomic, so of two officers acting on what they both saw, one wins.
                raise TransitionError(
                    action,
                    before["status"],
                    Term("workflow.changed_meanwhile", status=Term(f"status.{before['status']}")),
                )
            after_status = next_status(
                before["status"],
                action,
                extensions=before["extension_count"] or 0,
                max_extensions=self.max_extensions,
                verify_stage=self.verify_stage,
            )
            master = (
                self._merge_master(conn, before, master_case_id)
                if action is CaseAction.MERGE
                else None
            )
            cls = self._class_of(before["kind"], before["class_code"])
            if cls is None:
                raise AdapterError(f"案件类别已不在目录中 / class {before['class_code']} unknown")
            if action is CaseAction.DISPATCH:
                if not department_code:
                    raise AdapterError("派遣需要部门 / dispatch needs a department_code")
                known = conn.execute(
                    select(DepartmentRow.code).where(DepartmentRow.code == department_code)
                ).first()
                if known is None:
                    raise AdapterError(f"部门不存在 / no department {department_code!r}")
            if action is CaseAction.EXTEND and not (extend_hours and extend_hours > 0):
                raise AdapterError("延期需要时长 / extend needs extend_hours > 0")
            after = dict(before)
            apply_action(
                after,
                cls,
                action.value,
                when,
                self.calendar,
                to_status=after_status.value,
                department_code=department_code,
                extend_hours=extend_hours,
                stage_limits=self.stage_limits,
                master_case_id=master["id"] if master else None,
            )
            changed = {k: v for k, v in after.items() if v != before[k]}
            if changed:
                conn.execute(cases.update().where(cases.c.id == case_id).values(changed))
            if master is not None:  # 合并: both cases tell of it, each naming the other
                note = f"→ {master['number']}" + (f" · {note}" if note else "")
                conn.execute(
                    steps_t.insert().values(
                        case_id=master["id"],
                        at=when,
                        action="merge_in",
                        actor=actor,
                        note=f"← {before['number']}",
                        from_status=master["status"],
                        to_status=master["status"],
                    )
                )
                conn.execute(
                    cases.update().where(cases.c.id == master["id"]).values(updated_at=when)
                )
                # duplicates merged into this one before follow it to its master: a problem
                # reported many times still counts once, in its one open case
                conn.execute(
                    cases.update()
                    .where(cases.c.merged_into == case_id)
                    .values(merged_into=master["id"])
                )
            conn.execute(
                steps_t.insert().values(
                    case_id=case_id,
                    at=when,
                    action=action.value,
                    actor=actor,
                    note=note or (department_code or ""),
                    from_status=before["status"],
                    to_status=after_status.value,
                )
            )
            rollup.apply_change(conn, before, after)
        return self._to_case(after, self.now())

    def _merge_master(
        self, conn: Any, duplicate: dict[str, Any], master_case_id: int | None
    ) -> dict[str, Any]:
        """The open case a duplicate joins, locked: not the duplicate itself, not closed,
        voided or merged (a duplicate of a duplicate joins the first one's master)."""
        if master_case_id is None:
            raise AdapterError("合并需要主案件 / merge needs master_case_id, the case it repeats")
        if int(master_case_id) == duplicate["id"]:
            raise TransitionError(
                CaseAction.MERGE, duplicate["status"], "不能并入自身 / not into itself"
            )
        master = self._locked_case(conn, int(master_case_id))
        if master["status"] == CaseStatus.MERGED.value and master["merged_into"]:
            master = self._locked_case(conn, int(master["merged_into"]))
        if status_is_final(master["status"]) or master["id"] == duplicate["id"]:
            raise TransitionError(
                CaseAction.MERGE,
                duplicate["status"],
                f"主案件 {master['number']} 已办结，只能并入未办结的案件 / "
                f"case {master['number']} is {master['status']}: merge into an open case",
            )
        return master

    def evaluate(
        self,
        case_id: int,
        satisfaction: int,
        actor: str,
        note: str = "",
        *,
        at: datetime | None = None,
    ) -> Case:
        """Record the public's evaluation (综合评价) of a closed case: 2 满意, 1 基本满意,
        0 不满意. A later evaluation (a second 回访) replaces the earlier one."""
        if satisfaction not in SATISFACTION:
            raise AdapterError(
                f"满意度只能是 {'/'.join(f'{k} {v}' for k, v in SATISFACTION.items())} / "
                f"satisfaction must be one of {sorted(SATISFACTION)}, not {satisfaction!r}"
            )
        when = to_local_naive(at) if at is not None else self.now()
        with self.engine.execution_options(**IMMEDIATE).begin() as conn:
            before = self._locked_case(conn, case_id)
            if before["status"] != CaseStatus.CLOSED:
                raise TransitionError(
                    "evaluate", before["status"], "只能评价已结案的案件 / only a closed case"
                )
            after = before | {"satisfaction": satisfaction, "evaluated_at": when}
            conn.execute(
                cases.update()
                .where(cases.c.id == case_id)
                .values(satisfaction=satisfaction, evaluated_at=when)
            )
            conn.execute(
                steps_t.insert().values(
                    case_id=case_id,
                    at=when,
                    action="evaluate",
                    actor=actor,
                    note=note or SATISFACTION[satisfaction],
                    from_status=before["status"],
                    to_status=before["status"],
                )
            )
            rollup.apply_change(conn, before, after)
        return self._to_case(after, self.now())

    # ------------------------------------------------------------------------ photos

    def add_photo(self, case_id: int, photo: NewPhoto) -> CasePhoto:
        if record_id(case_id) is None:
            raise NotFound(f"案件不存在 / no case {case_id}")
        with self.engine.execution_options(**IMMEDIATE).begin() as conn:
            if conn.execute(select(cases.c.id).where(cases.c.id == case_id)).first() is None:
                raise NotFound(f"案件不存在 / no case {case_id}")
            photo_id = self._store_photo(conn, case_id, photo, self.now())
            row = conn.execute(
                select(photos_t, blobs_t.c.media_type)
                .join(blobs_t, blobs_t.c.id == photos_t.c.blob_id)
                .where(photos_t.c.id == photo_id)
            ).one()
        return _to_photo(row)

    def photo_content(self, photo_id: int) -> PhotoContent:
        if record_id(photo_id) is None:
            raise NotFound(f"照片不存在 / no photo {photo_id}")
        with self.engine.connect() as conn:
            row = conn.execute(
                select(blobs_t.c.data, blobs_t.c.media_type, blobs_t.c.sha256)
                .join(photos_t, photos_t.c.blob_id == blobs_t.c.id)
                .where(photos_t.c.id == photo_id)
            ).first()
        if row is None:
            raise NotFound(f"照片不存在 / no photo {photo_id}")
        return PhotoContent(bytes(row.data), row.media_type, row.sha256)

    @staticmethod
    def _store_photo(conn: Any, case_id: int, photo: NewPhoto, now: datetime) -> int:
        """Insert the photo's row, and its image unless the same bytes are stored already."""
        data = bytes(photo.data)
        check_photo(data, photo.media_type)
        try:
            kind = PhotoKind(photo.kind)
        except ValueError:
            raise AdapterError(f"未知的照片类型 / unknown photo kind {photo.kind!r}") from None
        digest = hashlib.sha256(data).hexdigest()
        blob_id = conn.execute(select(blobs_t.c.id).where(blobs_t.c.sha256 == digest)).scalar()
        if blob_id is None:
            try:
                with conn.begin_nested():
                    blob_id = conn.execute(
                        blobs_t.insert()
                        .values(
                            sha256=digest, media_type=photo.media_type, size=len(data), data=data
                        )
                        .returning(blobs_t.c.id)
                    ).scalar_one()
            except IntegrityError:  # another writer stored the same image meanwhile
                blob_id = conn.execute(
                    select(blobs_t.c.id).where(blobs_t.c.sha256 == digest)
                ).scalar_one()
        return conn.execute(
            photos_t.insert()
            .values(
                case_id=case_id,
                blob_id=blob_id,
                kind=kind.value,
                taken_at=to_local_naive(photo.taken_at) if photo.taken_at else now,
                taken_by=photo.by[:64],
                caption=photo.caption[:200],
                width=photo.width,
                height=photo.height,
                illustrative=False,
            )
            .returning(photos_t.c.id)
        ).scalar_one()


def check_photo(data: bytes, media_type: str) -> None:
    """Refuse what is not a JPEG, PNG or WebP image of at most ``MAX_PHOTO_BYTES``, or whose
    bytes do not match the declared type (the app serves photos with that type)."""
    signatures = PHOTO_SIGNATURES.get(media_type)
    if signatures is None:
        raise AdapterError(f"照片格式不支持 / unsupported photo type {media_type!r}")
    if not data or len(data) > MAX_PHOTO_BYTES:
        raise AdapterError(
            f"照片大小不符 / a photo must hold 1 byte to {MAX_PHOTO_BYTES // 1048576} MiB"
        )
    if not data.startswith(signatures) or (media_type == "image/webp" and data[8:12] != b"WEBP"):
        raise AdapterError(f"照片内容与格式 {media_type} 不符 / the bytes are not {media_type}")


def _to_photo(row: Any) -> CasePhoto:
    m = row._mapping
    return CasePhoto(
        id=m["id"],
        case_id=m["case_id"],
        kind=PhotoKind(m["kind"]),
        taken_at=m["taken_at"],
        by=m["taken_by"],
        caption=m["caption"],
        media_type=m["media_type"],
        width=m["width"],
        height=m["height"],
        illustrative=bool(m["illustrative"]),
    )
