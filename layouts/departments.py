"""The department board (部门工作量): workload per department and today's funnel.

A row carries ``data-department``: clicking it filters the case queue on the same page by
that department (assets/cc_duty.js).
"""

from __future__ import annotations

from typing import Any

from dash import html

from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.common import fmt_handling, fmt_int, message

FUNNEL = ("reported", "registered", "dispatched", "closed")


class DepartmentBoardOptions(PanelOptions):
    top: int = 12


def build_departments(ctx: PanelContext) -> Any:
    """The refreshed frame; callbacks/case_queue.py fills it from the collaboration service."""
    from layouts.common import refreshed_frame

    return refreshed_frame(ctx, ctx.extra.get("refresh_ms", 5000))


def render_departments(board: dict[str, Any], ctx: PanelContext) -> html.Div:
    lang = ctx.lang
    funnel = board.get("funnel", {})
    top = max(funnel.get("reported", 0), 1)
    bars = [
        html.Div(
            className="cc-funnel-step",
            children=[
                html.Span(t(f"duty.funnel.{k}", lang), className="cc-funnel-label"),
                html.Div(
                    html.Div(
                        className=f"cc-funnel-fill cc-funnel-{k}",
                        style={"width": f"{100 * funnel.get(k, 0) / top:.0f}%"},
                    ),
                    className="cc-funnel-bar",
                ),
                html.Span(fmt_int(funnel.get(k, 0)), className="cc-funnel-value"),
            ],
        )
        for k in FUNNEL
    ]
    rows = board.get("departments", [])[: ctx.options.top]
    if not rows:
        table: Any = message(t("duty.no_departments", lang))
    else:
        table = html.Table(
            [
                html.Thead(
                    html.Tr(
                        [
                            html.Th(t("duty.col.department", lang)),
                            html.Th(t("duty.dep.open", lang)),
                            html.Th(t("duty.dep.due_soon", lang)),
                            html.Th(t("duty.dep.overdue", lang)),
                            html.Th(t("duty.dep.avg_handling", lang)),
                        ]
                    )
                ),
                html.Tbody(
                    [
                        html.Tr(
                            className="cc-dep-row",
                            title=t("duty.dep.click", lang),
                            **{"data-department": r["code"]},
                            children=[
                                html.Td(r["name"], className="cc-dep-name"),
                                html.Td(fmt_int(r["open"])),
                                html.Td(
                                    fmt_int(r["due_soon"]),
                                    className="due-soon" if r["due_soon"] else "",
                                ),
                                html.Td(
                                    fmt_int(r["overdue"]),
                                    className="overdue" if r["overdue"] else "",
                                ),
                                html.Td(
                                    fmt_handling(
                                        r.get("avg_work_hours"),
                                        r.get("avg_hours"),
                                        lang,
                                        short=True,
                                    ),
                                    className="cc-dep-handling",
                                ),
                            ],
                        )
                        for r in rows
                    ]
                ),
            ],
            className="cc-table cc-dep-table",
        )
    return html.Div(
        [
            html.Div(
                [html.Div(t("duty.funnel.title", lang), className="cc-funnel-title"), *bars],
                className="cc-funnel",
            ),
            table,
        ],
        className="cc-dep-board",
    )
