"""Security headers on every response, and the Origin/Referer check of state-changing requests.

Headers (OWASP ASVS 14.4): Flask-Talisman sends X-Frame-Options, X-Content-Type-Options,
Referrer-Policy, Permissions-Policy and, when the site is served over HTTPS
(``CC_HTTPS``), Strict-Transport-Security. The Content-Security-Policy is set here instead
of by Talisman, because two of its parts are not known when the app is built: the sha256
hashes of Dash's own inline scripts (the renderer bootstrap and the clientside callbacks
given as strings, known once every callback is registered) and the ws/wss address of the
host the browser used (Socket.IO). No other inline script is allowed, and no ``eval``.

Origin check (OWASP CSRF cheat sheet, "verifying origin with standard headers"): a POST,
PUT, PATCH or DELETE that a browser may send with the session cookie (Dash's callbacks,
``/login``, ``/logout``, any form) is refused with 403 unless its ``Origin`` (or, when a
browser sent none, its ``Referer``) is this site: the request's own host, or an origin in
``CC_ALLOWED_ORIGINS`` (the public address of a proxy that rewrites Host). A request with
neither header is not a browser's (current browsers send Origin on every POST) and passes; the
key-authenticated ``/api/*`` routes pass when the request carries no cookie at all. Socket.IO
never reaches Flask: engine.io checks the Origin of its own requests (same origin only).
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, request
from flask_talisman import Talisman

from command_center.i18n import t

log = logging.getLogger(__name__)

STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
HSTS_SECONDS = 365 * 24 * 3600
# paths (case ids, screens) never leave the site; a tile server (天地图 keys are bound to
# the site's domain by Referer) still learns the origin, over HTTPS only
REFERRER_POLICY = "strict-origin-when-cross-origin"
HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")


def origin_of(url: str) -> str | None:
    """``scheme://host[:port]`` of a URL, lower-case, default port dropped; None when the
    URL has no http(s) scheme or no host (``null``, ``file:``, garbage)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return None
    host = parts.hostname.lower()
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is not None and port != DEFAULT_PORTS[scheme]:
        host = f"{host}:{port}"
    return f"{scheme}://{host}"


def tile_source(tile_url: str) -> str | None:
    """The CSP source of a Leaflet tile template: its origin, with a ``{s}`` (or any
    placeholder) in the host widened to ``*.`` of the rest (``t{s}.tianditu.gov.cn`` gives
    ``*.tianditu.gov.cn``). None for a relative template (served by this app) or none."""
    if not tile_url:
        return None
    parts = urlsplit(tile_url)
    if not parts.scheme or not parts.netloc:
        return None
    host = parts.netloc.rsplit("@", 1)[-1]
    if "{" in host:
        labels = host.split(".")
        last = max(i for i, label in enumerate(labels) if "{" in label)
        host = "*." + ".".join(labels[last + 1 :])
    return f"{parts.scheme.lower()}://{host}"


class SecurityHeaders:
    """The CSP of one app and the Origin check; ``install`` wires both into Flask."""

    def __init__(self, cc: Any) -> None:
        settings = cc.settings
        self.dash = cc.dash
        self.lang = settings.lang
        self.frame_ancestors = list(settings.frame_ancestors)
        self.allowed_origins = {o for o in map(origin_of, settings.allowed_origins) if o}
        self.https_only = settings.https
        self.tiles = tile_source(settings.tile_url)
        self._hashes_key: tuple[int, str] | None = None
        self._hashes: list[str] = []

    # --- Content-Security-Policy ---------------------------------------------------------
    def script_hashes(self) -> list[str]:
        """sha256 of each inline script Dash writes into its index (``Dash.csp_hashes``
        hashes the very strings its index renders); recomputed when a callback adds one."""
        key = (len(getattr(self.dash, "_inline_scripts", ())), self.dash.renderer)
        if key != self._hashes_key:
            self._hashes = list(dict.fromkeys(self.dash.csp_hashes("sha256")))
            self._hashes_key = (len(getattr(self.dash, "_inline_scripts", ())), self.dash.renderer)
        return self._hashes

    def policy(self, host: str) -> str:
        """The Content-Security-Policy for a request that reached ``host`` (host[:port])."""
        img = ["'self'", "data:", "blob:"] + ([self.tiles] if self.tiles else [])
        directives = {
            "default-src": ["'self'"],  # fonts, the alarm sound, Dash's worker among them
            # Dash's own inline scripts by hash; plotly.js, dash-leaflet and the app's
            # clientside callbacks run without eval (checked in Chromium: no violation).
            "script-src": ["'self'", *self.script_hashes()],
            # 'unsafe-inline' for styles only, and needed: dash-core-components, dash-leaflet,
            # the Dash renderer and plotly.js inject <style> elements, Leaflet and React set
            # style attributes (Chromium reports ~35 violations per wall without it)
            "style-src": ["'self'", "'unsafe-inline'"],
            "img-src": img,
            # Socket.IO: the same host over ws/wss ('self' covers them in CSP 3 browsers only)
            "connect-src": ["'self'"]
            + ([f"ws://{host}", f"wss://{host}"] if HOST.fullmatch(host) else []),
            "object-src": ["'none'"],
            "base-uri": ["'self'"],
            "form-action": ["'self'"],
            "frame-ancestors": self.frame_ancestors or ["'none'"],
        }
        return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())

    def add_policy(self, response: Response) -> Response:
        response.headers["Content-Security-Policy"] = self.policy(request.host)
        return response

    # --- Origin / Referer ------------------------------------------------------------------
    def same_site(self, origin: str | None) -> bool:
        """Is ``origin`` (normalised by ``origin_of``) this site?"""
        if origin is None:
            return False
        if origin in self.allowed_origins:
            return True
        if self.https_only and not origin.startswith("https://"):
            return False  # a page on plain http (anyone on the path) is not this site
        # the host the browser asked for, over either scheme (a TLS proxy may forward http)
        own = origin_of(f"{request.scheme}://{request.host}")
        return own is not None and urlsplit(origin).netloc == urlsplit(own).netloc

    def check_origin(self) -> Response | None:
        """Before every request: refuse a cross-site state-changing one (403)."""
        if request.method not in STATE_CHANGING:
            return None
        if request.path.startswith("/api/") and "Cookie" not in request.headers:
            return None  # key-authenticated, no session to ride on
        origin = request.headers.get("Origin")
        referer = request.headers.get("Referer")
        if origin is None and referer is None:
            return None  # not a browser: no ambient session cookie is at stake
        claimed = origin if origin is not None else (referer or "")
        if self.same_site(origin_of(claimed)):
            return None
        log.warning(
            "refused cross-origin %s %s from %r", request.method, request.path, claimed[:200]
        )
        lang = request.args.get("lang")
        message = t("security.cross_origin", lang if lang in ("zh", "en") else self.lang)
        if request.path.startswith("/api/"):  # the API answers JSON, refusals included
            refused = jsonify({"error": "forbidden", "detail": message})
            refused.status_code = 403
            return refused
        return Response(message, status=403, mimetype="text/plain")


class _HeadersForEveryResponse:
    """WSGI wrapper for responses that never passed through Flask (Socket.IO's engine.io
    answers its polling requests itself): they get a bare policy, nothing to run, nothing to
    frame, nothing to sniff. Flask's own responses carry the full set and are left alone."""

    def __init__(self, wsgi_app: Any, frame_ancestors: list[str]) -> None:
        self.wsgi_app = wsgi_app
        ancestors = " ".join(frame_ancestors) or "'none'"
        self.headers = [
            (
                "Content-Security-Policy",
                f"default-src 'none'; frame-ancestors {ancestors}",
            ),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", REFERRER_POLICY),
        ] + ([] if frame_ancestors else [("X-Frame-Options", "DENY")])

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if not any(name.lower() == "content-security-policy" for name, _ in headers):
                headers = list(headers) + self.headers
            return start_response(status, headers, exc_info)

        return self.wsgi_app(environ, start)


def install(cc: Any) -> SecurityHeaders:
    """Send the security headers on every response of ``cc.server`` and check the Origin of
    state-changing requests. Call once every callback is registered (end of create_app)."""
    server: Flask = cc.server
    settings = cc.settings
    security = SecurityHeaders(cc)
    Talisman(
        server,
        force_https=False,  # TLS is the proxy's job; HSTS below tells browsers to keep it
        strict_transport_security=settings.https,  # only on requests that came over HTTPS
        strict_transport_security_max_age=HSTS_SECONDS,
        strict_transport_security_include_subdomains=False,  # other hosts are not ours
        # with named portal origins, CSP frame-ancestors decides (X-Frame-Options cannot
        # name several origins); otherwise both forbid every frame
        frame_options=None if security.frame_ancestors else "DENY",
        content_security_policy=None,  # per request below: Dash's hashes, the ws host
        referrer_policy=REFERRER_POLICY,
        x_content_type_options=True,
        # the session cookie's flags are the sessions module's business: leave them as set
        session_cookie_secure=False,
        session_cookie_http_only=False,
        session_cookie_samesite=server.config.get("SESSION_COOKIE_SAMESITE"),
    )
    server.after_request(security.add_policy)
    # first of the before_request hooks: a refused request runs nothing else
    server.before_request_funcs.setdefault(None, []).insert(0, security.check_origin)
    # outermost: also around Flask-SocketIO's middleware (install after install_realtime)
    server.wsgi_app = _HeadersForEveryResponse(  # type: ignore[method-assign]
        server.wsgi_app, security.frame_ancestors
    )
    server.extensions["cc_security_headers"] = security
    return security
