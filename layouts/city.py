"""全景城市 panoramic city: city KPIs and the live case ticker (the map is in ``city_map``)."""

from __future__ import annotations

from typing import Any, Literal

from dash import html

from adapters.case.contract import Case
from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.common import fmt_int, fmt_pct, message, month_day_time

KpiMetric = Literal[
    "reported",
    "registered",
    "dispatched",
    "closed",
    "open",
    "overdue",
    "on_time_closure_rate",
    "workers_on_duty",
    "devices_online",
]
#: shown as "on duty / all" (the total in small print)
OF_TOTAL = {"workers_on_duty": "workers", "devices_online": "devices"}
TODAY_METRICS = ("reported", "registered", "dispatched", "closed")


class KpiOptions(PanelOptions):
    metrics: list[KpiMetric] = [
        "reported",
        "registered",
        "dispatched",
        "closed",
        "open",
        "overdue",
        "on_time_closure_rate",
        "workers_on_duty",
        "devices_online",
    ]
    columns: int = 5


def render_kpis(data: dict[str, Any], ctx: PanelContext) -> html.Div:
    """Large numerals; today's counters carry their change against the same time yesterday."""
    opts: KpiOptions = ctx.options
    tiles = []
    for metric in opts.metrics:
        value = data.get(metric)
        if metric == "on_time_closure_rate":
            shown = fmt_pct(value)
        else:
            shown = fmt_int(value)
        trend: Any = None
        if metric in TODAY_METRICS:
            before = data.get(f"{metric}_yesterday") or 0
            delta = (value or 0) - before
            arrow = "▲" if delta > 0 else ("▼" if delta < 0 else "=")
            trend = html.Div(
                [t("kpi.vs_yesterday", ctx.lang), f" {arrow} {abs(delta):,}"],
                className=f"cc-kpi-trend {'up' if delta > 0 else 'down' if delta < 0 else 'flat'}",
            )
        if metric in OF_TOTAL and data.get(OF_TOTAL[metric]) is not None:
            trend = html.Div(
                t("kpi.of_total", ctx.lang, total=f"{data[OF_TOTAL[metric]]:,}"),
                className="cc-kpi-trend flat",
            )
        label = t(f"kpi.{metric}", ctx.lang)
        if metric == "on_time_closure_rate" and data.get("rate_n") is not None:
            # a rate says over how many cases and which period: 44 % of 12 cases on the 2nd
            # of a month is not 44 % of a month
            last = data.get("rate_period") == "last_month"
            if last:
                label = t("kpi.on_time_closure_rate_last_month", ctx.lang)
            trend = html.Div(
                t(
                    "kpi.rate_last_month_n" if last else "kpi.rate_month_to_date_n",
                    ctx.lang,
                    n=f"{data['rate_n']:,}",
                    month=data.get("rate_month", ""),
                ),
                className="cc-kpi-trend flat cc-kpi-denominator",
            )
        tone = "alert" if metric == "overdue" and (value or 0) > 0 else ""
        tiles.append(
            html.Div(
                className=f"cc-kpi {tone}",
                children=[
                    html.Div(label, className="cc-kpi-label"),
                    html.Div(shown, className="cc-kpi-value", **{"data-metric": metric}),
                    trend,
                ],
            )
        )
    return html.Div(
        tiles,
        className="cc-kpi-grid",
        style={"gridTemplateColumns": f"repeat({opts.columns}, 1fr)"},
    )


class TickerOptions(PanelOptions):
    limit: int = 12
    urgent_only: bool = False


def render_ticker(cases: list[Case], ctx: PanelContext) -> html.Div:
    """Newest reports first: time, class, place, source; urgent ones flagged."""
    if not cases:
        return message(t("ticker.none", ctx.lang))
    rows = []
    for case in cases:
        rows.append(
            html.Div(
                className=f"cc-ticker-row {'urgent' if case.urgent else ''}",
                children=[
                    html.Span(month_day_time(case.reported_at), className="cc-ticker-time"),
                    html.Span(case.class_name, className="cc-ticker-class"),
                    html.Span(case.address or case.grid_code, className="cc-ticker-place"),
                    html.Span(t(f"source.{case.source}", ctx.lang), className="cc-ticker-source"),
                ],
            )
        )
    return html.Div(rows, className="cc-ticker")
