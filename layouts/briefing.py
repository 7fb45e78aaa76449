"""The daily briefing document (HTML for print, A4/A3 landscape) and the briefing screen's
export panel. Pure: data in, figures / markup / components out."""

from __future__ import annotations

import html as _html
from datetime import date
from typing import Any, Literal

import plotly.graph_objects as go
from dash import dcc, html

from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.common import FONT_FAMILY, fmt_handling, fmt_int, fmt_pct, month_day_time
from layouts.statistics import (
    StatsRegionOptions,
    StatsSourceOptions,
    region_figure,
    source_figure,
    trend_figure,
)

# Print colours: RAG readable on white paper, and in greyscale by its symbol too.
PRINT_RAG = {"green": "#138a4b", "amber": "#b86e00", "red": "#c62828", None: "#555555"}
RAG_MARK = {"green": "●", "amber": "▲", "red": "■", None: ""}


def _ctx(kind: str, options: Any, font_px: float, lang: str) -> PanelContext:
    return PanelContext(
        screen_id="briefing-print",
        panel_id=kind,
        kind=kind,
        options=options,
        lang=lang,
        theme="light",
        extra={"font_px": font_px},
    )


def briefing_figures(data: Any, paper: str, lang: str) -> dict[str, tuple[go.Figure, int, int]]:
    """Each chart with its size in CSS pixels on the page (A3 scales everything by √2)."""
    k = 1.414 if paper == "A3" else 1.0
    font = 15 * k
    trend = trend_figure(
        {"frame": data.trend, "grain": "day"}, _ctx("stats_trend", None, font, lang)
    )
    sources = source_figure(
        {"frame": data.sources, "selected": None},
        _ctx("stats_source", StatsSourceOptions(chart="bar"), font, lang),
    )
    region = region_figure(
        {"regions": data.regions, "values": data.region_values, "selected": None},
        _ctx("stats_region", StatsRegionOptions(), font * 0.9, lang),
    )
    for fig in (trend, sources, region):
        fig.update_layout(paper_bgcolor="white", plot_bgcolor="white")
    return {
        "trend": (trend, int(640 * k), int(380 * k)),
        "sources": (sources, int(400 * k), int(380 * k)),
        "region": (region, int(560 * k), int(560 * k)),
    }


def _e(text: Any) -> str:
    return _html.escape(str(text))


def _kpi(label: str, value: str, colour: str = "#1f4f99", extra: str = "") -> str:
    return (
        f'<div class="kpi {extra}"><div class="kpi-label">{_e(label)}</div>'
        f'<div class="kpi-value" style="color:{colour}">{_e(value)}</div></div>'
    )


def _rate_cell(unit: Any, key: str) -> str:
    grade = unit.rag.get(key)
    colour = PRINT_RAG[grade]
    return (
        f'<td class="num" style="color:{colour}">{RAG_MARK[grade]} '
        f"{_e(fmt_pct(unit.rates.get(key)))}</td>"
    )


def _ranking_table(
    units: list[Any], level: str, lang: str, top: int = 18, handling: bool = False
) -> str:
    """``handling``: with a 平均处置时长 column (working h / h), for the departments."""
    keys = [
        "ranking.rank",
        f"appraisal.level.{level}",
        "appraisal.dispatched",
        "appraisal.score",
        "appraisal.on_time_closure_rate",
        "appraisal.rework_rate",
        "ranking.overdue_open",
    ]
    head = "".join(f"<th>{_e(t(k, lang))}</th>" for k in keys)
    if handling:  # the name above its units: the column's figures are short
        head += (
            f"<th>{_e(t('appraisal.avg_handling', lang))}<br>"
            f"<small>{_e(t('appraisal.handling_units', lang))}</small></th>"
        )

    def handling_of(unit: Any) -> str:
        rates = unit.rates
        return fmt_handling(
            rates.get("avg_handling_work_hours"), rates.get("avg_handling_hours"), lang, short=True
        )

    rows = []
    for unit in units[:top]:
        change = unit.rank_change
        moved = "" if not change else (f" ↑{change}" if change > 0 else f" ↓{-change}")
        score = "—" if unit.score is None else f"{unit.score:.1f}"
        rows.append(
            "<tr>"
            f'<td class="num">{_e(unit.rank or "—")}<small>{_e(moved)}</small></td>'
            f"<td>{_e(unit.name)}</td>"
            f'<td class="num">{_e(fmt_int(unit.counts["dispatched"]))}</td>'
            f'<td class="num" style="color:{PRINT_RAG[unit.rag.get("score")]}">'
            f"{RAG_MARK[unit.rag.get('score')]} {_e(score)}</td>"
            + _rate_cell(unit, "on_time_closure_rate")
            + _rate_cell(unit, "rework_rate")
            + f'<td class="num">{_e(fmt_int(unit.counts["overdue_open"]))}</td>'
            + (f'<td class="num">{_e(handling_of(unit))}</td>' if handling else "")
            + "</tr>"
        )
    return (
        f'<table class="rank"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def _case_table(cases: list[Any], day: date, lang: str, empty_key: str) -> str:
    if not cases:
        return f'<p class="muted">{_e(t(empty_key, lang))}</p>'
    head = "".join(
        f"<th>{_e(t(k, lang))}</th>"
        for k in ("cases.number", "cases.class", "cases.place", "cases.deadline")
    )
    rows = "".join(
        "<tr>"
        f"<td>{_e(c.number)}</td><td>{_e(c.class_name)}</td>"
        f"<td>{_e(c.address or c.grid_code)}</td>"
        f"<td>{_e(month_day_time(c.deadline, day) if c.deadline else '—')}</td>"
        "</tr>"
        for c in cases
    )
    return f'<table class="cases"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'


def briefing_html(data: Any, charts: dict[str, str], paper: str, lang: str = "zh") -> str:
    """Three landscape pages: 今日概况, 考核排名, 区域与重点案件."""
    k = 1.414 if paper == "A3" else 1.0
    rates, counts, today = data.month_rates, data.month_counts, data.today
    from command_center.appraisal import grade

    def rate_kpi(label_key: str, key: str) -> str:
        g = grade(key, rates.get(key), data.config)
        return _kpi(t(label_key, lang), fmt_pct(rates.get(key)), PRINT_RAG[g])

    title = t("briefing.title", lang)
    day = data.day.isoformat()
    header = (
        f'<div class="head"><h1>{_e(title)}</h1>'
        f'<div class="meta">{_e(t("briefing.date", lang, day=day))} · '
        f"{_e(t('briefing.generated', lang, at=data.generated_at.strftime('%Y-%m-%d %H:%M')))}"
        "</div></div>"
    )
    today_kpis = "".join(
        [
            _kpi(t("briefing.reported", lang), fmt_int(today["reported"])),
            _kpi(t("briefing.registered", lang), fmt_int(today["registered"])),
            _kpi(t("briefing.dispatched", lang), fmt_int(today["dispatched"])),
            _kpi(t("briefing.closed", lang), fmt_int(today["closed"])),
            _kpi(t("briefing.open", lang), fmt_int(today["open"])),
            _kpi(
                t("briefing.overdue", lang),
                fmt_int(today["overdue"]),
                "#c62828" if today["overdue"] else "#1f4f99",
            ),
        ]
    )
    month_kpis = "".join(
        [
            _kpi(t("appraisal.registered", lang), fmt_int(counts["registered"])),
            rate_kpi("appraisal.disposal_rate", "disposal_rate"),
            rate_kpi("appraisal.on_time_disposal_rate", "on_time_disposal_rate"),
            rate_kpi("appraisal.closure_rate", "closure_rate"),
            rate_kpi("appraisal.on_time_closure_rate", "on_time_closure_rate"),
            rate_kpi("appraisal.rework_rate", "rework_rate"),
            rate_kpi("appraisal.extension_rate", "extension_rate"),
            _kpi(
                t("appraisal.valid_report_rate", lang),
                fmt_pct(data.supervisor["valid_report_rate"]),
            ),
            _kpi(
                t("appraisal.avg_handling", lang),
                fmt_handling(
                    rates.get("avg_handling_work_hours"), rates.get("avg_handling_hours"), lang
                ),
                extra="handling",
            ),
        ]
    )
    # a month to date says over how many cases: on the 2nd it is a day's cases, not a month's
    month_label = t(
        "briefing.month_to_date_n",
        lang,
        month=data.month.label(lang),
        n=fmt_int(counts["dispatched"]),
    )
    page1 = (
        f'<section class="page">{header}'
        f'<h2>{_e(t("briefing.today", lang))}</h2><div class="kpis six">{today_kpis}</div>'
        f'<h2>{_e(month_label)}</h2><div class="kpis nine">{month_kpis}</div>'
        '<div class="row">'
        f'<figure class="wide"><figcaption>{_e(t("briefing.trend", lang))}</figcaption>'
        f'<img src="{charts["trend"]}"></figure>'
        f'<figure class="narrow"><figcaption>{_e(t("briefing.sources", lang))}</figcaption>'
        f'<img src="{charts["sources"]}"></figure>'
        "</div></section>"
    )
    legend = _e(t("briefing.legend", lang))
    page2 = (
        f'<section class="page">{header}<h2>{_e(t("briefing.rankings", lang))} · '
        f"{_e(month_label)}</h2>"
        '<div class="row">'
        f'<div class="half"><h3>{_e(t("briefing.streets", lang))}</h3>'
        f"{_ranking_table(data.streets, 'street', lang)}</div>"
        f'<div class="half wider"><h3>{_e(t("briefing.departments", lang))}</h3>'
        f"{_ranking_table(data.departments, 'department', lang, handling=True)}</div>"
        f'</div><p class="muted">{legend}<br>{_e(t("appraisal.handling_note", lang))}</p>'
        "</section>"
    )
    page3 = (
        f'<section class="page">{header}<div class="row">'
        f'<figure class="map"><figcaption>{_e(t("briefing.map", lang))}</figcaption>'
        f'<img src="{charts["region"]}"></figure>'
        f'<div class="notable"><h3>{_e(t("briefing.overdue_cases", lang))}</h3>'
        f"{_case_table(data.overdue, data.day, lang, 'briefing.no_overdue')}"
        f"<h3>{_e(t('briefing.urgent_cases', lang))}</h3>"
        f"{_case_table(data.urgent, data.day, lang, 'briefing.no_urgent')}</div>"
        "</div></section>"
    )
    base = 12.5 * k
    return f"""<!doctype html>
<html lang="{"zh-CN" if lang == "zh" else "en"}"><head><meta charset="utf-8">
<title>{_e(title)} {day}</title>
<style>
@page {{ size: {paper} landscape; margin: 0; }}
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; padding: 0; background: #fff; }}
body {{ font-family: {FONT_FAMILY}; color: #1b2a41; font-size: {base}px; }}
.page {{ width: {297 if paper == "A4" else 420}mm; height: {210 if paper == "A4" else 297}mm;
  padding: {9 * k}mm {11 * k}mm; overflow: hidden; page-break-after: always;
  break-after: page; position: relative; }}
.page:last-child {{ page-break-after: auto; break-after: auto; }}
.head {{ display: flex; justify-content: space-between; align-items: baseline;
  border-bottom: 2px solid #c62828; padding-bottom: 2mm; margin-bottom: 3mm; }}
h1 {{ font-size: 2.1em; margin: 0; color: #c62828; letter-spacing: 0.1em; }}
.meta {{ color: #5a6b85; }}
h2 {{ font-size: 1.25em; margin: 3mm 0 2mm; border-left: 4px solid #1f6fd1; padding-left: 2mm; }}
h3 {{ font-size: 1.1em; margin: 2mm 0; }}
.kpis {{ display: grid; gap: 2.5mm; }}
.kpis.six {{ grid-template-columns: repeat(6, 1fr); }}
.kpis.eight {{ grid-template-columns: repeat(8, 1fr); }}
.kpis.nine {{ grid-template-columns: repeat(8, 1fr) 2.2fr; }}
.kpi.handling .kpi-value {{ font-size: 1.25em; line-height: 1.55; white-space: nowrap; }}
.kpi {{ border: 1px solid #cfd9e6; border-radius: 2mm; padding: 2mm; text-align: center;
  background: #f5f8fc; }}
.kpi-label {{ color: #5a6b85; font-size: 0.9em; white-space: nowrap; }}
.kpi-value {{ font-size: 1.9em; font-weight: 700; }}
.row {{ display: flex; gap: 5mm; align-items: flex-start; }}
figure {{ margin: 3mm 0 0; }}
figcaption {{ font-weight: 700; margin-bottom: 1mm; }}
figure img {{ width: 100%; display: block; }}
.wide {{ flex: 1.6; }} .narrow {{ flex: 1; }} .half {{ flex: 1; min-width: 0; }}
.half.wider {{ flex: 1.25; }} table.rank {{ font-size: 0.93em; }}
.map {{ flex: 1; }} .notable {{ flex: 1.1; min-width: 0; }}
table {{ width: 100%; border-collapse: collapse; }}
th {{ text-align: left; background: #e7eef8; font-weight: 700; padding: 1.2mm 1.5mm;
  white-space: nowrap; vertical-align: bottom; }}
th small {{ font-weight: 400; color: #5a6b85; }}
td {{ padding: 1.1mm 1.5mm; border-bottom: 1px solid #e2e8f0; white-space: nowrap;
  overflow: hidden; text-overflow: ellipsis; max-width: 60mm; }}
td.num {{ font-variant-numeric: tabular-nums; }}
td small {{ color: #5a6b85; margin-left: 1mm; }}
.muted {{ color: #5a6b85; font-size: 0.9em; }}
</style></head><body>{page1}{page2}{page3}</body></html>"""


# --------------------------------------------------------------------- screen panel


class BriefingExportOptions(PanelOptions):
    paper: Literal["A4", "A3"] = "A4"


def build_briefing_export(ctx: PanelContext) -> html.Div:
    """The briefing screen's export control: paper size, PDF/PNG buttons, a download.
    For the leader's tablet or a console: a wall without a keyboard just shows the panel."""
    opts: BriefingExportOptions = ctx.options
    return html.Div(
        className="cc-panel cc-kind-briefing_export",
        children=[
            html.Div(
                className="cc-panel-head",
                children=[html.Span(ctx.title, className="cc-panel-title")],
            ),
            html.Div(
                className="cc-panel-body cc-briefing-export",
                children=[
                    dcc.RadioItems(
                        id=ctx.id("paper"),
                        options=[{"label": p, "value": p} for p in ("A4", "A3")],
                        value=opts.paper,
                        inline=True,
                        className="cc-briefing-paper",
                    ),
                    html.Div(
                        [
                            html.Button(
                                t("briefing.export_pdf", ctx.lang),
                                id=ctx.id("pdf"),
                                n_clicks=0,
                                className="cc-button cc-briefing-button",
                            ),
                            html.Button(
                                t("briefing.export_png", ctx.lang),
                                id=ctx.id("png"),
                                n_clicks=0,
                                className="cc-button cc-briefing-button",
                            ),
                        ],
                        className="cc-briefing-buttons",
                    ),
                    dcc.Loading(
                        html.Div(id=ctx.id("status"), className="cc-briefing-status"),
                        type="dot",
                    ),
                    dcc.Download(id=ctx.id("download")),
                ],
            ),
        ],
    )


def export_status(text: str, ok: bool = True) -> html.Span:
    return html.Span(text, className="cc-briefing-ok" if ok else "cc-message-error")
