"""网格管理 grid management: fetchers of the grid profile and patrol panels (the generic
refresh renders them, following the page's region), and the grid tree's own callbacks (a
click on a node or a search hit drills the whole screen to that region)."""

from __future__ import annotations

from typing import Any

from dash import ALL, MATCH, Input, Output, State, ctx
from dash.exceptions import PreventUpdate

from callbacks.panels import locate_panel
from command_center.geo import (
    grid_profile_view,
    grid_tree,
    level_of,
    patrol_summary,
    search_grids,
    several_districts,
)
from command_center.patrol import store_of
from command_center.screens.registry import PanelContext
from command_center.services import DataServices, Result
from layouts.common import message
from layouts.grid import render_search_results, render_tree

KIND = "grid_tree"


def grid_profile(services: DataServices, ctx: PanelContext) -> Result[Any]:
    """The profile of the grid drilled to (or the panel's fixed grid); None asks for one."""
    code = ctx.options.grid_code or ctx.region_code or ""
    if not code or level_of(code) != "grid":
        return Result(None, services.clock())
    return grid_profile_view(services, code, store_of(services), ctx.options.recent)


def patrol(services: DataServices, ctx: PanelContext) -> Result[Any]:
    store = store_of(services)
    if store is None:
        raise RuntimeError("patrol positions need the embedded sql GIS backend")
    return patrol_summary(services, store, ctx.region_code, ctx.options.limit)


def register(app: Any, cc: Any) -> None:
    @app.callback(
        Output({"role": "tree", "kind": KIND, "pid": MATCH}, "children"),
        Output({"role": "results", "kind": KIND, "pid": MATCH}, "children"),
        Input({"role": "tick", "kind": KIND, "pid": MATCH}, "n_intervals"),
        Input({"role": "search", "kind": KIND, "pid": MATCH}, "value"),
        Input("cc-region", "data"),
        State("cc-wall-meta", "data"),
    )
    def refresh_tree(
        _n: int, query: str | None, region: dict[str, Any] | None, meta: dict[str, Any] | None
    ) -> tuple[Any, Any]:
        pid = ctx.outputs_list[0]["id"]["pid"]
        lang = (meta or {}).get("lang", cc.settings.lang)
        code = (region or {}).get("code") or ""
        panel = locate_panel(cc, pid, lang, code or None)
        if panel is None:
            raise PreventUpdate
        try:
            tree = grid_tree(cc.services, code or None).value
        except Exception:  # noqa: BLE001 - a panel never shows a traceback
            from command_center.i18n import t

            return message(t("panel.no_data", lang), "error"), None
        hits = search_grids(cc.services, query or "")
        return render_tree(tree, code, panel), render_search_results(hits, query or "", panel)

    @app.callback(
        Output("cc-region", "data", allow_duplicate=True),
        Input({"role": "pick", "kind": KIND, "pid": ALL}, "data"),
        State("cc-region", "data"),
        prevent_initial_call=True,
    )
    def drill_from_tree(_picks: list[Any], region: dict[str, Any] | None) -> Any:
        picked = ctx.triggered[0]["value"] if ctx.triggered else None
        if not isinstance(picked, dict) or not isinstance(picked.get("code"), str):
            raise PreventUpdate
        code = picked["code"]
        if code == (region or {}).get("code", ""):
            raise PreventUpdate
        # the top of the tree is the whole city (one district, or the city above several)
        whole_city = not code or (len(code) == 6 and not several_districts(cc.services))
        return {} if whole_city else {"code": code}

    _ = (refresh_tree, drill_from_tree)
