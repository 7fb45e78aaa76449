"""What each refreshed panel kind reads: one data service call per panel refresh.

Thin on purpose: options and region in, a ``Result`` out. The services cache and mark
stale; the layouts render.
"""

from __future__ import annotations

from typing import Any

from adapters.case.contract import CaseFilter, SlaState
from command_center.domain.classes import load_catalogue
from command_center.screens.registry import PanelContext
from command_center.services import DataServices, Result


def kpis(services: DataServices, ctx: PanelContext) -> Result[Any]:
    result = services.kpis(ctx.region_code)
    if not {"workers_on_duty", "devices_online"} & set(ctx.options.metrics):
        return result
    from command_center.geo import kpi_extras

    extras = kpi_extras(services, ctx.region_code)
    return Result({**result.value, **extras}, result.fetched_at, result.stale, result.error)


def ticker(services: DataServices, ctx: PanelContext) -> Result[Any]:
    flt = CaseFilter(region_code=ctx.region_code, limit=ctx.options.limit)
    return services.cases(flt)


def trend(services: DataServices, ctx: PanelContext) -> Result[Any]:
    return services.daily_trend(ctx.region_code, ctx.options.days)


def breakdown(services: DataServices, ctx: PanelContext) -> Result[Any]:
    opts = ctx.options
    result = services.breakdown(opts.dimension, ctx.region_code, opts.days)
    names: dict[str, str] = {}
    if opts.dimension in ("class_code", "big_class_code"):
        # Keys are "kind:code": event and component classes share codes.
        catalogue = load_catalogue(services.settings.case_classes_file)
        for cls in catalogue.events() + catalogue.components():
            names[f"{cls.kind}:{cls.code}"] = cls.name
            names[f"{cls.kind}:{cls.big_code}"] = cls.big_name
    elif opts.dimension == "street_code":
        names = {r.code: r.name for r in services.regions("street").value}
    return Result((result.value, names), result.fetched_at, result.stale, result.error)


def ranking(services: DataServices, ctx: PanelContext) -> Result[Any]:
    opts = ctx.options
    return services.ranking(opts.level, ctx.region_code, opts.days)


def board(services: DataServices, ctx: PanelContext) -> Result[Any]:
    return services.stage_counts(ctx.region_code)


def case_list(services: DataServices, ctx: PanelContext) -> Result[Any]:
    opts = ctx.options
    flt = CaseFilter(region_code=ctx.region_code, limit=opts.limit)
    if opts.show == "overdue":
        flt.sla_states, flt.open_only = [SlaState.OVERDUE], True
    elif opts.show == "due_soon":
        flt.sla_states, flt.open_only = [SlaState.DUE_SOON], True
    elif opts.show == "open":
        flt.open_only = True
    return services.cases(flt)


def ops_health(services: DataServices, ctx: PanelContext) -> Result[Any]:
    return services.ops_report()
