"""运维监控 panels beyond the backend table: connected screens, and the flow of events,
alarms, SMS and devices. Pure: a snapshot of ``OpsWatch`` in, components out."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from dash import html

from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.common import message, table


class ScreensOptions(PanelOptions):
    pass


class FlowOptions(PanelOptions):
    pass


def _hms(at: datetime | None) -> str:
    return at.strftime("%H:%M:%S") if at else ""


def render_screens(data: dict[str, Any], ctx: PanelContext) -> html.Div:
    """Which screen is connected, since when, its last heartbeat; backends watched."""
    lang = ctx.lang
    screens = data["screens"]
    several = bool(data.get("redis"))  # processes share Redis: say which one holds a screen
    names = data.get("region_names") or {}
    rows = [
        html.Tr(
            [
                html.Td(conn.screen or "—"),
                html.Td(
                    f"{names.get(conn.region, '')} {conn.region}".strip()
                    if conn.region
                    else t("ops.whole_city", lang)
                ),
                html.Td(_hms(conn.since)),
                html.Td(_hms(conn.last_heartbeat)),
                html.Td(conn.address),
                *([html.Td(conn.process)] if several else []),
            ]
        )
        for conn in screens
    ]
    headers = ["ops.screen", "ops.scope", "ops.since", "ops.heartbeat", "ops.address"]
    screens_table = (
        table(
            headers + (["ops.process"] if several else []),
            rows,
            lang,
            "cc-table cc-ops-screens",
        )
        if rows
        else message(t("ops.no_screens", lang))
    )
    watched = [
        html.Span(
            f"{t(f'ops.backend.{name}', lang)} {state.health.latency_ms:.0f} ms",
            className="cc-ops-chip " + ("up" if state.health.up else "down"),
            title=state.last_error,
        )
        for name, state in sorted(data["backends"].items())
    ]
    return html.Div(
        [
            html.Div(
                t("ops.connected_all" if several else "ops.connected", lang, n=len(screens)),
                className="cc-ops-sub",
            ),
            screens_table,
            html.Div(t("ops.watched", lang, time=_hms(data["checked_at"])), className="cc-ops-sub"),
            html.Div(watched, className="cc-ops-chips"),
            render_audit(data, lang),
        ],
        className="cc-ops",
    )


def render_audit(data: dict[str, Any], lang: str) -> html.Div:
    """The audit log's hash chain: verified up to which entry and when, or where it breaks."""
    audit = data.get("audit")
    error = data.get("audit_error") or ""
    if audit is None:
        key = "ops.audit_error" if error else "ops.audit_pending"
        return html.Div(t(key, lang), className="cc-ops-audit unknown", title=error)
    hm = audit.checked_at.strftime("%H:%M")
    if audit.ok:
        return html.Div(
            t("ops.audit_ok", lang, id=audit.verified_id, n=audit.count, time=hm),
            className="cc-ops-audit ok",
            title=error,
        )
    return html.Div(
        [
            html.Span(
                t(
                    "ops.audit_broken",
                    lang,
                    id=audit.broken_id if audit.broken_id is not None else "—",
                    problem=t(f"ops.audit_problem.{audit.problem}", lang),
                    time=hm,
                )
            ),
            html.Span(audit.detail, className="cc-ops-audit-detail"),
        ],
        className="cc-ops-audit bad",
        title=audit.detail,
    )


def _bars(series: list[tuple[int, int]], label: str, total: int) -> html.Div:
    peak = max([c for _m, c in series] + [1])
    return html.Div(
        className="cc-ops-rate",
        children=[
            html.Div(
                [
                    html.Span(label, className="cc-ops-rate-label"),
                    html.Span(f"{series[-1][1] if series else 0}", className="cc-ops-rate-now"),
                    html.Span(f"Σ {total}", className="cc-ops-rate-total"),
                ],
                className="cc-ops-rate-head",
            ),
            html.Div(
                [
                    html.Span(className="cc-ops-bar", style={"height": f"{100 * c / peak:.0f}%"})
                    for _m, c in series
                ],
                className="cc-ops-bars",
            ),
        ],
    )


def render_flow(data: dict[str, Any], ctx: PanelContext) -> html.Div:
    """Events and alarms per minute (last 15 minutes), SMS delivery, devices online."""
    lang = ctx.lang
    sms = data["sms"]
    counts = data["alarm_counts"]
    figures = [
        (t("ops.alarms_open", lang), counts.get("open", 0), ""),
        (t("ops.alarms_acked", lang), counts.get("acknowledged", 0), ""),
        (t("ops.sms_sent", lang), sum(sms.values()), ""),
        (t("ops.sms_delivered", lang), sms.get("delivered", 0), "good"),
        (t("ops.sms_failed", lang), sms.get("failed", 0) + sms.get("unknown", 0), "bad"),
    ]
    for layer, c in data["devices"].items():
        total = sum(c.values())
        figures.append(
            (
                t(f"ops.devices.{layer}", lang),
                f"{c.get('online', 0) + c.get('alarm', 0)}/{total}",
                "bad" if total and c.get("offline", 0) / total > 0.2 else "",
            )
        )
    return html.Div(
        [
            _bars(
                data["events_per_minute"], t("ops.events_per_minute", lang), data["events_total"]
            ),
            _bars(
                data["alarms_per_minute"], t("ops.alarms_per_minute", lang), data["alarms_total"]
            ),
            _bars(data["acks_per_minute"], t("ops.acks_per_minute", lang), data["acks_total"]),
            html.Div(
                [
                    html.Div(
                        [
                            html.Div(str(value), className=f"cc-ops-fig-value {tone}"),
                            html.Div(label, className="cc-ops-fig-label"),
                        ],
                        className="cc-ops-fig",
                    )
                    for label, value, tone in figures
                ],
                className="cc-ops-figs",
            ),
        ],
        className="cc-ops cc-ops-flow",
    )
