"""SMS through a gateway's HTTP API, in the style of the Chinese cloud SMS services
(Aliyun/Tencent-like JSON: registered templates, a 签名 sign name, per-number results,
delivery reports fetched by message id).

Wire protocol (what a city's gateway, or a small shim in front of it, must speak):

``POST {url}`` with headers ``X-Account``, ``X-Timestamp`` (Unix seconds) and
``X-Signature`` = hex HMAC-SHA256 over ``"{timestamp}\\n" + body`` keyed with the password
or API key, and the UTF-8 JSON body::

    {"account": "...", "sign": "指挥中心", "template_id": "SMS_0001",
     "params": {"number": "..."}, "phones": ["138..."], "request_id": "<uuid hex>"}

answered by ``{"code": "OK", "messages": [{"phone", "msg_id", "status": "accepted"}
| {"phone", "status": "rejected", "reason"}]}`` or by an error for the whole request,
``{"code": "isv.TEMPLATE_MISSING", "message": "..."}`` (HTTP 401 for a bad signature).

``POST {status_url}``, signed the same way, ``{"account", "msg_ids": [...],
"request_ids": [...]}`` answers ``{"code": "OK", "reports": [{"msg_id", "status":
"PENDING"|"DELIVERED"|"FAILED", "error", "request_id", "phone"}]}``. Asking by
``request_id`` is how a send whose answer never came is reconciled (see ``send``).

The request id doubles as the idempotency key: the gateway answers a request id it has
already seen with its first answer, so the same request is never delivered twice. Callers
that retry (the SMS queue) pass an ``idempotency_key`` tag to get the same request id.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections import OrderedDict, defaultdict, deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from adapters.base import AdapterConfigError, AdapterError, BackendUnavailable
from adapters.sms.contract import DeliveryStatus, SmsAdapter, SmsMessage, SmsTemplate
from adapters.sms.log import (
    DEFAULT_SIGN_NAME,
    mask_mobile,
    normalise_mobile,
    now_utc,
    sms_text,
    template_bodies,
)

log = logging.getLogger(__name__)

SETTING = "CC_SMS_OPTIONS"

_AWAITING_REPORT = (DeliveryStatus.SENT, DeliveryStatus.UNKNOWN)

_REPORTED = {
    "PENDING": DeliveryStatus.SENT,
    "DELIVERED": DeliveryStatus.DELIVERED,
    "FAILED": DeliveryStatus.FAILED,
}


@dataclass
class _Sent:
    """What we remember of one message: the record and the request it went out in."""

    record: SmsMessage
    request_id: str


class HttpSmsAdapter(SmsAdapter):
    """SMS through an HTTP gateway (protocol in the module docstring).

    Options (``CC_SMS_OPTIONS``):

    - ``url`` (required): the send endpoint.
    - ``status_url``: the delivery-report endpoint; without it ``status`` returns what the
      send answered and never learns of deliveries.
    - ``health_url``: probed by ``health``; default ``/health`` on the url's host. Any
      answer below HTTP 500 counts as up: it proves the gateway is serving.
    - ``account``; ``password`` or ``api_key`` (the HMAC key; one is required).
    - ``sign_name``: the registered 签名 (default 指挥中心).
    - ``timeout_seconds``: connect and read timeout (default 5).
    - ``templates``: {id: body} added to / overriding the built-in templates (the texts
      our records show); ``template_codes``: {id: the gateway's template code}, default the
      id itself (gateways name registered templates like SMS_123456).
    - ``proxy``: an HTTP proxy URL. Environment proxies are ignored on purpose: an office
      proxy must not silently carry citizens' numbers, nor break an intranet gateway.
    - ``keep_messages``: how many messages to remember for ``status`` (default 10000).
    """

    def __init__(
        self,
        *,
        url: str = "",
        status_url: str | None = None,
        health_url: str | None = None,
        account: str = "",
        password: str | None = None,
        api_key: str | None = None,
        sign_name: str = DEFAULT_SIGN_NAME,
        timeout_seconds: float = 5.0,
        templates: Mapping[str, str] | None = None,
        template_codes: Mapping[str, str] | None = None,
        proxy: str | None = None,
        keep_messages: int = 10_000,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        # Named keyword options: a misspelt CC_SMS_OPTIONS key fails at start-up. The
        # secrets are kept out of ``self.options``, which an ops page may show.
        super().__init__(
            url=url,
            status_url=status_url,
            health_url=health_url,
            account=account,
            sign_name=sign_name,
            timeout_seconds=timeout_seconds,
            templates=templates,
            template_codes=template_codes,
            proxy=proxy,
            keep_messages=keep_messages,
        )
        self.url = str(url or "")
        if not self.url:
            raise AdapterConfigError(f"{SETTING} url is required for the http SMS adapter")
        parts = urlsplit(self.url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise AdapterConfigError(f"{SETTING} url must be an http(s) URL, got {self.url!r}")
        self.status_url = status_url or None
        self.health_url = health_url or f"{parts.scheme}://{parts.netloc}/health"
        self.account = str(account)
        secret = api_key or password
        if not secret:
            raise AdapterConfigError(f"{SETTING} password or api_key is required to sign requests")
        self._secret = str(secret).encode()
        self.sign_name = str(sign_name)
        self.timeout = float(timeout_seconds)
        self._bodies = template_bodies(templates, SETTING)
        self._codes = {str(k): str(v) for k, v in (template_codes or {}).items()}
        self._keep = int(keep_messages)
        self._clock: Callable[[], datetime] = clock or now_utc
        self._session = requests.Session()
        self._session.trust_env = False
        if proxy:
            self._session.proxies = {"http": proxy, "https": proxy}
        self._messages: OrderedDict[str, _Sent] = OrderedDict()
        self._lock = threading.Lock()

    # -- the contract ---------------------------------------------------------------------

    def templates(self) -> list[SmsTemplate]:
        """The templates configured for this gateway, signature included."""
        return [SmsTemplate(id, f"【{self.sign_name}】{body}") for id, body in self._bodies.items()]

    def send(
        self,
        to: Sequence[str],
        template_id: str,
        params: Mapping[str, str],
        tags: Mapping[str, str] | None = None,
    ) -> list[SmsMessage]:
        """One request for all valid numbers; one record per number.

        - Malformed numbers are FAILED here and never sent.
        - The gateway cannot be reached (refused, DNS, connect timeout, HTTP 503): nothing
          went out, so ``BackendUnavailable`` is raised and nothing is recorded; the
          caller may simply retry.
        - The request went out but no usable answer came back (read timeout, connection
          dropped, HTTP 5xx): the gateway may have accepted it, so the records are UNKNOWN,
          not FAILED (a retry could text a citizen twice) and not raised (the send would be
          lost from the audit trail). ``status`` later asks the gateway by request id; a
          caller that would rather resend passes the same ``idempotency_key`` tag.
        - The gateway refused (bad credentials, unknown template, blacklisted number): FAILED
          with the gateway's code and reason.
        """
        now = self._clock()
        body = self._bodies.get(template_id)
        if body is not None:
            text = sms_text(self.sign_name, body, params)
        else:  # the gateway may know templates we do not: send, and let it decide
            shown = json.dumps(dict(params), ensure_ascii=False)
            text = f"【{self.sign_name}】[{template_id}] {shown}"
        request_id = self._request_id(tags)
        records = []
        for number in to:
            mobile = normalise_mobile(number)
            records.append(
                SmsMessage(
                    id=uuid.uuid4().hex,
                    to=mobile or str(number),
                    text=text,
                    status=DeliveryStatus.QUEUED if mobile else DeliveryStatus.FAILED,
                    created_at=now,
                    error="" if mobile else f"not a mainland mobile number: {number!r}",
                    updated_at=now,
                    tags=dict(tags or {}),
                )
            )
        outgoing = [r for r in records if r.status == DeliveryStatus.QUEUED]
        if outgoing:
            payload = {
                "account": self.account,
                "sign": self.sign_name,
                "template_id": self._codes.get(template_id, template_id),
                "params": {k: str(v) for k, v in params.items()},
                "phones": [r.to for r in outgoing],
                "request_id": request_id,
            }
            self._apply_send_answer(outgoing, self._post_send(payload))
        with self._lock:
            for record in records:
                self._remember(_Sent(record, request_id))
        for record in records:
            log.info(
                "SMS %s to %s via gateway: %s %s",
                record.id,
                mask_mobile(record.to),
                record.status,
                record.error,
            )
        return [replace(r, tags=dict(r.tags)) for r in records]

    def _request_id(self, tags: Mapping[str, str] | None) -> str:
        """A fresh id, or one derived from the caller's ``idempotency_key`` tag: resending
        after an UNKNOWN outcome then reuses the request id, and the gateway answers the
        first request again instead of texting twice."""
        key = (tags or {}).get("idempotency_key")
        if not key:
            return uuid.uuid4().hex
        return hashlib.sha256(f"{self.account}\n{key}".encode()).hexdigest()[:32]

    def status(self, message_ids: Sequence[str]) -> list[SmsMessage]:
        """The messages asked for, refreshed from the gateway's delivery reports. Ids this
        adapter does not know (sent before a restart) are left out. A gateway that cannot
        be reached raises ``BackendUnavailable``; asking again is harmless."""
        with self._lock:
            known = [self._messages[i] for i in message_ids if i in self._messages]
            open_ = [s for s in known if s.record.status in _AWAITING_REPORT]
            msg_ids = sorted({s.record.gateway_id for s in open_ if s.record.gateway_id})
            request_ids = sorted(
                {s.request_id for s in open_ if not s.record.gateway_id and s.request_id}
            )
        if self.status_url and (msg_ids or request_ids):
            payload = {"account": self.account, "msg_ids": msg_ids, "request_ids": request_ids}
            answer = self._post_status(payload)
            self._apply_reports(open_, answer.get("reports") or [])
        with self._lock:
            return [replace(s.record, tags=dict(s.record.tags)) for s in known]

    def ping(self) -> None:
        """GET the health URL; unreachable or a 5xx means down."""
        try:
            response = self._session.get(self.health_url, timeout=self.timeout)
        except requests.RequestException as exc:
            raise BackendUnavailable(f"SMS gateway unreachable: {_reason(exc)}") from exc
        if response.status_code >= 500:
            raise AdapterError(f"SMS gateway answered HTTP {response.status_code}")

    def close(self) -> None:
        self._session.close()

    # -- the wire -------------------------------------------------------------------------

    def _signed(self, payload: Mapping[str, Any]) -> tuple[bytes, dict[str, str]]:
        # Sign the exact bytes sent, so the gateway need not re-serialise the JSON.
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        timestamp = str(int(time.time()))
        signature = hmac.new(self._secret, timestamp.encode() + b"\n" + body, hashlib.sha256)
        return body, {
            "Content-Type": "application/json; charset=utf-8",
            "X-Account": self.account,
            "X-Timestamp": timestamp,
            "X-Signature": signature.hexdigest(),
        }

    def _post_send(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """The gateway's answer, or a pseudo-answer ``{"code": "UNKNOWN", ...}`` when the
        request went out and the answer was lost. Raises when nothing went out."""
        body, headers = self._signed(payload)
        try:
            response = self._session.post(
                self.url, data=body, headers=headers, timeout=self.timeout
            )
        except requests.ConnectionError as exc:
            if _never_sent(exc):
                raise BackendUnavailable(f"SMS gateway unreachable: {_reason(exc)}") from exc
            return {"code": "UNKNOWN", "message": f"connection lost after sending: {_reason(exc)}"}
        except requests.Timeout:  # a read timeout: the gateway has the request
            return {"code": "UNKNOWN", "message": f"no answer within {self.timeout:g} s"}
        except requests.RequestException as exc:
            return {"code": "UNKNOWN", "message": f"answer lost: {_reason(exc)}"}
        if response.status_code == 503:
            raise BackendUnavailable("SMS gateway unavailable (HTTP 503)")
        if response.status_code >= 500:
            return {"code": "UNKNOWN", "message": f"gateway error HTTP {response.status_code}"}
        answer = _json(response)
        if answer is None:
            if response.ok:
                return {"code": "UNKNOWN", "message": "unreadable gateway answer"}
            return {"code": f"HTTP {response.status_code}", "message": response.text[:200]}
        if not response.ok:
            answer.setdefault("code", f"HTTP {response.status_code}")
            if response.status_code in (401, 403):
                log.error("SMS gateway refused our credentials: %s", answer)
        return answer

    def _post_status(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        body, headers = self._signed(payload)
        try:
            response = self._session.post(
                str(self.status_url), data=body, headers=headers, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise BackendUnavailable(f"SMS gateway unreachable: {_reason(exc)}") from exc
        if response.status_code >= 500:
            raise BackendUnavailable(f"SMS gateway error HTTP {response.status_code}")
        answer = _json(response)
        if answer is None or answer.get("code") != "OK":
            detail = answer or {"code": f"HTTP {response.status_code}"}
            raise AdapterError(f"SMS delivery report refused: {_describe(detail)}")
        return answer

    # -- mapping answers onto records ---------------------------------------------------------

    def _apply_send_answer(self, outgoing: list[SmsMessage], answer: Mapping[str, Any]) -> None:
        now = self._clock()
        code = answer.get("code")
        if code == "UNKNOWN":
            for record in outgoing:
                record.status, record.error = DeliveryStatus.UNKNOWN, str(answer["message"])
                record.updated_at = now
            return
        if code != "OK":
            for record in outgoing:
                record.status, record.error = DeliveryStatus.FAILED, _describe(answer)
                record.updated_at = now
            return
        # Match per-phone results in order, so a number listed twice gets both results.
        results: dict[str, deque[Mapping[str, Any]]] = defaultdict(deque)
        for result in answer.get("messages") or []:
            results[str(result.get("phone"))].append(result)
        for record in outgoing:
            record.updated_at = now
            result = results[record.to].popleft() if results[record.to] else None
            if result is None:
                record.status = DeliveryStatus.UNKNOWN
                record.error = "the gateway's answer did not mention this number"
            elif result.get("status") == "accepted":
                record.status, record.gateway_id = DeliveryStatus.SENT, str(result.get("msg_id"))
            else:
                record.status = DeliveryStatus.FAILED
                record.error = str(result.get("reason") or result.get("status") or "rejected")

    def _apply_reports(self, open_: list[_Sent], reports: Sequence[Mapping[str, Any]]) -> None:
        now = self._clock()
        with self._lock:
            by_msg_id = {s.record.gateway_id: s for s in open_ if s.record.gateway_id}
            by_request: dict[tuple[str, str], deque[_Sent]] = defaultdict(deque)
            for s in open_:
                if not s.record.gateway_id:
                    by_request[(s.request_id, s.record.to)].append(s)
            for report in reports:
                sent = by_msg_id.get(str(report.get("msg_id") or ""))
                if sent is None:  # an answer to a request-id question: adopt the msg_id
                    asked = (str(report.get("request_id") or ""), str(report.get("phone")))
                    pending = by_request.get(asked)
                    if not pending:
                        continue
                    sent = pending.popleft()
                    if report.get("msg_id"):
                        sent.record.gateway_id = str(report["msg_id"])
                status = _REPORTED.get(str(report.get("status")).upper())
                if status is None:
                    continue
                record = sent.record
                if status != record.status:
                    record.status, record.updated_at = status, now
                failed = status == DeliveryStatus.FAILED
                record.error = str(report.get("error") or "undeliverable") if failed else ""

    def _remember(self, sent: _Sent) -> None:
        self._messages[sent.record.id] = sent
        while len(self._messages) > self._keep:
            self._messages.popitem(last=False)


def _never_sent(exc: requests.ConnectionError) -> bool:
    """True when the connection was never made (refused, DNS, connect timeout, TLS), so the
    gateway cannot have the request."""
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)  # urllib3's MaxRetryError wraps the cause
    return isinstance(reason, NewConnectionError | ConnectTimeoutError)


def _reason(exc: Exception) -> str:
    reason = exc.args[0] if exc.args else exc
    reason = getattr(reason, "reason", reason)
    return str(reason)


def _json(response: requests.Response) -> dict[str, Any] | None:
    try:
        answer = response.json()
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _describe(answer: Mapping[str, Any]) -> str:
    code, message = answer.get("code", ""), answer.get("message", "")
    return f"{code}: {message}" if message else str(code)
