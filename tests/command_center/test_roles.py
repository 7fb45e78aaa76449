"""The roles table (command_center.domain.roles): every role of the standard has rights,
separation of duties holds in every row, each role can carry a case as far as its desk goes,
and docs/roles.md shows exactly the table the code enforces."""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.case.contract import CaseAction
from command_center.auth import ROLES, User, may
from command_center.domain.roles import (
    ADMIN_PAGES,
    ALARM_ACK,
    BRIEFING_EXPORT,
    CASE_FROM_ALARM,
    PUT_ON_WALL,
    USER_ROLES,
    case_actions,
    rights,
    rights_markdown,
)
from command_center.domain.workflow import ROLES as WORKFLOW_ROLES
from command_center.domain.workflow import allowed_actions, next_status
from command_center.i18n import t

A = CaseAction
ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "roles.md"
BEGIN, END = "<!-- roles table: begin -->", "<!-- roles table: end -->"


def user(role: str) -> User:
    return User(1, "someone", "", role)


def test_the_standards_roles_and_the_hall_desk_are_all_there() -> None:
    assert set(ROLES) == {
        "duty_officer",  # 值班员: stored users keep working
        "acceptor",  # 受理员
        "shift_leader",  # 值班长
        "dispatcher",  # 派遣员
        "supervisor",  # 监督员
        "department",  # 专业部门
        "leader",  # 领导
        "admin",  # 管理员
    }
    # every workflow role of the standard is some user role's job
    acted = set().union(*(r.acts_as for r in USER_ROLES))
    assert acted == set(WORKFLOW_ROLES)
    for role in ROLES:
        assert len(role) <= 20  # cc_users.role is String(20)
        assert t(f"auth.role.{role}", "zh") != f"auth.role.{role}"
        assert t(f"auth.role.{role}", "en") != f"auth.role.{role}"


def test_each_role_has_the_rights_of_its_desk() -> None:
    assert case_actions("acceptor") == {A.ACCEPT, A.REJECT, A.MERGE}
    assert case_actions("supervisor") == {A.CONFIRM, A.VERIFY, A.REWORK}
    assert case_actions("department") == {A.REPORT_BACK, A.RETURN}
    assert {A.DISPATCH, A.URGE, A.EXTEND, A.RETURN} <= case_actions("dispatcher")
    assert {A.REGISTER, A.CLOSE, A.DISPATCH} <= case_actions("shift_leader")
    assert case_actions("leader") == {A.URGE, A.ESCALATE}
    assert case_actions("admin") == set(A)
    # the hall desk accepts, registers and dispatches: an alarm becomes a dispatched case
    assert {A.ACCEPT, A.REGISTER, A.DISPATCH} <= case_actions("duty_officer")
    assert may(user("duty_officer"), CASE_FROM_ALARM) and may(user("duty_officer"), ALARM_ACK)
    # the field and the departments are not at a hall desk
    for role in ("supervisor", "department"):
        assert not may(user(role), ALARM_ACK) and not may(user(role), PUT_ON_WALL)
    assert not may(user("leader"), ALARM_ACK) and may(user("leader"), BRIEFING_EXPORT)
    assert [r for r in ROLES if may(user(r), ADMIN_PAGES)] == ["admin"]
    assert not may(None, A.ACCEPT) and not may(None, PUT_ON_WALL)  # a kiosk


@pytest.mark.parametrize("role", [r for r in ROLES if r != "admin"])
def test_no_role_both_handles_and_closes_nor_verifies_its_own_work(role: str) -> None:
    acts = case_actions(role)
    assert not (A.REPORT_BACK in acts and A.CLOSE in acts)
    assert not (A.REPORT_BACK in acts and A.VERIFY in acts)


def walk(role: str, path: list[CaseAction]) -> list[CaseAction]:
    """The steps of ``path`` the role may take one after the other, from a new report."""
    status, done = "reported", []
    for act in path:
        if act not in case_actions(role) or act not in allowed_actions(status):
            break
        status = next_status(status, act)
        done.append(act)
    return done


def test_the_duty_officer_carries_an_alarm_through_to_dispatch_and_the_shift_to_close() -> None:
    to_dispatch = [A.ACCEPT, A.REGISTER, A.DISPATCH]
    assert walk("duty_officer", to_dispatch) == to_dispatch
    assert walk("shift_leader", to_dispatch) == to_dispatch
    # the loop closes with the roles of the standard: no step is nobody's
    loop = [*to_dispatch, A.REPORT_BACK, A.VERIFY, A.CLOSE]
    for act in loop:
        assert any(act in case_actions(r) for r in ROLES if r != "admin"), act


def test_the_documented_table_is_the_one_the_code_enforces() -> None:
    text = DOC.read_text(encoding="utf-8")
    table = text.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert table == rights_markdown().strip(), (
        "docs/roles.md is out of date: paste `command-center users roles` between its markers"
    )
    for r in USER_ROLES:  # and the table says what rights() says
        row_of = {line.split("`")[1]: line for line in table.splitlines()[2:] if "`" in line}
        for name in rights(r.name):
            assert name in row_of


def test_the_readme_links_the_table_and_its_walkthrough_role_gets_to_dispatch() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "docs/roles.md" in readme
    walkthrough = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    [named] = {
        line.split("--role", 1)[1].split()[0]
        for line in walkthrough.splitlines()
        if "users add NAME" in line and "--role" in line
    }
    assert walk(named, [A.ACCEPT, A.REGISTER, A.DISPATCH]) == [A.ACCEPT, A.REGISTER, A.DISPATCH]
