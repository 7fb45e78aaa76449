"""The deterministic demo city: regions, people, things and a year of cases in the sql backend.

``generate(url, size, seed)`` fills an empty database (created by the migrations) with a
district calibrated on 东城区 (DOMAIN.md): ~42 km², 17 streets, ~200 communities, unit grids
of ~10,000 m² tiling each community, people in households in houses in grids, components,
grid workers, cameras, IoT sensors, key places, departments, and about 3,000 cases a month
with their workflow history. The same seed (and ``now``) gives the same city.

Sizes: ``tiny`` (two streets, a few hundred cases, seconds: the tests use it), ``demo``
(the full district, 12 months) and ``large`` (a provincial-capital scale, ten million cases
for benchmarks: drawn with numpy in batches by ``_write_cases_bulk``, loaded with COPY on
PostgreSQL and journal-less executemany on SQLite; history steps for its last 31 days only).
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, Literal

import numpy as np
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Boolean, Connection, Date, DateTime, bindparam, func, select, text
from sqlalchemy.engine import make_url

from adapters.sql import rollup
from adapters.sql.db import downgrade, make_engine, upgrade
from adapters.sql.models import Base, CaseRow, CaseStepRow, RegionRow
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
from command_center.demo.photos import write_demo_photos
from command_center.domain.calendar import WorkingCalendar, load_calendar, local_now
from command_center.domain.classes import DEPARTMENTS, CaseClass, Catalogue, load_catalogue
from command_center.domain.codes import (
    citizen_id_check_char,
    make_component_code,
    make_grid_code,
)
from command_center.domain.workflow import (
    DEFAULT_STAGE_LIMITS,
    SATISFACTION,
    closure_allowance_hours,
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
    bulk: bool = False  # draw the cases with numpy in batches (``_write_cases_bulk``)


PRESETS: dict[str, Preset] = {
    "tiny": Preset(1.3e6, 2, 3, 12, 35, 4_000),
    # 东城区 has ~16,000 residents/km²; the demo keeps ~60% so it builds in well under a minute
    "demo": Preset(42e6, 17, 12, 12, 3_000, 10_000),
    # 10k+ grids and ten million cases: a provincial capital's load, for benchmarks
    "large": Preset(100e6, 40, 13, 36, 280_000, 1_500, steps_days=31, bulk=True),
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
    # a real 东城区 name goes on its own official code only (the geometry is invented)
    street_names: dict[str, str] = {}
    community_names: dict[str, str] = {}
    grids: list[Grid] = []
    max_cells = 10**seq_width - 1
    for i in range(len(streets)):
        seq = f"{i + 1:03d}"
        real = names.DONGCHENG_STREET_CODES.get(seq) if real_names else None
        street_names[f"{district}{seq}"] = real or unique.street()
        unique.used.add(street_names[f"{district}{seq}"])
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


# Special-care groups (重点人群) by share of residents; a person's tag comes from a hash of
# their id, not from the generator's random stream, so every other field stays as it was.
CARE_SHARES = (
    ("残疾人", 0.030),
    ("低保", 0.020),
    ("精神障碍", 0.005),
    ("特困", 0.003),
    ("刑满释放", 0.002),
    ("社区矫正", 0.001),
)


def _care_tag(person_id: int) -> str:
    bucket = ((person_id * 2654435761) % 2**32) / 2**32
    for tag, share in CARE_SHARES:
        if bucket < share:
            return tag
        bucket -= share
    return ""


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
                tags = ",".join(
                    t
                    for t in ("独居老人" if size == 1 and age >= 70 else "", _care_tag(person_id))
                    if t
                )
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
    "updated_at", "accepted_on_time", "registered_on_time", "dispatched_on_time",
    "verified_on_time", "satisfaction", "evaluated_at", "handling_seconds",
    "handling_work_seconds",
)  # fmt: skip

# 综合评价: the public rates the closed cases it reported (12345 回访, the app's rating).
EVALUATED_SOURCES = ("public", "hotline")
EVALUATED_SHARE = 0.75  # of those closed cases, the share reached by the 回访
# P(满意), P(基本满意) — the rest is 不满意 — for a case closed on time without rework, else
SATISFACTION_P = {True: (0.80, 0.13), False: (0.45, 0.25)}
EVALUATOR = "12345回访"


def evaluation_of(u: Sequence[float], good: bool) -> tuple[int | None, float]:
    """The public's rating from three uniform draws ``u``: (satisfaction or None when not
    reached, hours after closing)."""
    if u[0] >= EVALUATED_SHARE:
        return None, 0.0
    p_full, p_basic = SATISFACTION_P[bool(good)]
    level = 2 if u[1] < p_full else 1 if u[1] < p_full + p_basic else 0
    return level, 4 + 44 * u[2]


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
            # from the case number, not ``rng``: the rest of the city stays as it was
            hard = random.Random(f"hard:{case.get('number')}")
            held = float(hard_case_delay_days(hard.random(), hard.random()))
            if held:
                handled += timedelta(days=held)
            plan.append(("report_back", handled, "handled", dept, "已处置，附照片"))
            t = handled + timedelta(hours=verify_delay_hours(rng.random()))
            if rng.random() < 0.04:
                plan.append(("rework", t, "dispatched", actors["supervisor"], "现场未处置到位"))
                again = self._after(cls, urgent, t, rng.uniform(0.1, 0.6))
                plan.append(("report_back", again, "handled", dept, "已重新处置"))
                t = again + timedelta(hours=verify_delay_hours(rng.random()))
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
        if status == "closed" and case["source"] in EVALUATED_SOURCES:
            # from the case number, not ``rng``: the rest of the city stays as it was
            draws = random.Random(f"evaluate:{case.get('number')}")
            level, after = evaluation_of(
                [draws.random() for _ in range(3)],
                bool(case["closed_on_time"]) and not case["rework_count"],
            )
            at = case["closed_at"] + timedelta(hours=after)
            if level is not None and at <= now:
                case["satisfaction"], case["evaluated_at"] = level, at
                steps.append((at, "evaluate", EVALUATOR, SATISFACTION[level], status, status))
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
                "accepted_on_time": None, "registered_on_time": None,
                "dispatched_on_time": None, "verified_on_time": None, "satisfaction": None,
                "evaluated_at": None, "handling_seconds": None,
                "handling_work_seconds": None, "rework_count": 0, "extension_count": 0,
                "return_count": 0, "urge_count": 0,
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


# ------------------------------------------------------------------------------------ bulk cases
#
# The ``large`` city (ten million cases) cannot afford ``CaseSimulator``'s ~300 µs per case.
# ``_write_cases_bulk`` draws the same distributions with numpy, a few hundred thousand cases
# at a time, and plays the same workflow plan (``CaseSimulator.play``) as array operations:
# every step's time is computed for every case, then "has it happened by now" masks apply the
# field changes of ``apply_action`` in plan order. Working-hour arithmetic goes through a
# cumulative working-seconds table of the calendar (``_WorkClock``). Times are whole seconds.

_EPOCH = datetime(1970, 1, 1)
_BULK_CHUNK = 400_000  # cases per numpy batch and per commit
_STATUS = ("reported", "accepted", "registered", "dispatched", "handled", "verified", "closed",
           "voided")  # fmt: skip
_ST = {s: i for i, s in enumerate(_STATUS)}


def _secs(dt: datetime) -> int:
    return int((dt - _EPOCH).total_seconds())


class _WorkClock:
    """``WorkingCalendar.add_working_hours`` for arrays of times (seconds since 1970).

    ``W(t)`` is the working seconds from ``first`` to ``t``; adding ``h`` working hours to
    ``t`` is the earliest moment whose ``W`` is ``W(t) + 3600 h``, which is also what the
    calendar does: a start outside working time counts from the next working moment, and a
    deadline landing exactly on a day's end stays at that day's end.
    """

    def __init__(self, calendar: WorkingCalendar, first: date, last: date) -> None:
        n = (last - first).days + 1
        days = [first + timedelta(days=i) for i in range(n)]
        working = np.array([calendar.is_working_day(d) for d in days])
        start = calendar.day_start.hour * 3600 + calendar.day_start.minute * 60
        end = calendar.day_end.hour * 3600 + calendar.day_end.minute * 60
        self.base = _secs(datetime.combine(first, datetime.min.time()))
        self.n = n
        self.open = self.base + np.arange(n, dtype=np.int64) * 86400 + start
        self.length = np.where(working, end - start, 0).astype(np.int64)
        self.cum = np.concatenate(([0], np.cumsum(self.length)[:-1])).astype(np.int64)
        self.cum_end = self.cum + self.length

    def worked(self, t: np.ndarray) -> np.ndarray:
        d = np.clip((t - self.base) // 86400, 0, self.n - 1)
        return self.cum[d] + np.clip(t - self.open[d], 0, self.length[d])

    def add(self, t: np.ndarray, seconds: np.ndarray, wall: np.ndarray) -> np.ndarray:
        """``t`` plus ``seconds``: wall-clock where ``wall``, else working time."""
        target = self.worked(t) + seconds
        d = np.minimum(np.searchsorted(self.cum_end, target, side="left"), self.n - 1)
        work = self.open[d] + (target - self.cum[d])
        return np.rint(np.where(wall, t + seconds, work)).astype(np.int64)


_HMS: list[str] = []


def _iso(t: np.ndarray) -> list[str]:
    """Seconds since 1970 as "YYYY-MM-DD HH:MM:SS" strings (day and time-of-day tables: far
    faster than formatting each datetime)."""
    if not _HMS:
        _HMS.extend(f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60)
                    for s in range(60))  # fmt: skip
    if not len(t):
        return []
    days, secs = np.divmod(t, 86400)
    first = int(days.min())
    names_ = [
        (_EPOCH + timedelta(days=first + i)).strftime("%Y-%m-%d ")
        for i in range(int(days.max()) - first + 1)
    ]
    return [names_[d] + _HMS[s] for d, s in zip((days - first).tolist(), secs.tolist(),
                                                  strict=True)]  # fmt: skip


class _Columns:
    """One batch of rows, column by column, written in the database's own text forms."""

    def __init__(self, postgres: bool) -> None:
        self.postgres = postgres
        self.cols: list[list[Any]] = []

    def add(self, values: Sequence[Any], present: np.ndarray | None = None) -> None:
        values = list(values)
        null = "\\N" if self.postgres else None
        if present is not None:
            values = [v if p else null for v, p in zip(values, present.tolist(), strict=True)]
        elif self.postgres:
            values = [null if v is None else v for v in values]
        if self.postgres:
            values = [v if isinstance(v, str) else str(v) for v in values]
        self.cols.append(values)

    def time(self, t: np.ndarray, present: np.ndarray | None = None) -> None:
        # SQLAlchemy's SQLite DateTime storage format (strings compare in time order)
        text_ = _iso(t) if self.postgres else [f"{s}.000000" for s in _iso(t)]
        self.add(text_, present)

    def flag(self, values: np.ndarray, present: np.ndarray | None = None) -> None:
        if self.postgres:
            self.add(np.where(values, "t", "f").tolist(), present)
        else:
            self.add(values.astype(np.int64).tolist(), present)

    def write(self, conn: Connection, table: str, columns: Sequence[str]) -> None:
        if not self.cols or not self.cols[0]:
            return
        raw = conn.connection.driver_connection
        if self.postgres:
            block = "\n".join(map("\t".join, zip(*self.cols, strict=True))) + "\n"
            with (
                raw.cursor() as cur,
                cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as cp,
            ):
                cp.write(block)
        else:
            marks = ", ".join("?" for _ in columns)
            raw.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                zip(*self.cols, strict=True),
            )


def _choose(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    cum = np.cumsum(np.asarray(weights, dtype=float))
    return np.minimum(np.searchsorted(cum / cum[-1], rng.random(n), side="right"), len(cum) - 1)


def _write_cases_bulk(
    conn: Connection,
    city: City,
    catalogue: Catalogue,
    calendar: WorkingCalendar,
    preset: Preset,
    seed: int,
    now: datetime,
    things: dict[str, Any],
    progress: Callable[[str], None],
) -> dict[str, int]:
    """The cases of ``_write_cases``, drawn and played in numpy batches (see above).

    History steps are written only for the cases of the last ``preset.steps_days`` days
    (all of them when ``None``). Returns rows written per table.
    """
    postgres = conn.dialect.name == "postgresql"
    nrng = np.random.default_rng([seed, 4])
    days = round(preset.months * 365.25 / 12)
    start = now.date() - timedelta(days=days - 1)
    counts = np.array(_daily_counts(preset, start, days, calendar, nrng), dtype=np.int64)
    total = int(counts.sum())
    hot = nrng.lognormal(0.0, 0.8, len(city.grids))
    hot[nrng.random(len(city.grids)) < 0.04] *= 6
    hot *= np.array(
        [{"commercial": 2.0, "residential": 1.0, "public": 0.6}[g.land_use] for g in city.grids]
    )
    clock = _WorkClock(calendar, start - timedelta(days=1), now.date() + timedelta(days=1200))
    now_s = _secs(now)
    hpd = calendar.hours_per_day

    # classes: events then components; per class its limits as (wall-clock?, hours)
    events, comps = catalogue.events(), catalogue.components()
    classes = events + comps
    cls_code = np.array([c.code for c in classes])
    cls_big = np.array([c.big_code for c in classes])
    cls_kind = np.array([c.kind for c in classes])
    cls_name = [c.name for c in classes]

    def limit_arrays(urgent: bool) -> tuple[np.ndarray, np.ndarray]:
        lims = [c.limit_for(urgent) for c in classes]
        wall = np.array([lim.unit == "hours" for lim in lims])
        hours = np.array([lim.amount * (hpd if lim.unit == "work_days" else 1) for lim in lims])
        return wall, hours

    wall_n, hours_n = limit_arrays(False)
    wall_u, hours_u = limit_arrays(True)
    dept_codes = [d for d, *_ in DEPARTMENTS]
    depts = dept_codes + list(city.street_names)  # departments, then streets (属地)
    dept_ix = {d: i for i, d in enumerate(depts)}
    cls_dept = np.array([dept_ix.get(c.default_department or "D01", 0) for c in classes])
    ev_index = {c.code: i for i, c in enumerate(events)}
    video_ix = np.array([ev_index[c] for c in VIDEO_CLASSES if c in ev_index])
    iot_ix = np.array([ev_index[c] for c in IOT_CLASSES if c in ev_index])
    month_p = {
        m: np.array(
            [
                EVENT_WEIGHTS.get(c.code, 1.0)
                * SEASONAL.get(c.code, {}).get(m, OFF_SEASON.get(c.code, 1.0))
                for c in events
            ]
        )
        for m in range(1, 13)
    }
    evening_ix = ev_index.get("0505", -1)
    hour_p, evening_p = HOUR_WEIGHTS, EVENING_WEIGHTS

    # grids: codes, hierarchy, interior points, roads, reporters
    grid_ix = {g.code: i for i, g in enumerate(city.grids)}
    g_code = [g.code for g in city.grids]
    g_comm = [g.community_code for g in city.grids]
    g_street = [g.street_code for g in city.grids]
    g_road = [g.road for g in city.grids]
    street_list = list(city.street_names)
    g_street_ix = np.array([street_list.index(s) for s in g_street])
    pool = np.stack([g.pool[np.arange(24) % len(g.pool)] for g in city.grids])  # (G, 24, 2)
    g_worker = [f"网格员@{g.social_grid}" for g in city.grids]
    g_camera = [things["cameras"].get(g.code, "视频智能识别") for g in city.grids]
    g_sensor = [things["sensors"].get(g.code, "物联感知") for g in city.grids]
    sup_lists = [things["supervisors"].get(s) or ["监督员"] for s in street_list]
    sup_flat = [s for lst in sup_lists for s in lst]
    sup_len = np.array([len(lst) for lst in sup_lists])
    sup_off = np.concatenate(([0], np.cumsum(sup_len)[:-1]))

    components = things["components"]
    comp_index = {c.code: len(events) + i for i, c in enumerate(comps)}
    comp_cls = np.array([comp_index[r[1]] for r in components], dtype=np.int64)
    comp_grid = np.array([grid_ix[r[6]] for r in components], dtype=np.int64)
    comp_lonlat = np.array([(r[4], r[5]) for r in components], dtype=float).reshape(-1, 2)
    comp_owner = np.array([dept_ix.get(r[8] or "D01", 0) for r in components], dtype=np.int64)
    comp_codes = [r[0] for r in components]

    sources = list(SOURCE_SHARES)
    src_p = list(SOURCE_SHARES.values())
    comp_sources = np.array([sources.index(s) for s in ("supervisor", "iot", "grid_worker",
                                                         "public")])  # fmt: skip
    S = {s: i for i, s in enumerate(sources)}
    prefixes = {"hotline": "12345", "public": "SSP", "iot": "IOT", "video": "AI"}
    ext_seq = dict.fromkeys(prefixes, 0)
    staff = {
        "acceptor": [f"受理员{i:02d}" for i in range(1, 7)],
        "leader": [f"值班长{i:02d}" for i in range(1, 4)],
        "dispatcher": [f"派遣员{i:02d}" for i in range(1, 6)],
    }
    templates_by_big = {big: DESCRIPTIONS.get(big, DESCRIPTIONS["06"]) for big in set(cls_big)}
    steps_from = start if preset.steps_days is None else now.date() - timedelta(preset.steps_days)
    steps_from_s = _secs(datetime.combine(steps_from, datetime.min.time()))
    start_s = _secs(datetime.combine(start, datetime.min.time()))

    written = {"cases": 0, "case_steps": 0}
    case_id = 0
    chunk_no = 0
    day0 = 0
    t_start = time.perf_counter()
    while day0 < days:
        day1 = day0
        size = 0
        while day1 < days and (size == 0 or size + counts[day1] <= _BULK_CHUNK):
            size += int(counts[day1])
            day1 += 1
        chunk_no += 1
        rng = np.random.default_rng([seed, 5, chunk_no])
        day_of = np.repeat(np.arange(day0, day1), counts[day0:day1])
        n = len(day_of)
        U = rng.random
        # ---- what, where, who
        is_comp = (U(n) < COMPONENT_SHARE) if len(components) else np.zeros(n, bool)
        urgent = U(n) < 0.05
        cls = np.zeros(n, dtype=np.int64)
        grid = np.zeros(n, dtype=np.int64)
        lonlat = np.zeros((n, 2))
        src = np.zeros(n, dtype=np.int64)
        comp = np.full(n, -1, dtype=np.int64)
        ci = np.flatnonzero(is_comp)
        if len(ci):
            pick = rng.integers(0, len(components), len(ci))
            comp[ci] = pick
            cls[ci] = comp_cls[pick]
            grid[ci] = comp_grid[pick]
            lonlat[ci] = comp_lonlat[pick]
            src[ci] = comp_sources[_choose(rng, len(ci), (60, 15, 15, 10))]
        ei = np.flatnonzero(~is_comp)
        src[ei] = _choose(rng, len(ei), src_p)
        months = np.array([(start + timedelta(days=int(d))).month for d in range(day0, day1)])
        ev_month = months[day_of[ei] - day0]
        ev_cls = np.zeros(len(ei), dtype=np.int64)
        for m in np.unique(ev_month):
            sel = ev_month == m
            ev_cls[sel] = _choose(rng, int(sel.sum()), month_p[int(m)])
        vid = src[ei] == S["video"]
        ev_cls[vid] = video_ix[rng.integers(0, len(video_ix), int(vid.sum()))]
        iot = src[ei] == S["iot"]
        ev_cls[iot] = iot_ix[rng.integers(0, len(iot_ix), int(iot.sum()))]
        cls[ei] = ev_cls
        grid[ei] = np.minimum(np.searchsorted(np.cumsum(hot) / hot.sum(), U(len(ei))),
                              len(city.grids) - 1)  # fmt: skip
        lonlat[ei] = pool[grid[ei], rng.integers(0, 24, len(ei))]
        # ---- when: the daily rhythm (evening barbecues for 0505), then the order of the day
        evening = (cls == evening_ix) & ~is_comp
        hour = _choose(rng, n, hour_p)
        hour[evening] = _choose(rng, int(evening.sum()), evening_p)
        rep = start_s + day_of * 86400 + hour * 3600 + rng.integers(0, 3600, n)
        keep = rep < now_s
        # draw everything else before filtering so batches stay aligned
        desc_t = rng.integers(0, 6, n)
        addr_no = rng.integers(1, 300, n)
        area_n = rng.integers(1, 21, n)
        state = rng.integers(0, 3, n)
        actor_r = rng.random((n, 5))
        wf = rng.random((n, 20))
        gauss = rng.standard_normal(n)
        ev = rng.random((n, 3))  # the public's evaluation (``evaluation_of``)
        sel = np.flatnonzero(keep)
        order = sel[np.argsort(rep[sel], kind="stable")]
        (day_of, is_comp, urgent, cls, grid, lonlat, src, comp, rep, desc_t, addr_no, area_n,
         state, actor_r, wf, gauss, ev) = (a[order] for a in (
            day_of, is_comp, urgent, cls, grid, lonlat, src, comp, rep, desc_t, addr_no, area_n,
            state, actor_r, wf, gauss, ev))  # fmt: skip
        n = len(order)
        ids = case_id + 1 + np.arange(n, dtype=np.int64)
        case_id += n
        first_of_day = np.searchsorted(day_of, day_of, side="left")
        seq = np.arange(n) - first_of_day + 1
        street_ix = g_street_ix[grid]

        # ---- the workflow plan of CaseSimulator.play, for every case at once
        wall = np.where(urgent, wall_u[cls], wall_n[cls])
        lim_s = np.where(urgent, hours_u[cls], hours_n[cls]) * 3600.0
        source_name = np.array(sources)[src]
        quick = np.isin(src, [S["supervisor"], S["grid_worker"], S["iot"], S["video"]])
        t0 = rep + np.rint(np.where(quick, 2 + 10 * wf[:, 0], 5 + 40 * wf[:, 0]) * 60).astype(
            np.int64
        )
        public = np.isin(src, [S["public"], S["hotline"]])
        void = wf[:, 1] < np.where(public, 0.06, 0.02)
        t1 = t0 + np.rint((5 + 45 * wf[:, 2]) * 60).astype(np.int64)
        t2 = t1 + np.rint((3 + 37 * wf[:, 3]) * 60).astype(np.int64)
        own = cls_dept[cls]
        territorial = ~is_comp & (cls_big[cls] != "04") & (wf[:, 4] < 0.5)
        owner = np.where(comp >= 0, comp_owner[np.maximum(comp, 0)], own)
        dept = np.where(territorial, len(dept_codes) + street_ix, owner)
        wrong = wf[:, 5] < 0.02
        wrong_dept = rng.integers(0, len(dept_codes) - 1, n)
        wrong_dept = np.where(wrong_dept >= own, wrong_dept + 1, wrong_dept)  # never its own
        t3 = t2 + np.rint((0.3 + 2.7 * wf[:, 6]) * 3600).astype(np.int64)
        t4 = t3 + np.rint((10 + 50 * wf[:, 7]) * 60).astype(np.int64)
        td = np.where(wrong, t4, t2)
        fraction = np.exp(math.log(0.42) + 0.55 * gauss)
        stuck = wf[:, 8] < 0.004
        fraction = np.where(stuck, 3 + 9 * wf[:, 9], fraction)
        ext = (fraction > 0.8) & (wf[:, 10] < 0.35)
        urg = (fraction > 0.9) & (wf[:, 11] < 0.6)
        ext_at = clock.add(td, 0.7 * lim_s, wall)
        urge_at = clock.add(td, 0.85 * lim_s, wall)
        handled = clock.add(td, fraction * lim_s, wall)
        # 疑难案件 (``hard_case_delay_days``), drawn apart so the other draws stay as they were
        hard = np.random.default_rng([seed, 6, chunk_no]).random((n, 2))
        held = hard_case_delay_days(hard[:, 0], hard[:, 1])
        handled = handled + np.rint(held * 86400).astype(np.int64)
        tv = handled + np.rint(verify_delay_hours(wf[:, 12]) * 3600).astype(np.int64)
        rework = wf[:, 13] < 0.04
        again = clock.add(tv, (0.1 + 0.5 * wf[:, 14]) * lim_s, wall)
        tv2 = np.where(
            rework, again + np.rint(verify_delay_hours(wf[:, 15]) * 3600).astype(np.int64), tv
        )
        tc = tv2 + np.rint((0.1 + 2.4 * wf[:, 16]) * 3600).astype(np.int64)
        dl1 = clock.add(t2, lim_s, wall)  # the wrong dispatch's clock
        dl = clock.add(td, lim_s, wall)
        dl_ext = clock.add(dl, lim_s, wall)  # 延期 by the class limit, in its own kind of time
        dl_rw = clock.add(tv, lim_s, wall)

        # ---- what has happened by now (plan order; times rise along the plan)
        def by_now(t: np.ndarray) -> np.ndarray:
            return t <= now_s

        nv = ~void
        status = np.zeros(n, dtype=np.int64)
        updated = rep.copy()

        def step(
            mask: np.ndarray,
            to: str,
            at: np.ndarray,
            status: np.ndarray = status,
            updated: np.ndarray = updated,
        ) -> None:
            status[mask] = _ST[to]
            updated[mask] = at[mask]

        voided = void & by_now(t0)
        step(voided, "voided", t0)
        accepted = nv & by_now(t0)
        step(accepted, "accepted", t0)
        registered = nv & by_now(t1)
        step(registered, "registered", t1)
        wrong_done = nv & wrong & by_now(t2)
        step(wrong_done, "dispatched", t2)
        returned = nv & wrong & by_now(t3)
        step(returned, "registered", t3)
        dispatched = nv & by_now(td)
        step(dispatched, "dispatched", td)
        extended = dispatched & ext & by_now(ext_at)
        step(extended, "dispatched", ext_at)
        urged = dispatched & urg & by_now(urge_at)
        step(urged, "dispatched", urge_at)
        handled_m = dispatched & by_now(handled)
        step(handled_m, "handled", handled)
        reworked = handled_m & rework & by_now(tv)
        step(reworked, "dispatched", tv)
        again_m = reworked & by_now(again)
        step(again_m, "handled", again)
        verified = handled_m & by_now(tv2) & (~rework | again_m)
        step(verified, "verified", tv2)
        closed = verified & by_now(tc)
        step(closed, "closed", tc)

        dispatched_at = np.where(dispatched, td, t2)
        has_dispatch = dispatched | wrong_done
        deadline = np.where(dispatched, np.where(extended, dl_ext, dl), dl1)
        deadline = np.where(reworked, dl_rw, deadline)
        # a return clears the deadline and the department; the next dispatch sets them again
        has_deadline = dispatched | (wrong_done & ~returned)
        dept_now = np.where(dispatched, dept, wrong_dept)
        has_dept = has_deadline
        handled_at = np.where(again_m, again, handled)
        on_time = np.where(again_m, again <= dl_rw,
                           handled <= np.where(extended, dl_ext, dl))  # fmt: skip
        escalated = urged & (wf[:, 17] < 0.3)

        # stage limits (``apply_action``): the first dispatch is at t2 even when it was wrong;
        # the last verification counts, clocked from the last report-back
        def within(
            since: np.ndarray, done_at: np.ndarray, stage: str, wall: np.ndarray = wall
        ) -> np.ndarray:
            return done_at <= clock.add(since, DEFAULT_STAGE_LIMITS[stage] * 3600.0, wall)

        # 按期结案 (``closed_on_time``): handled on time and closed within the 核查 and 结案
        # limits after the deadline
        allowance = closure_allowance_hours(DEFAULT_STAGE_LIMITS) * 3600.0
        closed_ok = on_time & (tc <= clock.add(deadline, np.full(n, allowance), wall))
        accept_ok = within(rep, t0, "accept")
        register_ok = within(t0, t1, "register")
        dispatch_ok = within(t1, t2, "dispatch")
        verify_ok = within(handled_at, tv2, "verify")
        # 综合评价 (``evaluation_of`` as arrays)
        good = closed_ok & ~reworked  # as the simulator: closed on time, no rework
        p_full = np.where(good, SATISFACTION_P[True][0], SATISFACTION_P[False][0])
        p_basic = np.where(good, SATISFACTION_P[True][1], SATISFACTION_P[False][1])
        level = np.where(ev[:, 1] < p_full, 2, np.where(ev[:, 1] < p_full + p_basic, 1, 0))
        eval_at = tc + np.rint((4 + 44 * ev[:, 2]) * 3600).astype(np.int64)
        evaluated = closed & public & (ev[:, 0] < EVALUATED_SHARE) & by_now(eval_at)
        updated = np.where(evaluated, eval_at, updated)
        status_name = np.array(_STATUS)[status]

        # ---- text: descriptions, numbers, reporters, external ids
        codes = cls_code[cls].tolist()
        bigs = cls_big[cls].tolist()
        kinds = cls_kind[cls].tolist()
        comp_l = is_comp.tolist()
        grid_l = grid.tolist()
        cls_l = cls.tolist()
        desc_l, addr_l = [], []
        for i in range(n):
            g = grid_l[i]
            addr = f"{g_road[g]}{addr_no[i]}号"
            if comp_l[i]:
                tpl = COMPONENT_DESCRIPTIONS[desc_t[i] % 2]
                text_ = tpl.format(addr=addr, name=cls_name[cls_l[i]],
                                   state=("破损", "丢失", "占用")[state[i]])  # fmt: skip
            else:
                tpls = templates_by_big[bigs[i]]
                text_ = tpls[desc_t[i] % len(tpls)].format(
                    addr=addr, name=cls_name[cls_l[i]], n=area_n[i]
                )
            desc_l.append(text_)
            addr_l.append(text_.split("号", 1)[0] + "号")
        day_str = [(start + timedelta(days=int(d))).strftime("%Y%m%d") for d in range(day0, day1)]
        day_iso = [(start + timedelta(days=int(d))).isoformat() for d in range(day0, day1)]
        dsel = (day_of - day0).tolist()
        district = city.district_code
        numbers = [f"{district}-{day_str[d]}-{s:04d}" for d, s in zip(dsel, seq.tolist(),
                                                                      strict=True)]  # fmt: skip
        sup_pick = sup_off[street_ix] + (actor_r[:, 0] * sup_len[street_ix]).astype(np.int64)
        reporters: list[str] = []
        src_l = source_name.tolist()
        sup_l = sup_pick.tolist()
        for i in range(n):
            s = src_l[i]
            g = grid_l[i]
            reporters.append(
                sup_flat[sup_l[i]] if s == "supervisor"
                else g_worker[g] if s == "grid_worker"
                else "市民随手拍" if s == "public"
                else "12345热线" if s == "hotline"
                else g_camera[g] if s == "video"
                else g_sensor[g] if s == "iot"
                else "区领导交办"
            )  # fmt: skip
        external: list[str | None] = [None] * n
        for name, prefix in prefixes.items():
            idx = np.flatnonzero(src == S[name]).tolist()
            base = ext_seq[name]
            for k, i in enumerate(idx, start=1):
                external[i] = f"{prefix}-{day_str[dsel[i]]}-{base + k:07d}"
            ext_seq[name] = base + len(idx)

        # ---- write the cases
        c = _Columns(postgres)
        zeros = np.zeros(n, dtype=np.int64)
        c.add(ids.tolist())
        c.add(numbers)
        c.add(kinds)
        c.add(codes)
        c.add(bigs)
        c.add(src_l)
        c.add(status_name.tolist())
        c.add(desc_l)
        c.add(addr_l)
        c.add(lonlat[:, 0].tolist())
        c.add(lonlat[:, 1].tolist())
        c.add([g_code[g] for g in grid_l])
        c.add([g_comm[g] for g in grid_l])
        c.add([g_street[g] for g in grid_l])
        c.add([district] * n)
        c.time(rep)
        c.add([day_iso[d] for d in dsel])
        weekday = (rep // 86400 + 3) % 7  # 1970-01-01 was a Thursday
        c.add((weekday * 24 + (rep % 86400) // 3600).tolist())
        c.flag(urgent)
        c.add([depts[d] for d in dept_now.tolist()], has_dept)
        c.time(t0, accepted)
        c.time(t1, registered)
        c.time(dispatched_at, has_dispatch)
        c.time(deadline, has_deadline)
        c.time(handled_at, handled_m)
        c.time(tv2, verified)
        c.time(tc, closed)
        c.time(t0, voided)
        c.flag(on_time, handled_m)
        c.flag(closed_ok, closed)
        c.add(np.where(reworked, 1, zeros).tolist())
        c.add(np.where(extended, 1, zeros).tolist())
        c.add(np.where(returned, 1, zeros).tolist())
        c.add(np.where(urged, 1, zeros).tolist())
        c.flag(escalated)
        c.add([comp_codes[k] if k >= 0 else None for k in comp.tolist()])
        c.add(external)
        c.add(reporters)
        c.time(updated)
        c.flag(accept_ok, accepted)
        c.flag(register_ok, registered)
        c.flag(dispatch_ok, has_dispatch)
        c.flag(verify_ok, verified)
        c.add(level.tolist(), evaluated)
        c.time(eval_at, evaluated)
        # 处置时长 (``domain.indicators.handling_seconds``): last dispatch to last report-back
        c.add((handled_at - dispatched_at).tolist(), handled_m)
        c.add((clock.worked(handled_at) - clock.worked(dispatched_at)).tolist(), handled_m)
        with conn.begin():
            c.write(conn, "cases", CASE_COLUMNS)
            written["cases"] += n
            # ---- history steps of the recent cases
            recent = rep >= steps_from_s
            if recent.any():
                written["case_steps"] += _write_steps_bulk(
                    conn, postgres, recent, ids, rep, reporters, desc_l, actor_r, sup_flat,
                    sup_pick, src == S["supervisor"], depts, dept, wrong_dept, lim_s, staff,
                    {"voided": (voided, t0), "accepted": (accepted, t0),
                     "registered": (registered, t1), "wrong": (wrong_done, t2),
                     "returned": (returned, t3), "dispatched": (dispatched, td),
                     "extended": (extended, ext_at), "urged": (urged, urge_at),
                     "handled": (handled_m, handled), "reworked": (reworked, tv),
                     "again": (again_m, again), "verified": (verified, tv2),
                     "closed": (closed, tc), "evaluated": (evaluated, eval_at)},
                    level,
                )  # fmt: skip
        elapsed = time.perf_counter() - t_start
        progress(
            f"  cases {written['cases']:,} / ~{total:,} ({elapsed:.0f} s, "
            f"{written['case_steps']:,} steps)"
        )
        day0 = day1
    return written


def _write_steps_bulk(
    conn: Connection,
    postgres: bool,
    recent: np.ndarray,
    ids: np.ndarray,
    rep: np.ndarray,
    reporters: list[str],
    descriptions: list[str],
    actor_r: np.ndarray,
    sup_flat: list[str],
    sup_pick: np.ndarray,
    by_supervisor: np.ndarray,
    depts: list[str],
    dept: np.ndarray,
    wrong_dept: np.ndarray,
    lim_s: np.ndarray,
    staff: dict[str, list[str]],
    done: dict[str, tuple[np.ndarray, np.ndarray]],
    level: np.ndarray,
) -> int:
    """The history rows ``CaseSimulator.play`` would write, for the ``recent`` cases."""
    acceptor = (actor_r[:, 1] * len(staff["acceptor"])).astype(np.int64)
    leader = (actor_r[:, 2] * len(staff["leader"])).astype(np.int64)
    dispatcher = (actor_r[:, 3] * len(staff["dispatcher"])).astype(np.int64)
    # the verifying supervisor: the reporter when a supervisor reported, else one of the street
    sup_actor = [sup_flat[k] for k in sup_pick.tolist()]
    hours_note = [f"{h / 3600:g}" for h in lim_s.tolist()]

    def const(value: str) -> Callable[[int], str]:
        return lambda _i: value

    def staff_of(role: str, picks: np.ndarray) -> Callable[[int], str]:
        names_ = staff[role]
        return lambda i: names_[picks[i]]

    def supervisor(i: int) -> str:
        return reporters[i] if by_supervisor[i] else sup_actor[i]

    plan = [
        # (mask, times, action, actor, note, from, to)
        ("voided", "reject", staff_of("acceptor", acceptor), const("重复上报，已合并"), "reported",
         "voided"),
        ("accepted", "accept", staff_of("acceptor", acceptor), const("已核实"), "reported",
         "accepted"),
        ("registered", "register", staff_of("leader", leader), const("符合立案条件"), "accepted",
         "registered"),
        ("wrong", "dispatch", staff_of("dispatcher", dispatcher), const(""), "registered",
         "dispatched"),
        ("returned", "return", lambda i: depts[wrong_dept[i]], const("非本部门职责"), "dispatched",
         "registered"),
        ("dispatched", "dispatch", staff_of("dispatcher", dispatcher), const(""), "registered",
         "dispatched"),
        ("extended", "extend", staff_of("dispatcher", dispatcher), lambda i: hours_note[i],
         "dispatched", "dispatched"),
        ("urged", "urge", staff_of("dispatcher", dispatcher), const("请尽快处置"), "dispatched",
         "dispatched"),
        ("handled", "report_back", lambda i: depts[dept[i]], const("已处置，附照片"), "dispatched",
         "handled"),
        ("reworked", "rework", supervisor, const("现场未处置到位"), "handled", "dispatched"),
        ("again", "report_back", lambda i: depts[dept[i]], const("已重新处置"), "dispatched",
         "handled"),
        ("verified", "verify", supervisor, const("核查通过"), "handled", "verified"),
        ("closed", "close", staff_of("leader", leader), const("结案"), "verified", "closed"),
        ("evaluated", "evaluate", const(EVALUATOR), lambda i: SATISFACTION[int(level[i])],
         "closed", "closed"),
    ]  # fmt: skip
    rows: list[tuple[int, int, int, str, str, str, str | None, str]] = []
    for i in np.flatnonzero(recent).tolist():
        rows.append((int(ids[i]), 0, int(rep[i]), "report", reporters[i], descriptions[i][:40],
                     None, "reported"))  # fmt: skip
    for order, (key, action, actor, note, frm, to) in enumerate(plan, start=1):
        mask, at = done[key]
        for i in np.flatnonzero(mask & recent).tolist():
            rows.append((int(ids[i]), order, int(at[i]), action, actor(i), note(i), frm, to))
    rows.sort(key=lambda r: (r[0], r[1]))
    c = _Columns(postgres)
    c.add([r[0] for r in rows])
    c.time(np.array([r[2] for r in rows], dtype=np.int64))
    for k in (3, 4, 5, 6, 7):
        c.add([r[k] for r in rows])
    c.write(conn, "case_steps", STEP_COLUMNS)
    return len(rows)


# ------------------------------------------------------------------------------------ entry


#: 疑难案件: a share of cases whose handling drags on for 10 to 600 days (log-uniform) after
#: the plan, so a past month's 结案率 is about 97.5-99.9 %, not 100 % (real districts run 93-98 %).
HARD_SHARE = 0.03
HARD_DELAY_DAYS = (10.0, 600.0)


def hard_case_delay_days(u_hard: Any, u_delay: Any) -> Any:
    """Days the handling of a case is held up, from two uniform draws (numbers or arrays):
    0 for all but ``HARD_SHARE`` of cases."""
    low, high = HARD_DELAY_DAYS
    days = np.exp(np.log(low) + np.asarray(u_delay) * (np.log(high) - np.log(low)))
    return np.where(np.asarray(u_hard) < HARD_SHARE, days, 0.0)


def verify_delay_hours(u: Any) -> Any:
    """Hours from a report-back to the supervisor's check on site, from ``u`` uniform in
    0..1 (a number or an array): mostly within the hour, a tail to five hours, so about
    nine in ten checks keep the 2-working-hour limit of 按期核查 (a uniform 0.3-5 h kept
    fewer than half, a red figure no real city shows)."""
    return 0.3 + 4.7 * u**8


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
    bulk: bool | None = None,
    cases_per_month: int | None = None,
) -> GenerationReport:
    """Fill the empty database at ``url`` with the demo city (upgrading its schema first).

    Deterministic for ``seed`` and ``now`` (default: this hour). Raises ``RuntimeError``
    if the database already holds a city (``seed_cli(..., reset=True)`` starts afresh).

    ``bulk`` (default: the preset's; only ``large`` has it) draws the cases with numpy in
    batches of 400,000 instead of playing each through ``CaseSimulator``: the same
    distributions and workflow rules, not the same cases for a seed. The case indexes are
    dropped during the load and built afterwards; SQLite runs with ``synchronous=OFF`` and
    ``journal_mode=OFF`` meanwhile (WAL is restored), PostgreSQL loads with COPY. The
    ``large`` city is for aggregate benchmarks: it keeps history steps only for the cases of
    its last ``steps_days`` (31) days; older cases have their timestamps and flags but no
    steps (writing ~75 million steps would triple its size and time for nothing the wall
    reads). ``cases_per_month`` overrides the preset's (a smaller ``large`` city when time or
    disk is short).
    """
    if size not in PRESETS:
        raise ValueError(f"unknown size {size!r}: use one of {', '.join(PRESETS)}")
    preset = PRESETS[size]
    if cases_per_month is not None:
        preset = replace(preset, cases_per_month=cases_per_month)
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

            use_bulk = bool(preset.bulk if bulk is None else bulk)
            if use_bulk:
                _bulk_load_begin(conn)
                w.counts.update(
                    _write_cases_bulk(
                        conn, city, catalogue, calendar, preset, seed, now, things, say
                    )
                )
                t = phase("cases", t)
            else:
                tx = conn.begin()

                def commit() -> None:
                    nonlocal tx
                    tx.commit()
                    tx = conn.begin()

                _write_cases(w, commit, city, catalogue, calendar, preset, seed, now, things, say)
                tx.commit()
                t = phase("cases", t)
                with conn.begin():
                    w.counts.update(write_demo_photos(conn, now, seed))
                t = phase("photos", t)
            with conn.begin():
                w.fix_sequences(
                    ["houses", "households", "people", "organisations", "cases", "case_steps"]
                )
                sizes = rollup.rebuild(conn)
            t = phase("rollups", t)
            if use_bulk:  # the rollups read the whole table: no index helps them, build after
                _bulk_load_end(conn)
                t = phase("case indexes", t)
            _analyze(conn, vacuum=use_bulk)
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


def _analyze(conn: Connection, vacuum: bool = False) -> None:
    """Fresh planner statistics after a bulk load (both databases plan better with them).

    ``vacuum`` (after a bulk load on PostgreSQL): VACUUM too, which sets the visibility map
    so that counts over an index need not visit the table.
    """
    if conn.dialect.name == "postgresql":
        conn.commit()
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(
            "VACUUM ANALYZE" if vacuum else "ANALYZE"
        )
    else:
        with conn.begin():
            if vacuum:  # a sample per index is enough for the planner; a full scan takes minutes
                conn.exec_driver_sql("PRAGMA analysis_limit=2000")
            conn.exec_driver_sql("ANALYZE")


def _bulk_indexes() -> list[Any]:
    return [*CaseRow.__table__.indexes, *CaseStepRow.__table__.indexes]


def _bulk_load_begin(conn: Connection) -> None:
    """Before loading millions of cases: drop their secondary indexes (built once at the end,
    far faster than kept up row by row) and relax durability for the load."""
    with conn.begin():
        for index in _bulk_indexes():
            index.drop(conn, checkfirst=True)
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        raw.execute("PRAGMA synchronous=OFF")
        raw.execute("PRAGMA journal_mode=OFF")
        raw.execute("PRAGMA cache_size=-400000")  # 400 MB
        raw.execute("PRAGMA temp_store=MEMORY")  # the rollups' GROUP BY sorts
    else:
        conn.exec_driver_sql("SET synchronous_commit = off")
        conn.commit()


def _bulk_load_end(conn: Connection) -> None:
    """Rebuild the dropped indexes; back to the usual durability."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
        conn.commit()
    with conn.begin():
        for index in _bulk_indexes():
            index.create(conn, checkfirst=True)
    if conn.dialect.name == "sqlite":
        raw = conn.connection.driver_connection
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=NORMAL")
    else:
        conn.exec_driver_sql("SET synchronous_commit = on")
        conn.commit()


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
