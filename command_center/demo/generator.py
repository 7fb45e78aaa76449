"""The deterministic demo city: regions, people, things and a year of cases in the sql backend.

``generate(url, size, seed)`` fills an empty database (created by the migrations) with a
district calibrated on 东城区 (DOMAIN.md): ~42 km², 17 streets, ~200 communities, unit grids
of ~10,000 m² tiling each community, people in households in houses in grids, components,
grid workers, cameras, IoT sensors, key places, departments, and about 3,000 cases a month
with their workflow history. The same seed (and ``now``) gives the same city.

Sizes: ``tiny`` (two streets, a few hundred cases, seconds: the tests use it), ``demo``
(the full district, 12 months) and ``large`` (a provincial-capital scale, ten million cases
for benchmarks; bulk loaded with COPY on PostgreSQL).
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, Connection, Date, DateTime, bindparam, func, select, text
from sqlalchemy.engine import make_url

from adapters.sql import rollup
from adapters.sql.db import downgrade, make_engine, upgrade
from adapters.sql.models import Base, RegionRow
from adapters.sql.workflow import apply_action, limit_hours
from command_center.demo import names
from command_center.demo.geometry import (
    LocalPlane,
    block_partition,
    district_outline,
    number_west_east_north_south,
    sample_in,
    voronoi_partition,
)
from command_center.domain.calendar import WorkingCalendar, load_calendar, local_now
from command_center.domain.classes import DEPARTMENTS, CaseClass, Catalogue, load_catalogue
from command_center.domain.codes import (
    citizen_id_check_char,
    make_component_code,
    make_grid_code,
)

Size = Literal["tiny", "demo", "large"]

#: 东城区's centre, where the synthetic outline is drawn
CENTRE = (116.416, 39.928)


@dataclass(frozen=True)
class Preset:
    area_m2: float
    streets: int
    communities_per_street: int
    months: int
    cases_per_month: int
    people_per_km2: float  # residents; 东城区 has about 16,000/km²
    grid_m2: float = 10_000.0
    steps_days: int | None = None  # write history steps only for this many recent days


PRESETS: dict[str, Preset] = {
    "tiny": Preset(1.3e6, 2, 3, 12, 35, 4_000),
    # 东城区 has ~16,000 residents/km²; the demo keeps ~60% so it builds in well under a minute
    "demo": Preset(42e6, 17, 12, 12, 3_000, 10_000),
    # 10k+ grids and ten million cases: a provincial capital's load, for benchmarks
    "large": Preset(100e6, 40, 13, 36, 280_000, 1_500, steps_days=31),
}

# Source shares of the wall's "cases by source" (DOMAIN.md, calibrated on real centres)
SOURCE_SHARES = {
    "supervisor": 0.45,
    "grid_worker": 0.20,
    "public": 0.12,
    "hotline": 0.12,
    "video": 0.06,
    "iot": 0.03,
    "leader": 0.02,
}
COMPONENT_SHARE = 0.03  # 97% events, 3% components

# Relative frequency of event classes; seasonal factors by month below
EVENT_WEIGHTS = {
    "0101": 2, "0102": 14, "0103": 6, "0104": 8, "0105": 0.5, "0106": 3, "0201": 14,
    "0301": 3, "0302": 2, "0401": 0.4, "0402": 0.6, "0403": 0.15, "0404": 1.5, "0501": 9,
    "0502": 10, "0503": 9, "0504": 12, "0505": 2, "0601": 3,
}  # fmt: skip
SEASONAL = {
    # 道路积水 in the rainy season (July-August in Beijing), 露天烧烤 on summer evenings
    "0404": {6: 4, 7: 12, 8: 10, 9: 2},
    "0505": {5: 2.5, 6: 4, 7: 5, 8: 5, 9: 2.5},
    "0302": {3: 2, 4: 2.2, 5: 1.6},  # dust in the spring wind
    "0106": {6: 1.5, 7: 1.6, 8: 1.5},
    "0403": {11: 1.8, 12: 2.2, 1: 2.2, 2: 1.8},  # heating season
}
OFF_SEASON = {"0404": 0.05, "0505": 0.15}
VIDEO_CLASSES = ("0501", "0502", "0503", "0504", "0102", "0201")
IOT_CLASSES = ("0404", "0403", "0402")
COMPONENT_WEIGHTS = {
    "0101": 8, "0102": 8, "0103": 8, "0104": 10, "0105": 4, "0106": 3, "0107": 3, "0201": 4,
    "0202": 2, "0203": 3, "0301": 2, "0302": 10, "0303": 4, "0401": 12, "0402": 4, "0403": 1,
    "0404": 3, "0501": 2, "0502": 0.5, "0601": 1, "0602": 2,
}  # fmt: skip

# Reports by hour of day: peaks 9-11 and 14-16, a quiet night
HOUR_WEIGHTS = np.array(
    [0.2, 0.1, 0.08, 0.08, 0.1, 0.25, 0.7, 1.8, 3.8, 6.0, 6.4, 5.0,
     2.8, 3.6, 5.6, 6.0, 5.0, 3.4, 2.4, 1.9, 1.5, 1.0, 0.6, 0.35]
)  # fmt: skip
EVENING_WEIGHTS = np.array(
    [1, 0.5, 0.2, 0, 0, 0, 0, 0, 0, 0, 0, 0.1, 0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 2, 4, 5, 5, 4, 2.5]
)
WEEKDAY_FACTOR = (1.05, 1.05, 1.0, 1.0, 0.98, 0.6, 0.55)

SENSOR_TYPES = ("井盖位移", "积水监测", "烟感", "垃圾满溢", "消防栓水压", "空气质量")
KEY_PLACE_KINDS = (
    ("school", "小学"), ("school", "中学"), ("school", "幼儿园"), ("hospital", "医院"),
    ("hospital", "社区卫生服务中心"), ("market", "农贸市场"), ("market", "商场"),
    ("park", "公园"), ("police", "派出所"), ("elderly_care", "养老院"),
    ("gas_station", "加油站"), ("metro", "地铁站"),
)  # fmt: skip
OUTSIDE_AREAS = ("130102", "370102", "410105", "510104", "420106", "340104", "230103", "120101")
DESCRIPTIONS = {
    "01": ("{addr}附近发现{name}，影响市容", "{addr}门前{name}，约{n}平方米", "{addr}一带{name}"),
    "02": ("{addr}墙面、电线杆张贴{name}", "{addr}附近{name}较多"),
    "03": ("{addr}工地{name}", "群众反映{addr}{name}"),
    "04": ("{addr}发生{name}，请尽快处置", "{addr}{name}，存在安全隐患"),
    "05": ("{addr}存在{name}", "{addr}路口{name}，影响通行"),
    "06": ("{addr}{name}", "{addr}问题：{name}"),
}
COMPONENT_DESCRIPTIONS = ("{addr}{name}{state}", "{addr}附近{name}{state}，请处理")


@dataclass
class GenerationReport:
    size: str
    seed: int
    district_code: str
    database: str  # URL without the password
    now: datetime
    counts: dict[str, int] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)  # seconds per phase
    seconds: float = 0.0

    def summary(self) -> str:
        counts = ", ".join(f"{k} {v:,}" for k, v in self.counts.items())
        return f"demo city {self.size} (seed {self.seed}) in {self.seconds:.1f} s: {counts}"


# ------------------------------------------------------------------------------------ writing


def _sqlite_converter(column_type: Any) -> Callable[[Any], Any] | None:
    if isinstance(column_type, DateTime):
        return lambda v: None if v is None else v.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(column_type, Date):
        return lambda v: None if v is None else v.isoformat()
    if isinstance(column_type, Boolean):
        return lambda v: None if v is None else int(v)
    return None


class BulkWriter:
    """Fast inserts of plain tuples: COPY on PostgreSQL, executemany on SQLite.

    Values are written as SQLAlchemy itself would store them, so ORM and Core reads agree.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.postgres = conn.dialect.name == "postgresql"
        self.counts: dict[str, int] = {}

    def write(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        self.counts[table] = self.counts.get(table, 0) + len(rows)
        if self.postgres:
            raw = self.conn.connection.driver_connection
            cols = ", ".join(columns)
            with raw.cursor() as cur, cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sa_table = Base.metadata.tables[table]
        converters = [_sqlite_converter(sa_table.c[c].type) for c in columns]
        if any(converters):
            rows = [
                tuple(
                    v if conv is None else conv(v) for v, conv in zip(row, converters, strict=True)
                )
                for row in rows
            ]
        placeholders = ", ".join("?" for _ in columns)
        self.conn.exec_driver_sql(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", rows
        )

    def fix_sequences(self, tables: Iterable[str]) -> None:
        """After explicit ids, move PostgreSQL's sequences past them."""
        if not self.postgres:
            return
        for table in tables:
            self.conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
                )
            )


# ------------------------------------------------------------------------------------ the city


@dataclass
class Grid:
    code: str
    name: str
    community_code: str
    street_code: str
    metric: BaseGeometry
    land_use: str  # residential / commercial / public
    households: int = 0
    population: int = 0
    social_grid: str = ""
    road: str = ""
    pool: np.ndarray | None = None  # random interior points (lon, lat) for cases

    def point(self, rng: random.Random) -> tuple[float, float]:
        assert self.pool is not None
        lon, lat = self.pool[rng.randrange(len(self.pool))]
        return float(lon), float(lat)


@dataclass
class City:
    district_code: str
    district_name: str
    plane: LocalPlane
    regions: list[dict[str, Any]]  # rows of the regions table
    grids: list[Grid]
    street_names: dict[str, str]
    community_names: dict[str, str]


def _region_row(
    code: str, name: str, level: str, parent: str | None, metric: BaseGeometry, plane: LocalPlane
) -> dict[str, Any]:
    lonlat = plane.to_lonlat(metric)
    centre = (
        metric.representative_point() if metric.geom_type == "MultiPolygon" else metric.centroid
    )
    if not metric.contains(centre):
        centre = metric.representative_point()
    lon, lat = plane.point_to_lonlat(centre.x, centre.y)
    return {
        "code": code,
        "name": name,
        "level": level,
        "parent_code": parent,
        "geometry": json.dumps(mapping(lonlat), separators=(",", ":")),
        "centroid_lon": round(lon, 7),
        "centroid_lat": round(lat, 7),
        "area_m2": round(metric.area, 1),
        "population": 0,
        "households": 0,
        "social_grid_code": None,
        "synthetic": True,
    }


def build_city(preset: Preset, district: str, seed: int, seq_width: int) -> City:
    """Streets, communities and unit grids; codes numbered west→east, north→south."""
    rng = np.random.default_rng([seed, 1])
    pyrng = random.Random(seed * 7 + 1)
    plane = LocalPlane(*CENTRE)
    outline = district_outline(preset.area_m2, rng)
    district_name = names.DISTRICT_NAMES.get(district, "示范区")
    regions = [_region_row(district, district_name, "district", None, outline, plane)]
    unique = names.UniqueNames(pyrng)

    streets = voronoi_partition(outline, preset.streets, rng)
    streets = number_west_east_north_south(streets, math.sqrt(preset.area_m2) / 4)
    real_names = district == "110101" and preset.streets <= len(names.DONGCHENG_STREETS)
    # real 东城区 names go to the streets roughly in their north-to-south order
    by_north = sorted(range(len(streets)), key=lambda i: -streets[i].centroid.y)
    street_names: dict[str, str] = {}
    community_names: dict[str, str] = {}
    grids: list[Grid] = []
    max_cells = 10**seq_width - 1
    for rank, i in enumerate(by_north):
        code = f"{district}{i + 1:03d}"
        street_names[code] = names.DONGCHENG_STREETS[rank] if real_names else unique.street()
        unique.used.add(street_names[code])
    for i, street in enumerate(streets):
        street_code = f"{district}{i + 1:03d}"
        regions.append(
            _region_row(street_code, street_names[street_code], "street", district, street, plane)
        )
        n_comm = max(1, round(preset.communities_per_street * rng.uniform(0.75, 1.25)))
        communities = voronoi_partition(street, n_comm, rng)
        communities = number_west_east_north_south(communities, math.sqrt(street.area) / 3)
        for j, community in enumerate(communities):
            community_code = f"{street_code}{j + 1:03d}"
            community_names[community_code] = unique.community()
            regions.append(
                _region_row(
                    community_code,
                    community_names[community_code],
                    "community",
                    street_code,
                    community,
                    plane,
                )
            )
            cells = block_partition(community, preset.grid_m2, rng, max_cells)
            cells = number_west_east_north_south(cells, math.sqrt(preset.grid_m2))
            roads = [unique.road() for _ in range(max(1, len(cells) // 6))]
            for k, cell in enumerate(cells):
                code = make_grid_code(community_code, k + 1, seq_width)
                name = f"{community_names[community_code]}{k + 1:0{seq_width}d}网格"
                regions.append(_region_row(code, name, "grid", community_code, cell, plane))
                land_use = pyrng.choices(("residential", "commercial", "public"), (70, 18, 12))[0]
                pool = np.array([plane.point_to_lonlat(x, y) for x, y in sample_in(cell, 24, rng)])
                grids.append(
                    Grid(
                        code,
                        name,
                        community_code,
                        street_code,
                        cell,
                        land_use,
                        road=roads[k % len(roads)],
                        pool=pool,
                    )
                )
    return City(district, district_name, plane, regions, grids, street_names, community_names)


# ------------------------------------------------------------------------------------ people


def _citizen_id(rng: random.Random, area: str, born: date, male: bool, used: set[str]) -> str:
    while True:
        seq = rng.randrange(1, 500) * 2 + (1 if male else 0)
        seq = seq % 1000 or (1 if male else 2)
        first17 = f"{area}{born:%Y%m%d}{seq:03d}"
        cid = first17 + citizen_id_check_char(first17)
        if cid not in used:
            used.add(cid)
            return cid


def _write_population(
    w: BulkWriter, city: City, preset: Preset, seed: int, now: datetime
) -> dict[str, Any]:
    """Houses, households, people (人进户、户进房、房进网格), social grids, organisations."""
    rng = random.Random(seed * 7 + 2)
    nrng = np.random.default_rng([seed, 2])
    used_ids: set[str] = set()
    houses, households, people, organisations = [], [], [], []
    house_id = household_id = person_id = org_id = 0
    per_person_m2 = 1e6 / preset.people_per_km2
    sizes, size_p = (1, 2, 3, 4, 5), (0.22, 0.30, 0.28, 0.12, 0.08)
    for grid in city.grids:
        factor = {"residential": 1.25, "commercial": 0.45, "public": 0.15}[grid.land_use]
        expected = grid.metric.area / per_person_m2 * factor / 2.5
        n_households = int(nrng.poisson(max(expected, 0.1)))
        compound = f"{grid.road}{rng.randrange(1, 200)}号院"
        spots = sample_in(grid.metric, max(1, n_households // 12 + 1), nrng)
        for h in range(n_households):
            house_id += 1
            building = h // 12 + 1
            unit, room = (h % 12) // 6 + 1, f"{(h % 6) // 2 + 1}0{h % 2 + 1}"
            x, y = spots[min(building - 1, len(spots) - 1)]
            lon, lat = city.plane.point_to_lonlat(x, y)
            addr = f"{city.district_name}{compound}{building}号楼{unit}单元{room}"
            houses.append(
                (
                    house_id,
                    grid.code,
                    addr,
                    compound,
                    f"{building}号楼",
                    f"{unit}单元",
                    room,
                    "住宅",
                    round(lon, 7),
                    round(lat, 7),
                )
            )
            household_id += 1
            size = rng.choices(sizes, size_p)[0]
            floating = rng.random() < 0.22
            households.append((household_id, house_id, "流动" if floating else "户籍", size))
            surname = rng.choice(names.SURNAMES)
            for p in range(size):
                person_id += 1
                age = rng.randint(25, 80) if p == 0 else rng.randint(0, 90)
                born = date(now.year - age, rng.randint(1, 12), rng.randint(1, 28))
                male = rng.random() < 0.5
                area = rng.choice(OUTSIDE_AREAS) if floating else city.district_code
                name = surname + names.person_name(rng)[1:] if p < 2 else names.person_name(rng)
                tags = "独居老人" if size == 1 and age >= 70 else ""
                people.append(
                    (
                        person_id,
                        household_id,
                        name,
                        _citizen_id(rng, area, born, male, used_ids),
                        names.phone(rng) if age >= 16 else "",
                        "男" if male else "女",
                        born,
                        "户主" if p == 0 else "家庭成员",
                        tags,
                    )
                )
            grid.households += 1
            grid.population += size
        n_orgs = int(nrng.poisson({"residential": 2, "commercial": 8, "public": 1}[grid.land_use]))
        place = city.community_names[grid.community_code].removesuffix("社区")
        for x, y in sample_in(grid.metric, n_orgs, nrng) if n_orgs else []:
            org_id += 1
            kind, org_name = names.firm(rng, place)
            lon, lat = city.plane.point_to_lonlat(x, y)
            addr = f"{grid.road}{rng.randrange(1, 300)}号"
            organisations.append(
                (org_id, grid.code, org_name, kind, addr, round(lon, 7), round(lat, 7))
            )
        if len(people) > 200_000:
            _flush_population(w, houses, households, people)
            houses, households, people = [], [], []
    _flush_population(w, houses, households, people)
    w.write(
        "organisations", ("id", "grid_code", "name", "kind", "address", "lon", "lat"), organisations
    )

    # 综治网格: consecutive unit grids of a community, 300-500 households each
    social_rows = []
    by_community: dict[str, list[Grid]] = {}
    for grid in city.grids:
        by_community.setdefault(grid.community_code, []).append(grid)
    for community_code, members in by_community.items():
        n, acc, target, current = 0, 0, rng.randint(300, 500), []
        groups: list[list[Grid]] = []
        for grid in members:
            current.append(grid)
            acc += grid.households
            if acc >= target:
                groups.append(current)
                current, acc, target = [], 0, rng.randint(300, 500)
        if current:
            if groups and acc < 150:
                groups[-1].extend(current)
            else:
                groups.append(current)
        for group in groups:
            n += 1
            code = f"{community_code}S{n:02d}"
            name = f"{city.community_names[community_code]}第{n}网格"
            for grid in group:
                grid.social_grid = code
            social_rows.append(
                (
                    code,
                    name,
                    community_code,
                    sum(g.households for g in group),
                    sum(g.population for g in group),
                )
            )
    w.write(
        "social_grids", ("code", "name", "community_code", "households", "population"), social_rows
    )
    return {"social_grids": social_rows}


def _flush_population(w: BulkWriter, houses: list, households: list, people: list) -> None:
    w.write(
        "houses",
        (
            "id",
            "grid_code",
            "address",
            "compound",
            "building",
            "unit",
            "room",
            "usage",
            "lon",
            "lat",
        ),
        houses,
    )
    w.write("households", ("id", "house_id", "kind", "size"), households)
    w.write(
        "people",
        (
            "id",
            "household_id",
            "name",
            "citizen_id",
            "phone",
            "gender",
            "birth_date",
            "relation",
            "tags",
        ),
        people,
    )


# ------------------------------------------------------------------------------------ things


def _write_things(
    w: BulkWriter, city: City, catalogue: Catalogue, seed: int, now: datetime, social: list
) -> dict[str, Any]:
    """Components, grid workers, cameras, IoT sensors, key places, departments."""
    rng = random.Random(seed * 7 + 3)
    nrng = np.random.default_rng([seed, 3])
    plane = city.plane
    comp_classes = catalogue.components()
    weights = [COMPONENT_WEIGHTS.get(c.code, 1.0) for c in comp_classes]
    seq_by_class: dict[str, int] = {}
    components = []
    for grid in city.grids:
        n = int(nrng.poisson(grid.metric.area / 10_000 * 20))
        for x, y in sample_in(grid.metric, n, nrng) if n else []:
            cls = rng.choices(comp_classes, weights)[0]
            seq_by_class[cls.code] = seq_by_class.get(cls.code, 0) + 1
            code = make_component_code(
                city.district_code, cls.code[:2], cls.code[2:], seq_by_class[cls.code]
            )
            state = rng.choices(("完好", "破损", "丢失", "占用"), (95, 3, 1, 1))[0]
            lon, lat = plane.point_to_lonlat(x, y)
            dept = cls.default_department or "D01"
            owner = dept if rng.random() < 0.8 else rng.choice(DEPARTMENTS)[0]
            components.append(
                (
                    code,
                    cls.code,
                    f"{grid.road}{cls.name}",
                    state,
                    round(lon, 7),
                    round(lat, 7),
                    grid.code,
                    dept,
                    owner,
                    dept,
                )
            )
    w.write(
        "components",
        (
            "code",
            "class_code",
            "name",
            "state",
            "lon",
            "lat",
            "grid_code",
            "supervising_dept",
            "owning_dept",
            "maintaining_dept",
        ),
        components,
    )

    grids_by_social: dict[str, list[Grid]] = {}
    for grid in city.grids:
        grids_by_social.setdefault(grid.social_grid, []).append(grid)
    workers = []
    supervisors_by_street: dict[str, list[str]] = {}

    def worker(role: str, grid: Grid, social_code: str | None) -> str:
        wid = f"W{len(workers) + 1:06d}"
        lon, lat = grid.point(rng)
        on_duty = rng.random() < (0.85 if 8 <= now.hour < 18 and now.weekday() < 5 else 0.2)
        updated = now - timedelta(minutes=rng.randint(0, 90))
        workers.append(
            (
                wid,
                names.person_name(rng),
                names.phone(rng),
                role,
                grid.code,
                social_code,
                lon,
                lat,
                on_duty,
                updated,
            )
        )
        return wid

    for code, *_ in social:
        members = grids_by_social[code]
        worker("网格员", rng.choice(members), code)  # one full-time worker per social grid
        if rng.random() < 0.5:
            worker("助理员", rng.choice(members), code)
    for community_code in city.community_names:
        members = [g for g in city.grids if g.community_code == community_code]
        worker("督导员", rng.choice(members), members[0].social_grid)
    for i in range(0, len(city.grids), 8):  # 监督员 patrol about eight unit grids each
        grid = city.grids[i]
        wid = worker("监督员", grid, None)
        supervisors_by_street.setdefault(grid.street_code, []).append(wid)
    w.write(
        "workers",
        (
            "id",
            "name",
            "phone",
            "role",
            "grid_code",
            "social_grid_code",
            "lon",
            "lat",
            "on_duty",
            "updated_at",
        ),
        workers,
    )

    devices = []
    cameras_by_grid: dict[str, str] = {}
    sensors_by_grid: dict[str, str] = {}
    for grid in city.grids:
        if rng.random() < 0.5:
            did = f"C{len(devices) + 1:06d}"
            online = rng.random() < 0.96
            lon, lat = grid.point(rng)
            devices.append(
                (
                    did,
                    "camera",
                    "",
                    f"{grid.road}监控点",
                    lon,
                    lat,
                    grid.code,
                    online,
                    "online" if online else "offline",
                    now,
                )
            )
            cameras_by_grid[grid.code] = did
        if rng.random() < 0.35:
            did = f"S{len(devices) + 1:06d}"
            kind = rng.choice(SENSOR_TYPES)
            online = rng.random() < 0.95
            status = "offline" if not online else ("alarm" if rng.random() < 0.02 else "online")
            lon, lat = grid.point(rng)
            devices.append(
                (
                    did,
                    "sensor",
                    kind,
                    f"{grid.road}{kind}传感器",
                    lon,
                    lat,
                    grid.code,
                    online,
                    status,
                    now,
                )
            )
            sensors_by_grid[grid.code] = did
    w.write(
        "devices",
        (
            "id",
            "kind",
            "sensor_type",
            "name",
            "lon",
            "lat",
            "grid_code",
            "online",
            "status",
            "updated_at",
        ),
        devices,
    )

    key_places = []
    for grid in city.grids:
        if rng.random() < 1 / 14:
            kind, word = rng.choice(KEY_PLACE_KINDS)
            place = city.community_names[grid.community_code].removesuffix("社区")
            lon, lat = grid.point(rng)
            key_places.append(
                (
                    f"K{len(key_places) + 1:05d}",
                    kind,
                    f"{place}{word}",
                    f"{grid.road}{rng.randrange(1, 300)}号",
                    lon,
                    lat,
                    grid.code,
                )
            )
    w.write("key_places", ("id", "kind", "name", "address", "lon", "lat", "grid_code"), key_places)

    departments = [(code, name, name_en, "department") for code, name, name_en in DEPARTMENTS]
    departments += [(code, name, "", "street") for code, name in city.street_names.items()]
    w.write("departments", ("code", "name", "name_en", "kind"), departments)
    return {
        "components": components,
        "supervisors": supervisors_by_street,
        "cameras": cameras_by_grid,
        "sensors": sensors_by_grid,
    }


# ------------------------------------------------------------------------------------ cases

CASE_COLUMNS = (
    "id", "number", "kind", "class_code", "big_class_code", "source", "status", "description",
    "address", "lon", "lat", "grid_code", "community_code", "street_code", "district_code",
    "reported_at", "reported_day", "hour_of_week", "urgent", "department_code", "accepted_at",
    "registered_at", "dispatched_at", "deadline", "handled_at", "verified_at", "closed_at",
    "voided_at", "handled_on_time", "closed_on_time", "rework_count", "extension_count",
    "return_count", "urge_count", "escalated", "component_code", "external_id", "reporter",
    "updated_at",
)  # fmt: skip
STEP_COLUMNS = ("case_id", "at", "action", "actor", "note", "from_status", "to_status")


def hour_of_week(at: datetime) -> int:
    """Monday 00h = 0 ... Sunday 23h = 167."""
    return at.weekday() * 24 + at.hour


class CaseSimulator:
    """Plays one case through the workflow up to ``now``: timestamps, flags and steps."""

    def __init__(self, catalogue: Catalogue, calendar: WorkingCalendar, now: datetime) -> None:
        self.catalogue = catalogue
        self.calendar = calendar
        self.now = now

    def _after(self, cls: CaseClass, urgent: bool, start: datetime, fraction: float) -> datetime:
        limit = cls.limit_for(urgent)
        hours = fraction * limit_hours(cls, urgent, self.calendar)
        if limit.unit == "hours":
            return start + timedelta(hours=hours)
        return self.calendar.add_working_hours(start, hours)

    def play(
        self,
        rng: random.Random,
        case: dict[str, Any],
        cls: CaseClass,
        street_dept: str,
        actors: dict[str, str],
    ) -> list[tuple]:
        """Fill ``case``'s workflow fields; return its history steps (without the case id)."""
        now, urgent = self.now, case["urgent"]
        t = case["reported_at"]
        plan: list[tuple[str, datetime, str, str, str]] = []  # action, at, to, actor, note
        quick = case["source"] in ("supervisor", "grid_worker", "iot", "video")
        t = t + timedelta(minutes=rng.uniform(2, 12) if quick else rng.uniform(5, 45))
        void_p = 0.06 if case["source"] in ("public", "hotline") else 0.02
        if rng.random() < void_p:
            plan.append(("reject", t, "voided", actors["acceptor"], "重复上报，已合并"))
        else:
            plan.append(("accept", t, "accepted", actors["acceptor"], "已核实"))
            t += timedelta(minutes=rng.uniform(5, 50))
            plan.append(("register", t, "registered", actors["leader"], "符合立案条件"))
            t += timedelta(minutes=rng.uniform(3, 40))
            own_dept = cls.default_department or "D01"
            territorial = cls.kind == "event" and cls.big_code != "04" and rng.random() < 0.5
            dept = street_dept if territorial else case.get("_owner") or own_dept
            if rng.random() < 0.02:  # wrongly dispatched, returned, dispatched again
                wrong = rng.choice([d for d, *_ in DEPARTMENTS if d != own_dept])
                plan.append(("dispatch", t, "dispatched", actors["dispatcher"], wrong))
                t += timedelta(hours=rng.uniform(0.3, 3))
                plan.append(("return", t, "registered", wrong, "非本部门职责"))
                t += timedelta(minutes=rng.uniform(10, 60))
            plan.append(("dispatch", t, "dispatched", actors["dispatcher"], dept))
            fraction = math.exp(rng.gauss(math.log(0.42), 0.55))
            if rng.random() < 0.004:
                fraction = rng.uniform(3, 12)  # stuck: long overdue
            if fraction > 0.8 and rng.random() < 0.35:
                ext_at = self._after(cls, urgent, t, 0.7)
                plan.append(
                    (
                        "extend",
                        ext_at,
                        "dispatched",
                        actors["dispatcher"],
                        f"{limit_hours(cls, urgent, self.calendar):g}",
                    )
                )
            if fraction > 0.9 and rng.random() < 0.6:
                plan.append(
                    (
                        "urge",
                        self._after(cls, urgent, t, 0.85),
                        "dispatched",
                        actors["dispatcher"],
                        "请尽快处置",
                    )
                )
            handled = self._after(cls, urgent, t, fraction)
            plan.append(("report_back", handled, "handled", dept, "已处置，附照片"))
            t = handled + timedelta(hours=rng.uniform(0.3, 5))
            if rng.random() < 0.04:
                plan.append(("rework", t, "dispatched", actors["supervisor"], "现场未处置到位"))
                again = self._after(cls, urgent, t, rng.uniform(0.1, 0.6))
                plan.append(("report_back", again, "handled", dept, "已重新处置"))
                t = again + timedelta(hours=rng.uniform(0.3, 5))
            plan.append(("verify", t, "verified", actors["supervisor"], "核查通过"))
            t += timedelta(hours=rng.uniform(0.1, 2.5))
            plan.append(("close", t, "closed", actors["leader"], "结案"))
        plan.sort(key=lambda p: p[1])

        steps = [
            (
                case["reported_at"],
                "report",
                case["reporter"],
                case["description"][:40],
                None,
                "reported",
            )
        ]
        status = "reported"
        for action, at, to, actor, note in plan:
            if at > now:
                break
            self.apply(case, cls, action, at, note, to)
            steps.append((at, action, actor, "" if action == "dispatch" else note, status, to))
            status = to
        case["status"] = status
        case["updated_at"] = steps[-1][0]
        return steps

    def apply(
        self, case: dict[str, Any], cls: CaseClass, action: str, at: datetime, note: str, to: str
    ) -> None:
        """The field changes of one action: the same code as the adapter's ``act``."""
        apply_action(
            case,
            cls,
            action,
            at,
            self.calendar,
            to_status=to,
            department_code=note if action == "dispatch" else None,
            extend_hours=float(note) if action == "extend" else None,
        )


def _daily_counts(
    preset: Preset, start: date, days: int, calendar: WorkingCalendar, nrng: np.random.Generator
) -> list[int]:
    # the weekday factors average ~0.9: scale so the month total is cases_per_month
    base = preset.cases_per_month * 12 / 365.25 / (sum(WEEKDAY_FACTOR) / 7)
    out = []
    for i in range(days):
        d = start + timedelta(days=i)
        factor = WEEKDAY_FACTOR[d.weekday()]
        if not calendar.is_working_day(d) and d.weekday() < 5:
            factor = 0.5  # public holiday
        elif calendar.is_working_day(d) and d.weekday() >= 5:
            factor = 1.0  # make-up working day
        factor *= 1 + 0.12 * math.sin((d.timetuple().tm_yday - 100) / 365.25 * 2 * math.pi)
        out.append(int(nrng.poisson(base * factor)))
    return out


def _write_cases(
    w: BulkWriter,
    engine_conn_commit: Callable[[], None],
    city: City,
    catalogue: Catalogue,
    calendar: WorkingCalendar,
    preset: Preset,
    seed: int,
    now: datetime,
    things: dict[str, Any],
    progress: Callable[[str], None],
) -> None:
    rng = random.Random(seed * 7 + 4)
    nrng = np.random.default_rng([seed, 4])
    sim = CaseSimulator(catalogue, calendar, now)
    days = round(preset.months * 365.25 / 12)
    start = now.date() - timedelta(days=days - 1)
    counts = _daily_counts(preset, start, days, calendar, nrng)
    total = sum(counts)
    # hotspots: a few grids far busier than the rest
    hot = nrng.lognormal(0.0, 0.8, len(city.grids))
    hot[nrng.random(len(city.grids)) < 0.04] *= 6
    hot *= np.array(
        [{"commercial": 2.0, "residential": 1.0, "public": 0.6}[g.land_use] for g in city.grids]
    )
    grid_cum = np.cumsum(hot / hot.sum())
    events = catalogue.events()
    comps = catalogue.components()
    components = things["components"]
    class_by_code = {c.code: c for c in events}
    sources = list(SOURCE_SHARES)
    source_w = list(SOURCE_SHARES.values())
    hour_cum = np.cumsum(HOUR_WEIGHTS / HOUR_WEIGHTS.sum())
    evening_cum = np.cumsum(EVENING_WEIGHTS / EVENING_WEIGHTS.sum())
    month_weights = {
        m: [
            EVENT_WEIGHTS.get(c.code, 1.0)
            * SEASONAL.get(c.code, {}).get(m, OFF_SEASON.get(c.code, 1.0))
            for c in events
        ]
        for m in range(1, 13)
    }
    grid_of = {g.code: g for g in city.grids}
    staff = {
        "acceptor": [f"受理员{i:02d}" for i in range(1, 7)],
        "leader": [f"值班长{i:02d}" for i in range(1, 4)],
        "dispatcher": [f"派遣员{i:02d}" for i in range(1, 6)],
    }
    steps_from = start if preset.steps_days is None else now.date() - timedelta(preset.steps_days)
    case_id = step_id = 0
    ext_seq: dict[str, int] = {}
    case_rows: list[tuple] = []
    step_rows: list[tuple] = []
    written = 0
    last_report = time.perf_counter()
    for offset, n in enumerate(counts):
        day = start + timedelta(days=offset)
        day_cases = []
        for _ in range(n):
            is_component = rng.random() < COMPONENT_SHARE and components
            urgent = rng.random() < 0.05
            if is_component:
                comp = components[rng.randrange(len(components))]
                cls = next(c for c in comps if c.code == comp[1])
                grid = grid_of[comp[6]]
                lon, lat = comp[4], comp[5]
                source = rng.choices(
                    ("supervisor", "iot", "grid_worker", "public"), (60, 15, 15, 10)
                )[0]
                state = rng.choice(("破损", "丢失", "占用"))
                description = rng.choice(COMPONENT_DESCRIPTIONS).format(
                    addr=f"{grid.road}{rng.randrange(1, 300)}号", name=cls.name, state=state
                )
            else:
                source = rng.choices(sources, source_w)[0]
                if source == "video":
                    cls = class_by_code.get(rng.choice(VIDEO_CLASSES)) or rng.choice(events)
                elif source == "iot":
                    cls = class_by_code.get(rng.choice(IOT_CLASSES)) or rng.choice(events)
                else:
                    cls = rng.choices(events, month_weights[day.month])[0]
                grid = city.grids[int(np.searchsorted(grid_cum, rng.random()))]
                if source == "iot" and grid.code in things["sensors"]:
                    pass
                lon, lat = grid.point(rng)
                comp = None
                templates = DESCRIPTIONS.get(cls.big_code, DESCRIPTIONS["06"])
                description = rng.choice(templates).format(
                    addr=f"{grid.road}{rng.randrange(1, 300)}号",
                    name=cls.name,
                    n=rng.randint(1, 20),
                )
            cum = evening_cum if cls.code == "0505" and cls.kind == "event" else hour_cum
            hour = int(np.searchsorted(cum, rng.random()))
            at = datetime(
                day.year, day.month, day.day, min(hour, 23), rng.randrange(60), rng.randrange(60)
            )
            if at >= now:
                continue
            external_id = None
            if source in ("hotline", "public", "iot", "video"):
                prefix = {"hotline": "12345", "public": "SSP", "iot": "IOT", "video": "AI"}[source]
                ext_seq[source] = ext_seq.get(source, 0) + 1
                external_id = f"{prefix}-{at:%Y%m%d}-{ext_seq[source]:07d}"
            supervisors = things["supervisors"].get(grid.street_code) or ["监督员"]
            reporter = {
                "supervisor": rng.choice(supervisors),
                "grid_worker": f"网格员@{grid.social_grid}",
                "public": "市民随手拍",
                "hotline": "12345热线",
                "video": things["cameras"].get(grid.code, "视频智能识别"),
                "iot": things["sensors"].get(grid.code, "物联感知"),
                "leader": "区领导交办",
            }[source]
            day_cases.append({
                "kind": cls.kind, "class_code": cls.code, "big_class_code": cls.big_code,
                "source": source, "status": "reported", "description": description,
                "address": description.split("号", 1)[0] + "号" if "号" in description else "",
                "lon": lon, "lat": lat, "grid_code": grid.code,
                "community_code": grid.community_code, "street_code": grid.street_code,
                "district_code": city.district_code, "reported_at": at, "reported_day": day,
                "hour_of_week": hour_of_week(at), "urgent": urgent, "department_code": None,
                "accepted_at": None, "registered_at": None, "dispatched_at": None,
                "deadline": None, "handled_at": None, "verified_at": None, "closed_at": None,
                "voided_at": None, "handled_on_time": None, "closed_on_time": None,
                "rework_count": 0, "extension_count": 0, "return_count": 0, "urge_count": 0,
                "escalated": False, "component_code": comp[0] if comp else None,
                "external_id": external_id, "reporter": reporter, "updated_at": at,
                "_cls": cls, "_owner": comp[8] if comp else None,
            })  # fmt: skip
        day_cases.sort(key=lambda c: c["reported_at"])
        for seq, case in enumerate(day_cases, start=1):
            case_id += 1
            case["id"] = case_id
            case["number"] = f"{city.district_code}-{day:%Y%m%d}-{seq:04d}"
            actors = {
                "acceptor": rng.choice(staff["acceptor"]),
                "leader": rng.choice(staff["leader"]),
                "dispatcher": rng.choice(staff["dispatcher"]),
                "supervisor": case["reporter"]
                if case["source"] == "supervisor"
                else rng.choice(things["supervisors"].get(case["street_code"]) or ["监督员"]),
            }
            steps = sim.play(rng, case, case.pop("_cls"), case["street_code"], actors)
            case.pop("_owner")
            if case["escalated"] is False and case["urge_count"] and rng.random() < 0.3:
                case["escalated"] = True
            case_rows.append(tuple(case[c] for c in CASE_COLUMNS))
            if day >= steps_from:
                for step in steps:
                    step_id += 1
                    step_rows.append((case_id, *step))
        if len(case_rows) >= 50_000 or offset == len(counts) - 1:
            w.write("cases", CASE_COLUMNS, case_rows)
            w.write("case_steps", STEP_COLUMNS, step_rows)
            written += len(case_rows)
            case_rows, step_rows = [], []
            engine_conn_commit()
            if time.perf_counter() - last_report > 10:
                progress(f"  cases {written:,} / ~{total:,}")
                last_report = time.perf_counter()


# ------------------------------------------------------------------------------------ entry


def _safe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def generate(
    url: str,
    size: Size = "demo",
    seed: int = 20261125,
    district_code: str = "110101",
    now: datetime | None = None,
    *,
    grid_seq_width: int = 2,
    catalogue: Catalogue | None = None,
    calendar: WorkingCalendar | None = None,
    progress: Callable[[str], None] | None = None,
) -> GenerationReport:
    """Fill the empty database at ``url`` with the demo city (upgrading its schema first).

    Deterministic for ``seed`` and ``now`` (default: this hour). Raises ``RuntimeError``
    if the database already holds a city (``seed_cli(..., reset=True)`` starts afresh).
    """
    if size not in PRESETS:
        raise ValueError(f"unknown size {size!r}: use one of {', '.join(PRESETS)}")
    preset = PRESETS[size]
    now = now or local_now().replace(minute=0, second=0)
    catalogue = catalogue or load_catalogue(None)
    calendar = calendar or load_calendar(None)
    say = progress or (lambda _msg: None)
    report = GenerationReport(size, seed, district_code, _safe_url(url), now)
    started = time.perf_counter()

    def phase(name: str, t0: float) -> float:
        t1 = time.perf_counter()
        report.phases[name] = round(t1 - t0, 2)
        say(f"  {name}: {t1 - t0:.1f} s")
        return t1

    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(RegionRow)).scalar_one():
                raise RuntimeError(
                    f"{_safe_url(url)} already holds a city; reset it first (seed --reset)"
                )
            conn.rollback()
            t = time.perf_counter()
            city = build_city(preset, district_code, seed, grid_seq_width)
            t = phase("geometry", t)
            with conn.begin():
                w = BulkWriter(conn)
                cols = tuple(city.regions[0])
                w.write("regions", cols, [tuple(r[c] for c in cols) for r in city.regions])
                pop = _write_population(w, city, preset, seed, now)
                _update_population(conn, city)
            t = phase("people, houses, organisations", t)
            with conn.begin():
                things = _write_things(w, city, catalogue, seed, now, pop["social_grids"])
            t = phase("components, workers, devices", t)

            tx = conn.begin()

            def commit() -> None:
                nonlocal tx
                tx.commit()
                tx = conn.begin()

            _write_cases(w, commit, city, catalogue, calendar, preset, seed, now, things, say)
            tx.commit()
            t = phase("cases", t)
            with conn.begin():
                w.fix_sequences(
                    ["houses", "households", "people", "organisations", "cases", "case_steps"]
                )
                sizes = rollup.rebuild(conn)
            t = phase("rollups", t)
            _analyze(conn)
            phase("analyze", t)
            report.counts = {"regions": len(city.regions), "grids": len(city.grids), **w.counts}
            report.counts["rollup_rows"] = sum(sizes.values())
    finally:
        engine.dispose()
    report.seconds = round(time.perf_counter() - started, 2)
    return report


def _update_population(conn: Connection, city: City) -> None:
    """Regions were written first (houses refer to grids); now their head counts."""
    by_code = {r["code"]: r for r in city.regions}
    for grid in city.grids:
        by_code[grid.code].update(
            population=grid.population,
            households=grid.households,
            social_grid_code=grid.social_grid,
        )
    for level in ("grid", "community", "street"):
        for row in city.regions:
            if row["level"] == level and row["parent_code"] in by_code:
                parent = by_code[row["parent_code"]]
                parent["population"] += row["population"]
                parent["households"] += row["households"]
    table = RegionRow.__table__
    conn.execute(
        table.update()
        .where(table.c.code == bindparam("b_code"))
        .values(
            population=bindparam("population"),
            households=bindparam("households"),
            social_grid_code=bindparam("social_grid_code"),
        ),
        [
            {
                "b_code": r["code"],
                "population": r["population"],
                "households": r["households"],
                "social_grid_code": r["social_grid_code"],
            }
            for r in city.regions
        ],
    )


def _analyze(conn: Connection) -> None:
    """Fresh planner statistics after a bulk load (both databases plan better with them)."""
    if conn.dialect.name == "postgresql":
        conn.commit()
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    else:
        with conn.begin():
            conn.exec_driver_sql("ANALYZE")


def seed_cli(
    settings: Any, size: Size | None = None, seed: int | None = None, reset: bool = False
) -> GenerationReport:
    """What ``command-center seed`` runs: upgrade the schema and generate the demo city.

    ``settings`` is a ``command_center.settings.Settings``; ``size`` and ``seed`` default to
    its ``seed_size`` and ``seed``. ``reset`` drops every table of the backend first.
    """
    url = settings.effective_database_url
    size = size or settings.seed_size
    seed = settings.seed if seed is None else seed
    if reset:
        downgrade(url, "base")
    upgrade(url)
    print(
        f"Generating the {size} demo city (seed {seed}) into {_safe_url(url)} ...", file=sys.stderr
    )
    report = generate(
        url,
        size,
        seed,
        settings.district_code,
        grid_seq_width=settings.grid_seq_width,
        catalogue=load_catalogue(settings.case_classes_file),
        calendar=load_calendar(
            settings.calendar_file, settings.workday_start, settings.workday_end
        ),
        progress=lambda msg: print(msg, file=sys.stderr, flush=True),
    )
    print(report.summary(), file=sys.stderr)
    return report


__all__ = ["GenerationReport", "PRESETS", "generate", "seed_cli"]
