"""Alarm wiring on the wall: the socket's events into the tickers (client side, see
assets/cc_alarms.js), the connection indicator in the header, and 确认 (acknowledge)."""

from __future__ import annotations

import logging
from typing import Any

from dash import MATCH, ClientsideFunction, Input, Output, State
from dash.exceptions import PreventUpdate

from command_center.alarms import AlarmNotFound
from command_center.i18n import t

log = logging.getLogger(__name__)


def acknowledger(screen_id: str, lang: str) -> str:
    """Who acknowledged, as stored: the console (screen) it was done on."""
    return t("alarm.by_screen", lang, screen=screen_id)


def register_socket_callbacks(cc: Any) -> None:
    """Page-level: every wall page has one ``cc-socket`` and one ``cc-conn``."""
    app = cc.dash
    app.clientside_callback(
        ClientsideFunction("cc_alarms", "on_event"),
        Output("cc-alarm-seen", "data"),
        Input("cc-socket", "data-alarm"),
        Input("cc-socket", "data-ack"),
        Input("cc-socket", "data-sync"),
        Input("cc-socket", "data-alarms"),
        Input("cc-socket", "data-acks"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        ClientsideFunction("cc_alarms", "connection"),
        Output("cc-conn", "children"),
        Output("cc-conn", "className"),
        Input("cc-socket", "connected"),
        State("cc-conn-text", "data"),
    )


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
