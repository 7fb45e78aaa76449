"""Pieces every panel layout shares: the panel frame, chart styling, numbers."""

from __future__ import annotations

import html as _html
from datetime import date, datetime
from typing import Any

import plotly.graph_objects as go
from dash import dcc, html

from command_center.domain.calendar import local_now
from command_center.i18n import t
from command_center.screens.registry import PanelContext

# Fonts the wall and exports render CJK with; the first one installed wins.
FONT_FAMILY = (
    '"CC Sans SC", "Noto Sans CJK SC", "Noto Sans SC", "Source Han Sans SC", "Microsoft YaHei", '
    '"PingFang SC", "WenQuanYi Micro Hei", sans-serif'
)

PALETTE = {
    "dark": {
        "text": "#e6f1ff",
        "muted": "#8fa8c8",
        "grid": "rgba(120,160,220,0.18)",
        "series": ["#3fa9ff", "#35e0b0", "#ffc542", "#ff6b6b", "#b38cff", "#4dd0e1", "#ff9f43"],
    },
    "light": {
        "text": "#1b2a41",
        "muted": "#5a6b85",
        "grid": "rgba(30,60,110,0.12)",
        "series": ["#1f6fd1", "#13a57a", "#d99100", "#d64545", "#7a4fd1", "#0097a7", "#e0782b"],
    },
}

RAG_COLOURS = {"green": "#2ecc71", "amber": "#f5b041", "red": "#ff5b5b", None: "#8fa8c8"}


def month_day_time(at: datetime, today: date | None = None) -> str:
    """``MM-DD HH:MM`` of a time in this (the city's) year, ``YYYY-MM-DD HH:MM`` otherwise:
    a case reported a year ago must not read like one of this year."""
    year = (today or local_now().date()).year
    return f"{at:%m-%d %H:%M}" if at.year == year else f"{at:%Y-%m-%d %H:%M}"


def panel_frame(ctx: PanelContext, body: Any, *, font_scale: float = 1.0) -> html.Div:
    """The panel chrome: a title bar with a stale mark, and the body the refresh fills."""
    return html.Div(
        className=f"cc-panel cc-kind-{ctx.kind}",
        style={"--cc-panel-font": font_scale},
        children=[
            html.Div(
                className="cc-panel-head",
                children=[
                    html.Span(ctx.title, className="cc-panel-title"),
                    html.Span(id=ctx.id("stale"), className="cc-stale"),
                ],
            ),
            html.Div(id=ctx.id("body"), className="cc-panel-body", children=body),
        ],
    )


def refreshed_frame(ctx: PanelContext, refresh_ms: int) -> html.Div:
    """A frame whose body is filled by the generic refresh callback on its own timer."""
    return html.Div(
        className="cc-panel-wrap",
        children=[
            panel_frame(ctx, html.Div(t("panel.loading", ctx.lang), className="cc-loading")),
            dcc.Interval(id=ctx.id("tick"), interval=refresh_ms, n_intervals=0),
        ],
    )


def stale_mark(stale: bool, fetched_at: Any, lang: str, error: str = "") -> Any:
    if not stale:
        return ""
    return html.Span(
        t("panel.stale_since", lang, time=fetched_at.strftime("%H:%M:%S")),
        title=error,
        className="cc-stale-on",
    )


def table(header_keys: list[str], rows: list[Any], lang: str, class_name: str) -> html.Table:
    """A panel table whose header cells are the catalogue's texts for ``header_keys``."""
    head = html.Tr([html.Th(t(key, lang)) for key in header_keys])
    return html.Table([html.Thead(head), html.Tbody(rows)], className=class_name)


def json_id(value: dict[str, str]) -> str:
    """A component id as the browser's scripts give it back to ``dash_clientside.set_props``."""
    import json

    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def message(text: str, kind: str = "info") -> html.Div:
    return html.Div(text, className=f"cc-message cc-message-{kind}")


def font_px(ctx: PanelContext) -> float:
    """The panel's base font size in design pixels (the canvas scales it to the wall)."""
    return float(ctx.extra.get("font_px", 18))


def plot_text(value: Any) -> str:
    """Text from data (a region's, department's or class's name) for a Plotly label, tick,
    hover or title. Plotly renders a subset of HTML there (``<b>``, ``<a href>``, ``<br>``…),
    so ``&``, ``<`` and ``>`` are escaped: the name shows as written, never as markup."""
    return _html.escape(str(value), quote=False)


def figure_layout(fig: go.Figure, ctx: PanelContext, *, legend: bool = True) -> go.Figure:
    """Dark or light chart styling readable from across a hall, with CJK fonts."""
    theme = ctx.theme
    pal = PALETTE[theme]
    size = font_px(ctx)
    fig.update_layout(
        template="plotly_dark" if theme == "dark" else "plotly_white",
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"family": FONT_FAMILY, "color": pal["text"], "size": size * 0.8},
        margin={"l": size * 0.4, "r": size * 0.4, "t": size * 0.4, "b": size * 0.4},
        colorway=pal["series"],
        showlegend=legend,
        legend={
            "orientation": "h",
            "y": 1.02,
            "x": 0,
            "yanchor": "bottom",
            "bgcolor": "rgba(0,0,0,0)",
        },
        uirevision="keep",  # keep zoom/hover state across refreshes: no visual jump
    )
    fig.update_xaxes(gridcolor=pal["grid"], zeroline=False, automargin=True)
    fig.update_yaxes(gridcolor=pal["grid"], zeroline=False, automargin=True)
    return fig


def graph(ctx: PanelContext, fig: go.Figure) -> dcc.Graph:
    """A chart filling its panel. Same id on every refresh, so Plotly updates in place."""
    return dcc.Graph(
        id=ctx.id("graph"),
        figure=fig,
        config={"displayModeBar": False, "responsive": True},
        className="cc-graph",
        style={"height": "100%", "width": "100%"},
    )


def fmt_int(value: int | None) -> str:
    return "—" if value is None else f"{value:,}"


def fmt_pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def fmt_handling(
    work_hours: float | None, hours: float | None, lang: str, *, short: bool = False
) -> str:
    """平均处置时长 with both its units, "12.3 工作时 / 30.5 小时" (``short``: "12.3 / 30.5",
    for a column whose header names the units); "—" when no case was reported back."""
    if work_hours is None or hours is None:
        return "—"
    key = "appraisal.handling_pair" if short else "appraisal.handling_value"
    return t(key, lang, work=f"{work_hours:.1f}", wall=f"{hours:.1f}")
