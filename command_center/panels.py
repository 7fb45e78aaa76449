"""The built-in panel kinds, assembled into one registry.

This is a composition root: it names which layout renders and which fetcher feeds each
kind. A new kind is one ``PanelKind`` here, a layout in ``layouts/`` and a fetcher (or
callbacks) in ``callbacks/``.
"""

from __future__ import annotations

from callbacks import city_map as city_map_callbacks
from callbacks import fetchers
from command_center.screens.registry import PanelKind, PanelRegistry
from layouts import appraisal, city, city_map, collaboration, ops, statistics


def default_registry() -> PanelRegistry:
    registry = PanelRegistry()
    refreshed = [
        PanelKind(
            "kpi",
            city.KpiOptions,
            build=None,
            fetch=fetchers.kpis,
            render=city.render_kpis,
            title_key="kind.kpi",
            module="city",
        ),
        PanelKind(
            "case_ticker",
            city.TickerOptions,
            build=None,
            fetch=fetchers.ticker,
            render=city.render_ticker,
            title_key="kind.case_ticker",
            module="city",
        ),
        PanelKind(
            "case_trend",
            statistics.TrendOptions,
            build=None,
            fetch=fetchers.trend,
            render=statistics.render_trend,
            title_key="kind.case_trend",
            module="statistics",
        ),
        PanelKind(
            "breakdown",
            statistics.BreakdownOptions,
            build=None,
            fetch=fetchers.breakdown,
            render=statistics.render_breakdown,
            title_key="kind.breakdown",
            module="statistics",
        ),
        PanelKind(
            "ranking",
            appraisal.RankingOptions,
            build=None,
            fetch=fetchers.ranking,
            render=appraisal.render_ranking,
            title_key="kind.ranking",
            module="appraisal",
        ),
        PanelKind(
            "workflow_board",
            collaboration.BoardOptions,
            build=None,
            fetch=fetchers.board,
            render=collaboration.render_board,
            title_key="kind.workflow_board",
            module="collaboration",
        ),
        PanelKind(
            "case_list",
            collaboration.CaseListOptions,
            build=None,
            fetch=fetchers.case_list,
            render=collaboration.render_case_list,
            title_key="kind.case_list",
            module="collaboration",
        ),
        PanelKind(
            "ops_health",
            ops.HealthOptions,
            build=None,
            fetch=fetchers.ops_health,
            render=ops.render_health,
            title_key="kind.ops_health",
            module="ops",
        ),
    ]
    for kind in refreshed:
        registry.register(kind)
    registry.register(
        PanelKind(
            "city_map",
            city_map.MapOptions,
            build=city_map.build_map,
            register_callbacks=city_map_callbacks.register,
            title_key="kind.city_map",
            module="city",
        )
    )
    # 网格管理 grid management: layouts/grid.py, callbacks/grid.py
    from callbacks import grid as grid_callbacks
    from layouts import grid

    registry.register(
        PanelKind(
            "grid_profile",
            grid.GridProfileOptions,
            build=None,
            fetch=grid_callbacks.grid_profile,
            render=grid.render_grid_profile,
            title_key="kind.grid_profile",
            module="grid",
        )
    )
    registry.register(
        PanelKind(
            "patrol",
            grid.PatrolOptions,
            build=None,
            fetch=grid_callbacks.patrol,
            render=grid.render_patrol,
            title_key="kind.patrol",
            module="grid",
        )
    )
    registry.register(
        PanelKind(
            "grid_tree",
            grid.GridTreeOptions,
            build=grid.build_grid_tree,
            register_callbacks=grid_callbacks.register,
            title_key="kind.grid_tree",
            module="grid",
        )
    )
    # 业务协同 duty console kinds (case_queue, department_board): callbacks/case_queue.py
    from callbacks import case_queue as queue_callbacks

    for kind in queue_callbacks.panel_kinds():
        registry.register(kind)
    # 统计分析 and 监督考核 kinds (stats_*, appraisal_*): composed in callbacks/statistics.py
    from callbacks import statistics as statistics_callbacks

    for kind in statistics_callbacks.panel_kinds():
        registry.register(kind)
    # 告警 alarm ticker and 运维监控 ops kinds (alarm_ticker, ops_screens, ops_flow)
    from callbacks import alarms as alarm_callbacks

    for kind in alarm_callbacks.panel_kinds():
        registry.register(kind)
    return registry
