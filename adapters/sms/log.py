"""The built-in SMS adapter for the demo: nothing leaves the machine.

Messages are kept in memory (and appended as JSON lines to ``log_file`` if given, so a
trainer can show what "was sent"); they turn DELIVERED a couple of seconds after sending,
as a real handset report would, so the ops screen's delivery figures move.

The built-in templates and number checks live here too; the HTTP adapter reuses them.
"""

from __future__ import annotations

import json
import logging
import re
import string
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.base import AdapterConfigError
from adapters.sms.contract import DeliveryStatus, SmsAdapter, SmsMessage, SmsTemplate

log = logging.getLogger(__name__)

#: A mainland mobile number: 11 digits, 13x … 19x.
MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")

DEFAULT_SIGN_NAME = "指挥中心"

#: The built-in template bodies; the gateway (or ``sms_text``) puts 【sign name】 in front.
BUILT_IN_TEMPLATES: Mapping[str, str] = {
    # 告警升级: an alarm nobody acknowledged in time goes to the shift leader's phone
    "alarm_escalation": "告警升级：{place}发生{label}，{minutes}分钟内未确认处置，请立即处理。",
    # 案件超期: the responsible department is told its case ran past its time limit
    "case_overdue": "案件{number}（{class_name}）已超期，请尽快处置并反馈结果。",
    # 案件派遣: a department learns a case was dispatched to it, with its deadline
    "case_dispatched": "案件{number}（{class_name}）已派遣至{department}，请于{deadline}前处置。",
    # 催办: the duty officer urges a case that is due soon or stalled
    "case_urge": "催办：案件{number}（{class_name}）请于{deadline}前处置，逾期将纳入考核。",
    # 督办: the command centre escalates a case to the department's leadership; firmer than
    # 催办, and it says that the case is now supervised and will be reported on
    "case_escalate": (
        "督办：案件{number}（{class_name}，{place}）已列入指挥中心督办，请{department}"
        "负责人督促于{deadline}前处置并反馈，逾期将通报。"
    ),
    # 催办/督办 of a case still at (or back at) a desk of the command centre: 待受理, 待核实,
    # 待立案, 待派遣 (the 受理员, 监督员, 值班长, 派遣员) or 待核查, 待结案; no deadline yet
    "case_urge_desk": "催办：案件{number}（{class_name}，{place}）{step}，请{department}尽快办理。",
    "case_escalate_desk": (
        "督办：案件{number}（{class_name}，{place}）{step}，已列入指挥中心督办，"
        "请{department}立即办理，逾期将通报。"
    ),
}


def normalise_mobile(number: str) -> str | None:
    """The 11-digit number, or None when it is not a mainland mobile. Spaces, dashes and a
    +86/0086 prefix (as address books write them) are dropped first."""
    digits = re.sub(r"[\s\-()]", "", str(number))
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    return digits if MOBILE_RE.match(digits) else None


def mask_mobile(number: str) -> str:
    """138****1234: phone numbers are personal data, logs show them masked."""
    return f"{number[:3]}****{number[-4:]}" if len(number) == 11 else "***"


def placeholders(text: str) -> set[str]:
    """The {names} a template needs."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def sms_text(sign_name: str, body: str, params: Mapping[str, str]) -> str:
    """The text as the handset shows it; placeholders without a value stay visible."""

    class KeepMissing(dict[str, str]):
        def __missing__(self, key: str) -> str:
            return "{" + key + "}"

    return f"【{sign_name}】" + body.format_map(KeepMissing({k: str(v) for k, v in params.items()}))


def template_bodies(option: Any, setting: str) -> dict[str, str]:
    """Built-in template bodies, overridden or extended by an options mapping id → body."""
    if option is None:
        return dict(BUILT_IN_TEMPLATES)
    if not isinstance(option, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in option.items()
    ):
        raise AdapterConfigError(f"{setting} templates must map template id to text")
    return {**BUILT_IN_TEMPLATES, **option}


def now_utc() -> datetime:
    return datetime.now(UTC)


class LogSmsAdapter(SmsAdapter):
    """SMS for the demo: recorded, logged, delivered after a short simulated delay.

    Options (``CC_SMS_OPTIONS``):

    - ``log_file``: a path to append one JSON line per sent message and per status change.
    - ``deliver_after_seconds``: when a SENT message counts as DELIVERED (default 2).
    - ``sign_name``: the 【signature】 in front of every text (default 指挥中心).
    - ``templates``: {id: body} added to / overriding the built-in templates.
    - ``keep_messages``: how many messages to remember for ``status`` (default 10000).
    - ``clock``: a callable returning an aware ``datetime`` (tests).

    A malformed number, an unknown template or a missing parameter gives a FAILED record
    with the reason, as a real gateway's refusal would.
    """

    def __init__(
        self,
        *,
        log_file: str | Path | None = None,
        deliver_after_seconds: float = 2.0,
        sign_name: str = DEFAULT_SIGN_NAME,
        templates: Mapping[str, str] | None = None,
        keep_messages: int = 10_000,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        # Named keyword options: a misspelt CC_SMS_OPTIONS key fails at start-up.
        super().__init__(
            log_file=log_file,
            deliver_after_seconds=deliver_after_seconds,
            sign_name=sign_name,
            templates=templates,
            keep_messages=keep_messages,
        )
        self.log_file = Path(log_file) if log_file else None
        self.deliver_after = timedelta(seconds=float(deliver_after_seconds))
        self.sign_name = str(sign_name)
        self._bodies = template_bodies(templates, "CC_SMS_OPTIONS")
        self._keep = int(keep_messages)
        self._clock: Callable[[], datetime] = clock or now_utc
        self._messages: OrderedDict[str, SmsMessage] = OrderedDict()
        self._lock = threading.Lock()
        self._file_lock = threading.Lock()

    def templates(self) -> list[SmsTemplate]:
        """The built-in templates (plus configured ones), signature included."""
        return [SmsTemplate(id, f"【{self.sign_name}】{body}") for id, body in self._bodies.items()]

    def send(
        self,
        to: Sequence[str],
        template_id: str,
        params: Mapping[str, str],
        tags: Mapping[str, str] | None = None,
    ) -> list[SmsMessage]:
        """Record one message per number: SENT, or FAILED with the reason."""
        now = self._clock()
        body = self._bodies.get(template_id)
        refusal = ""
        if body is None:
            refusal = f"unknown template {template_id!r}"
            text = f"【{self.sign_name}】[{template_id}]"
        else:
            missing = sorted(placeholders(body) - set(params))
            if missing:
                refusal = f"template {template_id} needs {', '.join(missing)}"
            text = sms_text(self.sign_name, body, params)
        records = []
        for number in to:
            mobile = normalise_mobile(number)
            error = refusal or ("" if mobile else f"not a mainland mobile number: {number!r}")
            records.append(
                SmsMessage(
                    id=uuid.uuid4().hex,
                    to=mobile or str(number),
                    text=text,
                    status=DeliveryStatus.FAILED if error else DeliveryStatus.SENT,
                    created_at=now,
                    gateway_id=None if error else f"log-{uuid.uuid4().hex[:12]}",
                    error=error,
                    updated_at=now,
                    tags=dict(tags or {}),
                )
            )
        with self._lock:
            for record in records:
                self._remember(record)
        for record in records:
            log.info(
                "SMS %s to %s: %s %s",
                record.id,
                mask_mobile(record.to),
                record.status,
                record.error or record.text,
            )
            self._append("sent", record)
        return [replace(r) for r in records]

    def status(self, message_ids: Sequence[str]) -> list[SmsMessage]:
        """The messages asked for, SENT ones turned DELIVERED once the delay has passed.
        Ids this adapter does not know (sent before a restart) are left out."""
        now = self._clock()
        delivered, found = [], []
        with self._lock:
            for message_id in message_ids:
                record = self._messages.get(message_id)
                if record is None:
                    continue
                due = record.created_at + self.deliver_after
                if record.status == DeliveryStatus.SENT and now >= due:
                    record.status, record.updated_at = DeliveryStatus.DELIVERED, due
                    delivered.append(replace(record))
                found.append(replace(record))
        for record in delivered:
            self._append("delivered", record)
        return found

    def _remember(self, record: SmsMessage) -> None:
        self._messages[record.id] = record
        while len(self._messages) > self._keep:
            self._messages.popitem(last=False)

    def _append(self, event: str, record: SmsMessage) -> None:
        if self.log_file is None:
            return
        line = {
            "event": event,
            "id": record.id,
            "to": record.to,
            "text": record.text,
            "status": str(record.status),
            "error": record.error,
            "gateway_id": record.gateway_id,
            "tags": record.tags,
            "at": (record.updated_at or record.created_at).isoformat(),
        }
        try:
            self.log_file.parent.mkdir(parents=True, exist_ok=True)
            with self._file_lock, self.log_file.open("a", encoding="utf-8") as out:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        except OSError as exc:
            # The log is a convenience for the demo; the message itself was recorded.
            log.warning("cannot append to SMS log %s: %s", self.log_file, exc)
