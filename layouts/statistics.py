"""统计分析 statistics: case trend and breakdowns by class, source or region."""

from __future__ import annotations

from typing import Literal

import pandas as pd
import plotly.graph_objects as go
from dash import html

from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.common import figure_layout, graph, message


class TrendOptions(PanelOptions):
    days: int = 30


def render_trend(frame: pd.DataFrame, ctx: PanelContext) -> html.Div | object:
    """Reported vs closed per day."""
    if frame.empty:
        return message(t("panel.no_cases", ctx.lang))
    days = [d[5:] for d in frame["day"]]  # MM-DD reads better on a wall
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=days,
            y=frame["reported"],
            name=t("trend.reported", ctx.lang),
            mode="lines",
            line={"width": 3},
            fill="tozeroy",
            fillcolor="rgba(63,169,255,0.12)",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=days,
            y=frame["closed"],
            name=t("trend.closed", ctx.lang),
            mode="lines",
            line={"width": 3},
        )
    )
    figure_layout(fig, ctx)
    fig.update_xaxes(type="category", nticks=8)
    return graph(ctx, fig)


Dimension = Literal["big_class_code", "class_code", "source", "street_code"]


class BreakdownOptions(PanelOptions):
    dimension: Dimension = "big_class_code"
    chart: Literal["bar", "pie"] = "bar"
    days: int = 30
    top: int = 10


def label_breakdown(
    frame: pd.DataFrame, dimension: str, names: dict[str, str], lang: str
) -> list[str]:
    """Human labels for a breakdown's keys (class names, source names, street names)."""
    keys = [str(k) for k in frame[dimension]]
    if dimension == "source":
        return [t(f"source.{k}", lang) for k in keys]
    if "kind" in frame.columns:
        # A component class is labelled as such: its codes overlap the event classes'.
        labels = []
        for kind, key in zip(frame["kind"], keys, strict=True):
            name = names.get(f"{kind}:{key}", key)
            labels.append(name if kind == "event" else f"{name}({t('kind.component_short', lang)})")
        return labels
    return [names.get(k, k) for k in keys]


def render_breakdown(data: tuple[pd.DataFrame, dict[str, str]], ctx: PanelContext) -> object:
    frame, names = data
    opts: BreakdownOptions = ctx.options
    if frame.empty:
        return message(t("panel.no_cases", ctx.lang))
    frame = frame.head(opts.top)
    labels = label_breakdown(frame, opts.dimension, names, ctx.lang)
    if opts.chart == "pie":
        fig = go.Figure(
            go.Pie(
                labels=labels,
                values=frame["reported"],
                hole=0.55,
                sort=False,
                textinfo="label+percent",
                textposition="outside",
            )
        )
        figure_layout(fig, ctx, legend=False)
    else:
        fig = go.Figure(
            go.Bar(
                y=labels[::-1],
                x=list(frame["reported"])[::-1],
                orientation="h",
                text=list(frame["reported"])[::-1],
                textposition="auto",
                marker={"color": "#3fa9ff"},
            )
        )
        figure_layout(fig, ctx, legend=False)
    return graph(ctx, fig)
