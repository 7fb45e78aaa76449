"""运维管理 ops monitoring: adapter health and the screens.yaml status."""

from __future__ import annotations

from typing import Any

from dash import html

from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.common import table


class HealthOptions(PanelOptions):
    pass


def render_health(data: dict[str, Any], ctx: PanelContext) -> html.Div:
    """One row per backend: up/down, latency, last error; then the screens file."""
    lang = ctx.lang
    rows = []
    for kind, health in data["health"].items():
        outage = data["outages"].get(kind)
        rows.append(
            html.Tr(
                className="up" if health.up else "down",
                children=[
                    html.Td(t(f"ops.backend.{kind}", lang)),
                    html.Td(data["adapters"].get(kind, "")),
                    html.Td(
                        t("ops.up", lang) if health.up else t("ops.down", lang),
                        className="cc-health-state",
                    ),
                    html.Td(f"{health.latency_ms:.1f} ms"),
                    html.Td(
                        health.detail
                        or (
                            t("ops.outage_since", lang, time=outage.since.strftime("%H:%M:%S"))
                            if outage
                            else ""
                        )
                    ),
                ],
            )
        )
    health_table = table(
        ["ops.backend", "ops.adapter", "ops.state", "ops.latency", "ops.detail"],
        rows,
        lang,
        "cc-table cc-health",
    )
    screens = data["screens"]
    if screens["error"]:
        screens_box = html.Div(
            className="cc-screens-status bad",
            children=[
                html.Div(
                    t("ops.screens_error", lang, time=screens["error_at"]),
                    className="cc-warn-title",
                ),
                html.Pre(screens["error"], className="cc-warn-text"),
                html.Div(
                    t(
                        "ops.screens_last_good",
                        lang,
                        time=screens["good_at"],
                        version=screens["version"],
                    )
                ),
            ],
        )
    else:
        screens_box = html.Div(
            t("ops.screens_ok", lang, time=screens["good_at"], version=screens["version"]),
            className="cc-screens-status ok",
        )
    missing = data.get("calendar_missing") or []
    calendar_box = (
        html.Div(
            t(
                "ops.calendar_missing",
                lang,
                years=t("common.list_sep", lang).join(map(str, missing)),
            ),
            className="cc-ops-warning cc-calendar-missing",
        )
        if missing
        else None
    )
    return html.Div([health_table, screens_box, calendar_box], className="cc-ops")
