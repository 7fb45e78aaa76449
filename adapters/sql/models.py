"""Tables of the embedded ``sql`` backend (SQLAlchemy 2, same code on SQLite and PostgreSQL).

The schema is created only by the Alembic migrations beside this module; these models are
what the adapters and the demo generator read and write, and what autogenerate compares to.

Conventions:
- times are naive wall time of the city (CC_CITY_TIMEZONE, Asia/Shanghai by default), as the
  working calendar counts them;
- coordinates are WGS-84 longitude/latitude; region geometry is GeoJSON stored as text
  (portable: no PostGIS needed; the GIS adapter keeps shapely objects in memory);
- region codes nest by prefix (district 6 > street 9 > community 12 > grid 14/15 digits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Integer primary keys that are BIGINT on PostgreSQL but the rowid alias on SQLite
BigId = BigInteger().with_variant(Integer, "sqlite")

NAMING = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class RegionRow(Base):
    """District, street, community and unit grid: one table, the level says which."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(15), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    level: Mapped[str] = mapped_column(String(10))  # district / street / community / grid
    parent_code: Mapped[str | None] = mapped_column(String(15), index=True)
    geometry: Mapped[str] = mapped_column(Text)  # GeoJSON Polygon/MultiPolygon, WGS-84
    centroid_lon: Mapped[float] = mapped_column(Float)
    centroid_lat: Mapped[float] = mapped_column(Float)
    area_m2: Mapped[float] = mapped_column(Float, default=0.0)
    population: Mapped[int] = mapped_column(Integer, default=0)
    households: Mapped[int] = mapped_column(Integer, default=0)
    # the social-governance grid (综治网格) a unit grid belongs to; a coarser, separate scheme
    social_grid_code: Mapped[str | None] = mapped_column(String(20), index=True)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_regions_level_parent", "level", "parent_code"),)


class SocialGridRow(Base):
    """综治网格: sized by households (300-500), one full-time grid worker each."""

    __tablename__ = "social_grids"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    community_code: Mapped[str] = mapped_column(String(12), index=True)
    households: Mapped[int] = mapped_column(Integer, default=0)
    population: Mapped[int] = mapped_column(Integer, default=0)


class DepartmentRow(Base):
    """Departments (专业部门) and streets (街道) a case can be dispatched to."""

    __tablename__ = "departments"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    kind: Mapped[str] = mapped_column(String(12), default="department")  # or "street"


class HouseRow(Base):
    """房: one dwelling or premises, at a standard address, in a unit grid (房进网格)."""

    __tablename__ = "houses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    grid_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    address: Mapped[str] = mapped_column(String(200))
    compound: Mapped[str] = mapped_column(String(100), default="")  # 小区/院落
    building: Mapped[str] = mapped_column(String(20), default="")  # 楼栋
    unit: Mapped[str] = mapped_column(String(20), default="")  # 单元
    room: Mapped[str] = mapped_column(String(20), default="")
    usage: Mapped[str] = mapped_column(String(12), default="住宅")  # 住宅/商铺/办公
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)


class HouseholdRow(Base):
    """户: a household living in a house (户进房)."""

    __tablename__ = "households"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    house_id: Mapped[int] = mapped_column(ForeignKey("houses.id"), index=True)
    kind: Mapped[str] = mapped_column(
        String(12), default="户籍"
    )  # 户籍 / 流动 (registered/floating)
    size: Mapped[int] = mapped_column(SmallInteger, default=1)


class PersonRow(Base):
    """人: a resident of a household (人进户). Name, citizen id and phone are personal data."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    citizen_id: Mapped[str] = mapped_column(String(18), unique=True)
    phone: Mapped[str] = mapped_column(String(20), default="")
    gender: Mapped[str] = mapped_column(String(2), default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    relation: Mapped[str] = mapped_column(String(10), default="户主")  # to the household head
    tags: Mapped[str] = mapped_column(String(100), default="")  # 独居老人, 残疾人 ... (comma list)


class OrganisationRow(Base):
    """组织: firms, shops, social organisations and party branches in a grid."""

    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    grid_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)


class ComponentRow(Base):
    """部件: a fixed public facility, coded 6 district + 2 big + 2 small + 6 sequence."""

    __tablename__ = "components"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    class_code: Mapped[str] = mapped_column(String(4), index=True)  # big + small
    name: Mapped[str] = mapped_column(String(100), default="")
    state: Mapped[str] = mapped_column(String(4), default="完好")  # 完好/破损/丢失/占用
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    supervising_dept: Mapped[str | None] = mapped_column(String(16))  # 主管
    owning_dept: Mapped[str | None] = mapped_column(String(16))  # 权属
    maintaining_dept: Mapped[str | None] = mapped_column(String(16))  # 养护


class WorkerRow(Base):
    """网格员 and the grid team (助理员, 监督员 ...): where they are, whether on duty."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20), default="")
    role: Mapped[str] = mapped_column(String(12))
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)  # where they are now
    social_grid_code: Mapped[str | None] = mapped_column(String(20), index=True)  # assigned to
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)


class DeviceRow(Base):
    """Cameras (视频监控) and IoT sensors (物联感知: 井盖位移, 积水, 烟感 ...)."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # "camera" or "sensor"
    sensor_type: Mapped[str] = mapped_column(String(20), default="")
    name: Mapped[str] = mapped_column(String(100))
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)
    online: Mapped[bool] = mapped_column(Boolean, default=True)
    status: Mapped[str] = mapped_column(String(10), default="online")  # online/offline/alarm
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_devices_kind_grid", "kind", "grid_code"),)


class KeyPlaceRow(Base):
    """重点场所: schools, hospitals, markets, parks ... (专属网格 often cover them)."""

    __tablename__ = "key_places"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str | None] = mapped_column(String(15), index=True)


class CaseRow(Base):
    """案件: the contract's ``Case`` plus what the workflow and the rollups need."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    number: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(10))  # event / component
    class_code: Mapped[str] = mapped_column(String(8))
    big_class_code: Mapped[str] = mapped_column(String(4))
    source: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(12))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    grid_code: Mapped[str] = mapped_column(String(15))
    community_code: Mapped[str] = mapped_column(String(12))
    street_code: Mapped[str] = mapped_column(String(9))
    district_code: Mapped[str] = mapped_column(String(6))
    reported_at: Mapped[datetime] = mapped_column(DateTime)
    # denormalised from reported_at so rollups and raw GROUP BYs agree on both databases
    reported_day: Mapped[date] = mapped_column(Date)
    hour_of_week: Mapped[int] = mapped_column(SmallInteger)  # Monday 00h = 0
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    department_code: Mapped[str | None] = mapped_column(String(16))
    accepted_at: Mapped[datetime | None] = mapped_column(DateTime)
    registered_at: Mapped[datetime | None] = mapped_column(DateTime)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime)
    deadline: Mapped[datetime | None] = mapped_column(DateTime)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    voided_at: Mapped[datetime | None] = mapped_column(DateTime)
    handled_on_time: Mapped[bool | None] = mapped_column(Boolean)
    closed_on_time: Mapped[bool | None] = mapped_column(Boolean)
    rework_count: Mapped[int] = mapped_column(SmallInteger, default=0)
    extension_count: Mapped[int] = mapped_column(SmallInteger, default=0)
    return_count: Mapped[int] = mapped_column(SmallInteger, default=0)
    urge_count: Mapped[int] = mapped_column(SmallInteger, default=0)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    component_code: Mapped[str | None] = mapped_column(String(16))
    external_id: Mapped[str | None] = mapped_column(String(64))
    reporter: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # stage limits kept (按时受理, 按时立案, 按期派遣, 按期核查; NULL: not done, or done before
    # these were recorded) and the public's evaluation (满意 2, 基本满意 1, 不满意 0) (0600)
    accepted_on_time: Mapped[bool | None] = mapped_column(Boolean)
    registered_on_time: Mapped[bool | None] = mapped_column(Boolean)
    dispatched_on_time: Mapped[bool | None] = mapped_column(Boolean)
    verified_on_time: Mapped[bool | None] = mapped_column(Boolean)
    satisfaction: Mapped[int | None] = mapped_column(SmallInteger)
    evaluated_at: Mapped[datetime | None] = mapped_column(DateTime)
    # 处置时长 from the (last) 派遣 to the (last) 处置反馈, set at the report-back: wall-clock
    # seconds and seconds within the working calendar (NULL: not reported back) (0840).
    # Stored per case because working time needs the calendar, which SQL does not know.
    handling_seconds: Mapped[int | None] = mapped_column(Integer)
    handling_work_seconds: Mapped[int | None] = mapped_column(Integer)
    # 核实 where a city runs it as a stage, and 合并: a merged duplicate names the case it
    # joined and counts in no rollup (0850)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    confirmed_on_time: Mapped[bool | None] = mapped_column(Boolean)
    merged_into: Mapped[int | None] = mapped_column(BigId)

    __table_args__ = (
        # a source's own id is unique within that source (NULLs never collide)
        UniqueConstraint("source", "external_id", name="uq_cases_source_external_id"),
        Index("ix_cases_status_deadline", "status", "deadline"),  # open / overdue boards
        Index("ix_cases_status_reported", "status", "reported_at"),  # live open counts
        Index("ix_cases_reported_at", "reported_at"),
        Index("ix_cases_grid_reported", "grid_code", "reported_at"),
        Index("ix_cases_community_reported", "community_code", "reported_at"),
        Index("ix_cases_street_reported", "street_code", "reported_at"),
        Index("ix_cases_department_status", "department_code", "status"),
        Index("ix_cases_class_reported", "class_code", "reported_at"),
        Index("ix_cases_merged_into", "merged_into"),  # a master's duplicates
    )


class CaseStepRow(Base):
    """One step of a case's history: who did what, when, from which status to which."""

    __tablename__ = "case_steps"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(DateTime)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))

    __table_args__ = (Index("ix_case_steps_case_at", "case_id", "at"),)


# ---------------------------------------------------------------------------------------------
# Case photos (案件照片, migration 0500_case_photos): the image bytes live once per distinct
# image in ``photo_blobs`` (keyed by their SHA-256), and ``case_photos`` says which case shows
# which image, taken when, by whom, at which step. The demo city's few synthetic 示意图 are
# shared by thousands of cases this way.
# ---------------------------------------------------------------------------------------------


class PhotoBlobRow(Base):
    """One distinct encoded image (JPEG, PNG or WebP)."""

    __tablename__ = "photo_blobs"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CasePhotoRow(Base):
    """A photo of a case: which image, which workflow moment (``PhotoKind``), when, by whom."""

    __tablename__ = "case_photos"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    blob_id: Mapped[int] = mapped_column(ForeignKey("photo_blobs.id"))
    kind: Mapped[str] = mapped_column(String(12))
    taken_at: Mapped[datetime] = mapped_column(DateTime)
    taken_by: Mapped[str] = mapped_column(String(64), default="")
    caption: Mapped[str] = mapped_column(String(200), default="")
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    illustrative: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_case_photos_case_taken", "case_id", "taken_at"),)


# ---------------------------------------------------------------------------------------------
# Rollups (预聚合): what ``case_stats`` reads instead of scanning ten million cases.
#
# Each rollup ("cuboid") counts cases by their reported day (or month) and a few dimensions,
# always with the case's current status. A case contributes a vector of 0/1 counters (see
# ``adapters.sql.rollup``); ``report_case``/``act`` move that vector between rows in the same
# transaction, the generator rebuilds every rollup with one INSERT ... SELECT ... GROUP BY.
# Narrow rollups serve the wall's broad questions (whole city, a year); the wide daily one
# serves combinations; anything else falls back to the live table.
# ---------------------------------------------------------------------------------------------

ROLLUP_COUNTERS = (
    "reported",
    "registered",
    "dispatched",
    "handled",
    "handled_on_time",
    "closed",
    "closed_on_time",
    "reworked",
    "extended",
    "returned",
    "voided",
    # per-stage timeliness: cases whose stage was timed, and of them those on time (0600)
    "accept_timed",
    "accepted_on_time",
    "register_timed",
    "registered_on_time",
    "dispatch_timed",
    "dispatched_on_time",
    "verify_timed",
    "verified_on_time",
    # 满意率: cases the public evaluated, and of them those rated 满意 or 基本满意 (0600)
    "evaluated",
    "satisfied",
    # 平均处置时长: cases reported back, and the sums of their handling seconds (0840)
    "handling_timed",
    "handling_seconds",
    "handling_work_seconds",
    # 按期核实: cases confirmed on site as a stage of their own, and of them those on time (0850)
    "confirm_timed",
    "confirmed_on_time",
)
#: Counters that are sums of seconds, not 0/1 counts: BIGINT, a year of a city overflows INT
SECONDS_COUNTERS = frozenset({"handling_seconds", "handling_work_seconds"})


@dataclass(frozen=True)
class Cuboid:
    name: str
    # "day" (column ``day``), "month" (column ``month``, its first day) or "year" (column
    # ``year``, 1 January)
    period: str
    dims: tuple[str, ...]  # case columns kept, besides the period and ``status``
    # secondary indexes besides the unique key (which leads with the period)
    indexes: tuple[tuple[str, ...], ...] = ()
    # a finer rollup with the same dimensions: rebuilt by summing it, not the cases
    coarsens: Cuboid | None = None


def _yearly(of: Cuboid, name: str, indexes: tuple[tuple[str, ...], ...] = ()) -> Cuboid:
    """``of``'s dimensions by year, rebuilt by summing ``of``."""
    return Cuboid(name, "year", of.dims, indexes, coarsens=of)


_GRID = ("district_code", "street_code", "community_code", "grid_code")
_CLASS = ("kind", "big_class_code", "class_code")
_GRID_MONTHLY = Cuboid("case_rollup_grid_monthly", "month", _GRID)
# months × grids × classes: hotspots of a class and the candidates of recurring problems over
# months (migration 0600); one class's hotspots over months: covering for the count
_GRID_CLASS_MONTHLY = Cuboid(
    "case_rollup_grid_class_monthly",
    "month",
    (*_GRID, *_CLASS),
    indexes=(("class_code", "month", "grid_code", "kind", "reported"),),
)


#: Ordered smallest first: ``case_stats`` takes the first one that can answer.
CUBOIDS = (
    # months × classes: "by class" and status-only counts over months or years (migration 0400)
    Cuboid("case_rollup_class_monthly", "month", ("kind", "big_class_code", "class_code")),
    Cuboid("case_rollup_source", "day", ("source",)),
    Cuboid("case_rollup_department", "day", ("department_code",)),
    Cuboid("case_rollup_hour", "day", ("hour_of_week",)),
    Cuboid("case_rollup_class", "day", ("kind", "big_class_code", "class_code")),
    Cuboid("case_rollup_street", "day", ("district_code", "street_code")),
    # years × grids: a year's grid ranking, hotspots and the grid bound of recurring problems
    # read one row per grid and status instead of twelve (migration 0700)
    _yearly(_GRID_MONTHLY, "case_rollup_grid_yearly"),
    _GRID_MONTHLY,
    # years × grids × classes: a year's hotspots of a class, and the candidate pairs of
    # recurring problems within the grids that can reach the top (migration 0700)
    _yearly(
        _GRID_CLASS_MONTHLY,
        "case_rollup_grid_class_yearly",
        indexes=(
            ("class_code", "year", "grid_code", "kind", "reported"),
            ("grid_code", "year", "kind", "class_code", "reported"),
        ),
    ),
    _GRID_CLASS_MONTHLY,
    Cuboid(
        "case_rollup_daily",
        "day",
        (
            "district_code",
            "street_code",
            "community_code",
            "kind",
            "big_class_code",
            "class_code",
            "source",
            "department_code",
        ),
    ),
)

_DIM_TYPES = {
    # event and component classes share 4-digit codes: "kind" tells 0101 违法搭建 from
    # 0101 上水井盖, so it travels with every class dimension
    "kind": String(10),
    "source": String(16),
    "department_code": String(16),  # "" when not dispatched: NULL would break the unique key
    "hour_of_week": SmallInteger(),
    "big_class_code": String(4),
    "class_code": String(8),
    "district_code": String(6),
    "street_code": String(9),
    "community_code": String(12),
    "grid_code": String(15),
}


def _counter_type(name: str) -> type[Integer]:
    return BigInteger if name in SECONDS_COUNTERS else Integer


def _rollup_table(cuboid: Cuboid) -> Table:
    key = (cuboid.period, *cuboid.dims, "status")
    return Table(
        cuboid.name,
        Base.metadata,
        Column(cuboid.period, Date, nullable=False),
        *(Column(dim, _DIM_TYPES[dim], nullable=False) for dim in cuboid.dims),
        Column("status", String(12), nullable=False),
        *(Column(c, _counter_type(c), nullable=False, default=0) for c in ROLLUP_COUNTERS),
        UniqueConstraint(*key, name=f"uq_{cuboid.name}_key"),
        *(Index(f"ix_{cuboid.name}_by_{cols[0]}", *cols) for cols in cuboid.indexes),
    )


ROLLUP_TABLES: dict[str, Table] = {c.name: _rollup_table(c) for c in CUBOIDS}
