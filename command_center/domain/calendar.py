"""The working calendar and the SLA clocks of cases (处置时限, 超期, 临期).

Time limits in working hours (工作时) or working days (工作日) only run during working hours
(by default 08:30-17:30) on working days: nights, weekends and public holidays are excluded,
and the make-up working days (调休上班, usually a Saturday or Sunday next to a long holiday)
count as ordinary working days. Limits in wall-clock ``hours`` (danger items) never stop.

All datetimes are **naive local time**: the city's wall time, Asia/Shanghai (China Standard
Time, UTC+8, no daylight saving since 1991) unless ``Settings.city_timezone`` names another
zone. A timezone-aware datetime given to these functions is converted to that wall time
first; results are always naive.

YAML shape of a city's calendar file (``Settings.calendar_file``)::

    include_builtin: true           # default: the file overrides the built-in dates;
                                    # false: the file alone
    holidays:
      - 2027-01-01
      - 2027-10-01..2027-10-07      # an inclusive range
    makeup_workdays:
      - 2027-09-26
      - 2027-10-09

A date in both lists is an error. A date in the file wins over the built-in list (a holiday
in the file is no make-up day, and the other way round). A year with any date in the file
counts as known; a year known to neither source runs on weekends plus the fixed-date statutory
holidays, and ``WorkingCalendar.missing_years`` names it so the app can warn.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from adapters.case.contract import SlaState
from command_center.domain.classes import TimeLimit

CHINA_STANDARD_TIME = timezone(timedelta(hours=8), "CST")
DEFAULT_CITY_TIMEZONE = "Asia/Shanghai"

_ONE_DAY = timedelta(days=1)
# A calendar without a working day for this long is surely misconfigured; stop rather than loop.
_MAX_IDLE_DAYS = 400


# One process serves one city, so its zone is process-wide: ``create_app`` sets it from
# ``Settings.city_timezone`` before anything reads the clock. Every clock default in the app
# (services, stores, adapters, simulator) is ``local_now``, so they all agree on "today".
_city_zone: tzinfo = ZoneInfo(DEFAULT_CITY_TIMEZONE)


def set_city_timezone(name: str) -> tzinfo:
    """Make ``name`` (an IANA zone such as ``Asia/Shanghai``) the city's zone for this
    process; ``ZoneInfoNotFoundError`` for an unknown name."""
    global _city_zone
    _city_zone = ZoneInfo(name)
    return _city_zone


def city_timezone() -> tzinfo:
    """The zone whose wall time the app stores and shows (``Settings.city_timezone``)."""
    return _city_zone


def city_timezone_name() -> str:
    """The IANA name of the city's zone, for a browser's ``Intl.DateTimeFormat``."""
    return str(_city_zone)


def local_now() -> datetime:
    """Now as naive city wall time, whatever the server's time zone: the one clock of the
    app (services, adapters, generator and simulator agree on what "today" is)."""
    return datetime.now(_city_zone).replace(tzinfo=None, microsecond=0)


def to_local_naive(dt: datetime) -> datetime:
    """``dt`` as naive city wall time (naive datetimes are taken as already local)."""
    if dt.tzinfo is None:
        return dt
    return dt.astimezone(_city_zone).replace(tzinfo=None)


def epoch_seconds(local: datetime) -> float:
    """Seconds since 1970 UTC of ``local``, a naive city wall time: what a browser's
    ``Date`` counts in. (``datetime.timestamp`` would read it in the *server's* zone.)"""
    if local.tzinfo is None:
        local = local.replace(tzinfo=_city_zone)
    return local.timestamp()


def from_epoch_seconds(seconds: float) -> datetime:
    """Naive city wall time of a Unix timestamp (``datetime.fromtimestamp`` would give the
    server's wall time)."""
    return datetime.fromtimestamp(seconds, _city_zone).replace(tzinfo=None)


def date_range(first: date, last: date) -> set[date]:
    """Every date from ``first`` to ``last`` inclusive."""
    if last < first:
        raise ValueError(f"date range {first}..{last} ends before it starts")
    return {first + timedelta(days=i) for i in range((last - first).days + 1)}


def _holiday_block(first: str, last: str) -> set[date]:
    return date_range(date.fromisoformat(first), date.fromisoformat(last))


# China's public holidays and make-up working days (调休) come from the ``chinese-calendar``
# package, which transcribes the State Council General Office notices (国务院办公厅关于部分节假日
# 安排的通知) and is released each year once the next year's notice is out (usually November).
# A city's YAML (``Settings.calendar_file``) overrides it date by date.
def _builtin_dates() -> tuple[frozenset[date], frozenset[date], frozenset[int]]:
    """Holidays, make-up working days and the years the package knows."""
    import chinese_calendar

    holidays = frozenset(chinese_calendar.holidays)
    makeup = frozenset(chinese_calendar.workdays)
    return holidays, makeup, frozenset(d.year for d in holidays)


DEFAULT_HOLIDAYS, DEFAULT_MAKEUP_WORKDAYS, BUILTIN_YEARS = _builtin_dates()

#: Statutory holidays on fixed solar dates (全国年节及纪念日放假办法, as revised in 2024):
#: 元旦 1 Jan, 劳动节 1-2 May, 国庆节 1-3 Oct. In a year neither the package nor the city's file
#: knows, these are still off; the lunar holidays (春节, 清明, 端午, 中秋) and the 调休 days of
#: that year are unknown, so the calendar runs on weekends plus these dates and the app warns
#: (``missing_years``) rather than treat the year as all working days.
FIXED_STATUTORY_HOLIDAYS: frozenset[tuple[int, int]] = frozenset(
    {(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)}
)


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days and the working hours of each; weekends off unless a make-up day.

    The defaults are 08:30-17:30 with China's holidays of every year the ``chinese-calendar``
    package knows; pass empty sets for a calendar with weekends only.

    ``known_years`` are the years whose holidays are listed; a date of any other year is a
    working day on weekdays except ``FIXED_STATUTORY_HOLIDAYS``. ``None`` (a calendar built
    by hand) takes every year as fully listed.
    """

    day_start: time = time(8, 30)
    day_end: time = time(17, 30)
    holidays: frozenset[date] = field(default=DEFAULT_HOLIDAYS)
    makeup_workdays: frozenset[date] = field(default=DEFAULT_MAKEUP_WORKDAYS)
    known_years: frozenset[int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "makeup_workdays", frozenset(self.makeup_workdays))
        if self.known_years is not None:
            object.__setattr__(self, "known_years", frozenset(self.known_years))
        if self.day_end <= self.day_start:
            raise ValueError(
                f"the working day must end after it starts ({self.day_start}-{self.day_end})"
            )
        both = self.holidays & self.makeup_workdays
        if both:
            days = ", ".join(sorted(d.isoformat() for d in both))
            raise ValueError(f"dates both holiday and make-up working day: {days}")

    @property
    def hours_per_day(self) -> float:
        """Length of one working day in hours (9.0 for 08:30-17:30)."""
        return self._day_length.total_seconds() / 3600

    @property
    def _day_length(self) -> timedelta:
        return datetime.combine(date.min, self.day_end) - datetime.combine(date.min, self.day_start)

    def is_working_day(self, d: date) -> bool:
        """Make-up days work, holidays do not, otherwise Monday to Friday."""
        if isinstance(d, datetime):
            d = d.date()
        if d in self.makeup_workdays:
            return True
        if d in self.holidays:
            return False
        if not self.knows_year(d.year) and (d.month, d.day) in FIXED_STATUTORY_HOLIDAYS:
            return False
        return d.weekday() < 5

    def knows_year(self, year: int) -> bool:
        """Whether the holidays and 调休 days of ``year`` are listed."""
        return self.known_years is None or year in self.known_years

    def missing_years(self, today: date) -> list[int]:
        """Of this year and the next, those whose holidays are not listed: the app warns at
        start and on the ops screen (the State Council publishes a year around November)."""
        return [y for y in (today.year, today.year + 1) if not self.knows_year(y)]

    def _hours_of(self, d: date) -> tuple[datetime, datetime]:
        return datetime.combine(d, self.day_start), datetime.combine(d, self.day_end)

    def add_working_hours(self, start: datetime, hours: float) -> datetime:
        """The moment ``hours`` working hours after ``start``.

        A start outside working time counts from the next working moment. A deadline that
        falls exactly at the end of a working day is that day's ``day_end``, not the next
        morning.
        """
        if hours < 0:
            raise ValueError(f"cannot add a negative number of working hours ({hours})")
        cursor = to_local_naive(start)
        remaining = timedelta(hours=hours)
        if not remaining:
            return cursor
        day = cursor.date()
        idle = 0
        while True:
            if self.is_working_day(day):
                idle = 0
                opens, closes = self._hours_of(day)
                begin = max(cursor, opens)
                if begin < closes:
                    available = closes - begin
                    if remaining <= available:
                        return begin + remaining
                    remaining -= available
            else:
                idle += 1
                if idle > _MAX_IDLE_DAYS:
                    raise ValueError(f"no working day for {_MAX_IDLE_DAYS} days after {day}")
            day += _ONE_DAY
            cursor = datetime.combine(day, time.min)

    def add_working_days(self, start: datetime, days: float) -> datetime:
        """The moment ``days`` working days after ``start``; one working day is
        ``hours_per_day`` working hours, so Tuesday 10:00 + 1 is Wednesday 10:00."""
        return self.add_working_hours(start, days * self.hours_per_day)

    def working_hours_between(self, a: datetime, b: datetime) -> float:
        """Working hours from ``a`` to ``b``; negative when ``b`` is before ``a``."""
        a, b = to_local_naive(a), to_local_naive(b)
        if b < a:
            return -self.working_hours_between(b, a)
        total = timedelta(0)
        day = a.date()
        last = b.date()
        while day <= last:
            if self.is_working_day(day):
                opens, closes = self._hours_of(day)
                overlap = min(b, closes) - max(a, opens)
                if overlap > timedelta(0):
                    total += overlap
            day += _ONE_DAY
        return total.total_seconds() / 3600

    def working_days(self, first: date, last: date) -> list[date]:
        """The working days from ``first`` to ``last`` inclusive."""
        return sorted(d for d in date_range(first, last) if self.is_working_day(d))


#: The built-in calendar: 08:30-17:30, China's holidays of the years the package knows.
DEFAULT_CALENDAR = WorkingCalendar(known_years=BUILTIN_YEARS)


def _parse_time(value: str | time, what: str) -> time:
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"{what}: expected HH:MM, got {value!r}") from None


def _parse_dates(entries: Any, where: str) -> set[date]:
    if entries is None:
        return set()
    if not isinstance(entries, list):
        raise ValueError(f"{where}: expected a list of dates or date ranges")
    out: set[date] = set()
    for entry in entries:
        if isinstance(entry, datetime):
            out.add(entry.date())
        elif isinstance(entry, date):
            out.add(entry)
        elif isinstance(entry, str):
            try:
                if ".." in entry:
                    first, last = entry.split("..", 1)
                    out |= date_range(
                        date.fromisoformat(first.strip()), date.fromisoformat(last.strip())
                    )
                else:
                    out.add(date.fromisoformat(entry.strip()))
            except ValueError as exc:
                raise ValueError(f"{where}: bad date or range {entry!r} ({exc})") from None
        else:
            raise ValueError(
                f"{where}: bad date {entry!r}; use YYYY-MM-DD or YYYY-MM-DD..YYYY-MM-DD"
            )
    return out


def load_calendar(
    path: Path | None, day_start: str = "08:30", day_end: str = "17:30"
) -> WorkingCalendar:
    """The working calendar: the built-in one, or a city's YAML file (see module docstring)."""
    start, end = _parse_time(day_start, "day_start"), _parse_time(day_end, "day_end")
    if path is None:
        return WorkingCalendar(start, end, DEFAULT_HOLIDAYS, DEFAULT_MAKEUP_WORKDAYS, BUILTIN_YEARS)
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with 'holidays' and 'makeup_workdays'")
    unknown = set(data) - {"holidays", "makeup_workdays", "include_builtin"}
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)}")
    holidays = _parse_dates(data.get("holidays"), f"{path}: holidays")
    makeup = _parse_dates(data.get("makeup_workdays"), f"{path}: makeup_workdays")
    years = {d.year for d in holidays | makeup}
    if data.get("include_builtin", True):
        holidays |= DEFAULT_HOLIDAYS - makeup
        makeup |= DEFAULT_MAKEUP_WORKDAYS - holidays
        years |= BUILTIN_YEARS
    try:
        return WorkingCalendar(start, end, frozenset(holidays), frozenset(makeup), frozenset(years))
    except ValueError as exc:
        raise ValueError(f"{path}: {exc}") from None


# --------------------------------------------------------------------------- SLA clocks


def sla_deadline(start: datetime, limit: TimeLimit, calendar: WorkingCalendar) -> datetime:
    """When a clock started at ``start`` with ``limit`` runs out (naive local time)."""
    start = to_local_naive(start)
    if limit.unit == "hours":
        return start + timedelta(hours=limit.amount)
    if limit.unit == "work_hours":
        return calendar.add_working_hours(start, limit.amount)
    if limit.unit == "work_days":
        return calendar.add_working_days(start, limit.amount)
    raise ValueError(f"unknown time-limit unit {limit.unit!r}")


def remaining_time(
    deadline: datetime, now: datetime, limit: TimeLimit, calendar: WorkingCalendar
) -> float:
    """Time left until ``deadline`` in the limit's own unit (negative once overdue)."""
    if limit.unit == "hours":
        return (to_local_naive(deadline) - to_local_naive(now)).total_seconds() / 3600
    hours = calendar.working_hours_between(now, deadline)
    if limit.unit == "work_days":
        return hours / calendar.hours_per_day
    return hours


def sla_state(
    deadline: datetime,
    now: datetime,
    limit: TimeLimit,
    calendar: WorkingCalendar,
    due_soon_fraction: float = 0.2,
) -> SlaState:
    """超期 once ``now`` is past ``deadline``; 临期 when less than ``due_soon_fraction`` of the
    limit is left, counted in the limit's unit (so a weekend does not use up a working-day
    clock); else 正常."""
    if to_local_naive(now) > to_local_naive(deadline):
        return SlaState.OVERDUE
    if remaining_time(deadline, now, limit, calendar) < due_soon_fraction * limit.amount:
        return SlaState.DUE_SOON
    return SlaState.ON_TIME


def sla_states(
    deadlines: Iterable[datetime],
    now: datetime,
    limit: TimeLimit,
    calendar: WorkingCalendar,
    due_soon_fraction: float = 0.2,
) -> list[SlaState]:
    """``sla_state`` for many deadlines sharing one limit."""
    return [sla_state(d, now, limit, calendar, due_soon_fraction) for d in deadlines]
