"""业务协同 collaboration: the workflow board and case lists."""

from __future__ import annotations

from typing import Literal

from dash import html

from adapters.case.contract import Case, SlaState
from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.common import fmt_int, message, month_day_time, table

# The board's columns, in the order of the standard's stages, with the statuses in each.
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("accept", ("reported", "confirming", "accepted")),  # 待核实 is part of 受理
    ("register", ("registered",)),
    ("dispatch", ("dispatched",)),
    ("handle", ("handled",)),
    ("verify", ("verified",)),
    ("close", ("closed_today",)),
]


class BoardOptions(PanelOptions):
    pass


def render_board(counts: dict[str, int], ctx: PanelContext) -> html.Div:
    cells = []
    for stage, statuses in STAGES:
        n = sum(counts.get(s, 0) for s in statuses)
        cells.append(
            html.Div(
                className=f"cc-stage cc-stage-{stage}",
                children=[
                    html.Div(t(f"stage.{stage}", ctx.lang), className="cc-stage-label"),
                    html.Div(fmt_int(n), className="cc-stage-value"),
                ],
            )
        )
    return html.Div(cells, className="cc-board")


class CaseListOptions(PanelOptions):
    show: Literal["latest", "overdue", "due_soon", "open"] = "latest"
    limit: int = 15


SLA_CLASS = {
    SlaState.OVERDUE: "overdue",
    SlaState.DUE_SOON: "due-soon",
    SlaState.ON_TIME: "on-time",
}


def render_case_list(cases: list[Case], ctx: PanelContext) -> html.Div:
    if not cases:
        return message(t("cases.none", ctx.lang))
    rows = []
    for case in cases:
        sla = SLA_CLASS.get(case.sla_state, "") if case.sla_state else ""
        rows.append(
            html.Tr(
                className=f"cc-case-row {sla}",
                **{"data-case-id": str(case.id)},  # a click opens the case drawer
                children=[
                    html.Td(case.number, className="cc-case-number"),
                    html.Td(case.class_name),
                    html.Td(case.address or case.grid_code, className="cc-case-place"),
                    html.Td(t(f"status.{case.status}", ctx.lang)),
                    html.Td(
                        month_day_time(case.deadline) if case.deadline else "—",
                        className=f"cc-sla {sla}",
                    ),
                ],
            )
        )
    header = ["cases.number", "cases.class", "cases.place", "cases.status", "cases.deadline"]
    return table(header, rows, ctx.lang, "cc-table cc-case-list")
