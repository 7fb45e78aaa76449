"""User roles (岗位) and their rights: the one table every check and every document reads.

A user role acts as one or more of the standard's workflow roles (``workflow.ROLES``:
监督员, 受理员, 值班长, 派遣员, 专业部门), whose case actions ``workflow.ROLES_FOR_ACTION``
names, plus a few case actions of its own (``also``) and the rights outside the case workflow
(``other``: answering an alarm, the wall, the briefing, the admin pages). ``USER_ROLES`` is
that table; ``rights(role)`` resolves it to every action the role may take, and
``rights_markdown()`` prints it as the table of docs/roles.md (a test keeps the two equal).

Separation of duties holds in every row: no role both handles a case (处置反馈) and closes
it (结案), and the supervisor who verifies is not the department that handled.

``duty_officer`` (值班员) is the hall desk of a small shift: it accepts, registers and
dispatches routine cases and records the supervisors' on-site verification; the shift
leader (值班长) closes. A larger hall splits that desk into 受理员 and 派遣员.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from adapters.case.contract import CaseAction
from command_center.domain.workflow import ROLES as WORKFLOW_ROLE_NAMES
from command_center.domain.workflow import ROLES_FOR_ACTION
from command_center.i18n import t

A = CaseAction

#: Rights outside the case workflow, in the order the table lists them.
ALARM_ACK = "alarm_ack"  # 确认 an alarm on a console's ticker
CASE_FROM_ALARM = "case_from_alarm"  # 告警立案: derived, the role may accept or register
PUT_ON_WALL = "put_on_wall"  # 推送到大屏 / 区域上屏
BRIEFING_EXPORT = "briefing_export"  # the briefing's PDF/PNG export (starts a Chromium)
ADMIN_PAGES = "admin"  # /admin/users and /admin/audit
OTHER_RIGHTS: tuple[str, ...] = (
    ALARM_ACK,
    CASE_FROM_ALARM,
    PUT_ON_WALL,
    BRIEFING_EXPORT,
    ADMIN_PAGES,
)

_HALL = frozenset({ALARM_ACK, PUT_ON_WALL})  # a desk in the command hall


@dataclass(frozen=True)
class UserRole:
    name: str  # stored in cc_users.role
    zh: str  # the standard's name
    acts_as: frozenset[str] = frozenset()  # workflow roles (workflow.ROLES)
    also: frozenset[CaseAction] = frozenset()  # case actions beyond its workflow roles'
    other: frozenset[str] = frozenset()  # rights outside the workflow (OTHER_RIGHTS)
    duty: str = ""  # what the role does, for the table
    own_cases: bool = False  # acts only on the cases of its own department


#: Every user role, in the order the CLI and the table list them.
USER_ROLES: tuple[UserRole, ...] = (
    UserRole(
        "duty_officer",
        "值班员",
        acts_as=frozenset({"acceptor", "dispatcher", "supervisor"}),
        also=frozenset({A.REGISTER}),
        other=_HALL,
        duty="the hall desk: accepts, registers and dispatches routine cases, records the "
        "supervisors' verification; the shift leader closes",
    ),
    UserRole(
        "acceptor",
        "受理员",
        acts_as=frozenset({"acceptor"}),
        other=_HALL,
        duty=(
            "accepts or rejects reports (12345, public, supervisors, alarms), merges a"
            " duplicate into its case"
        ),
    ),
    UserRole(
        "dispatcher",
        "派遣员",
        acts_as=frozenset({"dispatcher", "department"}),
        other=_HALL,
        duty="dispatches to the responsible department, urges, extends, takes a case back, "
        "records a department's feedback",
    ),
    UserRole(
        "shift_leader",
        "值班长",
        acts_as=frozenset({"shift_leader"}),
        other=_HALL | {BRIEFING_EXPORT},
        duty="registers and closes; may also accept, dispatch, urge and send back for rework",
    ),
    UserRole(
        "supervisor",
        "监督员",
        acts_as=frozenset({"supervisor"}),
        duty=(
            "the field inspector: confirms a report on site where 核实 is a stage,"
            " verifies a handled case (核查) or sends it back"
        ),
    ),
    UserRole(
        "department",
        "专业部门",
        acts_as=frozenset({"department"}),
        duty="a department (or a street acting as one), on the cases dispatched to it only: "
        "reports back (处置反馈) or returns a case dispatched to it wrongly; an extension it "
        "asks for is granted by the hall",
        own_cases=True,
    ),
    UserRole(
        "leader",
        "领导",
        also=frozenset({A.URGE, A.ESCALATE}),
        other=frozenset({PUT_ON_WALL, BRIEFING_EXPORT}),
        duty="watches, urges (催办) and supervises (督办); the hall answers alarms",
    ),
    UserRole(
        "admin",
        "管理员",
        acts_as=frozenset(WORKFLOW_ROLE_NAMES),
        other=frozenset(OTHER_RIGHTS),
        duty="everything, and the users and audit pages",
    ),
)

ROLE_NAMES: tuple[str, ...] = tuple(r.name for r in USER_ROLES)
BY_NAME: Mapping[str, UserRole] = {r.name: r for r in USER_ROLES}


def case_actions(role: str) -> frozenset[CaseAction]:
    """The workflow actions a user of ``role`` may take (none for an unknown role)."""
    spec = BY_NAME.get(role)
    if spec is None:
        return frozenset()
    mine = {a for a, who in ROLES_FOR_ACTION.items() if who & spec.acts_as}
    return frozenset(mine | spec.also)


def rights(role: str) -> frozenset[str]:
    """Every action ``role`` may take, by name: its case actions and its other rights."""
    spec = BY_NAME.get(role)
    if spec is None:
        return frozenset()
    acts = case_actions(role)
    out = {a.value for a in acts} | set(spec.other)
    if A.ACCEPT in acts or A.REGISTER in acts:
        out.add(CASE_FROM_ALARM)
    return frozenset(out)


def own_cases_only(role: str) -> bool:
    """Whether ``role`` acts only on the cases of its own department (专业部门)."""
    spec = BY_NAME.get(role)
    return spec is not None and spec.own_cases


def roles_with(right: str) -> frozenset[str]:
    """The user roles that have ``right`` (a case action's value or an OTHER_RIGHTS name)."""
    return frozenset(r.name for r in USER_ROLES if right in rights(r.name))


# --------------------------------------------------------------------------- the document

_ACTION_ZH: Mapping[str, str] = {
    **{a.value: t(f"action.{a.value}", "zh") for a in CaseAction},
    ALARM_ACK: "告警确认",
    CASE_FROM_ALARM: "告警立案",
    PUT_ON_WALL: "推送到大屏",
    BRIEFING_EXPORT: "日报导出",
    ADMIN_PAGES: "用户与审计页",
}


def rights_markdown() -> str:
    """The table of docs/roles.md: one row per action, one column per user role."""
    head = "| action | " + " | ".join(f"{r.zh} `{r.name}`" for r in USER_ROLES) + " |"
    rule = "|---|" + "---|" * len(USER_ROLES)
    rows = [head, rule]
    names = [a.value for a in CaseAction] + list(OTHER_RIGHTS)
    table = {r.name: rights(r.name) for r in USER_ROLES}
    for name in names:
        cells = ["✓" if name in table[r.name] else "" for r in USER_ROLES]
        label = f"{_ACTION_ZH.get(name, name)} `{name}`"
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    lines = [*rows, ""]
    lines += [f"- **{r.zh}** `{r.name}`: {r.duty}" for r in USER_ROLES]
    return "\n".join(lines) + "\n"
