"""The case queue (案件队列) of the duty console: open cases waiting at each step
(待受理 [待核实] 待立案 待派遣 处置中 待核查 待结案), filtered and sorted, each with a ticking SLA
clock. 待核实 is a tab only where the city runs 核实 as a stage (or cases still wait there).

``build_queue`` is the static frame (step tabs, filters, body, timer); ``render_queue`` the
body for one step. A row carries ``data-case-id``: clicking it opens the case drawer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from dash import dcc, html

from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.case_drawer import sla_clock_span
from layouts.common import json_id, month_day_time, panel_frame

STEPS = ("accept", "confirm", "register", "dispatch", "handle", "verify", "close")
#: the steps every console has; 待核实 ("confirm") is added when the queue holds it
ALWAYS = tuple(s for s in STEPS if s != "confirm")


class QueueOptions(PanelOptions):
    step: Literal["accept", "confirm", "register", "dispatch", "handle", "verify", "close"] = (
        "handle"
    )
    rows: int = 200  # rows rendered per step (the count says how many wait in all)
    new_minutes: float = 5.0  # a case reported this recently is marked new


def build_queue(ctx: PanelContext) -> html.Div:
    opts: QueueOptions = ctx.options
    lang = ctx.lang
    tabs = dcc.RadioItems(
        id=ctx.id("step"),
        options=[{"label": t(f"duty.step.{s}", lang), "value": s} for s in ALWAYS],
        value=opts.step,
        className="cc-q-tabs",
        inputClassName="cc-q-tab-input",
        labelClassName="cc-q-tab",
    )

    def dropdown(role: str, placeholder: str, multi: bool = False) -> dcc.Dropdown:
        return dcc.Dropdown(
            id=ctx.id(role),
            options=[],
            multi=multi,
            placeholder=t(placeholder, lang),
            className=f"cc-q-filter cc-q-{role}",
            clearable=True,
        )

    filters = html.Div(
        className="cc-q-filters",
        children=[
            dropdown("class", "duty.filter.class", multi=True),
            dropdown("source", "duty.filter.source", multi=True),
            dropdown("street", "duty.filter.street"),
            html.Div(
                dropdown("dept", "duty.filter.department"),
                className="cc-q-dept-wrap",
                **{"data-queue-dept-id": json_id(ctx.id("dept"))},
            ),
            dcc.Dropdown(
                id=ctx.id("level"),
                options=[
                    {"label": t("duty.level.overdue", lang), "value": "overdue"},
                    {"label": t("duty.level.due_soon", lang), "value": "due_soon"},
                    {"label": t("duty.level.urgent", lang), "value": "urgent"},
                ],
                placeholder=t("duty.filter.level", lang),
                className="cc-q-filter cc-q-level",
            ),
            dcc.Dropdown(
                id=ctx.id("sort"),
                options=[
                    {"label": t("duty.sort.deadline", lang), "value": "deadline"},
                    {"label": t("duty.sort.newest", lang), "value": "newest"},
                    {"label": t("duty.sort.oldest", lang), "value": "oldest"},
                    {"label": t("duty.sort.class", lang), "value": "class"},
                ],
                value="deadline",
                clearable=False,
                className="cc-q-filter cc-q-sort",
            ),
        ],
    )
    body = html.Div(
        id=ctx.id("body"),
        className="cc-panel-body cc-q-body",
        children=html.Div(t("panel.loading", lang), className="cc-loading"),
    )
    frame = panel_frame(ctx, None)
    frame.children[1] = html.Div(
        className="cc-q",
        children=[tabs, filters, body],
        style={"display": "flex", "flexDirection": "column", "flex": "1 1 auto", "minHeight": 0},
    )
    return html.Div(
        className="cc-panel-wrap",
        children=[
            frame,
            dcc.Interval(id=ctx.id("tick"), interval=ctx.extra.get("refresh_ms", 3000)),
        ],
    )


def tab_labels(counts: dict[str, int], overdue: dict[str, int], lang: str) -> list[dict[str, Any]]:
    """Step tabs with how many wait in each (and how many of them are overdue); 待核实 only
    when ``counts`` has it (the queue holds that step)."""
    out = []
    for s in STEPS:
        if s not in ALWAYS and s not in counts:
            continue
        label: list[Any] = [
            html.Span(t(f"duty.step.{s}", lang)),
            html.Span(f"{counts.get(s, 0):,}", className="cc-q-count"),
        ]
        if overdue.get(s):
            label.append(html.Span(f"{overdue[s]:,}", className="cc-q-count overdue"))
        out.append({"label": html.Span(label), "value": s})
    return out


def short_number(number: str) -> str:
    """110101-20261115-0017 → 1115-0017: the day and sequence tell cases apart on a console."""
    parts = number.split("-")
    if len(parts) == 3 and len(parts[1]) == 8:
        return f"{parts[1][4:]}-{parts[2]}"
    return number


def render_queue(
    items: list[Any], total: int, ctx: PanelContext, now: datetime, new_minutes: float
) -> Any:
    lang = ctx.lang
    if not items:
        return html.Div(t("duty.queue_empty", lang), className="cc-message cc-message-info")
    head = html.Tr(
        [
            html.Th(t("cases.number", lang)),
            html.Th(t("cases.class", lang)),
            html.Th(t("cases.place", lang)),
            html.Th(t("duty.col.source", lang)),
            html.Th(t("duty.col.department", lang)),
            html.Th(t("duty.col.sla", lang)),
        ]
    )
    rows = []
    for item in items:
        case = item.case
        new = (now - case.reported_at).total_seconds() < new_minutes * 60
        sla = item.clock.state if item.clock else None
        cls = "cc-case-row" + (f" {str(sla).replace('_', '-')}" if sla else "")
        cls += " cc-q-new" if new else ""
        rows.append(
            html.Tr(
                className=cls,
                **{"data-case-id": str(case.id)},
                children=[
                    html.Td(
                        [
                            html.Span(
                                short_number(case.number),
                                className="cc-case-number",
                                title=case.number,
                            ),
                            html.Span(t("drawer.urgent", lang), className="cc-urgent-pill")
                            if case.urgent
                            else None,
                        ]
                    ),
                    html.Td(case.class_name),
                    html.Td(case.address or case.grid_code, className="cc-case-place"),
                    html.Td(t(f"source.{case.source}", lang)),
                    html.Td(item.department_name or "—"),
                    html.Td(
                        sla_clock_span(item.clock, lang)
                        if item.clock
                        else html.Span(month_day_time(case.reported_at), className="cc-muted")
                    ),
                ],
            )
        )
    foot = (
        html.Div(t("duty.showing", lang, shown=len(items), total=total), className="cc-q-more")
        if total > len(items)
        else None
    )
    return html.Div(
        [html.Table([html.Thead(head), html.Tbody(rows)], className="cc-table cc-q-table"), foot]
    )
