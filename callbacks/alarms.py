"""Alarm wiring on the wall: 确认 (acknowledge) from a ticker. The socket, the tickers'
rows and the connection indicator live in the browser (assets/cc_alarms.js): a burst of
alarms never goes through Dash's callback machinery, which costs a wall tens of
milliseconds per update."""

from __future__ import annotations

import logging
from typing import Any

from dash import MATCH, Input, Output, State
from dash.exceptions import PreventUpdate

from command_center.alarms import AlarmNotFound
from command_center.i18n import t

log = logging.getLogger(__name__)


def acknowledger(screen_id: str, lang: str) -> str:
    """Who acknowledged, as stored: the console (screen) it was done on."""
    return t("alarm.by_screen", lang, screen=screen_id)


def register_ticker(app: Any, cc: Any) -> None:
    """Per ticker: a 确认 click (put in the ticker's store by the script) acknowledges."""

    @app.callback(
        Output({"role": "alarm-ack-done", "kind": "alarm_ticker", "pid": MATCH}, "children"),
        Input({"role": "alarm-ack", "kind": "alarm_ticker", "pid": MATCH}, "data"),
        State("cc-wall-meta", "data"),
        prevent_initial_call=True,
    )
    def acknowledge(request: dict[str, Any] | None, meta: dict[str, Any] | None) -> str:
        if not request or "id" not in request:
            raise PreventUpdate
        meta = meta or {}
        by = acknowledger(str(meta.get("screen", "")), str(meta.get("lang", cc.settings.lang)))
        try:
            alarm, _first = cc.alarms.acknowledge(int(request["id"]), by)
        except AlarmNotFound:
            raise PreventUpdate from None
        return str(alarm.id)

    _ = acknowledge


def panel_kinds() -> list[Any]:
    """The alarm and ops-monitor kinds, for ``command_center.panels``."""
    from callbacks.ops_monitor import ops_snapshot
    from command_center.screens.registry import PanelKind
    from layouts import alarms as alarm_layouts
    from layouts import ops_monitor

    return [
        PanelKind(
            "alarm_ticker",
            alarm_layouts.AlarmTickerOptions,
            build=alarm_layouts.build_ticker,
            register_callbacks=register_ticker,
            title_key="kind.alarm_ticker",
            module="city",
        ),
        PanelKind(
            "ops_screens",
            ops_monitor.ScreensOptions,
            build=None,
            fetch=ops_snapshot,
            render=ops_monitor.render_screens,
            title_key="kind.ops_screens",
            module="ops",
        ),
        PanelKind(
            "ops_flow",
            ops_monitor.FlowOptions,
            build=None,
            fetch=ops_snapshot,
            render=ops_monitor.render_flow,
            title_key="kind.ops_flow",
            module="ops",
        ),
    ]
