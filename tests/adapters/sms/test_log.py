"""The demo SMS adapter: recorded in memory and in a JSON-lines log, delivered after a delay."""

from __future__ import annotations

import json
from datetime import timedelta

from adapters.sms.contract import DeliveryStatus
from adapters.sms.log import LogSmsAdapter, mask_mobile, normalise_mobile
from command_center.plugins import build_adapter
from command_center.settings import Settings

DISPATCHED = {
    "number": "202611250007",
    "class_name": "占道经营",
    "department": "东华门街道",
    "deadline": "11月25日17:30",
}


def test_built_in_templates_are_signed_chinese_texts_for_the_seven_notices(log_sms):
    texts = {t.id: t.text for t in log_sms.templates()}
    assert set(texts) == {
        "alarm_escalation",
        "case_overdue",
        "case_dispatched",
        "case_urge",
        "case_escalate",
        # 催办/督办 of a case still at a desk of the hall (no department, no deadline yet)
        "case_urge_desk",
        "case_escalate_desk",
    }
    assert all(text.startswith("【指挥中心】") for text in texts.values())
    assert "告警升级" in texts["alarm_escalation"]
    assert "已超期" in texts["case_overdue"]
    assert "已派遣" in texts["case_dispatched"]
    assert "催办" in texts["case_urge"]
    assert "督办" in texts["case_escalate"] and "催办" not in texts["case_escalate"]
    assert "催办" in texts["case_urge_desk"] and "{step}" in texts["case_urge_desk"]
    assert "督办" in texts["case_escalate_desk"] and "催办" not in texts["case_escalate_desk"]


def test_send_renders_the_template_and_is_sent(log_sms, clock):
    (message,) = log_sms.send(["13800138000"], "case_dispatched", DISPATCHED, tags={"case": "7"})
    assert message.status == DeliveryStatus.SENT
    assert message.text == (
        "【指挥中心】案件202611250007（占道经营）已派遣至东华门街道，请于11月25日17:30前处置。"
    )
    assert message.to == "13800138000"
    assert message.created_at == clock.now
    assert message.tags == {"case": "7"}


def test_message_is_delivered_once_the_simulated_delay_has_passed(log_sms, clock):
    (message,) = log_sms.send(["13800138000"], "case_dispatched", DISPATCHED)
    clock.now += timedelta(seconds=1)
    assert log_sms.status([message.id])[0].status == DeliveryStatus.SENT
    clock.now += timedelta(seconds=1)
    (delivered,) = log_sms.status([message.id])
    assert delivered.status == DeliveryStatus.DELIVERED
    assert delivered.updated_at == message.created_at + timedelta(seconds=2)


def test_delivery_delay_is_configurable(clock):
    adapter = LogSmsAdapter(clock=clock, deliver_after_seconds=0)
    (message,) = adapter.send(["13800138000"], "case_dispatched", DISPATCHED)
    assert adapter.status([message.id])[0].status == DeliveryStatus.DELIVERED


def test_malformed_numbers_are_failed_with_the_reason_and_others_still_sent(log_sms, clock):
    numbers = ["1380013800", "12800138000", "010-65122233", "13800138000"]
    *bad, good = log_sms.send(numbers, "case_dispatched", DISPATCHED)
    assert [m.status for m in bad] == [DeliveryStatus.FAILED] * 3
    assert all("not a mainland mobile number" in m.error for m in bad)
    assert good.status == DeliveryStatus.SENT
    clock.now += timedelta(minutes=1)
    assert log_sms.status([bad[0].id])[0].status == DeliveryStatus.FAILED


def test_numbers_written_with_country_code_or_dashes_are_accepted():
    assert normalise_mobile("+86 138-0013-8000") == "13800138000"
    assert normalise_mobile("008613800138000") == "13800138000"
    assert normalise_mobile("8613800138000") == "13800138000"
    assert normalise_mobile("02158001234") is None
    assert mask_mobile("13800138000") == "138****8000"


def test_unknown_template_is_failed_not_raised(log_sms):
    (message,) = log_sms.send(["13800138000"], "wedding_invitation", {})
    assert message.status == DeliveryStatus.FAILED
    assert "wedding_invitation" in message.error


def test_missing_template_parameters_fail_the_message_naming_them(log_sms):
    (message,) = log_sms.send(["13800138000"], "case_overdue", {"number": "1"})
    assert message.status == DeliveryStatus.FAILED
    assert "class_name" in message.error


def test_log_file_gets_one_json_line_per_send_and_per_delivery(tmp_path, clock):
    log_file = tmp_path / "sms" / "outbox.jsonl"
    adapter = LogSmsAdapter(clock=clock, log_file=str(log_file))
    sent, failed = adapter.send(["13800138000", "110"], "case_dispatched", DISPATCHED)
    clock.now += timedelta(seconds=5)
    adapter.status([sent.id, failed.id])
    adapter.status([sent.id])  # no second "delivered" line
    lines = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    assert [(line["event"], line["id"], line["status"]) for line in lines] == [
        ("sent", sent.id, "sent"),
        ("sent", failed.id, "failed"),
        ("delivered", sent.id, "delivered"),
    ]
    assert lines[0]["text"].startswith("【指挥中心】案件202611250007")


def test_status_leaves_out_ids_it_never_sent(log_sms):
    (message,) = log_sms.send(["13800138000"], "case_dispatched", DISPATCHED)
    assert [m.id for m in log_sms.status(["gone-after-restart", message.id])] == [message.id]


def test_records_handed_out_are_copies_the_caller_cannot_corrupt(log_sms):
    (message,) = log_sms.send(["13800138000"], "case_dispatched", DISPATCHED)
    message.status = DeliveryStatus.FAILED
    assert log_sms.status([message.id])[0].status == DeliveryStatus.SENT


def test_sign_name_and_extra_templates_come_from_options(clock):
    drill = {"drill": "应急演练：{place}，请于{time}前到岗。"}
    adapter = LogSmsAdapter(clock=clock, sign_name="东城区城市管理指挥中心", templates=drill)
    (message,) = adapter.send(["13800138000"], "drill", {"place": "东四", "time": "9:00"})
    assert message.text == "【东城区城市管理指挥中心】应急演练：东四，请于9:00前到岗。"
    assert len(adapter.templates()) == 8  # seven built-in, one added


def test_only_the_most_recent_messages_are_kept(clock):
    adapter = LogSmsAdapter(clock=clock, keep_messages=2)
    first, *rest = adapter.send(["13800138000"] * 3, "case_dispatched", DISPATCHED)
    assert [m.id for m in adapter.status([first.id, *(m.id for m in rest)])] == [m.id for m in rest]


def test_health_is_up(log_sms):
    assert log_sms.health().up


def test_the_app_builds_the_log_adapter_with_its_outbox_in_the_data_dir(tmp_path):
    adapter = build_adapter("sms", Settings(data_dir=tmp_path))
    assert isinstance(adapter, LogSmsAdapter)
    adapter.send(["13800138000"], "case_dispatched", DISPATCHED)
    assert (tmp_path / "sms.jsonl").read_text(encoding="utf-8").count("\n") == 1
