"""SMS notices of case actions, queued so that a gateway that is down never blocks a case.

A dispatch, urge or escalate writes one row per contact into ``cc_sms_queue`` in the same
breath as the action; a background thread sends due rows through the ``sms`` adapter.
A gateway that is unreachable (``BackendUnavailable``) or answers oddly leaves the row
``retrying`` with its error and a next attempt after an exponential back-off; after
``max_attempts`` it is ``failed`` for good. A number the gateway rejects is ``failed`` at
once. Sent rows follow the gateway's delivery reports (``sent`` → ``delivered``/``failed``).
The drawer shows every row of a case with its status and error.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    String,
    Table,
    Text,
    and_,
    insert,
    or_,
    select,
    update,
)

from adapters.base import AdapterError
from adapters.sms.contract import DeliveryStatus, SmsAdapter
from command_center.auth import metadata

log = logging.getLogger(__name__)

queue_t = Table(
    "cc_sms_queue",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("case_id", Integer, nullable=True),
    Column("action", String(20), nullable=False, default=""),
    Column("department_code", String(16), nullable=False, default=""),
    Column("mobile", String(20), nullable=False),
    Column("template_id", String(64), nullable=False),
    Column("params", Text, nullable=False, default="{}"),
    Column("status", String(12), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_try_at", DateTime, nullable=True),
    Column("message_id", String(64), nullable=True),
    Column("error", Text, nullable=False, default=""),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

contacts_t = Table(
    "cc_department_contacts",
    metadata,
    Column("department_code", String(16), primary_key=True),
    Column("contact_name", String(64), nullable=False, default=""),
    Column("mobile", String(20), nullable=False),
)

# Queue statuses: ours (queued, retrying) and the gateway's (sent, delivered, failed).
QUEUED, RETRYING, SENT, DELIVERED, FAILED = "queued", "retrying", "sent", "delivered", "failed"
_PENDING = (QUEUED, RETRYING)


@dataclass(frozen=True)
class QueuedSms:
    id: int
    case_id: int | None
    action: str
    department_code: str
    mobile: str
    template_id: str
    params: dict[str, str]
    status: str
    attempts: int
    error: str
    created_at: datetime
    updated_at: datetime
    next_try_at: datetime | None


@dataclass(frozen=True)
class Contact:
    department_code: str
    contact_name: str
    mobile: str


class SmsQueue:
    def __init__(
        self,
        engine: Engine,
        sms: Callable[[], SmsAdapter],
        clock: Callable[[], datetime],
        *,
        retry_seconds: float = 30.0,
        max_attempts: int = 6,
    ) -> None:
        self.engine = engine
        self._sms = sms  # a getter: the adapter may be replaced (tests, reconfiguration)
        self.clock = clock
        self.retry_seconds = retry_seconds
        self.max_attempts = max_attempts
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._flush_lock = threading.Lock()

    # --- contacts ------------------------------------------------------------------------
    def set_contact(self, department_code: str, mobile: str, contact_name: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(contacts_t.delete().where(contacts_t.c.department_code == department_code))
            conn.execute(
                insert(contacts_t).values(
                    department_code=department_code, mobile=mobile, contact_name=contact_name
                )
            )

    def contacts(self, department_code: str | None = None) -> list[Contact]:
        q = select(contacts_t).order_by(contacts_t.c.department_code)
        if department_code is not None:
            q = q.where(contacts_t.c.department_code == department_code)
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        return [Contact(r.department_code, r.contact_name, r.mobile) for r in rows]

    # --- queueing ------------------------------------------------------------------------
    def enqueue(
        self,
        *,
        department_code: str,
        template_id: str,
        params: Mapping[str, str],
        case_id: int | None = None,
        action: str = "",
    ) -> list[int]:
        """Queue one message per contact of the department; returns the row ids (empty when
        the department has no contact). Never talks to the gateway: the sender thread does."""
        contacts = self.contacts(department_code)
        now = self.clock()
        ids: list[int] = []
        with self.engine.begin() as conn:
            for contact in contacts:
                key = conn.execute(
                    insert(queue_t).values(
                        case_id=case_id,
                        action=action,
                        department_code=department_code,
                        mobile=contact.mobile,
                        template_id=template_id,
                        params=json.dumps(dict(params), ensure_ascii=False),
                        status=QUEUED,
                        attempts=0,
                        next_try_at=now,
                        error="",
                        created_at=now,
                        updated_at=now,
                    )
                ).inserted_primary_key
                assert key is not None  # an INSERT always has its key
                new_id = key[0]
                ids.append(int(new_id))
        if ids:
            self._wake.set()
        return ids

    def for_case(self, case_id: int) -> list[QueuedSms]:
        q = select(queue_t).where(queue_t.c.case_id == case_id).order_by(queue_t.c.id)
        with self.engine.connect() as conn:
            return [_queued(r) for r in conn.execute(q).all()]

    def get(self, sms_id: int) -> QueuedSms:
        with self.engine.connect() as conn:
            return _queued(conn.execute(select(queue_t).where(queue_t.c.id == sms_id)).one())

    def counts(self) -> dict[str, int]:
        """Rows per status (for the ops screen)."""
        from sqlalchemy import func

        q = select(queue_t.c.status, func.count()).group_by(queue_t.c.status)
        with self.engine.connect() as conn:
            return {str(s): int(n) for s, n in conn.execute(q).all()}

    # --- sending -------------------------------------------------------------------------
    def flush(self) -> int:
        """Send every due row now and follow up sent ones; returns how many were attempted.
        The sender thread calls this; tests call it directly."""
        with self._flush_lock:
            now = self.clock()
            q = (
                select(queue_t)
                .where(
                    and_(
                        queue_t.c.status.in_(_PENDING),
                        or_(queue_t.c.next_try_at.is_(None), queue_t.c.next_try_at <= now),
                    )
                )
                .order_by(queue_t.c.id)
                .limit(100)
            )
            with self.engine.connect() as conn:
                due = conn.execute(q).all()
            for row in due:
                self._send_one(row)
            self._follow_up()
            return len(due)

    def _send_one(self, row: Any) -> None:
        attempts = int(row.attempts) + 1
        try:
            records = self._sms().send(
                [row.mobile],
                row.template_id,
                json.loads(row.params or "{}"),
                tags={"queue_id": str(row.id), "case_id": str(row.case_id or "")},
            )
        except Exception as exc:  # noqa: BLE001 - a down or broken gateway: retry later
            if not isinstance(exc, AdapterError):
                log.warning("SMS gateway error (queue row %s): %s", row.id, exc)
            self._retry_later(row.id, attempts, str(exc) or type(exc).__name__)
            return
        record = records[0] if records else None
        if record is None:
            self._retry_later(row.id, attempts, "网关未返回结果 / the gateway answered nothing")
            return
        status = {
            DeliveryStatus.DELIVERED: DELIVERED,
            DeliveryStatus.FAILED: FAILED,
        }.get(record.status, SENT)
        if record.status is DeliveryStatus.UNKNOWN and not record.gateway_id:
            self._retry_later(row.id, attempts, record.error or "unknown")
            return
        self._update(
            row.id,
            status=status,
            attempts=attempts,
            message_id=record.id,
            error=record.error,
            next_try_at=None,
        )

    def _retry_later(self, row_id: int, attempts: int, error: str) -> None:
        if attempts >= self.max_attempts:
            self._update(row_id, status=FAILED, attempts=attempts, error=error, next_try_at=None)
            log.error("SMS queue row %s failed after %s attempts: %s", row_id, attempts, error)
            return
        delay = self.retry_seconds * (2 ** (attempts - 1))
        self._update(
            row_id,
            status=RETRYING,
            attempts=attempts,
            error=error,
            next_try_at=self.clock() + timedelta(seconds=delay),
        )

    def _follow_up(self) -> None:
        """Ask the gateway about messages it accepted but has not reported delivered."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(queue_t.c.id, queue_t.c.message_id)
                .where(queue_t.c.status == SENT, queue_t.c.message_id.is_not(None))
                .limit(200)
            ).all()
        if not rows:
            return
        by_message = {r.message_id: r.id for r in rows}
        try:
            reports = self._sms().status(list(by_message))
        except Exception as exc:  # noqa: BLE001 - reports come later; the row stays "sent"
            log.info("SMS delivery reports unavailable: %s", exc)
            return
        for rec in reports:
            row_id = by_message.get(rec.id)
            if row_id is None:
                continue
            if rec.status is DeliveryStatus.DELIVERED:
                self._update(row_id, status=DELIVERED, error="")
            elif rec.status is DeliveryStatus.FAILED:
                self._update(row_id, status=FAILED, error=rec.error)

    def _update(self, row_id: int, **values: Any) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                update(queue_t)
                .where(queue_t.c.id == row_id)
                .values(updated_at=self.clock(), **values)
            )

    # --- the sender thread ---------------------------------------------------------------
    def start(self, poll_seconds: float = 2.0) -> None:
        if self._thread is not None:
            return
        self._stop.clear()

        def run() -> None:
            while not self._stop.is_set():
                try:
                    self.flush()
                except Exception:  # noqa: BLE001 - the sender must outlive a bad row
                    log.exception("SMS queue flush failed")
                self._wake.wait(poll_seconds)
                self._wake.clear()

        self._thread = threading.Thread(target=run, name="cc-sms-queue", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def _queued(r: Any) -> QueuedSms:
    return QueuedSms(
        id=int(r.id),
        case_id=r.case_id,
        action=r.action,
        department_code=r.department_code,
        mobile=r.mobile,
        template_id=r.template_id,
        params=json.loads(r.params or "{}"),
        status=r.status,
        attempts=int(r.attempts),
        error=r.error or "",
        created_at=r.created_at,
        updated_at=r.updated_at,
        next_try_at=r.next_try_at,
    )
