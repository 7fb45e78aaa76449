"""Data services: between adapters and callbacks. Cached, shaped for panels, never called
from layouts.

Every read goes through ``DataServices._read``: a result is reused for ``cache_seconds``
and invalidated by new events; when the backend fails the last good result comes back
marked stale, and the outage is logged once, not once per panel.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Generic, TypeVar

import pandas as pd

from adapters.base import Adapter, Health
from adapters.case.contract import (
    Case,
    CaseAction,
    CaseDetail,
    CaseFilter,
    CaseStats,
)
from adapters.gis.contract import Region
from command_center import events
from command_center.domain.calendar import local_now
from command_center.domain.indicators import indicators
from command_center.events import EventBus
from command_center.i18n import t
from command_center.plugins import Adapters
from command_center.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass(frozen=True)
class Result(Generic[T]):
    """A service answer: the value, when it was fetched, and whether it is stale."""

    value: T
    fetched_at: datetime
    stale: bool = False
    error: str = ""


class NoData(Exception):
    """A backend failed before any good result existed; the panel says so plainly."""


@dataclass
class _Entry:
    result: Result[Any]
    expires: float


@dataclass
class Outage:
    since: datetime
    error: str
    count: int = 1


@dataclass
class ServiceStatus:
    outages: dict[str, Outage] = field(default_factory=dict)


_ONE_SECOND = timedelta(seconds=1)


def now() -> datetime:
    """Naive city wall time (CC_CITY_TIMEZONE), the clock the adapters and the domain use."""
    return local_now()


class DataServices:
    def __init__(
        self,
        settings: Settings,
        adapters: Adapters,
        bus: EventBus,
        clock: Callable[[], datetime] = now,
    ) -> None:
        self.settings = settings
        self.adapters = adapters
        self.bus = bus
        self.clock = clock
        self._cache: dict[Hashable, _Entry] = {}
        self._lock = threading.Lock()
        self.status = ServiceStatus()
        self.generation = 0  # bumped by every data event: invalidates cached reads
        self._calendar: Any = None  # the working calendar, loaded on first use
        bus.subscribe(events.CASE_REPORTED, self._invalidate)
        bus.subscribe(events.CASE_CHANGED, self._invalidate)
        bus.subscribe(events.WORKER_MOVED, self._invalidate_points)

    # --- caching -------------------------------------------------------------------------
    def _invalidate(self, _topic: str, _payload: dict[str, Any]) -> None:
        with self._lock:
            self.generation += 1
            for entry in self._cache.values():
                entry.expires = 0.0

    def _invalidate_points(self, _topic: str, _payload: dict[str, Any]) -> None:
        with self._lock:
            for key, entry in self._cache.items():
                if isinstance(key, tuple) and key[0] == "points":
                    entry.expires = 0.0

    def _read(
        self, key: Hashable, backend: str, fetch: Callable[[], T], ttl: float | None = None
    ) -> Result[T]:
        ttl = self.settings.cache_seconds if ttl is None else ttl
        with self._lock:
            entry = self._cache.get(key)
            if entry and entry.expires > time.monotonic():
                return entry.result
        try:
            value = fetch()
        except Exception as exc:  # noqa: BLE001 - any backend failure becomes a stale answer
            self._record_outage(backend, exc)
            if entry is None:
                raise NoData(str(exc)) from exc
            stale = replace(entry.result, stale=True, error=str(exc))
            with self._lock:
                # Retry soon, but not on every panel tick of every screen.
                self._cache[key] = _Entry(stale, time.monotonic() + min(ttl, 2.0))
            return stale
        self._record_recovery(backend)
        result = Result(value, self.clock())
        with self._lock:
            self._cache[key] = _Entry(result, time.monotonic() + ttl)
        return result

    def _record_outage(self, backend: str, exc: Exception) -> None:
        with self._lock:
            outage = self.status.outages.get(backend)
            if outage is None:
                self.status.outages[backend] = Outage(self.clock(), str(exc))
                first = True
            else:
                outage.count += 1
                outage.error = str(exc)
                first = False
        if first:
            log.error("%s backend failed, panels show their last data: %s", backend, exc)

    def _record_recovery(self, backend: str) -> None:
        with self._lock:
            outage = self.status.outages.pop(backend, None)
        if outage is not None:
            log.warning("%s backend is back after %s failures", backend, outage.count)

    # --- region scoping ------------------------------------------------------------------
    def region_filter(self, region_code: str | None, **kw: Any) -> CaseFilter:
        return CaseFilter(region_code=region_code or None, **kw)

    # --- KPIs ----------------------------------------------------------------------------
    def kpis(self, region_code: str | None = None) -> Result[dict[str, Any]]:
        """Today's counters against the same time yesterday, and what is open now."""

        def fetch() -> dict[str, Any]:
            case = self.adapters.case
            # ``until`` is exclusive and the clock counts whole seconds: a case reported in
            # this very second counts today, not a second later
            clock_now = self.clock()
            current = clock_now + _ONE_SECOND
            today = datetime.combine(clock_now.date(), datetime.min.time())
            yesterday = today - timedelta(days=1)
            same_time_yesterday = current - timedelta(days=1)
            t = _one(
                case.case_stats(
                    [], self.region_filter(region_code, since=today, until=current, limit=None)
                )
            )
            y = _one(
                case.case_stats(
                    [],
                    self.region_filter(
                        region_code, since=yesterday, until=same_time_yesterday, limit=None
                    ),
                )
            )
            live = _one(
                case.case_stats([], self.region_filter(region_code, open_only=True, limit=None))
            )
            # 本月按期结案率 is over the month so far, labelled with its denominator; in the
            # first days of a month, optionally the last full month (CC_MONTH_START_RATES)
            month_start = today.replace(day=1)
            rate_period = "month_to_date"
            since, until = month_start, current
            if (
                self.settings.month_start_rates == "last_month"
                and clock_now.day <= self.settings.month_start_days
            ):
                rate_period = "last_month"
                since, until = (month_start - timedelta(days=1)).replace(day=1), month_start
            month = _one(
                case.case_stats(
                    [], self.region_filter(region_code, since=since, until=until, limit=None)
                )
            )
            ind = indicators(month)
            return {
                "reported": t.reported,
                "registered": t.registered,
                "dispatched": t.dispatched,
                "closed": t.closed,
                "reported_yesterday": y.reported,
                "registered_yesterday": y.registered,
                "dispatched_yesterday": y.dispatched,
                "closed_yesterday": y.closed,
                "open": live.open,
                "overdue": live.overdue_open,
                "on_time_closure_rate": ind.get("on_time_closure_rate"),
                "closure_rate": ind.get("closure_rate"),
                "rate_n": month.dispatched,  # the rates' denominator (应结案数)
                "rate_period": rate_period,
                "rate_month": since.month,
            }

        return self._read(("kpis", region_code), "case", fetch)

    def _last_days(self, days: int) -> tuple[datetime, datetime]:
        """(since, until) of the last ``days`` days, today included: ``until`` is exclusive
        and the clock counts whole seconds, so a case reported in this very second counts."""
        clock_now = self.clock()
        start = datetime.combine(clock_now.date() - timedelta(days=days - 1), datetime.min.time())
        return start, clock_now + _ONE_SECOND

    def daily_trend(self, region_code: str | None = None, days: int = 30) -> Result[pd.DataFrame]:
        """Reported and closed cases per day over the last ``days`` days (missing days = 0)."""

        def fetch() -> pd.DataFrame:
            start, end = self._last_days(days)
            rows = self.adapters.case.case_stats(
                ["day"], self.region_filter(region_code, since=start, until=end, limit=None)
            )
            frame = _frame(rows, ["day"])
            index = pd.Index(
                [(start.date() + timedelta(days=i)).isoformat() for i in range(days)], name="day"
            )
            frame = frame.set_index("day").reindex(index, fill_value=0).reset_index()
            return frame

        return self._read(("trend", region_code, days), "case", fetch)

    def breakdown(
        self, dimension: str, region_code: str | None = None, days: int = 30
    ) -> Result[pd.DataFrame]:
        """Counts by one dimension (class, big class, source, street ...) over ``days`` days."""

        def fetch() -> pd.DataFrame:
            start, end = self._last_days(days)
            rows = self.adapters.case.case_stats(
                [dimension], self.region_filter(region_code, since=start, until=end, limit=None)
            )
            return _frame(rows, [dimension]).sort_values("reported", ascending=False)

        return self._read(("breakdown", dimension, region_code, days), "case", fetch)

    def open_breakdown(
        self, dimension: str, region_code: str | None = None
    ) -> Result[pd.DataFrame]:
        """What is open now (and overdue) by one dimension, whenever it was reported."""

        def fetch() -> pd.DataFrame:
            rows = self.adapters.case.case_stats(
                [dimension], self.region_filter(region_code, open_only=True, limit=None)
            )
            return _frame(rows, [dimension])

        return self._read(("open_breakdown", dimension, region_code), "case", fetch)

    def ranking(
        self, level: str = "street", region_code: str | None = None, days: int = 30
    ) -> Result[pd.DataFrame]:
        """Appraisal indicators per street/community/department, best first."""
        dimension = "department_code" if level == "department" else f"{level}_code"

        def fetch() -> pd.DataFrame:
            start, end = self._last_days(days)
            rows = self.adapters.case.case_stats(
                [dimension], self.region_filter(region_code, since=start, until=end, limit=None)
            )
            records = []
            for row in rows:
                code = row.key.get(dimension)
                if code in (None, ""):
                    continue
                records.append({"code": str(code), **vars(row), **indicators(row)})
            frame = pd.DataFrame.from_records(records)
            if frame.empty:
                return frame
            frame["name"] = [self.name_of(level, c) for c in frame["code"]]
            # too few cases to rank (CC_RANK_MIN_CASES): listed after the ranked, with the count
            min_cases = self.settings.rank_min_cases
            ranked = (frame["dispatched"] >= min_cases) & frame["on_time_closure_rate"].notna()
            frame["rank"] = (
                frame["on_time_closure_rate"].where(ranked).rank(method="min", ascending=False)
            )
            frame["unranked"] = ~ranked
            frame = frame.sort_values(
                ["unranked", "on_time_closure_rate", "closed"],
                ascending=[True, False, False],
                na_position="last",
            ).reset_index(drop=True)
            frame.attrs["min_cases"] = min_cases
            return frame

        return self._read(("ranking", level, region_code, days), "case", fetch)

    def cases(self, flt: CaseFilter) -> Result[list[Case]]:
        key = ("cases", repr(flt))
        return self._read(key, "case", lambda: self.adapters.case.list_cases(flt))

    def stage_counts(self, region_code: str | None = None) -> Result[dict[str, int]]:
        """Open cases per workflow status, and closed today."""

        def fetch() -> dict[str, int]:
            rows = self.adapters.case.case_stats(
                ["status"], self.region_filter(region_code, open_only=True, limit=None)
            )
            counts = {str(r.key["status"]): r.open for r in rows}
            today = datetime.combine(self.clock().date(), datetime.min.time())
            closed = _one(
                self.adapters.case.case_stats(
                    [], self.region_filter(region_code, since=today, limit=None)
                )
            )
            counts["closed_today"] = closed.closed
            return counts

        return self._read(("stages", region_code), "case", fetch)

    def case_detail(self, case_id: int) -> CaseDetail:
        return self.adapters.case.get_case(case_id)

    def act(self, case_id: int, action: CaseAction, actor: str, note: str = "", **kw: Any) -> Case:
        """A duty officer's action: through the case adapter, then onto the event bus."""
        before = self.adapters.case.get_case(case_id).case.status
        case = self.adapters.case.act(case_id, action, actor, note, **kw)
        self.bus.publish(
            events.CASE_CHANGED,
            {
                "case_id": case.id,
                "number": case.number,
                "action": str(action),
                "from": str(before),
                "to": str(case.status),
                "actor": actor,
                "note": note,
            },
        )
        return case

    # --- geography -----------------------------------------------------------------------
    def regions(self, level: str, parent_code: str | None = None) -> Result[list[Region]]:
        return self._read(
            ("regions", level, parent_code),
            "gis",
            lambda: self.adapters.gis.regions(level, parent_code),
            ttl=3600,
        )

    def region(self, code: str) -> Result[Region]:
        return self._read(("region", code), "gis", lambda: self.adapters.gis.region(code), ttl=3600)

    def grid_address(
        self, grid_code: str | None, lon: float | None = None, lat: float | None = None
    ) -> str:
        """A place people recognise for a point with no street address: its community and
        unit grid number, e.g. 地坛园社区第07网格 ("" when the point is in no grid)."""
        if not grid_code and lon is not None and lat is not None:
            grid = self.adapters.gis.locate(lon, lat)
            grid_code = grid.code if grid else None
        if not grid_code:
            return ""
        communities = {c.code: c.name for c in self.regions("community").value}
        # a case's address: the city's language, as the rest of its record
        community = communities.get(grid_code[:12], "")
        return t("grid.name_in_community", community=community, seq=grid_code[12:])

    def name_of(self, level: str, code: str) -> str:
        if level == "department":
            return {d.code: d.name for d in self.departments().value}.get(code, code)
        try:
            return self.region(code).value.name
        except Exception:  # noqa: BLE001 - a name is cosmetic; show the code
            return code

    def departments(self) -> Result[list[Any]]:
        return self._read(("departments",), "case", self.adapters.case.departments, ttl=3600)

    def points(self, layer: str, region_code: str | None = None) -> Result[list[Any]]:
        return self._read(
            ("points", layer, region_code),
            "gis",
            lambda: self.adapters.gis.points(layer, region_code),
        )

    # --- health --------------------------------------------------------------------------
    def ops_report(self) -> Result[dict[str, Any]]:
        """Health of every backend, open outages and the screens.yaml status, probed at most
        every few seconds however many ops panels are open."""

        def fetch() -> dict[str, Any]:
            return {
                "health": self.health(),
                "outages": dict(self.status.outages),
                "adapters": {
                    kind: self.settings.adapter_choice(kind)[0] for kind in self.adapters.all()
                },
                "screens": self.screens_status(),
                "calendar_missing": self.calendar_missing_years(),
            }

        return self._read(("ops",), "ops", fetch, ttl=3.0)

    def calendar_missing_years(self) -> list[int]:
        """This year and the next, when neither the built-in holidays nor the city's calendar
        file lists them: their SLA clocks run on weekends and fixed-date holidays only."""
        from command_center.domain.calendar import load_calendar

        if self._calendar is None:
            s = self.settings
            self._calendar = load_calendar(s.calendar_file, s.workday_start, s.workday_end)
        return self._calendar.missing_years(self.clock().date())

    def warn_if_calendar_incomplete(self) -> None:
        """At start: a log warning naming the years the working calendar does not know."""
        missing = self.calendar_missing_years()
        if missing:
            log.warning(
                "the working calendar lists no holidays for %s: SLA clocks count those years' "
                "weekdays as working days except 1 Jan, 1-2 May and 1-3 Oct; add them to "
                "CC_CALENDAR_FILE or update the chinesecalendar package",
                ", ".join(map(str, missing)),
            )

    def screens_status(self) -> dict[str, Any]:
        """Replaced by the app with the screens watcher's status."""
        return {"error": "", "error_at": "", "good_at": "", "version": 0}

    def health(self) -> dict[str, Health]:
        """Probe every adapter now (the ops panel calls this on its own timer)."""
        out: dict[str, Health] = {}
        for kind, adapter in self.adapters.all().items():
            out[kind] = _probe(adapter)
        return out


def _probe(adapter: Adapter) -> Health:
    try:
        return adapter.health()
    except Exception as exc:  # noqa: BLE001 - a broken health() is itself a finding
        return Health(False, 0.0, str(exc))


def _one(rows: list[CaseStats]) -> CaseStats:
    return rows[0] if rows else CaseStats(key={})


def _frame(rows: list[CaseStats], dims: list[str]) -> pd.DataFrame:
    """One row per group: the key's columns (``dims`` and any the adapter added, such as
    ``kind`` beside a class) and the counters."""
    counters = [f for f in CaseStats.__dataclass_fields__ if f != "key"]
    dims = list(dict.fromkeys([*dims, *(k for r in rows for k in r.key)]))
    records = [
        {**{d: r.key.get(d) for d in dims}, **{c: getattr(r, c) for c in counters}} for r in rows
    ]
    if not records:
        return pd.DataFrame(columns=[*dims, *counters])
    return pd.DataFrame.from_records(records)
