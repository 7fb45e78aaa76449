"""What a request may carry, and what an unexpected error may show.

- Every request body is bounded by ``CC_MAX_REQUEST_BYTES`` (Flask's ``MAX_CONTENT_LENGTH``):
  past it the answer is 413 before the body is read. A Dash callback POST of a signed-in
  session may be larger, up to ``upload_request_limit`` (a photo of
  ``photos.MAX_UPLOAD_BYTES`` as base64, 4/3 of its size, plus the small limit as slack):
  that is how ``dcc.Upload`` sends an officer's photo. A kiosk without a session never gets
  more than the small limit.
- JSON nested deeper than the parser can follow is a 400 (a malformed body), not a
  ``RecursionError``.
- Nothing unexpected ever shows a Python traceback: ``/api/*`` answers JSON
  ``{"error": ...}``, other paths a plain page, and the exception is logged once.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify, request, session
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

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
