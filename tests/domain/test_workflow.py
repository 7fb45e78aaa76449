import itertools

import pytest

from adapters.base import AdapterError
from adapters.case.contract import CaseAction, CaseStatus
from command_center.domain.workflow import (
    STAGE_OF_STATUS,
    STAGES,
    RoleError,
    TransitionError,
    allowed_actions,
    check_actor,
    is_final,
    next_status,
    stage_limits,
    stage_of,
)

S, A = CaseStatus, CaseAction

# Written out from the brief independently of the module's table.
EXPECTED = {
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
    # 核实: a case already waiting for it is confirmed (or found to be nothing)
    (S.CONFIRMING, A.CONFIRM): S.ACCEPTED,
    (S.CONFIRMING, A.REJECT): S.VOIDED,
    # 合并: a report not yet registered joins the open case it repeats
    (S.REPORTED, A.MERGE): S.MERGED,
    (S.CONFIRMING, A.MERGE): S.MERGED,
    (S.ACCEPTED, A.MERGE): S.MERGED,
}
OPEN = (S.REPORTED, S.CONFIRMING, S.ACCEPTED, S.REGISTERED, S.DISPATCHED, S.HANDLED, S.VERIFIED)
# 催办 and 督办 at every open stage, the status unchanged
EXPECTED |= {(s, a): s for s in OPEN for a in (A.URGE, A.ESCALATE)}
FORBIDDEN = [pair for pair in itertools.product(S, A) if pair not in EXPECTED]
# where 核实 is a stage of its own, 受理 leads to 待核实; the rest is the same
WITH_VERIFY_STAGE = EXPECTED | {(S.REPORTED, A.ACCEPT): S.CONFIRMING}


@pytest.mark.parametrize(("status", "action"), EXPECTED, ids=lambda v: v.value)
def test_allowed_transition_leads_to_expected_status(status, action):
    assert next_status(status, action) is EXPECTED[(status, action)]


@pytest.mark.parametrize(("status", "action"), FORBIDDEN, ids=lambda v: v.value)
def test_forbidden_transition_raises_transition_error(status, action):
    with pytest.raises(TransitionError) as info:
        next_status(status, action)
    assert info.value.action is action
    assert info.value.status is status
    assert action.value in str(info.value) and status.value in str(info.value)


def test_transition_error_is_an_adapter_error_with_chinese_and_english():
    with pytest.raises(AdapterError) as info:
        next_status(S.CLOSED, A.DISPATCH)
    message = str(info.value)
    assert "已结案的案件不能派遣" in message
    assert "cannot dispatch a case that is closed" in message
    assert "final" in message


def test_transition_error_lists_what_is_allowed():
    with pytest.raises(TransitionError, match=r"allowed: accept, reject"):
        next_status(S.REPORTED, A.CLOSE)


def test_strings_are_accepted_for_status_and_action():
    assert next_status("registered", "dispatch") is S.DISPATCHED


def test_unknown_action_string_is_a_transition_error():
    with pytest.raises(TransitionError, match="unknown action"):
        next_status(S.DISPATCHED, "teleport")


def test_second_extension_is_refused_by_default():
    assert next_status(S.DISPATCHED, A.EXTEND, extensions=0) is S.DISPATCHED
    with pytest.raises(TransitionError, match="already extended 1"):
        next_status(S.DISPATCHED, A.EXTEND, extensions=1)


def test_city_may_allow_more_extensions():
    assert next_status(S.DISPATCHED, A.EXTEND, extensions=1, max_extensions=2) is S.DISPATCHED
    with pytest.raises(TransitionError):
        next_status(S.DISPATCHED, A.EXTEND, extensions=2, max_extensions=2)


@pytest.mark.parametrize("status", list(S), ids=lambda v: v.value)
def test_allowed_actions_match_the_table(status):
    expected = [a for a in A if (status, a) in EXPECTED]
    assert allowed_actions(status) == expected


def test_allowed_actions_drop_extend_once_used():
    assert A.EXTEND in allowed_actions(S.DISPATCHED)
    assert A.EXTEND not in allowed_actions(S.DISPATCHED, extensions=1)


@pytest.mark.parametrize(("status", "action"), WITH_VERIFY_STAGE, ids=lambda v: v.value)
def test_with_the_verify_stage_accept_waits_for_confirmation(status, action):
    after = next_status(status, action, verify_stage=True)
    assert after is WITH_VERIFY_STAGE[(status, action)]


@pytest.mark.parametrize("status", list(S), ids=lambda v: v.value)
def test_allowed_actions_with_the_verify_stage_match_its_table(status):
    expected = [a for a in A if (status, a) in WITH_VERIFY_STAGE]
    assert allowed_actions(status, verify_stage=True) == expected


def test_confirm_is_refused_where_nothing_waits_for_it():
    for status in (S.REPORTED, S.ACCEPTED, S.REGISTERED):
        with pytest.raises(TransitionError, match="cannot confirm"):
            next_status(status, A.CONFIRM, verify_stage=True)


def test_a_registered_case_is_no_longer_merged_but_urged_at_every_open_stage():
    with pytest.raises(TransitionError, match="cannot merge"):
        next_status(S.REGISTERED, A.MERGE)
    for status in OPEN:
        assert A.URGE in allowed_actions(status) and A.ESCALATE in allowed_actions(status)
        assert next_status(status, A.URGE) is status


def test_the_verify_stage_happy_path_ends_closed():
    status = S.REPORTED
    for action in (A.ACCEPT, A.URGE, A.CONFIRM, A.REGISTER, A.DISPATCH, A.REPORT_BACK):
        status = next_status(status, action, verify_stage=True)
    assert status is S.HANDLED


def test_confirm_has_its_own_stage_limit_a_city_may_set():
    assert stage_limits()["confirm"] == 1.0
    assert stage_limits({"confirm": 0.5})["confirm"] == 0.5


@pytest.mark.parametrize("status", [S.CLOSED, S.VOIDED, S.MERGED])
def test_closed_voided_and_merged_are_final(status):
    assert is_final(status)
    assert allowed_actions(status) == []


def test_open_statuses_are_not_final():
    assert not any(is_final(s) for s in S if s not in (S.CLOSED, S.VOIDED, S.MERGED))


def test_supervisors_confirm_and_acceptors_merge():
    check_actor(A.CONFIRM, "supervisor")
    check_actor(A.MERGE, "acceptor")
    check_actor(A.MERGE, "shift_leader")
    with pytest.raises(RoleError):
        check_actor(A.CONFIRM, "department")
    with pytest.raises(RoleError):
        check_actor(A.MERGE, "department")


def test_stage_of_each_status():
    assert STAGE_OF_STATUS == {
        S.REPORTED: "accept",
        S.CONFIRMING: "accept",
        S.ACCEPTED: "accept",
        S.REGISTERED: "register",
        S.DISPATCHED: "dispatch",
        S.HANDLED: "handle",
        S.VERIFIED: "verify",
        S.CLOSED: "close",
    }
    assert set(STAGE_OF_STATUS.values()) == set(STAGES)
    assert stage_of(S.VOIDED) is None
    assert stage_of(S.MERGED) is None
    assert stage_of("handled") == "handle"


def test_a_full_happy_path_with_one_rework_ends_closed():
    status = S.REPORTED
    for action in (A.ACCEPT, A.REGISTER, A.DISPATCH, A.URGE, A.REPORT_BACK, A.REWORK):
        status = next_status(status, action)
    assert status is S.DISPATCHED
    for action in (A.REPORT_BACK, A.VERIFY, A.CLOSE):
        status = next_status(status, action)
    assert status is S.CLOSED


def test_department_reports_back_but_cannot_close_or_verify():
    check_actor(A.REPORT_BACK, "department")
    with pytest.raises(RoleError, match="department"):
        check_actor(A.CLOSE, "department")
    with pytest.raises(RoleError):
        check_actor(A.VERIFY, "department")


def test_shift_leader_registers_and_closes():
    check_actor("register", "shift_leader")
    check_actor(A.CLOSE, "shift_leader")


def test_unknown_role_is_refused():
    with pytest.raises(RoleError, match="allowed roles"):
        check_actor(A.DISPATCH, "visitor")
