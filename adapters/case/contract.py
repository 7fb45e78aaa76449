"""The case contract: cases (案件) and their closed-loop workflow (闭环流程).

Statuses follow the standard's stages; see ``command_center.domain.workflow`` for the
transition table every implementation must enforce.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from adapters.base import Adapter, AdapterError, NotFound


class CaseStatus(StrEnum):
    REPORTED = "reported"  # 上报, waiting for the acceptor (受理员)
    # 待核实: accepted, waiting for a supervisor (监督员) to confirm the problem on site; only
    # where the city runs 核实 as its own stage (``CC_WORKFLOW_VERIFY_STAGE``)
    CONFIRMING = "confirming"
    ACCEPTED = "accepted"  # 已受理 (and 已核实 where 核实 is a stage), waiting to be registered
    REGISTERED = "registered"  # 已立案, waiting for dispatch
    DISPATCHED = "dispatched"  # 已派遣, the department is handling it; the SLA clock runs
    HANDLED = "handled"  # 已反馈, reported back with photos, waiting for verification
    VERIFIED = "verified"  # 已核查, verified on site, waiting for the shift leader to close
    CLOSED = "closed"  # 已结案
    VOIDED = "voided"  # 已作废 (rejected: no case, out of scope, not found on site)
    # 已合并: a duplicate report merged into an open case (``Case.merged_into``); not a case
    # of its own, so it counts in no statistic
    MERGED = "merged"


class CaseSource(StrEnum):
    SUPERVISOR = "supervisor"  # 监督员上报
    GRID_WORKER = "grid_worker"  # 网格员上报
    PUBLIC = "public"  # 公众举报 (随手拍)
    HOTLINE = "hotline"  # 12345 热线
    VIDEO = "video"  # 视频智能识别
    IOT = "iot"  # 物联感知
    LEADER = "leader"  # 领导交办


class SlaState(StrEnum):
    ON_TIME = "on_time"  # 正常
    DUE_SOON = "due_soon"  # 临期
    OVERDUE = "overdue"  # 超期


class CaseAction(StrEnum):
    ACCEPT = "accept"  # 受理
    REJECT = "reject"  # 不予受理 / 作废
    REGISTER = "register"  # 立案
    DISPATCH = "dispatch"  # 派遣
    URGE = "urge"  # 催办
    ESCALATE = "escalate"  # 督办
    EXTEND = "extend"  # 延期
    RETURN = "return"  # 回退
    REPORT_BACK = "report_back"  # 处置反馈
    VERIFY = "verify"  # 核查
    CLOSE = "close"  # 结案
    REWORK = "rework"  # 返工
    CONFIRM = "confirm"  # 核实: the supervisor confirms the reported problem on site
    MERGE = "merge"  # 合并: a duplicate report joins the open case it repeats


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    kind: str = "department"  # "department" (专业部门) or "street" (街道)


@dataclass
class Case:
    """One case as lists, maps and boards show it. Coordinates are WGS-84."""

    id: int
    number: str  # the case number shown to people, e.g. "110101-20261125-0042"
    kind: str  # "event" (事件) or "component" (部件)
    class_code: str  # 4-digit event code (big + small, e.g. "0102") or component class code
    class_name: str  # e.g. 暴露垃圾
    big_class_code: str  # e.g. "01"
    big_class_name: str  # e.g. 市容环境
    source: CaseSource
    status: CaseStatus
    description: str
    address: str
    lon: float
    lat: float
    grid_code: str  # 14-digit unit grid code
    community_code: str  # 12 digits
    street_code: str  # 9 digits
    district_code: str  # 6 digits, GB/T 2260
    reported_at: datetime
    urgent: bool = False
    department_code: str | None = None
    registered_at: datetime | None = None
    dispatched_at: datetime | None = None
    deadline: datetime | None = None  # SLA deadline of the current stage, from the calendar
    handled_at: datetime | None = None
    closed_at: datetime | None = None
    rework_count: int = 0
    extended: bool = False
    sla_state: SlaState | None = None  # None when no clock runs (closed, voided, not dispatched)
    component_code: str | None = None  # 16-digit component code for component cases
    merged_into: int | None = None  # a merged duplicate: the id of the case it joined


@dataclass(frozen=True)
class CaseStep:
    """One step in a case's history: who did what, when, with which note."""

    at: datetime
    action: str  # a CaseAction value, or "report" for the first step
    actor: str
    note: str
    from_status: CaseStatus | None
    to_status: CaseStatus


class PhotoKind(StrEnum):
    """Which moment of the workflow a photo documents (案件照片)."""

    REPORT = "report"  # 上报: taken by whoever reported the case
    EVIDENCE = "evidence"  # 取证: a camera's snapshot when the case came from an alarm
    BEFORE = "before"  # 处置前: the department on site, before handling
    AFTER = "after"  # 处置后: the department's proof, sent with 处置反馈
    VERIFY = "verify"  # 核查: the supervisor's check on site


@dataclass(frozen=True)
class CasePhoto:
    """One photo of a case. The image itself is fetched through the adapter
    (``CaseAdapter.photo_content``): the app serves it, browsers never reach the backend."""

    id: int
    case_id: int
    kind: PhotoKind
    taken_at: datetime
    by: str  # who took it: a person's name, a camera id, "市民随手拍" ...
    caption: str = ""
    media_type: str = "image/jpeg"
    width: int | None = None
    height: int | None = None
    illustrative: bool = False  # a synthetic 示意图 (demo data), not a real photo


@dataclass(frozen=True)
class NewPhoto:
    """A photo to attach: the encoded image (JPEG, PNG or WebP) and what it shows."""

    kind: PhotoKind
    data: bytes
    media_type: str
    by: str
    taken_at: datetime | None = None  # default: now
    caption: str = ""
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class PhotoContent:
    data: bytes
    media_type: str
    etag: str  # changes whenever the bytes do; photos never change, so usually the hash


@dataclass
class CaseDetail:
    case: Case
    history: list[CaseStep] = field(default_factory=list)
    photos: list[CasePhoto] = field(default_factory=list)  # oldest first


@dataclass
class NewCase:
    """A report coming in. Give either a point (in ``datum``) or a grid code, or both."""

    kind: str
    class_code: str
    source: CaseSource
    description: str
    lon: float | None = None
    lat: float | None = None
    datum: str = "wgs84"  # "wgs84", "gcj02" or "bd09"
    grid_code: str | None = None
    address: str = ""
    reported_at: datetime | None = None
    reporter: str = ""
    external_id: str | None = None  # the source's own id, to refuse duplicate reports
    component_code: str | None = None
    urgent: bool = False
    photos: Sequence[NewPhoto] = ()  # stored with the case, in the same transaction


@dataclass
class CaseFilter:
    """Which cases. Every field is optional; ``region_code`` may be any level's code."""

    region_code: str | None = None
    grid_codes: Sequence[str] | None = None  # any of these unit grids
    statuses: Sequence[CaseStatus] | None = None
    kind: str | None = None  # "event" or "component" (their class codes overlap)
    class_codes: Sequence[str] | None = None
    big_class_codes: Sequence[str] | None = None
    sources: Sequence[CaseSource] | None = None
    department_code: str | None = None
    since: datetime | None = None  # reported_at >= since
    until: datetime | None = None  # reported_at < until
    sla_states: Sequence[SlaState] | None = None
    open_only: bool = False
    limit: int | None = 500
    newest_first: bool = True
    # ``case_stats`` only: the caller needs just the N groups with the most reported cases
    # (most first, ties by key). An adapter may ignore it and return every group.
    top_groups: int | None = None
    # ``case_stats`` only: the counters the caller reads (e.g. ``["reported"]``); the others
    # may be left 0. ``None``: all of them.
    counters: Sequence[str] | None = None


#: Dimensions ``CaseAdapter.case_stats`` can group by.
GROUP_DIMENSIONS = (
    "kind",  # "event" or "component"; added to the key whenever a class dimension is grouped,
    # because event and component classes share 4-digit codes ("01" is 市容环境 and 公用设施)
    "status",
    "class_code",
    "big_class_code",
    "source",
    "district_code",
    "street_code",
    "community_code",
    "grid_code",
    "department_code",
    "day",  # date of reported_at, ISO "YYYY-MM-DD"
    "hour_of_week",  # 0..167, Monday 00h = 0, of reported_at
)


@dataclass
class CaseStats:
    """Counts for one group of cases (one row of ``case_stats``).

    The appraisal indicators (结案率, 按期结案率, 返工率 ...) are computed from these in
    ``command_center``; adapters only count.
    """

    key: dict[str, str | int]
    reported: int = 0  # 上报数 (all cases reported in the period)
    registered: int = 0  # 立案数
    dispatched: int = 0  # 派遣数 (应处置数)
    handled: int = 0  # 处置数 (reported back at least once)
    handled_on_time: int = 0  # 按期处置数
    closed: int = 0  # 结案数
    closed_on_time: int = 0  # 按期结案数
    open: int = 0  # not closed and not voided
    overdue_open: int = 0  # 超期未处置数 (open and past deadline now)
    reworked: int = 0  # 返工数 (cases reworked at least once)
    extended: int = 0  # 延期数
    returned: int = 0  # 回退数
    voided: int = 0  # 作废数
    # per-stage timeliness: cases whose stage time was recorded (``*_timed``) and of them
    # those within the stage's own limit (按时受理, 按时立案, 按期派遣, 按期核查)
    accept_timed: int = 0
    accepted_on_time: int = 0
    register_timed: int = 0
    registered_on_time: int = 0
    dispatch_timed: int = 0
    dispatched_on_time: int = 0
    verify_timed: int = 0
    verified_on_time: int = 0
    confirm_timed: int = 0  # 核实, where the city runs it as a stage (按期核实)
    confirmed_on_time: int = 0
    evaluated: int = 0  # cases the public evaluated (综合评价)
    satisfied: int = 0  # of them rated 满意 or 基本满意 (满意率's numerator)
    # 平均处置时长: cases reported back with a dispatch time, and the sums of their handling
    # time from (last) 派遣 to (last) 处置反馈, wall-clock and within the working calendar
    handling_timed: int = 0
    handling_seconds: int = 0
    handling_work_seconds: int = 0


class CaseAdapter(Adapter):
    """A case system: the city's 数字城管 / 网格化 business platform, or the built-in one."""

    kind = "case"

    @abstractmethod
    def list_cases(self, flt: CaseFilter) -> list[Case]:
        """Cases matching ``flt``, newest reported first unless ``newest_first`` is false."""

    @abstractmethod
    def get_case(self, case_id: int) -> CaseDetail:
        """One case with its full history, oldest step first. Raises ``NotFound``."""

    @abstractmethod
    def case_stats(self, group_by: Sequence[str], flt: CaseFilter) -> list[CaseStats]:
        """Counts grouped by dimensions of ``GROUP_DIMENSIONS`` (empty: one total row).

        Must stay fast on ten million cases: implementations keep rollups or an analytical
        store rather than scanning raw rows for every wall refresh.
        """

    @abstractmethod
    def departments(self) -> list[Department]:
        """Departments and streets a case can be dispatched to."""

    @abstractmethod
    def report_case(self, new: NewCase) -> Case:
        """File a new report. Raises ``AdapterError`` for an unknown class, a point outside
        every grid, a malformed code or a duplicate ``external_id``; nothing is written then."""

    @abstractmethod
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
        """Apply one workflow action. ``dispatch`` needs ``department_code``; ``extend`` needs
        ``extend_hours``; ``merge`` needs ``master_case_id``, the open case the duplicate
        joins (a step is recorded on both cases). A transition the state machine forbids raises
        ``command_center.domain.workflow.TransitionError`` and changes nothing.

        ``expected_status`` is optimistic locking for concurrent officers: the status the
        actor saw; if the case has moved on since (checked inside the same transaction as the
        write), ``TransitionError`` is raised and nothing changes."""

    def evaluate(
        self,
        case_id: int,
        satisfaction: int,
        actor: str,
        note: str = "",
        *,
        at: datetime | None = None,
    ) -> Case:
        """Record the public's evaluation of a closed case (综合评价, for 满意率): 2 满意,
        1 基本满意, 0 不满意. Optional: a case system without evaluations keeps this default,
        and 满意率 then shows no data."""
        raise AdapterError("此案件系统不支持满意度评价 / this case system records no evaluations")

    # --- photos: optional. A case system without them keeps these defaults: cases show no
    # photos and attaching one is refused with a clear message.
    def add_photo(self, case_id: int, photo: NewPhoto) -> CasePhoto:
        """Attach a photo to a case. Raises ``NotFound`` for an unknown case and
        ``AdapterError`` when the backend keeps no photos or refuses the image."""
        raise AdapterError("此案件系统不支持照片 / this case system keeps no photos")

    def photo_content(self, photo_id: int) -> PhotoContent:
        """The bytes of one photo (as listed in ``CaseDetail.photos``). Raises ``NotFound``."""
        raise NotFound(f"照片不存在 / no photo {photo_id}")
