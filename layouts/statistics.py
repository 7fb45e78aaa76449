"""统计分析 statistics: case trend and breakdowns by class, source or region."""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd
import plotly.graph_objects as go
from dash import html

from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.common import (
    PALETTE,
    figure_layout,
    fmt_handling,
    fmt_int,
    font_px,
    graph,
    message,
    plot_text,
)


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
    """Human labels for a breakdown's keys (class names, source names, street names), as
    Plotly text (``plot_text``)."""
    keys = [str(k) for k in frame[dimension]]
    if dimension == "source":
        return [plot_text(t(f"source.{k}", lang)) for k in keys]
    if "kind" in frame.columns:
        # A component class is labelled as such: its codes overlap the event classes'.
        labels = []
        for kind, key in zip(frame["kind"], keys, strict=True):
            name = names.get(f"{kind}:{key}", key)
            labels.append(name if kind == "event" else f"{name}({t('kind.component_short', lang)})")
        return [plot_text(label) for label in labels]
    return [plot_text(names.get(k, k)) for k in keys]


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


# ---------------------------------------------------------------------------------------
# 统计分析 screen panels (stats_*): a fixed period on walls, the console's picker when the
# screen has one; a click on a bar, slice or region filters the rest of the screen.
# ---------------------------------------------------------------------------------------

PeriodOption = Literal["today", "last7", "last30", "week", "month", "quarter", "year"]
WEEKDAYS = {lang: [t(f"stats.weekday.{d}", lang) for d in range(7)] for lang in ("zh", "en")}


class StatsOptions(PanelOptions):
    period: PeriodOption = "month"  # fixed period (walls); a console's picker overrides it
    follow_picker: bool = True


class StatsTrendOptions(StatsOptions):
    grain: Literal["day", "week", "month"] = "day"


class StatsClassOptions(StatsOptions):
    chart: Literal["sunburst", "treemap"] = "sunburst"


class StatsSourceOptions(StatsOptions):
    chart: Literal["bar", "pie"] = "bar"


class StatsRegionOptions(StatsOptions):
    level: Literal["street", "community"] = "street"
    measure: Literal["reported", "open", "overdue_open"] = "reported"


class StatsHotspotOptions(StatsOptions):
    top: int = 10


class StatsRecurringOptions(StatsOptions):
    within_days: int = 7
    top: int = 10


class StatsFilterOptions(PanelOptions):
    grain: Literal["day", "week", "month", "quarter", "year"] = "month"


def filter_chips(data: dict[str, Any], ctx: PanelContext) -> html.Div:
    """What the screen is filtered to, in words: period, class, source, region."""
    chips = [html.Span(data["period_label"], className="cc-chip cc-chip-period")]
    for key in ("class", "source", "region"):
        label = data.get(f"{key}_label")
        if label:
            chips.append(html.Span(label, className=f"cc-chip cc-chip-{key}"))
    if len(chips) == 1:
        chips.append(html.Span(t("stats.no_filter", ctx.lang), className="cc-chip-none"))
    return html.Div(chips, className="cc-chips")


def trend_figure(data: dict[str, Any], ctx: PanelContext) -> go.Figure:
    """Reported (bars) and closed (line) per day, week or month."""
    frame: pd.DataFrame = data["frame"]
    grain = data["grain"]
    labels = [b[:7] if grain == "month" else b[5:] for b in frame["bucket"]]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(x=labels, y=frame["reported"], name=t("trend.reported", ctx.lang), opacity=0.85)
    )
    fig.add_trace(
        go.Scatter(
            x=labels,
            y=frame["closed"],
            name=t("trend.closed", ctx.lang),
            mode="lines+markers",
            line={"width": 3},
        )
    )
    figure_layout(fig, ctx)
    fig.update_layout(bargap=0.25)
    fig.update_xaxes(type="category", nticks=12)
    return fig


def trend_summary(totals: dict[str, Any], lang: str) -> str:
    """The period's totals in one line: reported, closed, 平均处置时长 with its units and n."""
    return t(
        "stats.summary",
        lang,
        reported=fmt_int(totals["reported"]),
        closed=fmt_int(totals["closed"]),
        handling=fmt_handling(
            totals["avg_handling_work_hours"], totals["avg_handling_hours"], lang
        ),
        n=t("appraisal.handling_n", lang, n=fmt_int(totals["handled"])),
    )


def render_stats_trend(data: dict[str, Any], ctx: PanelContext) -> Any:
    frame: pd.DataFrame = data["frame"]
    if frame.empty or not frame["reported"].sum():
        return message(t("panel.no_cases", ctx.lang))
    chart = graph(ctx, trend_figure(data, ctx))
    totals = data.get("summary")
    if not totals:
        return chart
    return html.Div(
        [
            html.Div(trend_summary(totals, ctx.lang), className="cc-stats-summary"),
            html.Div(chart, style={"flex": "1 1 0", "minHeight": 0}),
        ],
        style={"display": "flex", "flexDirection": "column", "height": "100%"},
    )


def class_figure(data: dict[str, Any], ctx: PanelContext) -> go.Figure:
    """Big classes inside, small classes outside; ids are ``kind:big`` / ``kind:code``."""
    frame: pd.DataFrame = data["frame"]
    names: dict[str, str] = data["names"]
    ids, labels, parents, values = [], [], [], []
    comp = t("kind.component_short", ctx.lang)
    for (kind, big), group in frame.groupby(["kind", "big_class_code"], sort=False):
        big_id = f"{kind}:{big}"
        name = names.get(big_id, str(big))
        ids.append(big_id)
        labels.append(plot_text(name if kind == "event" else f"{name}({comp})"))
        parents.append("")
        values.append(int(group["reported"].sum()))
        for code, n in zip(group["class_code"], group["reported"], strict=True):
            ids.append(f"{kind}:{code}")
            labels.append(plot_text(names.get(f"{kind}:{code}", str(code))))
            parents.append(big_id)
            values.append(int(n))
    trace_type = go.Treemap if ctx.options.chart == "treemap" else go.Sunburst
    fig = go.Figure(
        trace_type(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            textinfo="label+value",
            insidetextorientation="horizontal" if trace_type is go.Sunburst else None,
            maxdepth=2,
            sort=True,
        )
    )
    figure_layout(fig, ctx, legend=False)
    return fig


def render_stats_class(data: dict[str, Any], ctx: PanelContext) -> Any:
    if data["frame"].empty:
        return message(t("panel.no_cases", ctx.lang))
    return graph(ctx, class_figure(data, ctx))


def source_figure(data: dict[str, Any], ctx: PanelContext) -> go.Figure:
    frame: pd.DataFrame = data["frame"]
    keys = [str(k) for k in frame["source"]]
    labels = [plot_text(t(f"source.{k}", ctx.lang)) for k in keys]
    selected = data.get("selected")
    pal = ctx.theme == "dark" and "#3fa9ff" or "#1f6fd1"
    colours = [("#ffc542" if k == selected else pal) for k in keys]
    if ctx.options.chart == "pie":
        fig = go.Figure(
            go.Pie(
                labels=labels,
                values=frame["reported"],
                customdata=keys,
                hole=0.5,
                sort=False,
                textinfo="label+percent",
            )
        )
    else:
        fig = go.Figure(
            go.Bar(
                y=labels[::-1],
                x=list(frame["reported"])[::-1],
                customdata=keys[::-1],
                orientation="h",
                text=list(frame["reported"])[::-1],
                textposition="auto",
                marker={"color": colours[::-1]},
            )
        )
    figure_layout(fig, ctx, legend=False)
    return fig


def render_stats_source(data: dict[str, Any], ctx: PanelContext) -> Any:
    if data["frame"].empty:
        return message(t("panel.no_cases", ctx.lang))
    return graph(ctx, source_figure(data, ctx))


def region_figure(data: dict[str, Any], ctx: PanelContext) -> go.Figure:
    """A choropleth drawn as filled lon/lat polygons on plain axes: no map library, no tiles,
    no glyph or font requests (walls are air-gapped), and kaleido renders it the same."""
    import math

    from plotly.colors import sample_colorscale

    regions: list[Any] = data["regions"]
    values: dict[str, int] = data["values"]
    selected = data.get("selected")
    # light: pale to mid tones, so the dark labels stay readable on every region
    scale = (
        [[0, "#f1f6fc"], [0.5, "#9cc3ea"], [1, "#f0a14a"]]
        if ctx.theme == "light"
        else [[0, "#12305a"], [0.5, "#1f78c8"], [1, "#ffb020"]]
    )
    top = max(values.values(), default=0) or 1
    fig = go.Figure()
    pal_line = "#0b1a30" if ctx.theme == "dark" else "#6b7f99"
    for region in regions:
        value = values.get(region.code, 0)
        colour = sample_colorscale(scale, [value / top])[0]
        for ring in _outer_rings(region.geometry):
            fig.add_trace(
                go.Scatter(
                    x=[p[0] for p in ring],
                    y=[p[1] for p in ring],
                    mode="lines",
                    fill="toself",
                    fillcolor=colour,
                    line={
                        "color": "#ffd24d" if region.code == selected else pal_line,
                        "width": 4 if region.code == selected else 1,
                    },
                    hoverinfo="skip",
                    showlegend=False,
                )
            )
    size = font_px(ctx)
    fig.add_trace(
        go.Scatter(
            x=[r.centroid[0] for r in regions],
            y=[r.centroid[1] for r in regions],
            mode="markers+text" if len(regions) <= 40 else "markers",
            text=[f"{plot_text(r.name)}<br>{values.get(r.code, 0):,}" for r in regions],
            textfont={
                "size": size * (0.8 if len(regions) <= 20 else 0.6),
                "color": PALETTE[ctx.theme]["text"],
            },
            customdata=[r.code for r in regions],
            hovertemplate="%{text}<extra></extra>",
            marker={
                "size": size * 0.5,
                "opacity": 0.01,
                "color": [values.get(r.code, 0) for r in regions],
                "colorscale": scale,
                "cmin": 0,
                "cmax": top,
                "showscale": True,
                "colorbar": {"thickness": size * 0.5, "len": 0.6, "outlinewidth": 0},
            },
            showlegend=False,
        )
    )
    figure_layout(fig, ctx, legend=False)
    lat = sum(r.centroid[1] for r in regions) / max(len(regions), 1)
    fig.update_xaxes(visible=False, showgrid=False)
    fig.update_yaxes(
        visible=False,
        showgrid=False,
        scaleanchor="x",
        scaleratio=1 / max(math.cos(math.radians(lat)), 0.1),
    )
    # a click anywhere picks the nearest centroid: on contiguous regions, the one clicked
    fig.update_layout(dragmode=False, hovermode="closest", hoverdistance=-1)
    return fig


def _outer_rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry.get("type") == "MultiPolygon":
        return [poly[0] for poly in geometry["coordinates"]]
    return []


def render_stats_region(data: dict[str, Any], ctx: PanelContext) -> Any:
    if not data["regions"]:
        return message(t("panel.no_data", ctx.lang))
    return graph(ctx, region_figure(data, ctx))


def heatmap_figure(matrix: Any, ctx: PanelContext) -> go.Figure:
    days = WEEKDAYS.get(ctx.lang, WEEKDAYS["zh"])
    scale = "Blues" if ctx.theme == "light" else [[0, "#0e2240"], [0.5, "#1f78c8"], [1, "#ffb020"]]
    fig = go.Figure(
        go.Heatmap(
            z=matrix,
            x=[f"{h}" for h in range(24)],
            y=days,
            colorscale=scale,
            xgap=2,
            ygap=2,
            hovertemplate="%{y} %{x}:00 · %{z}<extra></extra>",
            colorbar={"thickness": font_px(ctx) * 0.5, "outlinewidth": 0},
        )
    )
    # ring the busiest hour of the week: the cell a duty roster is planned around
    day, hour = divmod(int(matrix.argmax()), 24)
    fig.add_trace(
        go.Scatter(
            x=[str(hour)],
            y=[days[day]],
            mode="markers",
            marker={
                "symbol": "square-open",
                "size": font_px(ctx) * 1.3,
                "color": PALETTE[ctx.theme]["text"],
                "line": {"width": 3},
            },
            hovertemplate=f"{t('stats.peak', ctx.lang)} · %{{y}} %{{x}}:00<extra></extra>",
            showlegend=False,
        )
    )
    figure_layout(fig, ctx, legend=False)
    fig.update_yaxes(autorange="reversed", showgrid=False)
    fig.update_xaxes(showgrid=False, type="category", title=t("stats.hour", ctx.lang))
    return fig


def render_stats_heatmap(data: dict[str, Any], ctx: PanelContext) -> Any:
    if not data["matrix"].sum():
        return message(t("panel.no_cases", ctx.lang))
    return graph(ctx, heatmap_figure(data["matrix"], ctx))


def render_stats_hotspots(data: dict[str, Any], ctx: PanelContext) -> Any:
    frame: pd.DataFrame = data["frame"]
    if frame.empty:
        return message(t("panel.no_cases", ctx.lang))
    names = data["names"]
    head = html.Tr(
        [
            html.Th(t("ranking.rank", ctx.lang), style={"width": "2.6em"}),
            html.Th(t("stats.grid", ctx.lang)),
            html.Th(t("stats.reported", ctx.lang), style={"width": "5em"}),
            html.Th(t("stats.open", ctx.lang), style={"width": "5em"}),
        ]
    )
    top = max(int(frame["reported"].max()), 1)
    rows = []
    for i, row in enumerate(frame.itertuples(), start=1):
        share = int(row.reported) / top * 100
        rows.append(
            html.Tr(
                [
                    html.Td(str(i), className="cc-rank"),
                    html.Td(
                        names.get(str(row.grid_code), str(row.grid_code)),
                        title=str(row.grid_code),
                        className="cc-bar-cell",
                        style={"--cc-bar": f"{share:.0f}%"},
                    ),
                    html.Td(fmt_int(int(row.reported))),
                    html.Td(fmt_int(int(row.open))),
                ]
            )
        )
    return html.Table([html.Thead(head), html.Tbody(rows)], className="cc-table cc-ranking")


def render_stats_recurring(data: dict[str, Any], ctx: PanelContext) -> Any:
    frame: pd.DataFrame = data["frame"]
    if frame.empty:
        return message(t("stats.no_recurring", ctx.lang, days=ctx.options.within_days))
    names, classes = data["names"], data["classes"]
    head = html.Tr(
        [
            html.Th(t("stats.grid", ctx.lang)),
            html.Th(t("stats.class", ctx.lang)),
            html.Th(t("stats.cases", ctx.lang), style={"width": "4em"}),
            html.Th(t("stats.repeats", ctx.lang), style={"width": "4em"}),
            html.Th(t("stats.last_day", ctx.lang), style={"width": "5.5em"}),
        ]
    )
    rows = [
        html.Tr(
            [
                html.Td(names.get(str(r.grid_code), str(r.grid_code)), title=str(r.grid_code)),
                html.Td(classes.get(f"{r.kind}:{r.class_code}", str(r.class_code))),
                html.Td(fmt_int(int(r.cases))),
                html.Td(fmt_int(int(r.repeats)), className="cc-alert-text"),
                html.Td(r.last_day.isoformat()[5:]),
            ]
        )
        for r in frame.itertuples()
    ]
    return html.Table([html.Thead(head), html.Tbody(rows)], className="cc-table")


def build_stats_filter(ctx: PanelContext) -> html.Div:
    """The console's period picker and filter bar (walls have no such panel: fixed periods)."""
    from dash import dcc

    from command_center.domain.calendar import local_now

    opts: StatsFilterOptions = ctx.options
    grains = ["day", "week", "month", "quarter", "year"]
    controls = html.Div(
        className="cc-stats-controls",
        children=[
            html.Span(t("stats.period", ctx.lang), className="cc-stats-label"),
            dcc.Dropdown(
                id=ctx.id("grain"),
                options=[{"label": t(f"stats.grain.{g}", ctx.lang), "value": g} for g in grains],
                value=opts.grain,
                clearable=False,
                searchable=False,
                className="cc-stats-grain",
            ),
            dcc.DatePickerSingle(
                id=ctx.id("date"),
                date=local_now().date().isoformat(),
                display_format="YYYY-MM-DD",
                first_day_of_week=1,
                className="cc-stats-date",
            ),
            html.Div(id=ctx.id("body"), className="cc-stats-chips"),
            html.Button(
                t("stats.clear", ctx.lang), id=ctx.id("clear"), className="cc-button", n_clicks=0
            ),
            html.Span(id=ctx.id("stale"), className="cc-stale"),
        ],
    )
    return html.Div(
        className="cc-panel cc-kind-stats_filter",
        children=[
            html.Div(controls, className="cc-panel-body"),
            dcc.Interval(id=ctx.id("tick"), interval=ctx.extra.get("refresh_ms", 5000)),
        ],
    )
