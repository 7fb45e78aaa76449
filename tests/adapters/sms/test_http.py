"""The HTTP SMS adapter against a real (fake) gateway over a real socket."""

from __future__ import annotations

import time
from importlib.metadata import entry_points

import pytest

from adapters.base import AdapterConfigError, AdapterError, BackendUnavailable
from adapters.sms.contract import DeliveryStatus
from adapters.sms.http import HttpSmsAdapter
from command_center.plugins import build_adapter
from command_center.settings import Settings

from .conftest import TIMEOUT
from .fake_gateway import BLACKLIST_REASON, UNDELIVERABLE_ERROR

OVERDUE = {"number": "202611250001", "class_name": "暴露垃圾"}


def test_send_is_accepted_by_the_gateway_and_later_reported_delivered(http_sms, gateway):
    (message,) = http_sms.send(["13800138000"], "case_overdue", OVERDUE, tags={"case": "42"})
    assert message.status == DeliveryStatus.SENT
    assert message.gateway_id
    assert message.text == "【指挥中心】案件202611250001（暴露垃圾）已超期，请尽快处置并反馈结果。"
    assert message.tags == {"case": "42"}
    (later,) = http_sms.status([message.id])
    assert later.status == DeliveryStatus.DELIVERED
    assert later.gateway_id == message.gateway_id


def test_a_message_stays_sent_while_the_gateway_reports_it_pending(http_sms, gateway):
    gateway.deliver_after = 60
    (message,) = http_sms.send(["13800138000"], "case_overdue", OVERDUE)
    assert http_sms.status([message.id])[0].status == DeliveryStatus.SENT


def test_the_wire_request_names_account_sign_template_code_params_and_phones(gateway):
    adapter = HttpSmsAdapter(
        url=gateway.url,
        account=gateway.account,
        password=gateway.secret,
        sign_name="东城区指挥中心",
        template_codes={"case_urge": "SMS_0004"},
        timeout_seconds=TIMEOUT,
    )
    gateway.templates.add("SMS_0004")
    params = {"number": "7", "class_name": "乱停放", "deadline": "17:30"}
    (message,) = adapter.send(["+86 138-0013-8000"], "case_urge", params)
    (request,) = gateway.received
    assert request["account"] == "cc-hall"
    assert request["sign"] == "东城区指挥中心"
    assert request["template_id"] == "SMS_0004"
    assert request["params"] == params
    assert request["phones"] == ["13800138000"]
    assert len(request["request_id"]) == 32
    assert message.status == DeliveryStatus.SENT
    assert message.text.startswith("【东城区指挥中心】催办：案件7（乱停放）")


def test_send_to_blacklisted_number_is_failed_with_gateway_reason(http_sms, gateway):
    ok, blocked = http_sms.send(["13800138000", "13900000000"], "case_overdue", OVERDUE)
    assert ok.status == DeliveryStatus.SENT
    assert blocked.status == DeliveryStatus.FAILED
    assert blocked.error == BLACKLIST_REASON
    assert http_sms.status([blocked.id])[0].status == DeliveryStatus.FAILED


def test_undeliverable_number_turns_failed_with_the_delivery_report_error(http_sms):
    (message,) = http_sms.send(["13700000000"], "case_overdue", OVERDUE)
    assert message.status == DeliveryStatus.SENT
    (later,) = http_sms.status([message.id])
    assert later.status == DeliveryStatus.FAILED
    assert later.error == UNDELIVERABLE_ERROR


def test_malformed_number_is_failed_here_and_never_sent(http_sms, gateway):
    bad, good = http_sms.send(["12345", "13800138000"], "case_overdue", OVERDUE)
    assert bad.status == DeliveryStatus.FAILED
    assert "12345" in bad.error
    assert good.status == DeliveryStatus.SENT
    assert gateway.received[0]["phones"] == ["13800138000"]


def test_only_malformed_numbers_make_no_request_at_all(http_sms, gateway):
    (bad,) = http_sms.send(["0101234567"], "case_overdue", OVERDUE)
    assert bad.status == DeliveryStatus.FAILED
    assert gateway.received == []


def test_unknown_template_is_failed_with_the_gateway_code(http_sms):
    messages = http_sms.send(["13800138000", "13600136000"], "no_such_template", {})
    assert {m.status for m in messages} == {DeliveryStatus.FAILED}
    assert all(m.error.startswith("isv.TEMPLATE_MISSING") for m in messages)


def test_wrong_secret_is_refused_by_the_gateway_and_the_messages_fail(gateway):
    adapter = HttpSmsAdapter(
        url=gateway.url, account=gateway.account, api_key="guessed", timeout_seconds=TIMEOUT
    )
    (message,) = adapter.send(["13800138000"], "case_overdue", OVERDUE)
    assert message.status == DeliveryStatus.FAILED
    assert "isv.SIGNATURE_INVALID" in message.error
    assert gateway.received == [] and gateway.messages == {}


def test_number_listed_twice_gets_two_records_each_with_its_own_gateway_id(http_sms):
    first, second = http_sms.send(["13800138000", "13800138000"], "case_overdue", OVERDUE)
    assert first.status == second.status == DeliveryStatus.SENT
    assert first.gateway_id != second.gateway_id


def test_gateway_timeout_leaves_status_unknown_not_lost(http_sms, gateway):
    gateway.slow_seconds = TIMEOUT + 0.3
    started = time.monotonic()
    (message,) = http_sms.send(["13800138000"], "case_overdue", OVERDUE)
    assert time.monotonic() - started < TIMEOUT + 0.25  # the wall did not hang
    assert message.status == DeliveryStatus.UNKNOWN
    assert message.gateway_id is None
    # The gateway did take it: once it answers again, the request id finds the message.
    gateway.slow_seconds = 0
    (later,) = http_sms.status([message.id])
    assert later.status == DeliveryStatus.DELIVERED
    assert later.gateway_id == gateway.sent_to(["13800138000"])[0].msg_id


def test_timed_out_send_of_a_blacklisted_number_resolves_to_failed(http_sms, gateway):
    gateway.slow_seconds = TIMEOUT + 0.3
    (message,) = http_sms.send(["13900000000"], "case_overdue", OVERDUE)
    assert message.status == DeliveryStatus.UNKNOWN
    gateway.slow_seconds = 0
    (later,) = http_sms.status([message.id])
    assert later.status == DeliveryStatus.FAILED
    assert later.error == BLACKLIST_REASON


def test_gateway_down_raises_backend_unavailable_and_health_reports_down(http_sms, gateway):
    assert http_sms.health().up
    gateway.stop()
    with pytest.raises(BackendUnavailable, match="unreachable"):
        http_sms.send(["13800138000"], "case_overdue", OVERDUE)
    health = http_sms.health()
    assert not health.up
    assert "unreachable" in health.detail
    assert health.latency_ms < 1000 * TIMEOUT


def test_health_is_up_with_a_latency_while_the_gateway_serves(http_sms):
    health = http_sms.health()
    assert health.up
    assert 0 < health.latency_ms < 1000 * TIMEOUT


def test_health_is_down_when_the_gateway_answers_too_slowly(http_sms, gateway):
    gateway.slow_seconds = TIMEOUT + 0.2
    health = http_sms.health()
    assert not health.up
    assert health.latency_ms >= 1000 * TIMEOUT * 0.9


def test_gateway_answering_503_raises_backend_unavailable(http_sms, gateway):
    gateway.fail_with_status = 503
    with pytest.raises(BackendUnavailable):
        http_sms.send(["13800138000"], "case_overdue", OVERDUE)
    assert not http_sms.health().up


def test_gateway_answering_500_leaves_status_unknown(http_sms, gateway):
    gateway.fail_with_status = 500
    (message,) = http_sms.send(["13800138000"], "case_overdue", OVERDUE)
    assert message.status == DeliveryStatus.UNKNOWN
    assert "500" in message.error


def test_status_while_gateway_is_down_raises_backend_unavailable(http_sms, gateway):
    (message,) = http_sms.send(["13800138000"], "case_overdue", OVERDUE)
    gateway.stop()
    with pytest.raises(BackendUnavailable):
        http_sms.status([message.id])


def test_status_refused_by_the_gateway_raises_adapter_error(gateway):
    adapter = HttpSmsAdapter(
        url=gateway.url,
        status_url=gateway.status_url,
        account=gateway.account,
        api_key=gateway.secret,
        timeout_seconds=TIMEOUT,
    )
    (message,) = adapter.send(["13800138000"], "case_overdue", OVERDUE)
    gateway.secret = "rotated"
    with pytest.raises(AdapterError, match="SIGNATURE_INVALID"):
        adapter.status([message.id])


def test_without_a_status_url_status_returns_what_the_send_answered(gateway):
    adapter = HttpSmsAdapter(
        url=gateway.url, account=gateway.account, api_key=gateway.secret, timeout_seconds=TIMEOUT
    )
    (message,) = adapter.send(["13800138000"], "case_overdue", OVERDUE)
    assert adapter.status([message.id])[0].status == DeliveryStatus.SENT


def test_status_leaves_out_ids_it_never_sent(http_sms):
    (message,) = http_sms.send(["13800138000"], "case_overdue", OVERDUE)
    assert [m.id for m in http_sms.status(["not-ours", message.id])] == [message.id]


def test_delivered_messages_are_not_asked_about_again(http_sms, gateway):
    (message,) = http_sms.send(["13800138000"], "case_overdue", OVERDUE)
    http_sms.status([message.id])
    asked = len(gateway.received)
    assert http_sms.status([message.id])[0].status == DeliveryStatus.DELIVERED
    assert len(gateway.received) == asked


def test_missing_url_is_a_config_error_naming_the_setting():
    with pytest.raises(AdapterConfigError, match="CC_SMS_OPTIONS url"):
        HttpSmsAdapter(api_key="k")


def test_missing_secret_is_a_config_error_naming_the_setting():
    with pytest.raises(AdapterConfigError, match="CC_SMS_OPTIONS password or api_key"):
        HttpSmsAdapter(url="http://127.0.0.1:9/sms/send")


def test_templates_carry_the_sign_name():
    adapter = HttpSmsAdapter(url="http://127.0.0.1:9/send", api_key="k", sign_name="东城城管")
    assert {t.id for t in adapter.templates()} >= {"alarm_escalation", "case_overdue"}
    assert all(t.text.startswith("【东城城管】") for t in adapter.templates())


def test_the_entry_points_name_the_built_in_adapters():
    ours = {"sms.http", "sms.log", "video.demo"}
    group = entry_points(group="command_center.adapters")
    found = {e.name: e.load() for e in group if e.name in ours}
    assert found["sms.http"] is HttpSmsAdapter
    assert found["sms.log"].__name__ == "LogSmsAdapter"
    assert found["video.demo"].__name__ == "DemoVideoAdapter"


def test_the_app_builds_the_http_adapter_from_cc_sms_options(gateway, tmp_path):
    options = {
        "url": gateway.url,
        "account": gateway.account,
        "password": gateway.secret,
        "timeout_seconds": TIMEOUT,
    }
    settings = Settings(data_dir=tmp_path, sms_adapter="http", sms_options=options)
    adapter = build_adapter("sms", settings)
    assert isinstance(adapter, HttpSmsAdapter)
    assert "password" not in adapter.options  # the ops page may show options
    (message,) = adapter.send(["13800138000"], "case_overdue", OVERDUE)
    assert message.status == DeliveryStatus.SENT


def test_a_misspelt_cc_sms_option_fails_at_start_up_naming_the_setting(tmp_path):
    options = {"url": "http://127.0.0.1:9/sms/send", "api_key": "k", "timeout": 3}
    settings = Settings(data_dir=tmp_path, sms_adapter="http", sms_options=options)
    with pytest.raises(AdapterConfigError, match="CC_SMS_OPTIONS"):
        build_adapter("sms", settings)


def test_resending_with_the_same_idempotency_key_after_a_timeout_texts_only_once(http_sms, gateway):
    tags = {"idempotency_key": "sms-queue-17", "case_id": "42"}
    gateway.slow_seconds = TIMEOUT + 0.3
    (lost,) = http_sms.send(["13800138000"], "case_overdue", OVERDUE, tags=tags)
    assert lost.status == DeliveryStatus.UNKNOWN
    gateway.slow_seconds = 0
    (resent,) = http_sms.send(["13800138000"], "case_overdue", OVERDUE, tags=tags)
    assert resent.status == DeliveryStatus.SENT
    assert len(gateway.messages) == 1
    assert resent.gateway_id == next(iter(gateway.messages))


def test_sends_without_an_idempotency_key_are_distinct_requests(http_sms, gateway):
    http_sms.send(["13800138000"], "case_urge", OVERDUE, tags={"case_id": "42"})
    http_sms.send(["13800138000"], "case_urge", OVERDUE, tags={"case_id": "42"})
    assert len(gateway.messages) == 2
