"""The briefing screen's export button and the daily briefing schedule.

The button writes the day's briefing (PDF or PNG, A4 or A3) into ``<data_dir>/briefings``
and hands it to the browser as a download; the schedule (``CC_BRIEFING_TIME``) writes it
every day into ``CC_BRIEFING_DIR``.

An export starts a headless Chromium for about half a minute, so it is not for anyone: it
needs a signed-in user whose role is in ``EXPORT_ROLES``, and a user runs one export at a
time (a second click while the first runs is told so). Every attempt is audited, refusals
included.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dash import MATCH, Input, Output, State, ctx, dcc, no_update
from dash.exceptions import PreventUpdate
from flask import session

from command_center import briefing
from command_center.appraisal import AppraisalConfig
from command_center.audit import FAILED, OK, REFUSED
from command_center.auth import OTHER_ACTIONS, session_user
from command_center.domain.roles import BRIEFING_EXPORT
from command_center.i18n import t
from layouts.briefing import export_status

log = logging.getLogger(__name__)


def export_folder(cc: Any) -> Path:
    return Path(cc.settings.briefing_dir or Path(cc.settings.data_dir) / "briefings")


#: Roles that may export the briefing (the roles table: the shift leader 值班长 reports on
#: the shift, the leaders 领导 it is written for, and admins).
EXPORT_ROLES = OTHER_ACTIONS[BRIEFING_EXPORT]

#: How long an export may hold a user's slot in Redis before it counts as dead (a worker
#: killed mid-export must not lock its user out for good).
SLOT_SECONDS = 300


class ExportSlots:
    """One export at a time per user: in this process, and across processes through Redis
    when ``CC_REDIS_URL`` is set."""

    def __init__(self, redis_url: str = "", prefix: str = "command-center") -> None:
        self._busy: set[str] = set()
        self._lock = threading.Lock()
        self._prefix = prefix
        self._redis: Any = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    def busy(self, user_name: str) -> bool:
        """Whether this process runs an export of ``user_name`` now."""
        with self._lock:
            return user_name in self._busy

    @contextmanager
    def hold(self, user_name: str) -> Iterator[bool]:
        """Yields True with the user's slot held until the block ends, False when the user
        has an export running already."""
        with self._lock:
            if user_name in self._busy:
                got = False
            else:
                self._busy.add(user_name)
                got = True
        key = f"{self._prefix}:briefing-export:{user_name}"
        if got and self._redis is not None:
            try:
                got = bool(self._redis.set(key, "1", nx=True, ex=SLOT_SECONDS))
            except Exception:  # noqa: BLE001 - Redis down: this process still holds one
                log.warning("briefing export slot not shared (Redis unreachable)")
                key = ""
            if not got:
                with self._lock:
                    self._busy.discard(user_name)
        try:
            yield got
        finally:
            if got:
                with self._lock:
                    self._busy.discard(user_name)
                if self._redis is not None and key:
                    try:
                        self._redis.delete(key)
                    except Exception:  # noqa: BLE001 - it expires by itself
                        log.warning("briefing export slot of %s not released", user_name)


def register_export(app: Any, cc: Any) -> None:
    """``register_callbacks`` of the ``briefing_export`` panel kind."""
    slots = ExportSlots(cc.settings.redis_url, cc.settings.redis_channel)
    cc.server.extensions["briefing_export_slots"] = slots

    def audit(user: Any, result: str, screen: str, detail: str) -> None:
        collab = getattr(cc, "collab", None)
        if collab is None:  # pragma: no cover - the app always installs collaboration
            return
        collab.audit.record(
            at=collab.clock(),
            user_name=user.name if user else "?",
            role=user.role if user else "",
            action="briefing_export",
            result=result,
            screen=screen,
            detail=detail,
        )

    @app.callback(
        Output({"role": "download", "kind": "briefing_export", "pid": MATCH}, "data"),
        Output({"role": "status", "kind": "briefing_export", "pid": MATCH}, "children"),
        Input({"role": "pdf", "kind": "briefing_export", "pid": MATCH}, "n_clicks"),
        Input({"role": "png", "kind": "briefing_export", "pid": MATCH}, "n_clicks"),
        State({"role": "paper", "kind": "briefing_export", "pid": MATCH}, "value"),
        State("cc-wall-meta", "data"),
        prevent_initial_call=True,
    )
    def export(_pdf: int, _png: int, paper: str, meta: dict | None) -> tuple[Any, Any]:
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        fmt = "png" if trigger["role"] == "png" else "pdf"
        meta = meta if isinstance(meta, dict) else {}
        lang = meta.get("lang", cc.settings.lang)
        lang = lang if lang in ("zh", "en") else cc.settings.lang
        screen = str(meta.get("screen", ""))[:64]
        collab = cc.collab
        user = session_user(session, collab.clock(), store=collab.users)
        if user is None or user.role not in EXPORT_ROLES:
            audit(user, REFUSED, screen, f"{fmt}: " + ("no session" if user is None else "role"))
            key = "briefing.sign_in" if user is None else "briefing.no_role"
            return no_update, export_status(t(key, lang), ok=False)
        with slots.hold(user.name) as got:
            if not got:
                audit(user, REFUSED, screen, f"{fmt}: an export of this user is running")
                return no_update, export_status(t("briefing.busy", lang), ok=False)
            return run_export(user, fmt, paper, lang, screen)

    def run_export(user: Any, fmt: str, paper: str, lang: str, screen: str) -> tuple[Any, Any]:
        started = time.perf_counter()
        paper = "A3" if paper == "A3" else "A4"
        try:
            path = briefing.generate(
                cc.adapters.case,
                cc.adapters.gis,
                cc.services.clock().date(),
                fmt=fmt,
                paper=paper,
                out_dir=export_folder(cc),
                config=AppraisalConfig.load(cc.settings.appraisal_file, cc.settings.rank_min_cases),
                chromium=cc.settings.chromium_path,
                lang=lang,
                now=cc.services.clock(),
            )
        except Exception as exc:  # noqa: BLE001 - the button says so; the log has the trace
            log.exception("briefing export failed")
            audit(user, FAILED, screen, f"{fmt}: {type(exc).__name__}")
            return no_update, export_status(t("briefing.failed", lang), ok=False)
        seconds = f"{time.perf_counter() - started:.1f}"
        audit(user, OK, screen, f"{fmt} {paper}: {path.name} in {seconds} s")
        status = export_status(t("briefing.exported", lang, name=path.name, seconds=seconds))
        return dcc.send_file(str(path)), status

    _ = export


def install_briefing(cc: Any, *, start: bool = True) -> None:
    """Start the daily schedule when ``CC_BRIEFING_TIME`` is set (and the app runs its
    background work); ``cc.server.extensions["briefing_schedule"]`` holds it."""
    if not cc.settings.briefing_time or not start:
        return
    schedule = briefing.BriefingSchedule(cc.settings, cc.adapters, cc.services.clock)
    schedule.start()
    cc.server.extensions["briefing_schedule"] = schedule
    log.info("daily briefing at %s into %s", cc.settings.briefing_time, schedule.folder)
