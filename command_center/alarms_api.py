"""The alarm HTTP API: ``POST /api/alarms``, ``POST /api/alarms/<id>/ack``,
``GET /api/alarms?since=<id>``.

Every call carries a key in ``X-API-Key`` (``command_center.api_keys``: made with
``command-center apikeys add SOURCE``, stored hashed; with no keys the API refuses
everything). A key speaks for its own source only: it posts alarms of that source (a
missing ``source`` is taken from the key), acknowledges only that source's alarms and lists
only them. The acknowledgement's ``by`` is the key (``iot:3fa9c01b2d4e``), never a name the
caller sends; a ``note`` (at most ``NOTE_MAX`` characters) says what was done. Every call,
allowed or refused, is written to the audit log under the key's identity; calls past the
per-key rate limit (``CC_API_RATE_LIMIT``) get 429 with ``Retry-After``.

Answers: 201 a new alarm; 200 a duplicate (same source id) or one folded into an open alarm
(``outcome`` says which); 400 a body that is not a JSON object; 422 a malformed alarm, with
each field at fault; 401 a missing or unknown key; 403 a key of another source; 404 an
unknown alarm; 429 too many calls. Nothing refused reaches a screen.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, request
from pydantic import ValidationError

from command_center.alarms import AlarmIn, AlarmNotFound
from command_center.api_keys import ApiKey, ApiKeyStore, RateLimit, ensure_schema
from command_center.audit import OK, REFUSED, AuditLog, audit_key
from command_center.domain.ids import MAX_ID, record_id

KEY_HEADER = "X-API-Key"
#: Longest acknowledgement note (the store keeps 500 characters).
NOTE_MAX = 500


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"]}
        for err in exc.errors()
    ]


def install_alarms_api(cc: Any) -> None:
    register_alarms_api(cc.server, cc)


class ApiGuard:
    """Who calls (the key), how often (the rate limit) and the audit entry of each call."""

    def __init__(self, cc: Any) -> None:
        settings = cc.settings
        engine = cc.alarms.store.engine
        ensure_schema(engine, settings.effective_database_url)
        self.clock = cc.alarms.store.clock
        self.keys = ApiKeyStore(engine, clock=self.clock, env_keys=settings.api_keys)
        self.audit = AuditLog(engine, audit_key(settings), clock=self.clock)
        self.limit = RateLimit(settings.api_rate_limit, settings.redis_url, settings.redis_channel)

    def check(self, action: str) -> tuple[ApiKey | None, Any]:
        """The caller's key, or the answer that refuses the call (401, or 429 past the
        rate limit: per key, per address without a valid key)."""
        key = self.keys.authenticate(request.headers.get(KEY_HEADER))
        wait = self.limit.hit(key.identity if key else f"addr:{request.remote_addr}")
        if wait is not None:  # not audited: a flood must not grow the log at line rate
            answer = jsonify({"error": "too_many_requests", "retry_after": int(wait)})
            return None, (answer, 429, {"Retry-After": str(int(wait))})
        if key is None:
            self.record(None, action, REFUSED, "401 unauthorised")
            body = {"error": "unauthorised", "detail": f"a valid {KEY_HEADER} is needed"}
            return None, (jsonify(body), 401)
        return key, None

    def record(
        self,
        key: ApiKey | None,
        action: str,
        result: str,
        detail: str = "",
        alarm_id: int | None = None,
    ) -> None:
        who = key.identity if key else "(no key)"
        if alarm_id is not None:
            detail = f"alarm #{alarm_id} {detail}".strip()
        if key is None:
            detail = f"{detail} from {request.remote_addr}".strip()
        self.audit.record(
            at=self.clock(),
            user_name=who,
            role=f"api:{key.source}"[:20] if key else "api",
            action=action,
            screen=request.path[:64],
            result=result,
            detail=detail,
        )


def register_alarms_api(server: Flask, cc: Any) -> None:
    guard = ApiGuard(cc)
    cc.api_keys = guard.keys
    cc.api_guard = guard

    def refuse(
        key: ApiKey | None, action: str, status: int, body: dict[str, Any], **kw: Any
    ) -> Any:
        guard.record(key, action, REFUSED, f"{status} {body.get('error', '')}", **kw)
        return jsonify(body), status

    check = guard.check

    @server.post("/api/alarms")
    def post_alarm() -> Any:
        key, refused = check("api_alarm_post")
        if key is None:
            return refused
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return refuse(
                key,
                "api_alarm_post",
                400,
                {"error": "bad_request", "detail": "the body must be a JSON object"},
            )
        body.setdefault("source", key.source)
        if body["source"] != key.source:
            return refuse(
                key,
                "api_alarm_post",
                403,
                {
                    "error": "forbidden",
                    "fields": [{"field": "source", "message": f"this key is for {key.source!r}"}],
                },
            )
        try:
            alarm_in = AlarmIn.model_validate(body)
        except ValidationError as exc:
            return refuse(
                key, "api_alarm_post", 422, {"error": "invalid", "fields": field_errors(exc)}
            )
        result = cc.alarms.ingest(alarm_in)
        guard.record(key, "api_alarm_post", OK, result.outcome, alarm_id=result.alarm.id)
        status = 201 if result.outcome == "new" else 200
        return jsonify({"outcome": result.outcome, "alarm": result.alarm.as_dict()}), status

    @server.post("/api/alarms/<int:alarm_id>/ack")
    def ack_alarm(alarm_id: int) -> Any:
        key, refused = check("api_alarm_ack")
        if key is None:
            return refused
        body = request.get_json(silent=True) or {}
        if not isinstance(body, dict):
            return refuse(
                key,
                "api_alarm_ack",
                400,
                {"error": "bad_request", "detail": "the body must be an object"},
                alarm_id=alarm_id,
            )
        note = body.get("note") or ""
        if not isinstance(note, str) or len(note) > NOTE_MAX:
            return refuse(
                key,
                "api_alarm_ack",
                422,
                {
                    "error": "invalid",
                    "fields": [{"field": "note", "message": f"text of at most {NOTE_MAX}"}],
                },
                alarm_id=alarm_id,
            )
        try:
            alarm = cc.alarms.store.get(alarm_id)
        except AlarmNotFound:
            return refuse(
                key,
                "api_alarm_ack",
                404,
                {"error": "not_found", "detail": f"no alarm {alarm_id}"},
                alarm_id=alarm_id,
            )
        if alarm.source != key.source:  # the same answer as for an alarm it cannot see
            return refuse(
                key,
                "api_alarm_ack",
                403,
                {"error": "forbidden", "detail": f"this key is for {key.source!r} alarms"},
                alarm_id=alarm_id,
            )
        alarm, first = cc.alarms.acknowledge(alarm_id, key.identity, note)
        guard.record(key, "api_alarm_ack", OK, "first" if first else "again", alarm_id=alarm_id)
        return jsonify({"acknowledged": first, "alarm": alarm.as_dict()}), 200

    @server.get("/api/alarms")
    def list_alarms() -> Any:
        key, refused = check("api_alarm_list")
        if key is None:
            return refused
        raw = request.args.get("since", "0")
        since = 0 if raw.strip() == "0" else record_id(raw)
        if since is None:
            message = f"an alarm id: an integer from 0 to {MAX_ID}"
            return refuse(
                key,
                "api_alarm_list",
                422,
                {"error": "invalid", "fields": [{"field": "since", "message": message}]},
            )
        alarms = cc.alarms.store.since(since, source=key.source)
        guard.record(key, "api_alarm_list", OK, f"since {since}: {len(alarms)}")
        return jsonify(
            {
                "alarms": [a.as_dict() for a in alarms],
                "last_id": cc.alarms.store.last_id(key.source),
            }
        )

    _ = (post_alarm, ack_alarm, list_alarms)
