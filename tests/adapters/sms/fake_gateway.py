"""A fake SMS gateway that speaks the HTTP protocol of ``adapters.sms.http`` for real:
a WSGI server on 127.0.0.1 with an ephemeral port, in a thread.

It checks the HMAC signature (401 on a bad one), refuses unknown templates, rejects
blacklisted numbers one by one, answers delivery reports (PENDING until ``deliver_after``
seconds, then DELIVERED, or FAILED for undeliverable numbers), answers the same request id
the same way twice (idempotency), and can misbehave: ``slow_seconds`` accepts a request but
answers late, ``fail_with_status`` answers every request with that HTTP status, and
``stop()`` closes the port so connections are refused.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

BLACKLIST_REASON = "isv.MOBILE_IN_BLACKLIST: 号码在黑名单中"
UNDELIVERABLE_ERROR = "UNDELIV: 用户已停机"


@dataclass
class GatewayMessage:
    msg_id: str
    phone: str
    request_id: str
    template_id: str
    params: dict[str, str]
    accepted_at: float


@dataclass
class FakeSmsGateway:
    account: str = "cc-hall"
    secret: str = "gw-secret"
    templates: set[str] = field(
        default_factory=lambda: {
            "alarm_escalation",
            "case_overdue",
            "case_dispatched",
            "case_urge",
            "case_escalate",
        }
    )
    blacklist: set[str] = field(default_factory=set)
    undeliverable: set[str] = field(default_factory=set)
    deliver_after: float = 0.0
    slow_seconds: float = 0.0
    fail_with_status: int | None = None

    def __post_init__(self) -> None:
        self.messages: dict[str, GatewayMessage] = {}
        self.answers: dict[str, dict[str, Any]] = {}  # request_id -> the send answer
        self.received: list[dict[str, Any]] = []  # every verified request body
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def start(self) -> FakeSmsGateway:
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.port = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Close the port: from now on connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base}/sms/send"

    @property
    def status_url(self) -> str:
        return f"{self.base}/sms/status"

    @property
    def health_url(self) -> str:
        return f"{self.base}/health"

    def sent_to(self, phones: Iterable[str]) -> list[GatewayMessage]:
        wanted = set(phones)
        return [m for m in self.messages.values() if m.phone in wanted]

    # -- the protocol ---------------------------------------------------------------------

    @Request.application
    def _wsgi(self, request: Request) -> Response:
        answer = self._dispatch(request)
        if self.slow_seconds:
            time.sleep(self.slow_seconds)  # the work is done; only the answer is late
        return answer

    def _dispatch(self, request: Request) -> Response:
        if self.fail_with_status:
            return Response("gateway trouble", status=self.fail_with_status)
        if request.path == "/health" and request.method == "GET":
            return _json({"code": "OK"})
        if request.method != "POST" or request.path not in ("/sms/send", "/sms/status"):
            return _json({"code": "NOT_FOUND", "message": request.path}, 404)
        body = request.get_data()
        if not self._signature_ok(request, body):
            return _json({"code": "isv.SIGNATURE_INVALID", "message": "签名校验失败"}, 401)
        payload = json.loads(body)
        with self._lock:
            self.received.append(payload)
            if request.path == "/sms/send":
                return _json(self._send(payload))
            return _json(self._reports(payload))

    def _signature_ok(self, request: Request, body: bytes) -> bool:
        timestamp = request.headers.get("X-Timestamp", "")
        if request.headers.get("X-Account") != self.account or not timestamp.isdigit():
            return False
        if abs(time.time() - int(timestamp)) > 300:  # replay window
            return False
        expected = hmac.new(
            self.secret.encode(), timestamp.encode() + b"\n" + body, hashlib.sha256
        ).hexdigest()
        return hmac.compare_digest(expected, request.headers.get("X-Signature", ""))

    def _send(self, payload: dict[str, Any]) -> dict[str, Any]:
        request_id = payload["request_id"]
        if request_id in self.answers:  # a resent request is not sent twice
            return self.answers[request_id]
        if payload.get("template_id") not in self.templates:
            return {"code": "isv.TEMPLATE_MISSING", "message": "模板不存在或未审核通过"}
        if not payload.get("sign"):
            return {"code": "isv.SIGN_MISSING", "message": "签名不能为空"}
        results = []
        for phone in payload["phones"]:
            if phone in self.blacklist:
                results.append({"phone": phone, "status": "rejected", "reason": BLACKLIST_REASON})
                continue
            msg_id = f"gw{next(self._ids):08d}"
            self.messages[msg_id] = GatewayMessage(
                msg_id, phone, request_id, payload["template_id"], payload["params"], time.time()
            )
            results.append({"phone": phone, "msg_id": msg_id, "status": "accepted"})
        answer = {"code": "OK", "request_id": request_id, "messages": results}
        self.answers[request_id] = answer
        return answer

    def _reports(self, payload: dict[str, Any]) -> dict[str, Any]:
        reports = [
            self._report(self.messages[m]) for m in payload.get("msg_ids", []) if m in self.messages
        ]
        for request_id in payload.get("request_ids", []):
            for result in self.answers.get(request_id, {}).get("messages", []):
                if result["status"] == "accepted":
                    report = self._report(self.messages[result["msg_id"]])
                else:
                    report = {"msg_id": None, "status": "FAILED", "error": result["reason"]}
                reports.append({**report, "request_id": request_id, "phone": result["phone"]})
        return {"code": "OK", "reports": reports}

    def _report(self, message: GatewayMessage) -> dict[str, Any]:
        if time.time() - message.accepted_at < self.deliver_after:
            return {"msg_id": message.msg_id, "status": "PENDING", "error": None}
        if message.phone in self.undeliverable:
            return {"msg_id": message.msg_id, "status": "FAILED", "error": UNDELIVERABLE_ERROR}
        return {"msg_id": message.msg_id, "status": "DELIVERED", "error": None}


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False), status=status, mimetype="application/json"
    )
