"""Alarms (告警): ingest, the store, storm folding, acknowledgement, replay and escalation.

An alarm comes in as an ``AlarmIn`` (from the HTTP API or the event bus topic
``events.ALARM_RAISED``), is committed to the store and only then handed to the listeners
(the real-time layer broadcasts it). The store lives in the same database as the embedded
case backend (tables from migration ``0100_alarms``).

Levels: one scheme, four steps, the national emergency grading (突发事件分级)::

    info      一般      (IV 级, blue)
    warn      较大      (III 级, yellow)
    critical  重大      (II 级, orange)
    emergency 特别重大  (I 级, red)

Input may use either word (or the Roman grade); the store keeps the English key.

Rules the store keeps:
- idempotent on (source, source_id): the same id twice is one alarm, even after folding;
- storm folding: an open alarm from the same source, of the same class, at the same place
  (grid code, else the point rounded to ~100 m) seen within ``fold_seconds`` absorbs the new
  one: its ``count`` goes up, its level rises to the highest seen, nothing new is broadcast
  but the updated alarm;
- acknowledged once for all: the first acknowledgement wins and is stored (who, when, note);
- ``since(last_id)`` gives what a reconnecting screen missed, in id order;
- escalation: an open alarm at or above ``escalate_level`` nobody acknowledged within
  ``escalate_minutes`` sends one SMS to the on-duty leader; the message and its delivery
  status are stored in ``alarm_sms``.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlalchemy import (
    DateTime,
    Engine,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
    func,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from command_center import events

log = logging.getLogger(__name__)

Level = Literal["info", "warn", "critical", "emergency"]
LEVELS: tuple[str, ...] = ("info", "warn", "critical", "emergency")
LEVEL_RANK = {name: rank for rank, name in enumerate(LEVELS, start=1)}
#: every spelling accepted on input → the stored key
LEVEL_ALIASES: dict[str, str] = {
    **{name: name for name in LEVELS},
    "一般": "info",
    "较大": "warn",
    "重大": "critical",
    "特别重大": "emergency",
    "iv": "info",
    "iii": "warn",
    "ii": "critical",
    "i": "emergency",
    "warning": "warn",
    "minor": "info",
    "major": "warn",  # an older spelling, kept for senders that use it
    "moderate": "warn",
    "severe": "critical",
    "extreme": "emergency",
}

OPEN = "open"
ACKNOWLEDGED = "acknowledged"


def level_key(value: str) -> str:
    """The stored level for any accepted spelling; ``ValueError`` names the choices."""
    key = LEVEL_ALIASES.get(str(value).strip().lower()) or LEVEL_ALIASES.get(str(value).strip())
    if key is None:
        raise ValueError(
            f"unknown level {value!r}: one of {', '.join(LEVELS)} or 一般/较大/重大/特别重大"
        )
    return key


# The app's one clock: naive city wall time, as the case adapters store times.
from command_center.domain.calendar import local_now, to_local_naive  # noqa: E402
from command_center.domain.ids import MAX_ID, record_id  # noqa: E402


def _naive_local(at: datetime) -> datetime:
    # An aware time is converted to the city's zone (never the server's: a UTC server stored
    # "07:41+08:00" as 23:41); a naive one is already city wall time (README: alarm API).
    return to_local_naive(at).replace(microsecond=0)


#: Characters no alarm text may carry: C0 controls but tab and newline, DEL, and lone
#: surrogates (JSON can spell them; no database can store them, PostgreSQL takes no NUL).
UNSTORABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")
#: The times an alarm may carry: the fold window and escalation add minutes to them.
EARLIEST_AT = datetime(1970, 1, 1)
LATEST_AT = datetime(2100, 1, 1)


def plain_text(value: str) -> str:
    """``value`` without the characters no database can store (for free-text notes)."""
    return UNSTORABLE.sub("", value)


# --- input ------------------------------------------------------------------------------
class AlarmIn(BaseModel):
    """An alarm as it arrives, from the API or the event bus. Unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    source: str = Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.\-]+$")
    source_id: str = Field(min_length=1, max_length=128)
    level: str
    class_code: str = Field(min_length=1, max_length=16)
    title: str = Field(min_length=1, max_length=200)
    at: datetime | None = None
    lon: float | None = Field(None, ge=-180, le=180)
    lat: float | None = Field(None, ge=-90, le=90)
    grid_code: str | None = Field(None, pattern=r"^[0-9]{14,15}$")
    case_id: int | None = Field(None, ge=1, le=MAX_ID)
    camera_id: str | None = Field(None, max_length=64)

    @field_validator("source_id", "class_code", "title", "camera_id")
    @classmethod
    def _storable(cls, value: str | None) -> str | None:
        if value is not None and UNSTORABLE.search(value):
            raise ValueError("control characters (NUL, ESC …) are not allowed")
        return value

    @field_validator("at")
    @classmethod
    def _at_in_range(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return value
        try:
            local = _naive_local(value)
        except (OverflowError, ValueError):
            local = None
        if local is None or not EARLIEST_AT <= local < LATEST_AT:
            raise ValueError(f"at must lie between {EARLIEST_AT:%Y} and {LATEST_AT:%Y}")
        return value

    @model_validator(mode="before")
    @classmethod
    def _label_is_title(cls, data: Any) -> Any:
        # adapters speak of a "label" (VideoAlarm.label); it is the same thing as the title
        if isinstance(data, dict) and "label" in data and "title" not in data:
            data = {**data, "title": data["label"]}
            data.pop("label")
        return data

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        return level_key(value)

    @model_validator(mode="after")
    def _point_is_whole(self) -> AlarmIn:
        if (self.lon is None) != (self.lat is None):
            raise ValueError("lon and lat come together")
        return self

    def place_key(self) -> str:
        """Where it happened, coarsely: the grid, else the point to ~100 m."""
        if self.grid_code:
            return self.grid_code
        if self.lon is not None and self.lat is not None:
            return f"{self.lon:.3f},{self.lat:.3f}"
        return ""

    def fold_key(self) -> str:
        return f"{self.source}|{self.class_code}|{self.place_key()}"


# --- store ------------------------------------------------------------------------------
class AlarmBase(DeclarativeBase):
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_N_label)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class AlarmRow(AlarmBase):
    __tablename__ = "alarms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(128))  # of the first occurrence
    level: Mapped[str] = mapped_column(String(12))
    class_code: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(DateTime)  # when it happened (first occurrence)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    last_at: Mapped[datetime] = mapped_column(DateTime)  # last folded occurrence received
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(String(15))
    case_id: Mapped[int | None] = mapped_column(Integer)
    camera_id: Mapped[str | None] = mapped_column(String(64))
    fold_key: Mapped[str] = mapped_column(String(200))
    count: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(12), default=OPEN)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime)
    ack_note: Mapped[str | None] = mapped_column(String(500))
    escalated_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_alarms_fold", "fold_key", "status", "last_at"),
        Index("ix_alarms_status_level", "status", "level"),
    )


class AlarmKeyRow(AlarmBase):
    """Every (source, source_id) ever seen, and the alarm it went into: idempotency that
    survives folding."""

    __tablename__ = "alarm_keys"

    source: Mapped[str] = mapped_column(String(32), primary_key=True)
    source_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)


class AlarmSmsRow(AlarmBase):
    """One escalation SMS: to whom, the gateway's answer, and its delivery status."""

    __tablename__ = "alarm_sms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    alarm_id: Mapped[int] = mapped_column(ForeignKey("alarms.id", ondelete="CASCADE"), index=True)
    message_id: Mapped[str] = mapped_column(String(64))
    to: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    error: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (UniqueConstraint("message_id"),)


@dataclass(frozen=True)
class Alarm:
    """An alarm as stored and as screens receive it (``as_dict`` is the wire form)."""

    id: int
    source: str
    source_id: str
    level: str
    class_code: str
    title: str
    at: datetime
    received_at: datetime
    last_at: datetime
    lon: float | None
    lat: float | None
    grid_code: str | None
    case_id: int | None
    camera_id: str | None
    count: int
    status: str
    acknowledged_by: str | None = None
    acknowledged_at: datetime | None = None
    ack_note: str | None = None
    escalated_at: datetime | None = None

    @property
    def region_codes(self) -> list[str]:
        """The regions it lies in, widest first (district, street, community, grid)."""
        code = self.grid_code or ""
        return [code[:n] for n in (6, 9, 12) if len(code) >= n] + ([code] if code else [])

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, datetime):
                out[key] = value.isoformat(timespec="seconds")
        out["rank"] = LEVEL_RANK.get(self.level, 0)
        out["regions"] = self.region_codes
        return out

    @classmethod
    def of(cls, row: AlarmRow) -> Alarm:
        return cls(**{f: getattr(row, f) for f in cls.__dataclass_fields__})


@dataclass(frozen=True)
class Ingested:
    alarm: Alarm
    outcome: Literal["new", "folded", "duplicate"]

    @property
    def broadcast(self) -> bool:
        return self.outcome != "duplicate"


@dataclass(frozen=True)
class EscalationSms:
    alarm_id: int
    message_id: str
    to: str
    status: str
    error: str
    sent_at: datetime
    updated_at: datetime


class AlarmNotFound(LookupError):
    pass


FOLD_LOCK_STRIPES = 64


class AlarmStore:
    """The alarm tables: every write in one short transaction, committed before return."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = local_now) -> None:
        from adapters.sql.db import IMMEDIATE, is_sqlite

        self.engine = engine
        self.clock = clock
        self._writer_options = IMMEDIATE if is_sqlite(engine) else {}
        # Folding reads then writes: serialise this process's writers of one fold key (a
        # lock per stripe of keys); alarms of other keys commit side by side, which lets
        # PostgreSQL flush their commits together. Idempotency, also across processes, is
        # kept by the primary key of alarm_keys.
        self._locks = [threading.Lock() for _ in range(FOLD_LOCK_STRIPES)]

    def _write(self) -> Session:
        return Session(self.engine.execution_options(**self._writer_options))

    def ingest(self, alarm_in: AlarmIn, fold_seconds: float = 0.0) -> Ingested:
        now = self.clock()
        with self._locks[hash(alarm_in.fold_key()) % FOLD_LOCK_STRIPES]:
            for _attempt in range(3):
                try:
                    return self._ingest_once(alarm_in, fold_seconds, now)
                except IntegrityError:
                    # another process or thread took the same (source, source_id) first
                    continue
            existing = self.by_source_id(alarm_in.source, alarm_in.source_id)
            if existing is None:
                raise RuntimeError("alarm ingest kept conflicting")
            return Ingested(existing, "duplicate")

    def _ingest_once(self, a: AlarmIn, fold_seconds: float, now: datetime) -> Ingested:
        with self._write() as session, session.begin():
            known = session.get(AlarmKeyRow, (a.source, a.source_id))
            if known is not None:
                row = session.get(AlarmRow, known.alarm_id)
                assert row is not None
                return Ingested(Alarm.of(row), "duplicate")
            fold_key = a.fold_key()
            row = None
            if fold_seconds > 0:
                row = session.scalars(
                    select(AlarmRow)
                    .where(
                        AlarmRow.fold_key == fold_key,
                        AlarmRow.status == OPEN,
                        AlarmRow.last_at >= now - timedelta(seconds=fold_seconds),
                    )
                    .order_by(AlarmRow.id.desc())
                    .limit(1)
                ).first()
            if row is not None:
                row.count += 1
                row.last_at = now
                if LEVEL_RANK[a.level] > LEVEL_RANK.get(row.level, 0):
                    row.level = a.level
                outcome: Literal["new", "folded"] = "folded"
            else:
                row = AlarmRow(
                    source=a.source,
                    source_id=a.source_id,
                    level=a.level,
                    class_code=a.class_code,
                    title=a.title,
                    at=_naive_local(a.at) if a.at else now,
                    received_at=now,
                    last_at=now,
                    lon=a.lon,
                    lat=a.lat,
                    grid_code=a.grid_code,
                    case_id=a.case_id,
                    camera_id=a.camera_id,
                    fold_key=fold_key,
                    count=1,
                    status=OPEN,
                )
                session.add(row)
                outcome = "new"
            session.flush()
            session.add(AlarmKeyRow(source=a.source, source_id=a.source_id, alarm_id=row.id))
            session.flush()
            return Ingested(Alarm.of(row), outcome)

    def acknowledge(self, alarm_id: int, by: str, note: str = "") -> tuple[Alarm, bool]:
        """Acknowledge once: the first call wins; later calls return the stored alarm and
        ``False``. Raises ``AlarmNotFound``."""
        if record_id(alarm_id) is None:  # no row has it; the driver would overflow
            raise AlarmNotFound(alarm_id)
        now = self.clock()
        with self._write() as session, session.begin():
            result = session.execute(
                update(AlarmRow)
                .where(AlarmRow.id == alarm_id, AlarmRow.status == OPEN)
                .values(
                    status=ACKNOWLEDGED,
                    acknowledged_by=plain_text(by)[:64],
                    acknowledged_at=now,
                    ack_note=plain_text(note)[:500] or None,
                )
            )
            row = session.get(AlarmRow, alarm_id)
            if row is None:
                raise AlarmNotFound(alarm_id)
            return Alarm.of(row), result.rowcount == 1  # type: ignore[attr-defined]

    def get(self, alarm_id: int) -> Alarm:
        if record_id(alarm_id) is None:
            raise AlarmNotFound(alarm_id)
        with Session(self.engine) as session:
            row = session.get(AlarmRow, alarm_id)
            if row is None:
                raise AlarmNotFound(alarm_id)
            return Alarm.of(row)

    def by_source_id(self, source: str, source_id: str) -> Alarm | None:
        with Session(self.engine) as session:
            key = session.get(AlarmKeyRow, (source, source_id))
            if key is None:
                return None
            row = session.get(AlarmRow, key.alarm_id)
            return Alarm.of(row) if row else None

    def since(self, last_id: int = 0, limit: int = 1000, source: str | None = None) -> list[Alarm]:
        """Alarms created after ``last_id``, oldest first (what a screen missed); with
        ``source``, that source's only (what its API key may see)."""
        last_id = min(max(last_id, 0), MAX_ID)  # beyond a database integer: nothing after it
        query = select(AlarmRow).where(AlarmRow.id > last_id)
        if source is not None:
            query = query.where(AlarmRow.source == source)
        with Session(self.engine) as session:
            rows = session.scalars(query.order_by(AlarmRow.id).limit(limit))
            return [Alarm.of(r) for r in rows]

    def open_alarms(
        self, limit: int = 200, region_code: str | None = None, also_levels: Sequence[str] = ()
    ) -> list[Alarm]:
        """The open alarms, the most recent ``limit`` of them, oldest first; with a region,
        those in it and those of ``also_levels`` wherever they are."""
        with Session(self.engine) as session:
            query = select(AlarmRow).where(
                AlarmRow.status == OPEN, _in_scope(region_code, also_levels)
            )
            rows = session.scalars(query.order_by(AlarmRow.id.desc()).limit(limit))
            return [Alarm.of(r) for r in reversed(list(rows))]

    def open_count(
        self,
        region_code: str | None = None,
        also_levels: Sequence[str] = (),
        up_to: int | None = None,
    ) -> int:
        """Open alarms in the scope (see ``open_alarms``), those up to id ``up_to`` if given."""
        with Session(self.engine) as session:
            query = (
                select(func.count())
                .select_from(AlarmRow)
                .where(AlarmRow.status == OPEN, _in_scope(region_code, also_levels))
            )
            if up_to is not None:
                query = query.where(AlarmRow.id <= up_to)
            return int(session.scalar(query) or 0)

    def last_id(self, source: str | None = None) -> int:
        query = select(func.max(AlarmRow.id))
        if source is not None:
            query = query.where(AlarmRow.source == source)
        with Session(self.engine) as session:
            return int(session.scalar(query) or 0)

    def counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            rows = session.execute(select(AlarmRow.status, func.count()).group_by(AlarmRow.status))
            return {str(status): int(n) for status, n in rows}

    # --- escalation ---------------------------------------------------------------------
    def due_for_escalation(self, min_level: str, after: timedelta) -> list[Alarm]:
        ranks = [lv for lv in LEVELS if LEVEL_RANK[lv] >= LEVEL_RANK[min_level]]
        with Session(self.engine) as session:
            rows = session.scalars(
                select(AlarmRow)
                .where(
                    AlarmRow.status == OPEN,
                    AlarmRow.escalated_at.is_(None),
                    AlarmRow.level.in_(ranks),
                    AlarmRow.received_at <= self.clock() - after,
                )
                .order_by(AlarmRow.id)
                .limit(100)
            )
            return [Alarm.of(r) for r in rows]

    def claim_escalation(self, alarm_id: int) -> bool:
        """Mark an alarm escalated; only one process (the one that gets True) sends."""
        with self._write() as session, session.begin():
            result = session.execute(
                update(AlarmRow)
                .where(AlarmRow.id == alarm_id, AlarmRow.escalated_at.is_(None))
                .values(escalated_at=self.clock())
            )
            return result.rowcount == 1  # type: ignore[attr-defined]

    def record_sms(self, alarm_id: int, message: Any) -> None:
        now = self.clock()
        with self._write() as session, session.begin():
            session.add(
                AlarmSmsRow(
                    alarm_id=alarm_id,
                    message_id=message.id,
                    to=message.to[:20],
                    status=str(message.status),
                    error=(message.error or "")[:500],
                    sent_at=now,
                    updated_at=now,
                )
            )

    def update_sms(self, message: Any) -> None:
        with self._write() as session, session.begin():
            session.execute(
                update(AlarmSmsRow)
                .where(AlarmSmsRow.message_id == message.id)
                .values(
                    status=str(message.status),
                    error=(message.error or "")[:500],
                    updated_at=self.clock(),
                )
            )

    def sms(self, alarm_id: int | None = None) -> list[EscalationSms]:
        with Session(self.engine) as session:
            query = select(AlarmSmsRow).order_by(AlarmSmsRow.id)
            if alarm_id is not None:
                query = query.where(AlarmSmsRow.alarm_id == alarm_id)
            return [
                EscalationSms(
                    r.alarm_id, r.message_id, r.to, r.status, r.error, r.sent_at, r.updated_at
                )
                for r in session.scalars(query)
            ]

    def sms_counts(self) -> dict[str, int]:
        with Session(self.engine) as session:
            rows = session.execute(
                select(AlarmSmsRow.status, func.count()).group_by(AlarmSmsRow.status)
            )
            return {str(status): int(n) for status, n in rows}


def _in_scope(region_code: str | None, also_levels: Sequence[str]) -> Any:
    """Where a screen scoped to ``region_code`` looks: its region, and the levels every
    screen hears; no region: everywhere."""
    if not region_code:
        return true()
    in_region = AlarmRow.grid_code.startswith(region_code, autoescape=True)
    return or_(in_region, AlarmRow.level.in_(also_levels)) if also_levels else in_region


def citywide_levels(level: str) -> tuple[str, ...]:
    """The levels at or above ``level`` (any spelling): alarms every screen hears."""
    rank = LEVEL_RANK[level_key(level)]
    return tuple(name for name in LEVELS if LEVEL_RANK[name] >= rank)


def alarm_in_scope(alarm: Alarm, region_code: str | None, also_levels: Sequence[str]) -> bool:
    """The same test as the store's, on one alarm (replay filters with it)."""
    if not region_code:
        return True
    return (alarm.grid_code or "").startswith(region_code) or alarm.level in also_levels


# --- throughput -------------------------------------------------------------------------
class RateCounter:
    """Events per minute over the last ``minutes`` minutes (a ring of per-minute buckets).

    Shared (``share``): with several processes the counts also go to the deployment's
    ``SharedCounts`` (Redis, see ``command_center.realtime``), and ``per_minute`` and
    ``total`` are the deployment's; this process's own stay in the ring."""

    def __init__(
        self, minutes: int = 15, clock: Callable[[], float] = time.time, name: str = ""
    ) -> None:
        self.minutes = minutes
        self.clock = clock
        self.name = name
        self.shared: Any = None
        self._buckets: deque[list[int]] = deque(maxlen=minutes)  # [minute, count]
        self._lock = threading.Lock()
        self.local_total = 0

    def share(self, shared: Any) -> None:
        self.shared = shared

    def add(self, n: int = 1, *, shared: bool = True) -> None:
        """Count ``n``; ``shared=False`` for what another process counts already."""
        minute = int(self.clock() // 60)
        with self._lock:
            self.local_total += n
            if self._buckets and self._buckets[-1][0] == minute:
                self._buckets[-1][1] += n
            else:
                self._buckets.append([minute, n])
        if shared and self.shared is not None:
            self.shared.add(self.name, minute, n)

    def _counts(self) -> tuple[dict[int, int], int]:
        if self.shared is not None:
            try:
                return self.shared.read(self.name)  # type: ignore[no-any-return]
            except Exception as exc:  # noqa: BLE001 - Redis away: this process's own
                log.warning("shared %s counts unreadable: %s", self.name, exc)
        with self._lock:
            return {m: c for m, c in self._buckets}, self.local_total

    def per_minute(self) -> list[tuple[int, int]]:
        """(minute as epoch // 60, count) for each of the last minutes, zeros included."""
        return self.snapshot()[0]

    def snapshot(self) -> tuple[list[tuple[int, int]], int]:
        """``per_minute`` and ``total`` from one read: asked apart, another process's counts
        could land in between, and a screen would show a total its minutes do not add to."""
        current = int(self.clock() // 60)
        seen, total = self._counts()
        minutes = [(m, seen.get(m, 0)) for m in range(current - self.minutes + 1, current + 1)]
        return minutes, total

    @property
    def total(self) -> int:
        """Everything counted since start (the deployment's when shared)."""
        return self._counts()[1]

    def last_minute(self) -> int:
        return self.per_minute()[-1][1]


# --- the service ------------------------------------------------------------------------
Listener = Callable[[str, Alarm], None]  # ("alarm" | "ack", alarm)


class AlarmService:
    """What the app uses (``cc.alarms``): ingest, acknowledge, replay, escalate.

    Listeners (the real-time layer) are called after the store committed; a failing
    listener is logged and never loses the alarm: it is in the store and replays.
    """

    def __init__(
        self,
        store: AlarmStore,
        bus: events.EventBus,
        settings: Any,
        sms: Any = None,
        locate: Callable[[float, float], str | None] | None = None,
    ) -> None:
        self.store = store
        self.bus = bus
        self.settings = settings
        self.sms = sms
        # the unit grid of a point, for an alarm that brings a point and no grid_code
        self.locate = locate
        self._listeners: list[Listener] = []
        self.ingest_rate = RateCounter(name="alarms")
        self.ack_rate = RateCounter(name="acks")
        self.event_rate = RateCounter(name="events")
        self._relaying: Callable[[], bool] = lambda: False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        bus.subscribe(events.ALARM_RAISED, self._on_bus_alarm)
        # an event relayed from another process was counted there
        bus.subscribe("*", lambda _t, _p: self.event_rate.add(shared=not self._relaying()))

    def share_counts(self, shared: Any, relaying: Callable[[], bool] | None = None) -> None:
        """Count alarms, acknowledgements and events for the whole deployment (several
        processes): ``relaying`` tells an event another process published (and counted)."""
        for counter in (self.ingest_rate, self.ack_rate, self.event_rate):
            counter.share(shared)
        if relaying is not None:
            self._relaying = relaying

    # --- ingest ---------------------------------------------------------------------------
    def listen(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _notify(self, what: str, alarm: Alarm) -> None:
        for listener in list(self._listeners):
            try:
                listener(what, alarm)
            except Exception:  # noqa: BLE001 - the alarm is stored; screens replay it
                log.exception("alarm listener failed for alarm %s", alarm.id)

    def ingest(self, alarm_in: AlarmIn, *, from_bus: bool = False) -> Ingested:
        """Persist, then broadcast (a duplicate is neither stored twice nor re-broadcast)."""
        if not from_bus:  # bus events are counted by the bus subscription already
            self.event_rate.add()
        alarm_in = self._with_grid(alarm_in)
        result = self.store.ingest(alarm_in, self.settings.alarm_fold_seconds)
        if result.broadcast:
            self.ingest_rate.add()
            self._notify("alarm", result.alarm)
        return result

    def _with_grid(self, alarm_in: AlarmIn) -> AlarmIn:
        """An alarm with a point and no grid gets the grid the point lies in: street-scoped
        screens hear it, the ticker names its place, and it can become a case there."""
        if alarm_in.grid_code or alarm_in.lon is None or alarm_in.lat is None:
            return alarm_in
        if self.locate is None:
            return alarm_in
        try:
            code = self.locate(alarm_in.lon, alarm_in.lat)
        except Exception:  # noqa: BLE001 - the GIS being down never loses an alarm
            log.warning(
                "no grid for alarm %s at (%s, %s)", alarm_in.source_id, alarm_in.lon, alarm_in.lat
            )
            return alarm_in
        return alarm_in.model_copy(update={"grid_code": code}) if code else alarm_in

    def _on_bus_alarm(self, _topic: str, payload: dict[str, Any]) -> None:
        try:
            alarm_in = AlarmIn.model_validate(payload)
        except Exception as exc:  # noqa: BLE001 - a malformed event is logged, not raised
            log.warning("malformed alarm event dropped: %s (%s)", exc, payload)
            return
        self.ingest(alarm_in, from_bus=True)

    def acknowledge(self, alarm_id: int, by: str, note: str = "") -> tuple[Alarm, bool]:
        alarm, first = self.store.acknowledge(alarm_id, by, note)
        if first:
            self.ack_rate.add()
            self._notify("ack", alarm)
            self.bus.publish(
                events.ALARM_ACKED,
                {"alarm_id": alarm.id, "by": alarm.acknowledged_by, "note": note},
            )
        return alarm, first

    def since(self, last_id: int = 0) -> list[Alarm]:
        return self.store.since(last_id)

    @property
    def citywide_levels(self) -> tuple[str, ...]:
        """Levels every screen hears, also one scoped to a street (CC_ALARM_CITYWIDE_LEVEL)."""
        return citywide_levels(self.settings.alarm_citywide_level)

    def open_alarms(
        self, region_code: str | None = None, *, with_citywide: bool = False
    ) -> list[Alarm]:
        """The open alarms (oldest first): what the ticker and the map's alarm layer show.
        ``with_citywide`` adds, to a region's, those every screen hears (a scoped ticker)."""
        also = self.citywide_levels if with_citywide else ()
        return self.store.open_alarms(self.settings.alarm_open_limit, region_code, also)

    # --- escalation -----------------------------------------------------------------------
    def escalate_due(self) -> list[EscalationSms]:
        """Send the escalation SMS for every alarm that is due; poll earlier ones' status."""
        settings = self.settings
        if self.sms is None:
            return []
        self._poll_sms()
        leader = settings.alarm_leader_mobile
        if not leader:
            return []
        sent: list[EscalationSms] = []
        due = self.store.due_for_escalation(
            settings.alarm_escalate_level, timedelta(minutes=settings.alarm_escalate_minutes)
        )
        for alarm in due:
            if not self.store.claim_escalation(alarm.id):
                continue
            params = {
                "place": alarm.grid_code or "",
                "label": alarm.title,
                "minutes": f"{settings.alarm_escalate_minutes:g}",
            }
            try:
                messages = self.sms.send(
                    [leader], "alarm_escalation", params, tags={"alarm_id": str(alarm.id)}
                )
            except Exception as exc:  # noqa: BLE001 - gateway down: record the failure
                log.error("escalation SMS for alarm %s failed: %s", alarm.id, exc)
                from adapters.sms.contract import DeliveryStatus, SmsMessage

                messages = [
                    SmsMessage(
                        f"failed-{alarm.id}-{int(time.time())}",
                        leader,
                        "",
                        DeliveryStatus.FAILED,
                        local_now(),
                        error=str(exc),
                    )
                ]
            for message in messages:
                self.store.record_sms(alarm.id, message)
            sent.extend(self.store.sms(alarm.id))
        return sent

    def _poll_sms(self) -> None:
        pending = [s for s in self.store.sms() if s.status in ("queued", "sent")]
        if not pending:
            return
        try:
            for message in self.sms.status([s.message_id for s in pending]):
                self.store.update_sms(message)
        except Exception as exc:  # noqa: BLE001 - try again next round
            log.warning("SMS status poll failed: %s", exc)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, daemon=True, name="cc-alarm-escalation")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.settings.alarm_watch_seconds):
            try:
                self.escalate_due()
            except Exception:  # noqa: BLE001 - keep watching
                log.exception("escalation round failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def install_alarms(cc: Any) -> AlarmService:
    """Build ``cc.alarms`` over the case backend's database (tables from ``0100_alarms``)."""
    from adapters.sql.db import make_engine, upgrade

    url = cc.settings.effective_database_url
    upgrade(url, "alarms@head")  # idempotent: brings an existing database up to date
    engine = make_engine(url)

    def locate(lon: float, lat: float) -> str | None:
        grid = cc.adapters.gis.locate(lon, lat)
        return grid.code if grid is not None and grid.level == "grid" else None

    service = AlarmService(AlarmStore(engine), cc.bus, cc.settings, cc.adapters.sms, locate)
    cc.alarms = service
    return service
