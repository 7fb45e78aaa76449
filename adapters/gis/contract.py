"""The GIS contract: the region hierarchy and the point layers of the city map.

Region levels follow DOMAIN.md: district (6-digit GB/T 2260 code) > street (9) >
community (12) > grid (14-digit unit grid code, or 15 with a 3-digit sequence).
All coordinates are WGS-84; geometry is GeoJSON (lon, lat order).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from adapters.base import Adapter

LEVELS = ("district", "street", "community", "grid")
POINT_LAYERS = ("worker", "component", "key_place", "sensor", "camera")


@dataclass
class Region:
    code: str
    name: str
    level: str  # one of LEVELS
    parent_code: str | None
    geometry: dict[str, Any]  # GeoJSON Polygon or MultiPolygon
    centroid: tuple[float, float]  # lon, lat
    area_m2: float = 0.0
    population: int = 0
    households: int = 0
    synthetic: bool = False  # True for the demo generator's invented geometry


@dataclass
class PointFeature:
    id: str
    layer: str  # one of POINT_LAYERS
    name: str
    lon: float
    lat: float
    grid_code: str | None = None
    # worker: on_duty/off_duty; device: online/offline/alarm; component: 完好/破损/丢失/占用
    status: str = "ok"
    props: dict[str, Any] = field(default_factory=dict)
    updated_at: datetime | None = None


@dataclass
class GridProfile:
    """A grid's profile: 人进户、户进房、房进网格、网格进图."""

    grid: Region
    workers: list[PointFeature]
    people: int
    households: int
    houses: int
    organisations: int
    components: int
    key_places: list[PointFeature]
    open_cases: int = 0
    # people by category (counts only), and the team's phones (raw: a wall masks them)
    people_registered: int = 0  # 户籍人口
    people_floating: int = 0  # 流动人口
    elderly_alone: int = 0  # 独居老人
    special_care: int = 0  # 特殊关爱人群 (残疾人, 低保, 留守儿童 ...)
    worker_phones: dict[str, str] = field(default_factory=dict)


class GisAdapter(Adapter):
    kind = "gis"

    @abstractmethod
    def regions(self, level: str, parent_code: str | None = None) -> list[Region]:
        """Regions of one level, optionally only the children of ``parent_code``."""

    @abstractmethod
    def region(self, code: str) -> Region:
        """One region by code, any level. Raises ``NotFound``."""

    @abstractmethod
    def locate(self, lon: float, lat: float, datum: str = "wgs84") -> Region | None:
        """The unit grid containing the point (exact containment), or None outside all grids.
        Points in "gcj02" or "bd09" are converted to WGS-84 first."""

    @abstractmethod
    def points(self, layer: str, region_code: str | None = None) -> list[PointFeature]:
        """The features of one point layer, optionally inside one region."""

    @abstractmethod
    def grid_profile(self, grid_code: str) -> GridProfile:
        """What is in one grid. Raises ``NotFound``."""

    @abstractmethod
    def move_worker(self, worker_id: str, lon: float, lat: float, on_duty: bool) -> PointFeature:
        """Record a grid worker's new position (from a patrol app or the simulator)."""
