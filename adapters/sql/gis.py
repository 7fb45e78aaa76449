"""The built-in GIS: region hierarchy, point layers and grid profiles from the ``sql`` backend.

Region codes nest by prefix (district 6 > street 9 > community 12 > grid 14/15), so "inside
a region" is a prefix match on grid codes. Point-to-grid uses the shared ``GridIndex``
(R-tree + exact containment), built once from the grid polygons.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session

from adapters.base import AdapterError, NotFound
from adapters.gis.contract import (
    LEVELS,
    POINT_LAYERS,
    GisAdapter,
    GridProfile,
    PointFeature,
    Region,
)
from adapters.sql.common import GridIndexCache, clock_option, engine_from_options, ping
from adapters.sql.db import IMMEDIATE
from adapters.sql.models import (
    CaseRow,
    ComponentRow,
    DeviceRow,
    HouseholdRow,
    HouseRow,
    KeyPlaceRow,
    OrganisationRow,
    PersonRow,
    RegionRow,
    WorkerRow,
)
from command_center.domain.coords import to_wgs84

OPEN = ("reported", "accepted", "registered", "dispatched", "handled", "verified")
#: person tags (``people.tags``) counted as special care groups (特殊关爱人群)
SPECIAL_CARE = ("残疾人", "低保", "特困", "留守儿童", "社区矫正", "刑满释放", "精神障碍")


class SqlGisAdapter(GisAdapter):
    """Regions and map layers of the embedded database.

    Options: ``database_url`` or ``engine``, ``grid_seq_width``, ``now`` (a clock for
    ``move_worker``); other keyword options are accepted and kept (the app passes the
    shared settings to every adapter).
    """

    def __init__(
        self,
        database_url: str = "",
        grid_seq_width: int = 2,
        *,
        engine: Engine | None = None,
        now: Callable[[], datetime] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(**options)
        self.engine, self._owns_engine = engine_from_options(database_url, engine)
        self.grid_seq_width = int(grid_seq_width)
        self.now = clock_option(now)
        self._grids = GridIndexCache(self.engine)

    def ping(self) -> None:
        ping(self.engine)

    def close(self) -> None:
        if self._owns_engine:
            self.engine.dispose()

    # ------------------------------------------------------------------------ regions

    @staticmethod
    def _to_region(r: RegionRow) -> Region:
        return Region(
            code=r.code,
            name=r.name,
            level=r.level,
            parent_code=r.parent_code,
            geometry=json.loads(r.geometry),
            centroid=(r.centroid_lon, r.centroid_lat),
            area_m2=r.area_m2 or 0.0,
            population=r.population or 0,
            households=r.households or 0,
            synthetic=bool(r.synthetic),
        )

    def regions(self, level: str, parent_code: str | None = None) -> list[Region]:
        if level not in LEVELS:
            raise AdapterError(f"unknown region level {level!r}; use one of {', '.join(LEVELS)}")
        query = select(RegionRow).where(RegionRow.level == level)
        if parent_code:
            # any ancestor, not only the direct parent: codes nest by prefix
            query = query.where(RegionRow.code.startswith(parent_code, autoescape=True))
        with Session(self.engine) as conn:
            rows = conn.execute(query.order_by(RegionRow.code)).scalars().all()
        return [self._to_region(r) for r in rows]

    def region(self, code: str) -> Region:
        with Session(self.engine) as conn:
            row = conn.execute(select(RegionRow).where(RegionRow.code == code)).scalar()
        if row is None:
            raise NotFound(f"区域不存在 / no region {code!r}")
        return self._to_region(row)

    def locate(self, lon: float, lat: float, datum: str = "wgs84") -> Region | None:
        try:
            lon, lat = to_wgs84(float(lon), float(lat), datum)
        except ValueError as exc:
            raise AdapterError(str(exc)) from None
        code = self._grids.get().locate(lon, lat)
        return None if code is None else self.region(code)

    # ------------------------------------------------------------------------ layers

    def points(self, layer: str, region_code: str | None = None) -> list[PointFeature]:
        if layer not in POINT_LAYERS:
            raise AdapterError(f"unknown layer {layer!r}; use one of {', '.join(POINT_LAYERS)}")
        with Session(self.engine) as conn:
            if layer == "worker":
                rows = self._in_region(select(WorkerRow), WorkerRow.grid_code, region_code)
                return [self._worker(r) for r in conn.execute(rows).scalars()]
            if layer == "component":
                rows = self._in_region(select(ComponentRow), ComponentRow.grid_code, region_code)
                return [
                    PointFeature(
                        id=r.code,
                        layer="component",
                        name=r.name,
                        lon=r.lon,
                        lat=r.lat,
                        grid_code=r.grid_code,
                        status=r.state,
                        props={"class_code": r.class_code, "owning_dept": r.owning_dept},
                    )
                    for r in conn.execute(rows).scalars()
                ]
            if layer == "key_place":
                rows = self._in_region(select(KeyPlaceRow), KeyPlaceRow.grid_code, region_code)
                return [self._key_place(r) for r in conn.execute(rows).scalars()]
            kind = "camera" if layer == "camera" else "sensor"
            rows = self._in_region(
                select(DeviceRow).where(DeviceRow.kind == kind), DeviceRow.grid_code, region_code
            )
            return [
                PointFeature(
                    id=r.id,
                    layer=layer,
                    name=r.name,
                    lon=r.lon,
                    lat=r.lat,
                    grid_code=r.grid_code,
                    status=r.status,
                    props={"sensor_type": r.sensor_type} if r.sensor_type else {},
                    updated_at=r.updated_at,
                )
                for r in conn.execute(rows).scalars()
            ]

    @staticmethod
    def _in_region(query: Any, column: Any, region_code: str | None) -> Any:
        if region_code:
            query = query.where(column.startswith(region_code, autoescape=True))
        return query

    @staticmethod
    def _worker(r: WorkerRow) -> PointFeature:
        # no phone here: the map is a public display; a console reveals it through the
        # audited people service
        return PointFeature(
            id=r.id,
            layer="worker",
            name=r.name,
            lon=r.lon,
            lat=r.lat,
            grid_code=r.grid_code,
            status="on_duty" if r.on_duty else "off_duty",
            props={"role": r.role, "social_grid_code": r.social_grid_code},
            updated_at=r.updated_at,
        )

    @staticmethod
    def _key_place(r: KeyPlaceRow) -> PointFeature:
        return PointFeature(
            id=r.id,
            layer="key_place",
            name=r.name,
            lon=r.lon,
            lat=r.lat,
            grid_code=r.grid_code,
            props={"kind": r.kind, "address": r.address},
        )

    # ------------------------------------------------------------------------ grids

    def grid_profile(self, grid_code: str) -> GridProfile:
        with Session(self.engine) as conn:
            grid = conn.execute(
                select(RegionRow).where(RegionRow.code == grid_code, RegionRow.level == "grid")
            ).scalar()
            if grid is None:
                raise NotFound(f"网格不存在 / no unit grid {grid_code!r}")

            def count(query: Any) -> int:
                return int(conn.execute(query).scalar_one())

            houses = count(select(func.count()).where(HouseRow.grid_code == grid_code))
            households = count(
                select(func.count())
                .select_from(HouseholdRow)
                .join(HouseRow, HouseholdRow.house_id == HouseRow.id)
                .where(HouseRow.grid_code == grid_code)
            )
            people = count(
                select(func.count())
                .select_from(PersonRow)
                .join(HouseholdRow, PersonRow.household_id == HouseholdRow.id)
                .join(HouseRow, HouseholdRow.house_id == HouseRow.id)
                .where(HouseRow.grid_code == grid_code)
            )
            residents = (
                select(func.count())
                .select_from(PersonRow)
                .join(HouseholdRow, PersonRow.household_id == HouseholdRow.id)
                .join(HouseRow, HouseholdRow.house_id == HouseRow.id)
                .where(HouseRow.grid_code == grid_code)
            )
            registered = count(residents.where(HouseholdRow.kind == "户籍"))
            floating = count(residents.where(HouseholdRow.kind == "流动"))
            elderly_alone = count(residents.where(PersonRow.tags.contains("独居老人")))
            special_care = count(
                residents.where(or_(*(PersonRow.tags.contains(tag) for tag in SPECIAL_CARE)))
            )
            organisations = count(
                select(func.count()).where(OrganisationRow.grid_code == grid_code)
            )
            components = count(select(func.count()).where(ComponentRow.grid_code == grid_code))
            open_cases = count(
                select(func.count()).where(CaseRow.grid_code == grid_code, CaseRow.status.in_(OPEN))
            )
            # the grid's team: whoever is assigned to its social grid, or is in it now
            team = select(WorkerRow).where(
                (WorkerRow.grid_code == grid_code)
                | (
                    (WorkerRow.social_grid_code == grid.social_grid_code)
                    & (WorkerRow.social_grid_code.is_not(None))
                )
            )
            team_rows = conn.execute(team.order_by(WorkerRow.id)).scalars().all()
            workers = [self._worker(r) for r in team_rows]
            phones = {r.id: r.phone for r in team_rows if r.phone}
            places = [
                self._key_place(r)
                for r in conn.execute(
                    select(KeyPlaceRow).where(KeyPlaceRow.grid_code == grid_code)
                ).scalars()
            ]
        return GridProfile(
            grid=self._to_region(grid),
            workers=workers,
            people=people,
            households=households,
            houses=houses,
            organisations=organisations,
            components=components,
            key_places=places,
            open_cases=open_cases,
            people_registered=registered,
            people_floating=floating,
            elderly_alone=elderly_alone,
            special_care=special_care,
            worker_phones=phones,
        )

    def move_worker(self, worker_id: str, lon: float, lat: float, on_duty: bool) -> PointFeature:
        grid = self._grids.get().locate(float(lon), float(lat))
        with Session(self.engine.execution_options(**IMMEDIATE)) as conn, conn.begin():
            row = conn.execute(select(WorkerRow).where(WorkerRow.id == worker_id)).scalar()
            if row is None:
                raise NotFound(f"网格员不存在 / no worker {worker_id!r}")
            conn.execute(
                WorkerRow.__table__.update()
                .where(WorkerRow.id == worker_id)
                .values(
                    lon=float(lon),
                    lat=float(lat),
                    on_duty=bool(on_duty),
                    grid_code=grid,
                    updated_at=self.now(),
                )
            )
            conn.refresh(row)
            return self._worker(row)
