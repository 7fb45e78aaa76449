"""Grid workers' patrols (巡查): where each worker went today, who is on duty, which grids
nobody walked through.

Positions are recorded as workers move (``events.WORKER_MOVED`` from the patrol app or the
simulator) into ``patrol_positions`` (migration ``0200_patrol``). For the demo, a day of
plausible tracks is generated when the table holds nothing for today.
"""

from __future__ import annotations

import logging
import math
import random
import weakref
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Engine,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    inspect,
    select,
)

from adapters.sql.common import GridIndexCache
from adapters.sql.models import RegionRow, WorkerRow

log = logging.getLogger(__name__)

metadata = MetaData()
positions = Table(
    "patrol_positions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("worker_id", String(32), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("lon", Float, nullable=False),
    Column("lat", Float, nullable=False),
    Column("grid_code", String(15)),
    Column("on_duty", Boolean, nullable=False),
)

#: the working day a patrol covers (the demo's tracks run inside it)
DAY_START = time(8, 30)
DAY_END = time(17, 30)


@dataclass(frozen=True)
class Attendance:
    """One worker's day: first and last position, points recorded, distance walked."""

    worker_id: str
    name: str
    role: str
    first_at: datetime | None
    last_at: datetime | None
    points: int
    km: float
    grids: int
    on_duty: bool


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min)
    return start, start + timedelta(days=1)


def _metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    dx = (lon2 - lon1) * 111_320 * math.cos(math.radians((lat1 + lat2) / 2))
    dy = (lat2 - lat1) * 110_540
    return math.hypot(dx, dy)


class PatrolStore:
    """Reads and writes patrol positions in the embedded database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._grids = GridIndexCache(engine)

    def ready(self) -> bool:
        return inspect(self.engine).has_table("patrol_positions")

    def record(
        self, worker_id: str, lon: float, lat: float, at: datetime, on_duty: bool = True
    ) -> None:
        """One position from the patrol app (or the simulator), with the grid it falls in."""
        grid = self._grids.get().locate(float(lon), float(lat))
        with self.engine.begin() as conn:
            conn.execute(
                insert(positions).values(
                    worker_id=worker_id, at=at, lon=lon, lat=lat, grid_code=grid, on_duty=on_duty
                )
            )

    def count_on(self, day: date) -> int:
        start, end = _day_bounds(day)
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count()).where(positions.c.at >= start, positions.c.at < end)
                ).scalar_one()
            )

    def latest_day(self, today: date) -> date:
        """Today once anyone has patrolled, else yesterday (a wall at 7 a.m. shows the last
        full day rather than nothing)."""
        if self.count_on(today) or not self.count_on(today - timedelta(days=1)):
            return today
        return today - timedelta(days=1)

    def tracks(
        self,
        day: date,
        region_code: str | None = None,
        worker_ids: set[str] | None = None,
    ) -> dict[str, list[tuple[datetime, float, float]]]:
        """Each worker's positions on ``day`` in time order (inside a region, by grid)."""
        start, end = _day_bounds(day)
        query = select(positions.c.worker_id, positions.c.at, positions.c.lon, positions.c.lat)
        query = query.where(positions.c.at >= start, positions.c.at < end)
        if region_code:
            query = query.where(positions.c.grid_code.startswith(region_code, autoescape=True))
        if worker_ids is not None:
            query = query.where(positions.c.worker_id.in_(sorted(worker_ids)))
        out: dict[str, list[tuple[datetime, float, float]]] = {}
        with self.engine.connect() as conn:
            for wid, at, lon, lat in conn.execute(query.order_by(positions.c.worker_id, "at")):
                out.setdefault(wid, []).append((at, lon, lat))
        return out

    def covered_grids(self, day: date, region_code: str | None = None) -> set[str]:
        """Unit grids at least one worker walked through on ``day``."""
        start, end = _day_bounds(day)
        query = select(positions.c.grid_code).distinct()
        query = query.where(
            positions.c.at >= start, positions.c.at < end, positions.c.grid_code.is_not(None)
        )
        if region_code:
            query = query.where(positions.c.grid_code.startswith(region_code, autoescape=True))
        with self.engine.connect() as conn:
            return {str(c) for (c,) in conn.execute(query)}

    def attendance(self, day: date, region_code: str | None = None) -> list[Attendance]:
        """Every worker of the region (by where they are now) with their day's patrol."""
        query = select(WorkerRow)
        if region_code:
            query = query.where(WorkerRow.grid_code.startswith(region_code, autoescape=True))
        with self.engine.connect() as conn:
            workers = conn.execute(query.order_by(WorkerRow.id)).all()
        ids = {w.id for w in workers}
        tracks = self.tracks(day, worker_ids=ids)
        grids = self._grids_per_worker(day, ids)
        out = []
        for w in workers:
            track = tracks.get(w.id, [])
            km = sum(
                _metres(a[1], a[2], b[1], b[2]) for a, b in zip(track, track[1:], strict=False)
            )
            out.append(
                Attendance(
                    worker_id=w.id,
                    name=w.name,
                    role=w.role,
                    first_at=track[0][0] if track else None,
                    last_at=track[-1][0] if track else None,
                    points=len(track),
                    km=round(km / 1000, 2),
                    grids=grids.get(w.id, 0),
                    on_duty=bool(w.on_duty),
                )
            )
        return out

    def _grids_per_worker(self, day: date, ids: set[str]) -> dict[str, int]:
        start, end = _day_bounds(day)
        query = (
            select(positions.c.worker_id, func.count(positions.c.grid_code.distinct()))
            .where(positions.c.at >= start, positions.c.at < end)
            .where(positions.c.worker_id.in_(sorted(ids)))
            .group_by(positions.c.worker_id)
        )
        with self.engine.connect() as conn:
            return {w: int(n) for w, n in conn.execute(query) if w in ids}

    def generate_day(self, day: date, now: datetime, seed: int = 7, share: float = 0.6) -> int:
        """A day of plausible demo tracks: most grid workers walk a few grids of their
        community from 08:30 until ``now`` (or 17:30), a position every quarter of an hour.
        Returns rows added.

        A worker walks towards one of three grid centres of their community, picks another on
        arrival, about 50 m per step, so coverage is partial and some grids stay unvisited."""
        rng = random.Random(f"{seed}:{day.isoformat()}")
        with self.engine.connect() as conn:
            workers = conn.execute(
                select(WorkerRow.id, WorkerRow.lon, WorkerRow.lat, WorkerRow.grid_code).order_by(
                    WorkerRow.id
                )
            ).all()
            centres: dict[str, list[tuple[float, float]]] = {}
            for code, lon, lat in conn.execute(
                select(RegionRow.code, RegionRow.centroid_lon, RegionRow.centroid_lat).where(
                    RegionRow.level == "grid"
                )
            ):
                centres.setdefault(code[:12], []).append((lon, lat))
        start = datetime.combine(day, DAY_START)
        end = min(datetime.combine(day, DAY_END), now)
        if end <= start:
            return 0
        index = self._grids.get()
        rows: list[dict[str, Any]] = []
        for wid, lon, lat, grid in workers:
            if rng.random() > share:
                continue
            community = centres.get((grid or "")[:12]) or [(lon, lat)]
            targets = rng.sample(community, min(3, len(community)))
            target = rng.choice(targets)
            at = start + timedelta(minutes=rng.randint(0, 40))
            while at <= end:
                rows.append(
                    {
                        "worker_id": wid,
                        "at": at,
                        "lon": round(lon, 6),
                        "lat": round(lat, 6),
                        "grid_code": index.locate(lon, lat),
                        "on_duty": True,
                    }
                )
                dist = _metres(lon, lat, *target)
                if dist < 40:
                    target = rng.choice(targets)
                    dist = _metres(lon, lat, *target)
                step = min(1.0, 50.0 / max(dist, 1.0))
                lon += (target[0] - lon) * step + rng.gauss(0, 0.00008)
                lat += (target[1] - lat) * step + rng.gauss(0, 0.00006)
                at += timedelta(minutes=15)
        with self.engine.begin() as conn:
            for i in range(0, len(rows), 5000):
                conn.execute(insert(positions), rows[i : i + 5000])
        return len(rows)


#: patrol stores by the app's data services (panel fetchers only see the services)
_STORES: weakref.WeakKeyDictionary[Any, PatrolStore] = weakref.WeakKeyDictionary()


def store_of(cc_or_services: Any) -> PatrolStore | None:
    """The app's patrol store (from the app or its data services), or None when the GIS is
    not the embedded backend."""
    store = getattr(cc_or_services, "patrol", None)
    if isinstance(store, PatrolStore):
        return store
    return _STORES.get(cc_or_services)


def install(cc: Any) -> None:
    """With the embedded backend: make sure the table exists, fill today's demo tracks if
    there are none, and record every worker move from now on."""
    from adapters.sql.db import make_engine, upgrade
    from command_center import events

    settings = cc.settings
    if settings.adapter_choice("gis")[0] != "sql":
        return
    url = settings.effective_database_url
    engine = make_engine(url)
    store = PatrolStore(engine)
    try:
        if not store.ready():
            upgrade(url, "patrol@head")
        now = cc.services.clock()
        for day in (now.date() - timedelta(days=1), now.date()):
            if store.count_on(day) == 0:
                added = store.generate_day(day, now)
                log.info("generated %d demo patrol positions for %s", added, day)
    except Exception:  # noqa: BLE001 - a wall without patrol tracks still shows the map
        log.exception("patrol tracks unavailable")
        return
    cc.patrol = store
    _STORES[cc.services] = store

    def on_move(_topic: str, payload: dict[str, Any]) -> None:
        try:
            store.record(payload["worker_id"], payload["lon"], payload["lat"], cc.services.clock())
        except Exception:  # noqa: BLE001 - a lost position must not stop the simulator
            log.warning("could not record patrol position %s", payload, exc_info=True)

    cc.bus.subscribe(events.WORKER_MOVED, on_move)
