"""Sign-in and sign-out pages of the duty consoles, and the admin's audit-log page.

Plain Flask pages (no Dash): a kiosk never needs them, a console opens ``/login`` once a
shift. The form posts to itself; on success the session cookie carries the user (see
``command_center.auth``) and the browser goes back to ``next`` (default the duty console).
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, redirect, request, session

from command_center.audit import FAILED, OK, REFUSED
from command_center.auth import session_user, sign_in, sign_out
from command_center.i18n import t


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
        f"<h1>{escape(t('auth.title', lang))}</h1>"
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

    @server.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        lang = request.values.get("lang") or cc.settings.lang
        next_url = _safe_next(request.values.get("next"))
        if request.method == "GET":
            return login_form(lang, next_url)
        name = (request.form.get("username") or "").strip()
        password = request.form.get("password") or ""
        user = collab.users.verify(name, password)
        now = collab.clock()
        screen = request.headers.get("Referer", "")[:64]
        if user is None:
            collab.audit.record(
                at=now, user_name=name or "?", action="sign_in", result=REFUSED, screen=screen
            )
            return login_form(lang, next_url, t("auth.bad_credentials", lang), name), 401
        session.clear()  # a fresh session on sign-in: no fixation
        sign_in(session, user, minutes, now)
        collab.audit.record(
            at=now, user_name=user.name, role=user.role, action="sign_in", result=OK, screen=screen
        )
        return redirect(next_url)

    @server.route("/logout", methods=["GET", "POST"])
    def logout() -> Any:
        user = session_user(session, collab.clock())
        if user is not None:
            collab.audit.record(
                at=collab.clock(), user_name=user.name, role=user.role, action="sign_out", result=OK
            )
        sign_out(session)
        return redirect(_safe_next(request.values.get("next") or "/login"))

    @server.get("/admin/audit")
    def audit_page() -> Any:
        lang = request.values.get("lang") or cc.settings.lang
        user = session_user(session, collab.clock(), store=collab.users)
        if user is None:
            return redirect("/login?next=/admin/audit")
        if user.role != "admin":
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
            f"<tbody>{cells}</tbody></table></div>"
        )
        return _page(t("auth.audit_title", lang), body, lang)

    _ = (login, logout, audit_page)
