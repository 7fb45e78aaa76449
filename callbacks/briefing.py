"""The briefing screen's export button and the daily briefing schedule.

The button writes the day's briefing (PDF or PNG, A4 or A3) into ``<data_dir>/briefings``
and hands it to the browser as a download; the schedule (``CC_BRIEFING_TIME``) writes it
every day into ``CC_BRIEFING_DIR``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from dash import MATCH, Input, Output, State, ctx, dcc, no_update
from dash.exceptions import PreventUpdate

from command_center import briefing
from command_center.appraisal import AppraisalConfig
from command_center.i18n import t
from layouts.briefing import export_status

log = logging.getLogger(__name__)


def export_folder(cc: Any) -> Path:
    return Path(cc.settings.briefing_dir or Path(cc.settings.data_dir) / "briefings")


def register_export(app: Any, cc: Any) -> None:
    """``register_callbacks`` of the ``briefing_export`` panel kind."""

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
        lang = (meta or {}).get("lang", cc.settings.lang)
        started = time.perf_counter()
        try:
            path = briefing.generate(
                cc.adapters.case,
                cc.adapters.gis,
                cc.services.clock().date(),
                fmt=fmt,
                paper="A3" if paper == "A3" else "A4",
                out_dir=export_folder(cc),
                config=AppraisalConfig.load(cc.settings.appraisal_file, cc.settings.rank_min_cases),
                chromium=cc.settings.chromium_path,
                lang=lang,
                now=cc.services.clock(),
            )
        except Exception:  # noqa: BLE001 - the button says so; the log has the trace
            log.exception("briefing export failed")
            return no_update, export_status(t("briefing.failed", lang), ok=False)
        seconds = f"{time.perf_counter() - started:.1f}"
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
