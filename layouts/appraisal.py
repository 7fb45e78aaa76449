"""监督考核 supervision/appraisal: ranking tables with red/amber/green against targets."""

from __future__ import annotations

from typing import Literal

import pandas as pd
from dash import html

from command_center.domain.indicators import rag
from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.common import RAG_COLOURS, fmt_int, fmt_pct, message


class RankingOptions(PanelOptions):
    level: Literal["street", "community", "department"] = "street"
    days: int = 30
    top: int = 10
    target: float = 0.9  # 按期结案率 target; a city sets its own


def render_ranking(frame: pd.DataFrame, ctx: PanelContext) -> html.Div:
    opts: RankingOptions = ctx.options
    if frame.empty:
        return message(t("panel.no_cases", ctx.lang))
    head = html.Tr(
        [
            html.Th(t("ranking.rank", ctx.lang)),
            html.Th(t(f"ranking.{opts.level}", ctx.lang)),
            html.Th(t("ranking.dispatched", ctx.lang)),
            html.Th(t("ranking.closure_rate", ctx.lang)),
            html.Th(t("ranking.on_time_closure_rate", ctx.lang)),
            html.Th(t("ranking.overdue_open", ctx.lang)),
        ]
    )
    rows = []
    for i, row in enumerate(frame.head(opts.top).itertuples(), start=1):
        rate = None if pd.isna(row.on_time_closure_rate) else float(row.on_time_closure_rate)
        colour = RAG_COLOURS[rag(rate, opts.target) if rate is not None else None]
        rows.append(
            html.Tr(
                [
                    html.Td(str(i), className="cc-rank"),
                    html.Td(row.name, className="cc-rank-name"),
                    html.Td(fmt_int(int(row.dispatched))),
                    html.Td(
                        fmt_pct(None if pd.isna(row.closure_rate) else float(row.closure_rate))
                    ),
                    html.Td(fmt_pct(rate), style={"color": colour}, className="cc-rank-rate"),
                    html.Td(
                        fmt_int(int(row.overdue_open)),
                        className="cc-alert-text" if row.overdue_open else "",
                    ),
                ]
            )
        )
    return html.Table([html.Thead(head), html.Tbody(rows)], className="cc-table cc-ranking")
