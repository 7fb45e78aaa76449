"""SMS notices of dispatch/urge/escalate (command_center.sms_queue through the collaboration
service), against the local fake gateway of tests/adapters/sms: delivered when it is up; a
gateway that is down never blocks the case, the SMS is retried, and its failure is visible."""

from __future__ import annotations

import importlib.util
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from adapters.case.contract import CaseFilter, CaseSource, CaseStatus, NewCase
from command_center.sms_queue import DELIVERED, FAILED, RETRYING, SENT

NOW = datetime(2026, 11, 25, 10, 0)
FAKE_GATEWAY = Path(__file__).resolve().parents[1] / "adapters" / "sms" / "fake_gateway.py"
CONTACT = "13812345678"


def _fake_gateway_class() -> Any:
    """tests/adapters/sms/fake_gateway.py, loaded by path (test folders are not packages)."""
    spec = importlib.util.spec_from_file_location("cc_fake_sms_gateway", FAKE_GATEWAY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses resolve annotations through it
    spec.loader.exec_module(module)
    return module.FakeSmsGateway


@pytest.fixture()
def gateway() -> Iterator[Any]:
    fake = _fake_gateway_class()(undeliverable={"13700000000"}).start()
    yield fake
    fake.fail_with_status = None
    fake.stop()


@pytest.fixture()
def cc(city_copy: str, tmp_path: Path, gateway: Any) -> Iterator[Any]:
    from command_center.app import create_app
    from tests.conftest import make_settings

    settings = make_settings(
        city_copy,
        tmp_path,
        cache_seconds=0.0,
        sms_adapter="http",
        sms_options={
            "url": gateway.url,
            "status_url": gateway.status_url,
            "account": gateway.account,
            "api_key": gateway.secret,
            "timeout_seconds": 0.5,
        },
        sms_retry_seconds=0.0,  # retry at the next flush: the test drives the clock
        sms_max_attempts=3,
    )
    app = create_app(settings, start_background=False)
    app.collab.sms.set_contact("D02", CONTACT, "环卫值班")
    yield app
    app.stop()


def dispatched_case(cc: Any, department: str = "D02") -> tuple[int, Any]:
    """A fresh case, registered, then dispatched by an admin: (case id, outcome)."""
    collab = cc.collab
    case_adapter = cc.services.adapters.case
    some = case_adapter.list_cases(CaseFilter(limit=1))[0]
    case = case_adapter.report_case(
        NewCase(
            kind="event",
            class_code="0102",
            source=CaseSource.PUBLIC,
            description="暴露垃圾",
            lon=some.lon,
            lat=some.lat,
        )
    )
    admin = collab.users.get("root") or collab.users.add("root", "admin", "password-1", now=NOW)
    for action in ("accept", "register"):
        assert collab.perform(admin, case.id, action).ok
    outcome = collab.perform(admin, case.id, "dispatch", department_code=department)
    return case.id, outcome


def test_dispatch_notifies_the_department_by_sms_and_shows_delivery(cc: Any, gateway: Any) -> None:
    case_id, outcome = dispatched_case(cc)
    assert outcome.ok and len(outcome.sms_ids) == 1
    assert cc.collab.sms.flush() == 1
    [sms] = cc.collab.sms.for_case(case_id)
    assert sms.status in (SENT, DELIVERED) and sms.action == "dispatch"
    [received] = gateway.sent_to([CONTACT])
    assert received.template_id == "case_dispatched"
    assert received.params["number"] == outcome.case.number
    assert received.params["department"] == "市政市容委（环卫）"
    cc.collab.sms.flush()  # follows up the delivery report
    assert cc.collab.sms.for_case(case_id)[0].status == DELIVERED
    # the drawer shows it
    assert [s.status for s in cc.collab.drawer(case_id, None).sms] == [DELIVERED]


def test_urge_and_escalate_notify_too_but_a_department_without_contact_gets_none(
    cc: Any, gateway: Any
) -> None:
    case_id, _ = dispatched_case(cc)
    admin = cc.collab.users.get("root")
    assert len(cc.collab.perform(admin, case_id, "urge", "请加快").sms_ids) == 1
    assert len(cc.collab.perform(admin, case_id, "escalate").sms_ids) == 1
    cc.collab.sms.flush()
    sent = [m.template_id for m in gateway.sent_to([CONTACT])]
    assert sent.count("case_urge") == 1 and sent.count("case_escalate") == 1
    escalated = next(m for m in cc.collab.sms.for_case(case_id) if m.action == "escalate")
    assert escalated.template_id == "case_escalate"
    other, outcome = dispatched_case(cc, department="D05")  # no contact for D05
    assert outcome.ok and outcome.sms_ids == [] and cc.collab.sms.for_case(other) == []


def test_a_gateway_that_is_down_does_not_block_the_case_and_the_sms_is_retried(
    cc: Any, gateway: Any
) -> None:
    gateway.fail_with_status = 503
    started = time.monotonic()
    case_id, outcome = dispatched_case(cc)
    assert outcome.ok and time.monotonic() - started < 5  # the case moved on at once
    assert cc.services.case_detail(case_id).case.status is CaseStatus.DISPATCHED
    cc.collab.sms.flush()
    [sms] = cc.collab.sms.for_case(case_id)
    assert sms.status == RETRYING and sms.attempts == 1 and "503" in sms.error
    gateway.fail_with_status = None  # the gateway is back
    cc.collab.sms.flush()
    [sms] = cc.collab.sms.for_case(case_id)
    assert sms.status in (SENT, DELIVERED) and sms.attempts == 2 and sms.error == ""
    assert len(gateway.sent_to([CONTACT])) == 1


def test_an_sms_that_keeps_failing_is_given_up_visibly(cc: Any, gateway: Any) -> None:
    gateway.stop()  # connection refused from now on
    case_id, outcome = dispatched_case(cc)
    assert outcome.ok
    for _ in range(3):
        cc.collab.sms.flush()
    [sms] = cc.collab.sms.for_case(case_id)
    assert sms.status == FAILED and sms.attempts == 3 and sms.error
    cc.collab.sms.flush()  # given up: no further attempt
    assert cc.collab.sms.for_case(case_id)[0].attempts == 3


def test_an_undeliverable_number_ends_failed_with_the_gateways_reason(
    cc: Any, gateway: Any
) -> None:
    cc.collab.sms.set_contact("D02", "13700000000")
    case_id, _ = dispatched_case(cc)
    cc.collab.sms.flush()
    cc.collab.sms.flush()
    [sms] = cc.collab.sms.for_case(case_id)
    assert sms.status == FAILED and "停机" in sms.error


def test_the_sender_thread_delivers_without_anyone_flushing(cc: Any, gateway: Any) -> None:
    cc.collab.sms.start(poll_seconds=0.1)
    case_id, _ = dispatched_case(cc)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if cc.collab.sms.for_case(case_id)[0].status == DELIVERED:
            break
        time.sleep(0.1)
    assert cc.collab.sms.for_case(case_id)[0].status == DELIVERED


def test_escalate_uses_its_own_template_whose_text_an_admin_can_edit(
    city_copy: str, tmp_path: Path
) -> None:
    """督办 is not 催办: it has its own template, and CC_SMS_OPTIONS may rewrite it."""
    from command_center.app import create_app
    from tests.conftest import make_settings

    edited = "督办通知：{department}请于{deadline}前办结案件{number}。"
    settings = make_settings(
        city_copy,
        tmp_path,
        cache_seconds=0.0,
        sms_options={"templates": {"case_escalate": edited}},
        sms_retry_seconds=0.0,
    )
    app = create_app(settings, start_background=False)
    try:
        app.collab.sms.set_contact("D02", CONTACT, "环卫值班")
        case_id, outcome = dispatched_case(app)
        admin = app.collab.users.get("root")
        assert app.collab.perform(admin, case_id, "escalate", "领导关注").ok
        app.collab.sms.flush()
        [sms] = [m for m in app.collab.sms.for_case(case_id) if m.action == "escalate"]
        assert sms.template_id == "case_escalate" and sms.status in (SENT, DELIVERED)
        [message] = [
            m for m in app.adapters.sms._messages.values() if m.text.startswith("【指挥中心】督办")
        ]
        assert message.text == (
            f"【指挥中心】督办通知：市政市容委（环卫）请于"
            f"{outcome.case.deadline:%m月%d日%H:%M}前办结案件{outcome.case.number}。"
        )
    finally:
        app.stop()
