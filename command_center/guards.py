"""What a request may carry, and what an unexpected error may show.

- Every request body is bounded by ``CC_MAX_REQUEST_BYTES`` (Flask's ``MAX_CONTENT_LENGTH``):
  past it the answer is 413 before the body is read. A Dash callback POST of a signed-in
  session may be larger, up to ``upload_request_limit`` (a photo of
  ``photos.MAX_UPLOAD_BYTES`` as base64, 4/3 of its size, plus the small limit as slack):
  that is how ``dcc.Upload`` sends an officer's photo. A kiosk without a session never gets
  more than the small limit.
- JSON nested deeper than the parser can follow is a 400 (a malformed body), not a
  ``RecursionError``; so is a Dash callback request that fits no callback of the app.
- Nothing unexpected ever shows a Python traceback: ``/api/*`` answers JSON
  ``{"error": ...}``, other paths a plain page, and the exception is logged once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from flask import Flask, Response, jsonify, request, session
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

from command_center.photos import MAX_UPLOAD_BYTES

log = logging.getLogger(__name__)

DASH_UPDATE = "/_dash-update-component"


def upload_request_limit(max_request_bytes: int) -> int:
    """Bytes a signed-in Dash callback POST may carry: one photo as base64, plus slack."""
    return MAX_UPLOAD_BYTES * 4 // 3 + max_request_bytes


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, but a document nested too deep to parse is a ValueError, which
    ``request.get_json`` answers with 400 (or None with ``silent=True``)."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        try:
            return super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None


def install_guards(server: Flask, max_request_bytes: int) -> None:
    """Bound request sizes, parse JSON safely and hide tracebacks, on ``server``. Call it
    right after the Flask app is made, so the size check runs before any other hook reads
    a body."""
    server.json = GuardedJSONProvider(server)
    server.config["MAX_CONTENT_LENGTH"] = max_request_bytes
    upload_limit = upload_request_limit(max_request_bytes)

    def bound_request_size() -> None:
        length = request.content_length
        if length is None or length <= max_request_bytes:
            return  # chunked bodies are cut off by MAX_CONTENT_LENGTH while being read
        if length <= upload_limit and request.path.endswith(DASH_UPDATE) and _signed_in(server):
            request.max_content_length = upload_limit
            return
        raise RequestEntityTooLarge(
            f"the request carries {length} bytes; at most {max_request_bytes} are accepted"
            + (" (a signed-in console may upload a photo)" if DASH_UPDATE in request.path else "")
        )

    # first of all hooks: nothing may read a body that is too large
    server.before_request_funcs.setdefault(None, []).insert(0, bound_request_size)

    @server.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        if not request.path.startswith("/api/"):
            return exc
        body = {"error": (exc.name or "error").lower().replace(" ", "_"), "detail": exc.description}
        response = jsonify(body)
        response.status_code = exc.code or 500
        return response

    @server.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        if isinstance(exc, HTTPException):  # pragma: no cover - the handler above has them
            return http_error(exc)
        log.error("unhandled error on %s %s", request.method, request.path, exc_info=exc)
        if request.path.startswith("/api/"):
            body = {"error": "internal_error", "detail": "the server failed; it is logged"}
            return jsonify(body), 500
        return Response(
            "500 内部错误 / internal server error (logged)\n", status=500, mimetype="text/plain"
        )

    _ = (http_error, unexpected)


def install_dash_envelope_check(server: Flask, callback_map: Mapping[str, Any]) -> None:
    """Refuse (400) a Dash callback POST whose envelope does not fit a callback of the app:
    Dash itself answers such bodies with a KeyError or TypeError, a 500. Install it after
    the Dash app is made, so its own first-request setup runs before."""

    def check_dash_envelope() -> None:
        if request.method != "POST" or not request.path.endswith(DASH_UPDATE):
            return
        problem = envelope_problem(request.get_json(silent=True), callback_map)
        if problem:
            raise BadRequest(f"not a callback of this app: {problem}")

    server.before_request(check_dash_envelope)


def envelope_problem(body: Any, callback_map: Mapping[str, Any]) -> str:
    """What is wrong with a Dash callback request ``body``; empty when it fits."""
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    output = body.get("output")
    if not isinstance(output, str) or output not in callback_map:
        return "unknown output"
    spec = callback_map[output]
    outputs = body.get("outputs")
    if output.startswith(".."):  # several outputs: one entry each
        fits = _components(outputs, len(output[2:-2].split("...")))
    elif output.startswith("{"):  # a pattern: one component, or the list ALL matched
        fits = _component(outputs) or _components(outputs, None)
    else:
        fits = _component(outputs) or (bool(spec.get("no_output")) and outputs == [])
    if not fits:
        return "outputs must be the callback's output components"
    for key in ("inputs", "state"):
        if not _components(body.get(key, []), len(spec.get(key) or [])):
            return f"{key} must be one component (or list of them) per {key} of the callback"
    changed = body.get("changedPropIds", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        return "changedPropIds must be a list of strings"
    return ""


def _component(item: Any) -> bool:
    return (
        isinstance(item, dict)
        and isinstance(item.get("id"), (str, dict))
        and isinstance(item.get("property"), str)
    )


def _components(items: Any, count: int | None) -> bool:
    if not isinstance(items, list) or (count is not None and len(items) != count):
        return False
    return all(
        _component(i) or (isinstance(i, list) and all(_component(j) for j in i)) for i in items
    )


def _signed_in(server: Flask) -> bool:
    """Whether the request comes from a signed-in session (an officer at a console)."""
    from command_center.auth import session_user

    cc = server.extensions.get("command_center")
    collab = getattr(cc, "collab", None)
    if collab is None:
        return False
    try:
        return session_user(session, collab.clock(), store=collab.users) is not None
    except Exception:  # noqa: BLE001 - an unreadable session is no session
        log.warning("session could not be read for a large request", exc_info=True)
        return False
