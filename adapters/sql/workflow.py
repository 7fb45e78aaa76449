"""What each workflow action does to a case's columns (timestamps, deadline, counters).

The state machine itself (which action may follow which status) is
``command_center.domain.workflow``; this is the bookkeeping around it, shared by the
adapter's ``act`` and the demo generator so that generated history and live history agree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from command_center.domain.calendar import WorkingCalendar, sla_deadline
from command_center.domain.classes import CaseClass


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
) -> None:
    """Update ``case`` (a mapping of ``cases`` columns) in place for ``action`` at ``at``.

    Dispatch starts the SLA clock (deadline from the class limit, or its urgent grade);
    return stops it; rework restarts it from the rework; extend pushes it.
    """
    urgent = bool(case["urgent"])
    if action == "accept":
        case["accepted_at"] = at
    elif action == "reject":
        case["voided_at"] = at
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
    elif action == "rework":
        case["rework_count"] = (case["rework_count"] or 0) + 1
        case["deadline"] = sla_deadline(at, cls.limit_for(urgent), calendar)
    elif action == "verify":
        case["verified_at"] = at
    elif action == "close":
        case["closed_at"] = at
        # 按期结案: closed, and the (last) handling was within its limit
        case["closed_on_time"] = bool(case["handled_on_time"])
    case["status"] = to_status
    case["updated_at"] = at
