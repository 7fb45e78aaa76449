"""Alarm wiring on the wall: 确认 (acknowledge) from a ticker, by a signed-in duty console
only (a kiosk's ticker has no button and the server refuses it anyway). The socket, the tickers'
rows and the connection indicator live in the browser (assets/cc_alarms.js): a burst of
alarms never goes through Dash's callback machinery, which costs a wall tens of
milliseconds per update."""

from __future__ import annotations

import logging
from typing import Any

from dash import MATCH, Input, Output, State
from dash.exceptions import PreventUpdate

from command_center.alarms import AlarmNotFound
from command_center.audit import OK, REFUSED
from command_center.auth import may

log = logging.getLogger(__name__)


def register_ticker(app: Any, cc: Any) -> None:
    """Per ticker: a 确认 click (put in the ticker's store by the script) acknowledges, when
    the request's session is a user who may (``may(user, "alarm_ack")``). The name stored
    and audited is the signed-in user's, never anything the page sends."""

    @app.callback(
        Output({"role": "alarm-ack-done", "kind": "alarm_ticker", "pid": MATCH}, "children"),
        Input({"role": "alarm-ack", "kind": "alarm_ticker", "pid": MATCH}, "data"),
        State("cc-url", "pathname"),
        prevent_initial_call=True,
    )
    def acknowledge(request: dict[str, Any] | None, pathname: str | None) -> str:
        if not isinstance(request, dict) or "id" not in request:
            raise PreventUpdate
        try:
            alarm_id = int(request["id"])
        except (TypeError, ValueError):
            raise PreventUpdate from None
        return acknowledge_as_user(cc, alarm_id, screen_of(pathname))

    _ = acknowledge


def screen_of(pathname: str | None) -> str:
    path = (pathname or "").rstrip("/")
    return path[len("/wall/") :][:64] if path.startswith("/wall/") else path[:64]


def acknowledge_as_user(cc: Any, alarm_id: int, screen: str) -> str:
    """Acknowledge ``alarm_id`` as the request's signed-in user; "" when refused (a kiosk:
    nothing is written; a user whose role may not: the refusal is audited)."""
    from callbacks.case_drawer import current_user

    collab = getattr(cc, "collab", None)
    if collab is None:
        raise PreventUpdate
    user = current_user(cc, renew=True)
    if user is None:
        log.info("alarm %s: acknowledgement without a session refused", alarm_id)
        return ""

    def audit(result: str, detail: str) -> None:
        collab.audit.record(
            at=collab.clock(),
            user_name=user.name,
            role=user.role,
            action="alarm_ack",
            screen=screen,
            result=result,
            detail=detail,
        )

    if not may(user, "alarm_ack"):
        audit(REFUSED, f"alarm #{alarm_id}: role {user.role} may not acknowledge alarms")
        return ""
    try:
        alarm, first = cc.alarms.acknowledge(alarm_id, user.name)
    except AlarmNotFound:
        audit(REFUSED, f"alarm #{alarm_id}: no such alarm")
        return ""
    audit(OK, f"alarm #{alarm.id} {'' if first else '(already acknowledged)'}".strip())
    return str(alarm.id)


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
