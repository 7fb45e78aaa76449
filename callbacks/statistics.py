"""统计分析 and 监督考核 panels: what each reads, their refresh under the screen's filters, and
the clicks that set those filters.

The screen's filters live in two page stores: ``cc-region`` (``{"code", "name"}``, shared
with the map) and ``cc-filter`` (``{"class", "source", "period", "drill"}``). Every panel of
these modules re-renders when either changes, and on its timer. A click on a class slice,
a source bar or a region sets the filter (a second click on the same one clears it); a click
on a ranking row opens that unit's overdue cases in the drill panel.

Reads are cached by the data services (``DataServices._read``): the key holds the period and
the filters, the entry expires after ``CC_CACHE_SECONDS`` and on every case event, so a
wall never shows numbers older than its refresh interval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache
from typing import Any

from dash import ALL, MATCH, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from command_center import appraisal, statistics
from command_center.appraisal import Period
from command_center.domain.classes import load_catalogue
from command_center.i18n import t
from command_center.screens.registry import PanelContext
from command_center.services import DataServices, NoData, Result
from command_center.statistics import StatsFilter, resolve_period
from layouts.common import message, refreshed_frame, stale_mark

log = logging.getLogger(__name__)

Fetch = Callable[[DataServices, PanelContext, StatsFilter, "dict | None"], Result[Any]]


# --------------------------------------------------------------------------- reading


def _period(services: DataServices, panel: PanelContext, filters: dict | None) -> Any:
    """The panel's fixed period, or the console picker's (``filters["period"]``)."""
    opts = panel.options
    picked = (filters or {}).get("period") if getattr(opts, "follow_picker", True) else None
    return resolve_period(getattr(opts, "period", "month"), services.clock().date(), picked)


def _read(services: DataServices, key: tuple, fetch: Callable[[], Any]) -> Result[Any]:
    # The services' one cached path: expires with CC_CACHE_SECONDS and on every case event.
    return services._read(key, "case", fetch)  # noqa: SLF001


@lru_cache(maxsize=4)
def class_names(classes_file: Any) -> dict[str, str]:
    """``"kind:code"`` → name for big and small classes (codes overlap between kinds)."""
    catalogue = load_catalogue(classes_file)
    names: dict[str, str] = {}
    for cls in catalogue.events() + catalogue.components():
        names[f"{cls.kind}:{cls.code}"] = cls.name
        names[f"{cls.kind}:{cls.big_code}"] = cls.big_name
    return names


def region_names(services: DataServices, level: str) -> dict[str, str]:
    try:
        return {r.code: r.name for r in services.regions(level).value}
    except NoData:
        return {}


def department_names(services: DataServices) -> dict[str, str]:
    return {d.code: d.name for d in services.departments().value}


def names_for(services: DataServices, level: str) -> dict[str, str]:
    if level == "department":
        return department_names(services)
    return region_names(services, level)


def filter_labels(services: DataServices, sf: StatsFilter, lang: str) -> dict[str, str]:
    out = {}
    if sf.class_key:
        out["class_label"] = class_names(services.settings.case_classes_file).get(
            sf.class_key, sf.class_key
        )
    if sf.source:
        out["source_label"] = t(f"source.{sf.source}", lang)
    if sf.region_code:
        level = {6: "district", 9: "street", 12: "community"}.get(len(sf.region_code), "grid")
        out["region_label"] = region_names(services, level).get(sf.region_code, sf.region_code)
    return out


def fetch_filter(services: DataServices, panel: PanelContext, sf: StatsFilter, filters: Any):  # noqa: ANN201
    period = resolve_period("month", services.clock().date(), (filters or {}).get("period"))
    data = {"period_label": period.label(panel.lang), **filter_labels(services, sf, panel.lang)}
    return Result(data, services.clock())


def fetch_trend(services: DataServices, panel: PanelContext, sf: StatsFilter, filters: Any):  # noqa: ANN201
    period = _period(services, panel, filters)
    # the current period stops today: days still to come are not zeros on a chart
    tomorrow = services.clock().date() + timedelta(days=1)
    if period.start < tomorrow < period.end:
        period = Period(period.start, tomorrow, period.grain)
    grain = panel.options.grain
    if period.days > 120 and grain == "day":
        grain = "week" if period.days <= 400 else "month"
    key = ("stats_trend", period, grain, sf.key())
    result = _read(
        services, key, lambda: statistics.trend(services.adapters.case, period, grain, sf)
    )
    totals = _read(
        services,
        ("stats_summary", period, sf.key()),
        lambda: statistics.summary(services.adapters.case, period, sf),
    )
    return _wrap(result, {"frame": result.value, "grain": grain, "summary": totals.value})


def fetch_class(services: DataServices, panel: PanelContext, sf: StatsFilter, filters: Any):  # noqa: ANN201
    period = _period(services, panel, filters)
    # The class panel shows every class (its own filter would leave one slice): it drops the
    # class filter and highlights the chosen one instead.
    own = StatsFilter(None, sf.source, sf.region_code)
    key = ("stats_class", period, own.key())
    result = _read(services, key, lambda: statistics.by_class(services.adapters.case, period, own))
    names = class_names(services.settings.case_classes_file)
    return _wrap(result, {"frame": result.value, "names": names, "selected": sf.class_key})


def fetch_source(services: DataServices, panel: PanelContext, sf: StatsFilter, filters: Any):  # noqa: ANN201
    period = _period(services, panel, filters)
    own = StatsFilter(sf.class_key, None, sf.region_code)
    key = ("stats_source", period, own.key())
    result = _read(services, key, lambda: statistics.by_source(services.adapters.case, period, own))
    return _wrap(result, {"frame": result.value, "selected": sf.source})


def fetch_region(services: DataServices, panel: PanelContext, sf: StatsFilter, filters: Any):  # noqa: ANN201
    period = _period(services, panel, filters)
    level, measure = panel.options.level, panel.options.measure
    own = StatsFilter(sf.class_key, sf.source, None)
    key = ("stats_region", period, level, own.key())
    result = _read(
        services, key, lambda: statistics.by_region(services.adapters.case, period, level, own)
    )
    frame = result.value
    values = {str(c): int(v) for c, v in zip(frame["code"], frame[measure], strict=True)}
    regions = services.regions(level).value
    return _wrap(result, {"regions": regions, "values": values, "selected": sf.region_code})


def fetch_heatmap(services: DataServices, panel: PanelContext, sf: StatsFilter, filters: Any):  # noqa: ANN201
    period = _period(services, panel, filters)
    key = ("stats_hour", period, sf.key())
    result = _read(
        services, key, lambda: statistics.hour_of_week(services.adapters.case, period, sf)
    )
    return _wrap(result, {"matrix": result.value})


def fetch_hotspots(services: DataServices, panel: PanelContext, sf: StatsFilter, filters: Any):  # noqa: ANN201
    period = _period(services, panel, filters)
    top = panel.options.top
    key = ("stats_hotspots", period, top, sf.key())
    result = _read(
        services, key, lambda: statistics.hotspots(services.adapters.case, period, sf, top)
    )
    return _wrap(result, {"frame": result.value, "names": region_names(services, "grid")})


def fetch_recurring(services: DataServices, panel: PanelContext, sf: StatsFilter, filters: Any):  # noqa: ANN201
    period = _period(services, panel, filters)
    opts = panel.options
    key = ("stats_recurring", period, opts.within_days, opts.top, sf.key())
    result = _read(
        services,
        key,
        lambda: statistics.recurring(
            services.adapters.case, period, sf, opts.within_days, opts.top
        ),
    )
    return _wrap(
        result,
        {
            "frame": result.value,
            "names": region_names(services, "grid"),
            "classes": class_names(services.settings.case_classes_file),
        },
    )


def appraisal_config(services: DataServices) -> appraisal.AppraisalConfig:
    return appraisal.config_of(services.settings)


def fetch_ranking(services: DataServices, panel: PanelContext, sf: StatsFilter, filters: Any):  # noqa: ANN201
    period = _period(services, panel, filters)
    level = panel.options.level
    key = ("appraisal", period, level, sf.region_code)

    def fetch() -> list[appraisal.AppraisedUnit]:
        return appraisal.appraise(
            services.adapters.case,
            level,
            period,
            region_code=sf.region_code,
            config=appraisal_config(services),
            names=names_for(services, level),
        )

    result = _read(services, key, fetch)
    drill = (filters or {}).get("drill") if isinstance(filters, dict) else None
    return _wrap(
        result,
        {
            "units": result.value,
            "period_label": period.label(panel.lang),
            "previous_label": period.previous().label(panel.lang),
            "selected": (drill or {}).get("code"),
        },
    )


def fetch_summary(services: DataServices, panel: PanelContext, sf: StatsFilter, filters: Any):  # noqa: ANN201
    period = _period(services, panel, filters)
    key = ("appraisal_summary", period, sf.region_code)

    def fetch() -> dict[str, Any]:
        case = services.adapters.case
        counts, rates = appraisal.totals(case, period, region_code=sf.region_code)
        sup = appraisal.supervisor_indicators(case, period, region_code=sf.region_code)
        config = appraisal_config(services)
        grades = {k: appraisal.grade(k, rates.get(k), config) for k in config.targets}
        grades["valid_report_rate"] = appraisal.grade(
            "valid_report_rate", sup["valid_report_rate"], config
        )
        return {"counts": counts, "rates": rates, "supervisor": sup, "grades": grades}

    return _read(services, key, fetch)


def fetch_overdue(services: DataServices, panel: PanelContext, sf: StatsFilter, filters: Any):  # noqa: ANN201
    drill = (filters or {}).get("drill") if isinstance(filters, dict) else None
    now = services.clock()
    if not drill:
        return Result({"unit": None}, now)
    period = _period(services, panel, filters)
    level, code = drill["level"], drill["code"]
    key = ("appraisal_overdue", period, level, code)
    result = _read(
        services,
        key,
        lambda: appraisal.overdue_cases(services.adapters.case, level, code, period),
    )
    name = names_for(services, level).get(code, code)
    return _wrap(
        result, {"unit": code, "unit_name": name, "cases": result.value, "now": services.clock()}
    )


@dataclass(frozen=True)
class Derived(Result[Any]):
    """A panel's value shaped from one cached service result (``source``)."""

    source: Any = None


def _wrap(result: Result[Any], value: Any) -> Result[Any]:
    return Derived(value, result.fetched_at, result.stale, result.error, source=result)


# ------------------------------------------------------------------------ callbacks


def build(panel: PanelContext) -> Any:
    return refreshed_frame(panel, panel.extra.get("refresh_ms", 5000))


def filtered_refresh(kind: str, fetch: Fetch, render: Callable[[Any, PanelContext], Any]):  # noqa: ANN201
    """``register_callbacks`` of a filtered panel kind: refresh on its timer and whenever the
    page's filters change."""

    def register(app: Any, cc: Any) -> None:
        from callbacks.panels import html_error, locate_panel

        rendered: dict[tuple, tuple[Any, Any]] = {}

        @app.callback(
            Output({"role": "body", "kind": kind, "pid": MATCH}, "children"),
            Output({"role": "stale", "kind": kind, "pid": MATCH}, "children"),
            Input({"role": "tick", "kind": kind, "pid": MATCH}, "n_intervals"),
            Input("cc-filter", "data"),
            Input("cc-region", "data"),
            State("cc-wall-meta", "data"),
        )
        def refresh(
            _n: int, filters: dict | None, region: dict | None, meta: dict | None
        ) -> tuple[Any, Any]:
            pid = ctx.outputs_list[0]["id"]["pid"]
            lang = (meta or {}).get("lang", cc.settings.lang)
            panel = locate_panel(cc, pid, lang, (region or {}).get("code"))
            if panel is None:
                raise PreventUpdate
            sf = StatsFilter.from_store(filters, region)
            try:
                result = fetch(cc.services, panel, sf, filters or {})
            except NoData as exc:
                return message(t("panel.no_data", lang), "error"), html_error(lang, str(exc))
            except Exception:  # noqa: BLE001 - a panel never shows a traceback
                log.exception("panel %s failed", pid)
                return no_update, html_error(lang, "")
            # the services hand back the same cached Result until new data arrives: render
            # it once, not on every tick of every screen showing the panel
            source = getattr(result, "source", None) or result
            memo_key = (pid, lang, repr(panel.options), repr(filters), repr(region))
            last = rendered.get(memo_key)
            if last is not None and last[0] is source:
                body = last[1]
            else:
                body = render(result.value, panel)
                if len(rendered) > 512:  # every filter combination seen: keep it bounded
                    rendered.clear()
                rendered[memo_key] = (source, body)
            return body, stale_mark(result.stale, result.fetched_at, lang, result.error)

        _ = refresh

    return register


def toggle(filters: dict, key: str, value: Any) -> dict:
    out = dict(filters)
    if value is None or out.get(key) == value:
        out.pop(key, None)
    else:
        out[key] = value
    return out


def register_filters(app: Any, cc: Any) -> None:
    """The clicks that set the page's filters (registered once, by ``install_statistics``)."""

    def graph(kind: str) -> Input:
        return Input({"role": "graph", "kind": kind, "pid": ALL}, "clickData")

    @app.callback(
        Output("cc-filter", "data"),
        Output("cc-region", "data", allow_duplicate=True),
        graph("stats_class"),
        graph("stats_source"),
        graph("stats_region"),
        Input({"role": "grain", "kind": "stats_filter", "pid": ALL}, "value"),
        Input({"role": "date", "kind": "stats_filter", "pid": ALL}, "date"),
        Input({"role": "clear", "kind": "stats_filter", "pid": ALL}, "n_clicks"),
        Input({"role": "drill", "kind": ALL, "pid": ALL, "code": ALL, "level": ALL}, "n_clicks"),
        State("cc-filter", "data"),
        State("cc-region", "data"),
        prevent_initial_call=True,
    )
    def set_filters(
        _c: Any,
        _s: Any,
        _r: Any,
        grains: list,
        dates: list,
        _clear: list,
        drills: list,
        filters: dict | None,
        region: dict | None,
    ) -> tuple[Any, Any]:
        trigger = ctx.triggered_id
        if not isinstance(trigger, dict) or not ctx.triggered:
            raise PreventUpdate
        filters = dict(filters or {})
        role, kind = trigger.get("role"), trigger.get("kind")
        value = ctx.triggered[0]["value"]
        if role == "clear":
            if not value:
                raise PreventUpdate
            keep = {k: v for k, v in filters.items() if k == "period"}
            return keep, {}
        if role in ("grain", "date"):
            grain = next((g for g in grains if g), "month")
            day = next((d for d in dates if d), None)
            period = {"grain": grain, "date": day}
            if filters.get("period") == period:
                raise PreventUpdate
            filters["period"] = period
            return filters, no_update
        if role == "drill":
            if not value:  # a row re-rendered (n_clicks reset), not clicked
                raise PreventUpdate
            drill = {"level": trigger["level"], "code": trigger["code"]}
            return toggle(filters, "drill", drill), no_update
        if not value:
            # a chart re-rendered by its refresh (new component, no click): no filter change,
            # or every refresh would re-trigger every panel
            raise PreventUpdate
        point = ((value or {}).get("points") or [{}])[0]
        if kind == "stats_class":
            picked = point.get("id")
            # clicking the centre of a zoomed sunburst returns to the whole: clear
            if not picked or point.get("entry") == picked:
                filters.pop("class", None)
                return filters, no_update
            return toggle(filters, "class", picked), no_update
        if kind == "stats_source":
            return toggle(filters, "source", point.get("customdata")), no_update
        if kind == "stats_region":
            code = point.get("customdata")
            if not code or (region or {}).get("code") == code:
                return no_update, {}
            return no_update, {"code": code}
        raise PreventUpdate

    _ = set_filters


# ------------------------------------------------------------------------ composition


def panel_kinds() -> list[Any]:
    """The 统计分析 and 监督考核 panel kinds, for ``command_center.panels`` to register."""
    from callbacks import briefing as briefing_callbacks
    from command_center.screens.registry import PanelKind
    from layouts import appraisal as la
    from layouts import briefing as lb
    from layouts import statistics as ls

    def kind(name: str, options: Any, fetch: Fetch, render: Any, module: str) -> PanelKind:
        return PanelKind(
            name,
            options,
            build=build,
            register_callbacks=filtered_refresh(name, fetch, render),
            title_key=f"kind.{name}",
            module=module,
        )

    return [
        PanelKind(
            "stats_filter",
            ls.StatsFilterOptions,
            build=ls.build_stats_filter,
            register_callbacks=filtered_refresh("stats_filter", fetch_filter, ls.filter_chips),
            title_key="kind.stats_filter",
            module="statistics",
        ),
        kind("stats_trend", ls.StatsTrendOptions, fetch_trend, ls.render_stats_trend, "statistics"),
        kind("stats_class", ls.StatsClassOptions, fetch_class, ls.render_stats_class, "statistics"),
        kind(
            "stats_source",
            ls.StatsSourceOptions,
            fetch_source,
            ls.render_stats_source,
            "statistics",
        ),
        kind(
            "stats_region",
            ls.StatsRegionOptions,
            fetch_region,
            ls.render_stats_region,
            "statistics",
        ),
        kind(
            "stats_heatmap", ls.StatsOptions, fetch_heatmap, ls.render_stats_heatmap, "statistics"
        ),
        kind(
            "stats_hotspots",
            ls.StatsHotspotOptions,
            fetch_hotspots,
            ls.render_stats_hotspots,
            "statistics",
        ),
        kind(
            "stats_recurring",
            ls.StatsRecurringOptions,
            fetch_recurring,
            ls.render_stats_recurring,
            "statistics",
        ),
        kind(
            "appraisal_ranking",
            la.AppraisalRankingOptions,
            fetch_ranking,
            la.render_appraisal_ranking,
            "appraisal",
        ),
        kind(
            "appraisal_summary",
            la.AppraisalSummaryOptions,
            fetch_summary,
            la.render_appraisal_summary,
            "appraisal",
        ),
        kind(
            "appraisal_overdue",
            la.AppraisalOverdueOptions,
            fetch_overdue,
            la.render_appraisal_overdue,
            "appraisal",
        ),
        PanelKind(
            "briefing_export",
            lb.BriefingExportOptions,
            build=lb.build_briefing_export,
            register_callbacks=briefing_callbacks.register_export,
            title_key="kind.briefing_export",
            module="appraisal",
        ),
    ]


def install_statistics(cc: Any, *, start: bool = True) -> None:
    """统计分析 / 监督考核 / 简报: the filter clicks, the briefing route and its schedule."""
    register_filters(cc.dash, cc)
    try:
        from callbacks.briefing import install_briefing
    except ImportError:  # pragma: no cover - briefing not built yet
        return
    install_briefing(cc, start=start)
