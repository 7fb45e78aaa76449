"""The case state machine (闭环流程): which action may follow which status.

Every case adapter enforces this table; the board groups statuses into the standard's stages
with ``STAGE_OF_STATUS``::

    reported   --accept-->  accepted      reported  --reject--> voided
    accepted   --register-> registered    accepted  --reject--> voided
    registered --dispatch-> dispatched
    dispatched --return-->  registered    (回退: a wrongly dispatched case goes back)
    dispatched --extend-->  dispatched    (延期: no change)
    dispatched --report_back--> handled
    handled    --verify-->  verified      handled   --rework--> dispatched
    verified   --close-->   closed        verified  --rework--> dispatched

    any open status --urge / escalate--> the same status   (催办, 督办: whoever holds it)
    reported, confirming, accepted --merge--> merged       (合并: a duplicate report)

Where a city runs 核实 as its own stage (``verify_stage``, ``CC_WORKFLOW_VERIFY_STAGE``)::

    reported   --accept-->  confirming    (待核实: a supervisor goes to look)
    confirming --confirm--> accepted      confirming --reject--> voided

A case left in ``confirming`` when a city turns the stage off can still be confirmed.
``closed``, ``voided`` and ``merged`` are final. An extension (延期) is granted at most
``max_extensions`` times (default once; the city may allow more).
"""

from __future__ import annotations

from collections.abc import Mapping

from adapters.base import AdapterError
from adapters.case.contract import CaseAction, CaseStatus
from command_center.i18n import Term, localized, t

S, A = CaseStatus, CaseAction

FINAL_STATUSES: frozenset[CaseStatus] = frozenset({S.CLOSED, S.VOIDED, S.MERGED})
OPEN_STATUSES: frozenset[CaseStatus] = frozenset(set(S) - FINAL_STATUSES)

#: (status, action) -> the status after the action.
TRANSITIONS: Mapping[tuple[CaseStatus, CaseAction], CaseStatus] = {
    (S.REPORTED, A.ACCEPT): S.ACCEPTED,
    (S.REPORTED, A.REJECT): S.VOIDED,
    (S.ACCEPTED, A.REGISTER): S.REGISTERED,
    (S.ACCEPTED, A.REJECT): S.VOIDED,
    (S.REGISTERED, A.DISPATCH): S.DISPATCHED,
    (S.DISPATCHED, A.RETURN): S.REGISTERED,
    (S.DISPATCHED, A.EXTEND): S.DISPATCHED,
    (S.DISPATCHED, A.REPORT_BACK): S.HANDLED,
    (S.HANDLED, A.VERIFY): S.VERIFIED,
    (S.HANDLED, A.REWORK): S.DISPATCHED,
    (S.VERIFIED, A.CLOSE): S.CLOSED,
    (S.VERIFIED, A.REWORK): S.DISPATCHED,
    # 核实 (a case left waiting for it when the city turned the stage off goes on too)
    (S.CONFIRMING, A.CONFIRM): S.ACCEPTED,
    (S.CONFIRMING, A.REJECT): S.VOIDED,
    # 合并: a report not yet registered (立案) may be a duplicate of an open case
    (S.REPORTED, A.MERGE): S.MERGED,
    (S.CONFIRMING, A.MERGE): S.MERGED,
    (S.ACCEPTED, A.MERGE): S.MERGED,
    # 催办 and 督办 at every open stage: no status changes, whoever holds the case is pressed
    **{(st, act): st for st in sorted(OPEN_STATUSES) for act in (A.URGE, A.ESCALATE)},
}

#: Where 核实 is a stage of its own: 受理 leads to 待核实 instead of 待立案.
VERIFY_STAGE_TRANSITIONS: Mapping[tuple[CaseStatus, CaseAction], CaseStatus] = {
    **TRANSITIONS,
    (S.REPORTED, A.ACCEPT): S.CONFIRMING,
}

#: Statuses a duplicate can be merged from (its master may have any open status).
MERGEABLE_STATUSES: frozenset[CaseStatus] = frozenset(
    st for (st, act) in TRANSITIONS if act is A.MERGE
)


def transitions(verify_stage: bool = False) -> Mapping[tuple[CaseStatus, CaseAction], CaseStatus]:
    """The table in force: with 核实 as its own stage or without."""
    return VERIFY_STAGE_TRANSITIONS if verify_stage else TRANSITIONS


#: The board's stages, in workflow order.
STAGES: tuple[str, ...] = ("accept", "register", "dispatch", "handle", "verify", "close")

#: Status -> board stage: 受理, 立案, 派遣, 处置, 核查, 结案. A voided case (作废) is on no
#: stage and leaves the board, so ``voided`` is deliberately absent (and ``merged``, whose case
#: is its master's): use ``stage_of``.
STAGE_OF_STATUS: Mapping[CaseStatus, str] = {
    S.REPORTED: "accept",
    S.CONFIRMING: "accept",  # 核实 belongs to 案卷建立, like 受理
    S.ACCEPTED: "accept",
    S.REGISTERED: "register",
    S.DISPATCHED: "dispatch",
    S.HANDLED: "handle",
    S.VERIFIED: "verify",
    S.CLOSED: "close",
}

DEFAULT_MAX_EXTENSIONS = 1

# --------------------------------------------------------------------------- stage limits

#: 受理, 立案, 派遣 and 核查 have their own limits, shorter than the handling limit, each
#: counted from the step before: action -> (the case column its clock starts from, hours).
#: A city's choice, not a national figure: set ``stage_limits`` in ``CC_CASE_OPTIONS``.
#: Hours are working hours, except for classes whose handling limit is in wall-clock hours
#: (danger items), whose stages run on the wall clock too.
DEFAULT_STAGE_LIMITS: Mapping[str, float] = {
    "accept": 1.0,  # 按时受理: accepted within 1 working hour of the report
    "confirm": 1.0,  # 按期核实: confirmed on site within 1 working hour of acceptance
    "register": 1.0,  # 按时立案: registered within 1 working hour of acceptance (or 核实)
    "dispatch": 1.0,  # 按期派遣: dispatched within 1 working hour of registration
    "verify": 2.0,  # 按期核查: verified on site within 2 working hours of the report-back
    "close": 1.0,  # 结案 within 1 working hour of the verification
}
#: The column each stage's clock starts from, and the case column its on-time flag goes to.
#: 结案 has no flag of its own: its limit, with 核查's, is the allowance 按期结案 gives after
#: the handling deadline (``closure_allowance_hours``).
STAGE_CLOCKS: Mapping[str, tuple[str, str]] = {
    "accept": ("reported_at", "accepted_on_time"),
    "register": ("accepted_at", "registered_on_time"),
    "dispatch": ("registered_at", "dispatched_on_time"),
    "verify": ("handled_at", "verified_on_time"),
    "confirm": ("accepted_at", "confirmed_on_time"),
}
#: A stage whose clock starts from this later column when the case has it: where 核实 is a
#: stage, 立案's clock starts at the confirmation, not at the acceptance.
STAGE_CLOCK_AFTER: Mapping[str, str] = {"register": "confirmed_at"}


def closure_allowance_hours(limits: Mapping[str, float]) -> float:
    """按期结案: a case is closed on time when its handling kept the deadline and it is
    closed within this many (working) hours after that deadline, the 核查 and 结案 stage
    limits: verification and closing have their own limits, handling has the case's."""
    return limits["verify"] + limits["close"]


def stage_limits(overrides: Mapping[str, float] | None = None) -> dict[str, float]:
    """The defaults with a city's ``overrides``; an unknown stage or a limit that is not a
    positive number is an error naming it."""
    limits = dict(DEFAULT_STAGE_LIMITS)
    for stage, hours in (overrides or {}).items():
        if stage not in DEFAULT_STAGE_LIMITS:
            raise ValueError(
                f"stage_limits: unknown stage {stage!r} (use {', '.join(DEFAULT_STAGE_LIMITS)})"
            )
        try:
            value = float(hours)
        except (TypeError, ValueError):
            value = -1.0
        if value <= 0:
            raise ValueError(f"stage_limits.{stage}: {hours!r} is not a positive number of hours")
        limits[stage] = value
    return limits


# --------------------------------------------------------------------------- evaluation

#: 综合评价: the public's rating of a closed case (12345 回访 or the reporter's app), stored as
#: a small integer. 满意率 counts 满意 and 基本满意 as satisfied.
SATISFACTION: Mapping[int, str] = {2: "满意", 1: "基本满意", 0: "不满意"}
SATISFIED_LEVELS: frozenset[int] = frozenset({1, 2})


class TransitionError(AdapterError):
    """An action the state machine forbids in the case's current status."""

    def __init__(
        self, action: CaseAction | str, status: CaseStatus | str, reason: str | Term = ""
    ) -> None:
        self.action = action
        self.status = status
        self.reason = reason
        # the text a person sees (command_center.i18n); str() stays a line for the log
        act, st = Term(f"action.{action}"), Term(f"status.{status}")
        if reason:
            localized(self, "workflow.cannot_because", action=act, reason=reason)
            message = (
                f"{t('workflow.cannot_because', action=act, reason=reason)} / cannot {action}: "
                + (t(reason, "en", **reason.params) if isinstance(reason, Term) else reason)
            )
        else:
            localized(self, "workflow.cannot_in_status", action=act, status=st)
            message = t("workflow.cannot_in_status", action=act, status=st)
            message += f" / cannot {action} a case that is {status}"
            allowed = _allowed(status)
            if allowed is not None:
                message += (
                    f" (allowed: {', '.join(a.value for a in allowed)})"
                    if allowed
                    else " (the case is final)"
                )
        super().__init__(message)


def _allowed(status: CaseStatus | str) -> list[CaseAction] | None:
    try:
        return allowed_actions(CaseStatus(status))
    except ValueError:
        return None


def _coerce(status: CaseStatus | str, action: CaseAction | str) -> tuple[CaseStatus, CaseAction]:
    try:
        st = CaseStatus(status)
    except ValueError:
        raise TransitionError(
            action, status, Term("workflow.unknown_status", status=status)
        ) from None
    try:
        act = CaseAction(action)
    except ValueError:
        raise TransitionError(
            action, status, Term("workflow.unknown_action", action=action)
        ) from None
    return st, act


def next_status(
    status: CaseStatus | str,
    action: CaseAction | str,
    *,
    extensions: int = 0,
    max_extensions: int = DEFAULT_MAX_EXTENSIONS,
    verify_stage: bool = False,
) -> CaseStatus:
    """The status after ``action``; raises ``TransitionError`` when it is not allowed.

    ``extensions`` is how many extensions the case already had; a further ``extend`` beyond
    ``max_extensions`` is refused. ``verify_stage``: 核实 is a stage of its own.
    """
    st, act = _coerce(status, action)
    try:
        after = transitions(verify_stage)[(st, act)]
    except KeyError:
        raise TransitionError(act, st) from None
    if act is A.EXTEND and extensions >= max_extensions:
        raise TransitionError(
            act, st, Term("workflow.extended_max", n=extensions, most=max_extensions)
        )
    return after


def allowed_actions(
    status: CaseStatus | str,
    *,
    extensions: int = 0,
    max_extensions: int = DEFAULT_MAX_EXTENSIONS,
    verify_stage: bool = False,
) -> list[CaseAction]:
    """The actions allowed in ``status``, in ``CaseAction`` order (empty for a final case)."""
    st = CaseStatus(status)
    table = transitions(verify_stage)
    return [
        act
        for act in CaseAction
        if (st, act) in table and not (act is A.EXTEND and extensions >= max_extensions)
    ]


def is_final(status: CaseStatus | str) -> bool:
    """Closed, voided and merged cases accept no further action."""
    return CaseStatus(status) in FINAL_STATUSES


def stage_of(status: CaseStatus | str) -> str | None:
    """The board stage of ``status``, or ``None`` for a voided or merged case."""
    return STAGE_OF_STATUS.get(CaseStatus(status))


# --------------------------------------------------------------------------- roles

#: Roles of the standard: 监督员, 受理员, 值班长, 派遣员, 专业部门 (or a street acting as one).
ROLES: tuple[str, ...] = ("supervisor", "acceptor", "shift_leader", "dispatcher", "department")

#: Which roles may take each action. Supervision and command are kept apart: a department
#: reports back but never verifies or closes its own work.
ROLES_FOR_ACTION: Mapping[CaseAction, frozenset[str]] = {
    A.ACCEPT: frozenset({"acceptor", "shift_leader"}),
    A.REJECT: frozenset({"acceptor", "shift_leader"}),
    A.REGISTER: frozenset({"shift_leader"}),
    A.DISPATCH: frozenset({"dispatcher", "shift_leader"}),
    A.RETURN: frozenset({"dispatcher", "department"}),
    A.URGE: frozenset({"dispatcher", "shift_leader"}),
    A.ESCALATE: frozenset({"dispatcher", "shift_leader"}),
    A.EXTEND: frozenset({"dispatcher", "shift_leader"}),
    A.REPORT_BACK: frozenset({"department"}),
    A.VERIFY: frozenset({"supervisor"}),
    A.CLOSE: frozenset({"shift_leader"}),
    A.REWORK: frozenset({"supervisor", "shift_leader"}),
    # 核实 is the supervisor's on-site confirmation; 合并 is part of filing (案卷建立), the
    # acceptor's and the shift leader's, who see the reports come in
    A.CONFIRM: frozenset({"supervisor"}),
    A.MERGE: frozenset({"acceptor", "shift_leader"}),
}


class RoleError(AdapterError):
    """An actor whose role may not take this action (separation of duties)."""

    def __init__(self, action: CaseAction | str, role: str) -> None:
        self.action = action
        self.role = role
        by_value = {a.value: r for a, r in ROLES_FOR_ACTION.items()}
        roles = sorted(by_value.get(str(action), frozenset()))
        act = Term(f"action.{action}")
        super().__init__(
            f"{t('workflow.role_may_not', action=act)} / role {role!r} may not {action} "
            f"(allowed roles: {', '.join(roles) or 'none'})"
        )
        localized(self, "workflow.role_may_not", action=act)


def check_actor(action: CaseAction | str, actor_role: str) -> None:
    """Raise ``RoleError`` unless ``actor_role`` may take ``action``."""
    try:
        act = CaseAction(action)
    except ValueError:
        raise RoleError(action, actor_role) from None
    if actor_role not in ROLES_FOR_ACTION[act]:
        raise RoleError(act, actor_role)
