"""What each workflow action does to a case's columns (timestamps, deadline, counters).

The state machine itself (which action may follow which status) is
``command_center.domain.workflow``; this is the bookkeeping around it, shared by the
adapter's ``act`` and the demo generator so that generated history and live history agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from command_center.domain.calendar import WorkingCalendar, sla_deadline
from command_center.domain.classes import CaseClass
from command_center.domain.indicators import handling_seconds
from command_center.domain.workflow import (
    DEFAULT_STAGE_LIMITS,
    STAGE_CLOCK_AFTER,
    STAGE_CLOCKS,
    closure_allowance_hours,
)


def extend_deadline(
    deadline: datetime, hours: float, cls: CaseClass, calendar: WorkingCalendar, urgent: bool
) -> datetime:
    """An extension (延期) counts in the class limit's own kind of time: working hours for
    工作时/工作日 limits, wall-clock hours for danger items."""
    if cls.limit_for(urgent).unit == "hours":
        return deadline + timedelta(hours=hours)
    return calendar.add_working_hours(deadline, hours)


def limit_hours(cls: CaseClass, urgent: bool, calendar: WorkingCalendar) -> float:
    """The class limit in (working) hours: one working day is ``hours_per_day``."""
    limit = cls.limit_for(urgent)
    return limit.amount * (calendar.hours_per_day if limit.unit == "work_days" else 1)


def stage_on_time(
    case: dict[str, Any],
    cls: CaseClass,
    stage: str,
    at: datetime,
    calendar: WorkingCalendar,
    limits: Mapping[str, float],
) -> bool | None:
    """Whether ``stage`` (accept, confirm, register, dispatch, verify) done at ``at`` kept its
    own limit, counted from the column its clock starts from (``None`` when that time is
    unknown): 立案 after a 核实 counts from the confirmation."""
    since_col, _flag = STAGE_CLOCKS[stage]
    since = case.get(STAGE_CLOCK_AFTER.get(stage, "")) or case.get(since_col)
    if since is None:
        return None
    hours = limits[stage]
    if cls.limit_for(bool(case["urgent"])).unit == "hours":  # danger items: the wall clock
        due = since + timedelta(hours=hours)
    else:
        due = calendar.add_working_hours(since, hours)
    return at <= due


def closure_deadline(
    deadline: datetime,
    cls: CaseClass,
    urgent: bool,
    calendar: WorkingCalendar,
    limits: Mapping[str, float] = DEFAULT_STAGE_LIMITS,
) -> datetime:
    """The latest close that counts as 按期结案: the case's own (last) handling deadline plus
    the 核查 and 结案 stage limits, in the class limit's kind of time."""
    hours = closure_allowance_hours(limits)
    if cls.limit_for(urgent).unit == "hours":  # danger items: the wall clock
        return deadline + timedelta(hours=hours)
    return calendar.add_working_hours(deadline, hours)


def closed_on_time(
    case: Mapping[str, Any],
    cls: CaseClass,
    closed_at: datetime,
    calendar: WorkingCalendar,
    limits: Mapping[str, float] = DEFAULT_STAGE_LIMITS,
) -> bool:
    """按期结案: the (last) handling kept its deadline and the close came within the
    verification and closing limits after it. Not the same as 按期处置: a case handled on
    time but left unverified or unclosed for days is closed late."""
    if not case.get("handled_on_time"):
        return False
    deadline = case.get("deadline")
    if deadline is None:
        return True
    return closed_at <= closure_deadline(deadline, cls, bool(case["urgent"]), calendar, limits)


def apply_action(
    case: dict[str, Any],
    cls: CaseClass,
    action: str,
    at: datetime,
    calendar: WorkingCalendar,
    *,
    to_status: str,
    department_code: str | None = None,
    extend_hours: float | None = None,
    stage_limits: Mapping[str, float] = DEFAULT_STAGE_LIMITS,
    master_case_id: int | None = None,
) -> None:
    """Update ``case`` (a mapping of ``cases`` columns) in place for ``action`` at ``at``.

    Dispatch starts the SLA clock (deadline from the class limit, or its urgent grade);
    return stops it; rework restarts it from the rework; extend pushes it. Accept, register,
    dispatch and verify also record whether they kept their own stage limit (``stage_limits``):
    the first dispatch counts (a re-dispatch after a return is the 准确派遣 indicator's
    business), the last verification counts; so does 核实 where it is a stage. A merge links
    the duplicate to ``master_case_id``.
    """
    urgent = bool(case["urgent"])
    if action in STAGE_CLOCKS and not (action == "dispatch" and case.get("dispatched_at")):
        case[STAGE_CLOCKS[action][1]] = stage_on_time(case, cls, action, at, calendar, stage_limits)
    if action == "accept":
        case["accepted_at"] = at
    elif action == "reject":
        case["voided_at"] = at
    elif action == "confirm":
        case["confirmed_at"] = at
    elif action == "merge":
        case["merged_into"] = master_case_id
    elif action == "register":
        case["registered_at"] = at
    elif action == "dispatch":
        case["dispatched_at"] = at
        case["department_code"] = department_code
        case["deadline"] = sla_deadline(at, cls.limit_for(urgent), calendar)
    elif action == "return":
        case["return_count"] = (case["return_count"] or 0) + 1
        case["deadline"] = None
        case["department_code"] = None
    elif action == "extend":
        case["extension_count"] = (case["extension_count"] or 0) + 1
        base = case["deadline"] or at
        case["deadline"] = extend_deadline(base, float(extend_hours or 0), cls, calendar, urgent)
    elif action == "urge":
        case["urge_count"] = (case["urge_count"] or 0) + 1
    elif action == "escalate":
        case["escalated"] = True
    elif action == "report_back":
        case["handled_at"] = at
        case["handled_on_time"] = case["deadline"] is None or at <= case["deadline"]
        if case.get("dispatched_at") is not None:  # 处置时长, for 平均处置时长
            wall, work = handling_seconds(case["dispatched_at"], at, calendar)
            case["handling_seconds"], case["handling_work_seconds"] = wall, work
    elif action == "rework":
        case["rework_count"] = (case["rework_count"] or 0) + 1
        case["deadline"] = sla_deadline(at, cls.limit_for(urgent), calendar)
    elif action == "verify":
        case["verified_at"] = at
    elif action == "close":
        case["closed_at"] = at
        case["closed_on_time"] = closed_on_time(case, cls, at, calendar, stage_limits)
    case["status"] = to_status
    case["updated_at"] = at
