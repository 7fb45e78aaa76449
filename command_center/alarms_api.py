"""The alarm HTTP API: ``POST /api/alarms``, ``POST /api/alarms/<id>/ack``,
``GET /api/alarms?since=<id>``.

Every call carries a per-source key in ``X-API-Key`` (``CC_API_KEYS`` = JSON
``{"source": "key"}``; with no keys configured the API refuses everything). A key speaks for
its own source only: an alarm whose ``source`` differs from the key's is refused, and a
missing ``source`` is taken from the key.

Answers: 201 a new alarm; 200 a duplicate (same source id) or one folded into an open alarm
(``outcome`` says which); 400 a body that is not a JSON object; 422 a malformed alarm, with
each field at fault; 401 a missing or unknown key; 403 a key of another source; 404 an
unknown alarm. Nothing refused reaches a screen.
"""

from __future__ import annotations

import hmac
from typing import Any

from flask import Flask, jsonify, request
from pydantic import ValidationError

from command_center.alarms import AlarmIn, AlarmNotFound
from command_center.domain.ids import MAX_ID, record_id

KEY_HEADER = "X-API-Key"


def source_of_key(keys: dict[str, str], presented: str | None) -> str | None:
    """The source a key belongs to, compared in constant time; None for a bad key."""
    if not presented:
        return None
    found = None
    for source, key in keys.items():
        if key and hmac.compare_digest(key.encode(), presented.encode()):
            found = source
    return found


def field_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"]}
        for err in exc.errors()
    ]


def install_alarms_api(cc: Any) -> None:
    register_alarms_api(cc.server, cc)


def register_alarms_api(server: Flask, cc: Any) -> None:
    def authorised() -> str | None:
        return source_of_key(cc.settings.api_keys, request.headers.get(KEY_HEADER))

    def unauthorised() -> Any:
        return jsonify({"error": "unauthorised", "detail": f"a valid {KEY_HEADER} is needed"}), 401

    @server.post("/api/alarms")
    def post_alarm() -> Any:
        source = authorised()
        if source is None:
            return unauthorised()
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            return jsonify(
                {"error": "bad_request", "detail": "the body must be a JSON object"}
            ), 400
        body.setdefault("source", source)
        if body["source"] != source:
            return jsonify(
                {
                    "error": "forbidden",
                    "fields": [{"field": "source", "message": f"this key is for {source!r}"}],
                }
            ), 403
        try:
            alarm_in = AlarmIn.model_validate(body)
        except ValidationError as exc:
            return jsonify({"error": "invalid", "fields": field_errors(exc)}), 422
        result = cc.alarms.ingest(alarm_in)
        status = 201 if result.outcome == "new" else 200
        return jsonify({"outcome": result.outcome, "alarm": result.alarm.as_dict()}), status

    @server.post("/api/alarms/<int:alarm_id>/ack")
    def ack_alarm(alarm_id: int) -> Any:
        source = authorised()
        if source is None:
            return unauthorised()
        body = request.get_json(silent=True) or {}
        if not isinstance(body, dict):
            return jsonify({"error": "bad_request", "detail": "the body must be an object"}), 400
        by = str(body.get("by") or source)
        note = str(body.get("note") or "")
        try:
            alarm, first = cc.alarms.acknowledge(alarm_id, by, note)
        except AlarmNotFound:
            return jsonify({"error": "not_found", "detail": f"no alarm {alarm_id}"}), 404
        return jsonify({"acknowledged": first, "alarm": alarm.as_dict()}), 200

    @server.get("/api/alarms")
    def list_alarms() -> Any:
        if authorised() is None:
            return unauthorised()
        raw = request.args.get("since", "0")
        since = 0 if raw.strip() == "0" else record_id(raw)
        if since is None:
            message = f"an alarm id: an integer from 0 to {MAX_ID}"
            return jsonify(
                {"error": "invalid", "fields": [{"field": "since", "message": message}]}
            ), 422
        alarms = cc.alarms.since(since)
        return jsonify(
            {"alarms": [a.as_dict() for a in alarms], "last_id": cc.alarms.store.last_id()}
        )

    _ = (post_alarm, ack_alarm, list_alarms)
