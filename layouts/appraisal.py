"""监督考核 supervision/appraisal: ranking tables with red/amber/green against targets."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import pandas as pd
from dash import html

from command_center.domain.indicators import rag
from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.common import (
    RAG_COLOURS,
    fmt_handling,
    fmt_int,
    fmt_pct,
    message,
    month_day_time,
    table,
)


class RankingOptions(PanelOptions):
    level: Literal["street", "community", "department"] = "street"
    days: int = 30
    top: int = 10
    target: float = 0.9  # 按期结案率 target; a city sets its own


def render_ranking(frame: pd.DataFrame, ctx: PanelContext) -> html.Div:
    opts: RankingOptions = ctx.options
    if frame.empty:
        return message(t("panel.no_cases", ctx.lang))
    rows = []
    for row in frame.head(opts.top).itertuples():
        rate = None if pd.isna(row.on_time_closure_rate) else float(row.on_time_closure_rate)
        colour = RAG_COLOURS[rag(rate, opts.target) if rate is not None else None]
        rank = getattr(row, "rank", None)
        rows.append(
            html.Tr(
                [
                    html.Td(
                        "—" if rank is None or pd.isna(rank) else str(int(rank)),
                        className="cc-rank",
                    ),  # fmt: skip
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
    header = [
        "ranking.rank",
        f"ranking.{opts.level}",
        "ranking.dispatched",
        "ranking.closure_rate",
        "ranking.on_time_closure_rate",
        "ranking.overdue_open",
    ]
    min_cases = frame.attrs.get("min_cases")
    note = (
        html.Div(t("ranking.unranked_note", ctx.lang, n=min_cases), className="cc-footnote")
        if min_cases
        else None
    )
    return html.Div([table(header, rows, ctx.lang, "cc-table cc-ranking"), note])


# ---------------------------------------------------------------------------------------
# 监督考核 screen panels: the full ranking (score, indicators, RAG, change since the previous
# period; a click on a row drills to that unit's overdue cases) and the drill list.
# ---------------------------------------------------------------------------------------

PeriodOption = Literal["today", "last7", "last30", "week", "month", "quarter", "year"]
RATE_COLUMNS = ("on_time_disposal_rate", "on_time_closure_rate", "rework_rate", "extension_rate",
                "satisfaction_rate")  # fmt: skip
#: a ranking column that is no rate: 平均处置时长, "working h / h" (the header names the units)
HANDLING_COLUMN = "avg_handling"
DEFAULT_COLUMNS = (*RATE_COLUMNS, HANDLING_COLUMN)


class AppraisalRankingOptions(PanelOptions):
    level: Literal["department", "street", "community", "grid"] = "department"
    period: PeriodOption = "month"
    follow_picker: bool = True
    top: int = 15
    columns: list[str] = list(DEFAULT_COLUMNS)


class AppraisalOverdueOptions(PanelOptions):
    limit: int = 12
    level: Literal["department", "street", "community", "grid"] = "department"
    period: PeriodOption = "month"
    follow_picker: bool = True


class AppraisalSummaryOptions(PanelOptions):
    period: PeriodOption = "month"
    follow_picker: bool = True


def _change(value: float | None, *, pct: bool, lower_better: bool = False) -> html.Span:
    if value is None or abs(value) < 1e-9:
        return html.Span("=" if value is not None else "", className="cc-delta flat")
    good = (value < 0) if lower_better else (value > 0)
    arrow = "▲" if value > 0 else "▼"
    shown = f"{abs(value) * 100:.1f}" if pct else f"{abs(value):.1f}"
    return html.Span(f"{arrow}{shown}", className=f"cc-delta {'good' if good else 'bad'}")


def render_appraisal_ranking(data: dict[str, Any], ctx: PanelContext) -> Any:
    """Rank, unit, score with its change, the chosen rates coloured against their targets,
    超期未处置数; each row is a button opening the unit's overdue cases."""
    from command_center.appraisal import lower_is_better

    units = data["units"]
    opts: AppraisalRankingOptions = ctx.options
    if not units:
        return message(t("panel.no_cases", ctx.lang))
    head = html.Tr(
        [
            html.Th(t("ranking.rank", ctx.lang), style={"width": "3.2em"}),
            html.Th(t(f"appraisal.level.{opts.level}", ctx.lang)),
            html.Th(t("appraisal.dispatched", ctx.lang), style={"width": "4.2em"}),
            html.Th(t("appraisal.score", ctx.lang), style={"width": "6.5em"}),
            *(
                html.Th(
                    [
                        t("appraisal.avg_handling", ctx.lang),
                        html.Br(),
                        html.Span(t("appraisal.handling_units", ctx.lang), className="cc-th-unit"),
                    ],
                    style={"width": "7em"},
                )
                if c == HANDLING_COLUMN
                else html.Th(t(f"appraisal.{c}", ctx.lang), style={"width": "6.5em"})
                for c in opts.columns
            ),
            html.Th(t("ranking.overdue_open", ctx.lang), style={"width": "4.8em"}),
        ]
    )
    selected = data.get("selected")
    rows = []
    for unit in units[: opts.top]:
        rank_change = unit.rank_change
        moved = (
            html.Span(
                ("↑" if rank_change > 0 else "↓") + str(abs(rank_change)),
                className=f"cc-delta {'good' if rank_change > 0 else 'bad'}",
            )
            if rank_change
            else None
        )
        cells = [
            html.Td([str(unit.rank) if unit.rank else "—", moved], className="cc-rank"),
            html.Td(unit.name, className="cc-rank-name", title=unit.code),
            html.Td(fmt_int(unit.counts["dispatched"])),
            html.Td(
                [
                    html.Span(
                        "—" if unit.score is None else f"{unit.score:.1f}",
                        style={"color": RAG_COLOURS[unit.rag.get("score")]},
                        className="cc-rank-rate",
                    ),
                    " ",
                    _change(unit.score_change, pct=False),
                ]
            ),
        ]
        for column in opts.columns:
            if column == HANDLING_COLUMN:
                cells.append(html.Td(_handling(unit.rates, ctx.lang), className="cc-handling"))
                continue
            value = unit.rates.get(column)
            cells.append(
                html.Td(
                    [
                        html.Span(
                            fmt_pct(value),
                            style={"color": RAG_COLOURS[unit.rag.get(column)]},
                            className="cc-rank-rate",
                        ),
                        " ",
                        _change(
                            unit.change(column), pct=True, lower_better=lower_is_better(column)
                        ),
                    ]
                )
            )
        overdue = unit.counts["overdue_open"]
        cells.append(html.Td(fmt_int(overdue), className="cc-alert-text" if overdue else ""))
        rows.append(
            html.Tr(
                cells,
                id={
                    "role": "drill",
                    "kind": ctx.kind,
                    "pid": ctx.pid,
                    "code": unit.code,
                    "level": opts.level,
                },
                n_clicks=0,
                className="cc-drill-row" + (" selected" if unit.code == selected else ""),
                title=t("appraisal.drill_hint", ctx.lang),
            )
        )
    foot = html.Div(
        t(
            "appraisal.footnote",
            ctx.lang,
            period=data["period_label"],
            previous=data["previous_label"],
        ),
        className="cc-footnote",
    )
    config = units[0].config
    formula = html.Div(
        t(
            "appraisal.formula",
            ctx.lang,
            formula=score_formula(config.weights, ctx.lang),
            n=config.min_dispatched,
        ),
        className="cc-footnote cc-score-formula",
    )
    handling_note = (
        html.Div(t("appraisal.handling_note", ctx.lang), className="cc-footnote")
        if HANDLING_COLUMN in opts.columns
        else None
    )
    return html.Div(
        [
            html.Table([html.Thead(head), html.Tbody(rows)], className="cc-table cc-ranking"),
            formula,
            handling_note,
            foot,
        ],
        className="cc-appraisal",
    )


def _handling(rates: Mapping[str, float | None], lang: str) -> str:
    return fmt_handling(
        rates.get("avg_handling_work_hours"), rates.get("avg_handling_hours"), lang, short=True
    )


def _handling_tile(rates: Mapping[str, float | None], lang: str) -> Any:
    """平均处置时长 on two lines, each figure with its unit: 工作时 above, wall-clock below."""
    work, wall = rates.get("avg_handling_work_hours"), rates.get("avg_handling_hours")
    if work is None or wall is None:
        return "—"
    return html.Span(
        [
            html.Span(t("appraisal.work_hours", lang, h=f"{work:.1f}")),
            html.Br(),
            html.Span(t("appraisal.wall_hours", lang, h=f"{wall:.1f}"), className="cc-kpi-sub"),
        ]
    )


def score_formula(weights: Mapping[str, float], lang: str) -> str:
    """The composite score as the city configured it, e.g. 处置率×30 + (1−返工率)×20."""
    from command_center.appraisal import lower_is_better

    terms = []
    for key, weight in weights.items():
        name = t(f"appraisal.{key}", lang)
        terms.append(f"(1−{name})×{weight:g}" if lower_is_better(key) else f"{name}×{weight:g}")
    return " + ".join(terms)


def render_appraisal_overdue(data: dict[str, Any], ctx: PanelContext) -> Any:
    """The drill: the chosen unit's overdue cases, oldest deadline first."""
    if data.get("unit") is None:
        return message(t("appraisal.pick_unit", ctx.lang))
    cases = data["cases"]
    title = html.Div(
        t("appraisal.overdue_of", ctx.lang, name=data["unit_name"], n=len(cases)),
        className="cc-drill-title",
    )
    if not cases:
        return html.Div([title, message(t("appraisal.none_overdue", ctx.lang))])
    head = html.Tr(
        [
            html.Th(t("cases.number", ctx.lang)),
            html.Th(t("cases.class", ctx.lang)),
            html.Th(t("cases.place", ctx.lang)),
            html.Th(t("cases.deadline", ctx.lang)),
            html.Th(t("appraisal.overdue_by", ctx.lang)),
        ]
    )
    now = data["now"]
    rows = []
    for case in cases[: ctx.options.limit]:
        late = now - case.deadline if case.deadline else None
        rows.append(
            html.Tr(
                [
                    html.Td(case.number, className="cc-case-number"),
                    html.Td(case.class_name),
                    html.Td(case.address or case.grid_code, className="cc-case-place"),
                    html.Td(month_day_time(case.deadline) if case.deadline else "—"),
                    html.Td(_duration(late, ctx.lang), className="cc-alert-text"),
                ],
                **{"data-case-id": str(case.id)},  # a click opens the case drawer
            )
        )
    return html.Div([title, html.Table([html.Thead(head), html.Tbody(rows)], className="cc-table")])


def _duration(delta: Any, lang: str) -> str:
    if delta is None:
        return "—"
    hours = int(delta.total_seconds() // 3600)
    if hours >= 24:
        return t("appraisal.days_hours", lang, d=hours // 24, h=hours % 24)
    return t("appraisal.hours", lang, h=max(hours, 0))


def render_appraisal_summary(data: dict[str, Any], ctx: PanelContext) -> Any:
    """The period's headline indicators for the whole city (or the chosen region)."""
    counts, rates, sup = data["counts"], data["rates"], data["supervisor"]
    tiles = [
        ("appraisal.registered", fmt_int(counts["registered"]), None),
        ("appraisal.disposal_rate", fmt_pct(rates["disposal_rate"]), "disposal_rate"),
        (
            "appraisal.on_time_disposal_rate",
            fmt_pct(rates["on_time_disposal_rate"]),
            "on_time_disposal_rate",
        ),
        ("appraisal.closure_rate", fmt_pct(rates["closure_rate"]), "closure_rate"),
        (
            "appraisal.on_time_closure_rate",
            fmt_pct(rates["on_time_closure_rate"]),
            "on_time_closure_rate",
        ),
        ("appraisal.rework_rate", fmt_pct(rates["rework_rate"]), "rework_rate"),
        ("appraisal.extension_rate", fmt_pct(rates["extension_rate"]), "extension_rate"),
        ("ranking.overdue_open", fmt_int(counts["overdue_open"]), None),
        ("appraisal.avg_handling", _handling_tile(rates, ctx.lang), None),
        ("appraisal.valid_report_rate", fmt_pct(sup["valid_report_rate"]), "valid_report_rate"),
        *(
            (f"appraisal.{key}", fmt_pct(rates[key]), key)
            for key in (
                "on_time_accept_rate",
                "on_time_register_rate",
                "on_time_dispatch_rate",
                "on_time_verify_rate",
                "satisfaction_rate",
            )
        ),
    ]
    grades = data["grades"]
    return html.Div(
        [
            html.Div(
                [
                    html.Div(t(label, ctx.lang), className="cc-kpi-label"),
                    html.Div(
                        shown,
                        className="cc-kpi-value"
                        + ("" if shown != "—" else " cc-kpi-na")
                        + (" cc-kpi-handling" if label == "appraisal.avg_handling" else ""),
                        title=t("appraisal.not_in_data", ctx.lang) if shown == "—" else None,
                        style={"color": RAG_COLOURS[grades.get(key)]} if key else None,
                    ),
                ],
                className="cc-kpi",
            )
            for label, shown, key in tiles
        ],
        className="cc-kpi-grid cc-appraisal-summary",
        style={"gridTemplateColumns": "repeat(8, 1fr)"},
    )
