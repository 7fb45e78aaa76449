"""Sign-in and sign-out pages of the duty consoles, and the admin's audit and users pages.

Plain Flask pages (no Dash): a kiosk never needs them, a console opens ``/login`` once a
shift. The form posts to itself; on success the server-side session holds the user (see
``command_center.auth`` and ``command_center.sessions``: a new session id at every sign-in)
and the browser goes back to ``next`` (default the duty console). Failed sign-ins are
limited per user name and per address (``command_center.login_limit``: 429 and
``Retry-After``, audited).

Every form carries a CSRF token (Flask-WTF's ``CSRFProtect``): a POST without the token of
its session is refused with 400, so another site cannot sign a browser in or out or act as
an admin. Exempt: Dash's JSON callbacks and the key-authenticated ``/api/*`` routes (no
cookie, no form; their Origin is checked elsewhere). Logout is a POST with the token: a
link or an image on another page cannot sign a console out.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, redirect, request, session
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf

from command_center.audit import FAILED, OK, REFUSED
from command_center.auth import AuthError, may, session_user, sign_in, sign_out
from command_center.domain.roles import ADMIN_PAGES
from command_center.i18n import t
from command_center.login_limit import LoginThrottle
from command_center.sessions import rotate

#: Requests that need no CSRF token: their methods change nothing.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def install_csrf(server: Flask) -> CSRFProtect:
    """Require a CSRF token on every state-changing request except Dash's JSON callbacks
    (a cross-site form cannot send JSON; ``sec-headers`` checks their Origin) and the
    key-authenticated ``/api/*`` routes (no cookie to ride on)."""
    server.config.update(
        WTF_CSRF_CHECK_DEFAULT=False,  # the policy below decides, then CSRFProtect checks
        WTF_CSRF_TIME_LIMIT=None,  # valid for its session's life: a console signs out at 8 h
    )
    csrf = CSRFProtect(server)

    @server.before_request
    def csrf_policy() -> None:
        if request.method in SAFE_METHODS or request.path.startswith("/api/"):
            return
        view = server.view_functions.get(request.endpoint or "")
        if (getattr(view, "__module__", "") or "").split(".")[0] == "dash":
            return  # Dash's own endpoints (/_dash-update-component): JSON, no form
        csrf.protect()

    @server.errorhandler(CSRFError)
    def csrf_refused(exc: CSRFError) -> Any:
        lang = request.values.get("lang") or "zh"
        body = (
            f'<div class="cc-auth-card"><div class="cc-auth-error" role="alert">'
            f"{escape(t('auth.form_expired', lang))}</div>"
            f'<p><a href="/login">{escape(t("auth.sign_in", lang))}</a></p></div>'
        )
        return _page(t("auth.title", lang), body, lang), 400

    _ = (csrf_policy, csrf_refused)
    return csrf


def csrf_field() -> str:
    """The hidden input that carries this session's CSRF token in a form."""
    return f'<input type="hidden" name="csrf_token" value="{escape(generate_csrf())}">'


def sign_out_form(lang: str, next_url: str = "/login") -> str:
    """A small POST form that signs out (logout is never a GET)."""
    return (
        '<form class="cc-signout" method="post" action="/logout">'
        f'{csrf_field()}<input type="hidden" name="next" value="{escape(next_url)}">'
        f'<button type="submit">{escape(t("auth.sign_out", lang))}</button></form>'
    )


def _safe_next(value: str | None) -> str:
    """Only a path on this server: never redirect a signed-in officer elsewhere."""
    if not value:
        return "/wall/duty"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or not value.startswith("/") or value.startswith("//"):
        return "/wall/duty"
    return value


def _page(title: str, body: str, lang: str) -> str:
    return (
        f'<!doctype html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        '<meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{escape(title)}</title>"
        '<link rel="stylesheet" href="/assets/cc_theme.css">'
        '<link rel="stylesheet" href="/assets/cc_duty.css"></head>'
        f'<body class="cc-auth-body">{body}</body></html>'
    )


def login_form(lang: str, next_url: str, error: str = "", name: str = "") -> str:
    err = f'<div class="cc-auth-error" role="alert">{escape(error)}</div>' if error else ""
    body = (
        '<form class="cc-auth-card" method="post" action="/login">'
        f"{csrf_field()}<h1>{escape(t('auth.title', lang))}</h1>"
        f'<p class="cc-auth-sub">{escape(t("app.title", lang))}</p>{err}'
        f"<label>{escape(t('auth.user', lang))}"
        f'<input name="username" autocomplete="username" value="{escape(name)}" '
        "required autofocus></label>"
        f"<label>{escape(t('auth.password', lang))}"
        '<input name="password" type="password" autocomplete="current-password" required>'
        "</label>"
        f'<input type="hidden" name="next" value="{escape(next_url)}">'
        f'<input type="hidden" name="lang" value="{escape(lang)}">'
        f'<button type="submit">{escape(t("auth.sign_in", lang))}</button>'
        f'<p class="cc-auth-hint">{escape(t("auth.kiosk_hint", lang))}</p>'
        "</form>"
    )
    return _page(t("auth.title", lang), body, lang)


def register_routes(server: Flask, cc: Any) -> None:
    collab = cc.collab
    minutes = cc.settings.session_minutes
    install_csrf(server)
    throttle = LoginThrottle(cc.settings)
    cc.login_throttle = throttle

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        lang = request.values.get("lang") or cc.settings.lang
        next_url = _safe_next(request.values.get("next"))
        if request.method == "GET":
            return login_form(lang, next_url)
        name = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        address = request.remote_addr or ""
        now = collab.clock()
        screen = request.headers.get("Referer", "")[:64]
        wait = throttle.retry_after(name, address)
        if wait:  # locked: not even the right password opens it now
            collab.audit.record(
                at=now,
                user_name=name[:64] or "?",  # the column's width; the name is the client's
                action="sign_in",
                result=REFUSED,
                screen=screen,
                detail=f"locked after too many failed sign-ins; from {address}, retry in {wait} s",
            )
            message = t("auth.too_many", lang, minutes=max(1, -(-wait // 60)))
            page = login_form(lang, next_url, message, name)
            return page, 429, {"Retry-After": str(wait)}
        user = collab.users.verify(name, password)
        if user is None:
            throttle.failed(name, address)
            collab.audit.record(
                at=now,
                user_name=name[:64] or "?",  # the column's width; the name is the client's
                action="sign_in",
                result=REFUSED,
                screen=screen,
                detail=f"from {address}",
            )
            return login_form(lang, next_url, t("auth.bad_credentials", lang), name), 401
        throttle.succeeded(name)
        session.clear()  # a fresh session on sign-in, under a new id: no fixation
        rotate(session)
        sign_in(session, user, minutes, now)
        collab.audit.record(
            at=now, user_name=user.name, role=user.role, action="sign_in", result=OK, screen=screen
        )
        return redirect(next_url)

    @server.route("/logout", methods=["GET", "POST"])
    def logout() -> Any:
        if request.method == "GET":  # never signs out: a link or an image could do that
            lang = request.values.get("lang") or cc.settings.lang
            form = f'<div class="cc-auth-card">{sign_out_form(lang)}</div>'
            return _page(t("auth.sign_out", lang), form, lang)
        user = session_user(session, collab.clock())
        if user is not None:
            collab.audit.record(
                at=collab.clock(), user_name=user.name, role=user.role, action="sign_out", result=OK
            )
        sign_out(session)
        session.clear()  # the server-side record goes with it
        return redirect(_safe_next(request.values.get("next") or "/login"))

    @server.route("/admin/users", methods=["GET", "POST"])
    def users_page() -> Any:
        """Users and their sessions; an admin ends every session of a user with one POST."""
        lang = request.values.get("lang") or cc.settings.lang
        admin = session_user(session, collab.clock(), minutes=minutes, store=collab.users)
        if admin is None:
            return redirect("/login?next=/admin/users")
        if not may(admin, ADMIN_PAGES):
            body = escape(t("auth.users_admin_only", lang))
            return _page(t("auth.users_title", lang), body, lang), 403
        notice = ""
        if request.method == "POST":
            name = request.form.get("name") or ""
            try:
                ended = collab.users.sign_out_everywhere(name)
            except AuthError as exc:
                notice = f'<div class="cc-auth-error" role="alert">{escape(str(exc))}</div>'
            else:
                collab.audit.record(
                    at=collab.clock(),
                    user_name=admin.name,
                    role=admin.role,
                    action="sign_out_all",
                    result=OK,
                    detail=f"{name}: {ended} session(s)",
                )
                text = t("auth.signed_out_everywhere", lang, name=name, count=ended)
                notice = f'<p class="cc-auth-sub" role="status">{escape(text)}</p>'
        rows = "".join(
            f"<tr><td>{escape(u.name)}</td><td>{escape(u.display_name)}</td>"
            f"<td>{escape(t(f'auth.role.{u.role}', lang))}</td>"
            f"<td>{escape(t('auth.users.active' if u.active else 'auth.users.disabled', lang))}"
            '</td><td><form method="post" action="/admin/users">'
            f'{csrf_field()}<input type="hidden" name="name" value="{escape(u.name)}">'
            f'<input type="hidden" name="lang" value="{escape(lang)}">'
            f'<button type="submit">{escape(t("auth.sign_out_everywhere", lang))}</button>'
            "</form></td></tr>"
            for u in collab.users.list()
        )
        head = "".join(
            f"<th>{escape(t(f'auth.users.{c}', lang))}</th>"
            for c in ("name", "display_name", "role", "state")
        )
        body = (
            f'<div class="cc-audit"><h1>{escape(t("auth.users_title", lang))}</h1>{notice}'
            f'<table class="cc-audit-table"><thead><tr>{head}<th></th></tr></thead>'
            f"<tbody>{rows}</tbody></table>{sign_out_form(lang)}</div>"
        )
        return _page(t("auth.users_title", lang), body, lang)

    @server.get("/admin/audit")
    def audit_page() -> Any:
        lang = request.values.get("lang") or cc.settings.lang
        user = session_user(session, collab.clock(), store=collab.users)
        if user is None:
            return redirect("/login?next=/admin/audit")
        if not may(user, ADMIN_PAGES):
            return _page(t("auth.audit_title", lang), escape(t("auth.admin_only", lang)), lang), 403
        case_id = request.args.get("case", type=int)
        rows = collab.audit.entries(limit=500, case_id=case_id)
        mark = {OK: "cc-audit-ok", REFUSED: "cc-audit-refused", FAILED: "cc-audit-failed"}
        cells = "".join(
            f'<tr class="{mark.get(e.result, "")}"><td>{e.at:%Y-%m-%d %H:%M:%S}</td>'
            f"<td>{escape(e.user_name)}</td><td>{escape(e.role)}</td>"
            f"<td>{escape(e.action)}</td><td>{e.case_id or ''}</td>"
            f"<td>{escape(e.result)}</td><td>{escape(e.screen)}</td>"
            f"<td>{escape(e.detail)}</td></tr>"
            for e in rows
        )
        head = "".join(
            f"<th>{escape(t(f'auth.audit.{c}', lang))}</th>"
            for c in ("at", "user", "role", "action", "case", "result", "screen", "detail")
        )
        body = (
            f'<div class="cc-audit"><h1>{escape(t("auth.audit_title", lang))}</h1>'
            f'<table class="cc-audit-table"><thead><tr>{head}</tr></thead>'
            f"<tbody>{cells}</tbody></table>{sign_out_form(lang)}</div>"
        )
        return _page(t("auth.audit_title", lang), body, lang)

    _ = (login, logout, users_page, audit_page)
