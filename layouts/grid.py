"""网格管理 grid management: a grid's profile, the hierarchy as a browsable tree with grid
search, and today's patrol attendance and coverage. Pure: data in, components out.

Walls are public displays: people appear as counts, names and phones masked
(``command_center.geo.wall_safe_profile`` does the masking before anything reaches here).
"""

from __future__ import annotations

from html import escape
from typing import Any

from dash import dcc, html

from command_center.geo import TreeNode
from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.common import fmt_int, json_id, message, month_day_time, panel_frame


class GridProfileOptions(PanelOptions):
    grid_code: str = ""  # a fixed grid; empty: the grid drilled to on the map
    recent: int = 5  # recent cases listed


class GridTreeOptions(PanelOptions):
    search: bool = True  # a search box for grid code or name
    refresh_seconds: int = 30  # counts are refreshed this often


class PatrolOptions(PanelOptions):
    limit: int = 12  # workers and unpatrolled grids listed


#: the roles of the people who patrol (stored as the city writes them: 网格员 …)
WORKER_ROLES = ("grid_worker", "grid_lead", "supervisor")


def worker_role(stored: str, lang: str) -> str:
    """A worker's role in ``lang``: the catalogue's word when the stored one is known."""
    for role in WORKER_ROLES:
        if stored == t(f"worker_role.{role}"):
            return t(f"worker_role.{role}", lang)
    return stored


def _data(**attrs: str) -> dict[str, Any]:
    """``data-*`` attributes (tests and the browser find tiles by them)."""
    return {f"data-{k}": v for k, v in attrs.items()}


PROFILE_COUNTS = (
    "households",
    "people",
    "registered",
    "floating",
    "elderly_alone",
    "special_care",
    "houses",
    "organisations",
    "components",
    "open_cases",
)


def render_grid_profile(data: dict[str, Any] | None, ctx: PanelContext) -> Any:
    """Code, name, team (masked), counts by category, patrol today, recent cases."""
    lang = ctx.lang
    if not data:
        return message(t("grid.pick", lang))
    head = html.Div(
        [
            html.Span(data["name"], className="cc-grid-name"),
            html.Span(data["code"], className="cc-grid-code"),
            html.Span(t("map.synthetic", lang), className="cc-map-synthetic")
            if data.get("synthetic")
            else None,
        ],
        className="cc-grid-head",
    )
    tiles = html.Div(
        [
            html.Div(
                [
                    html.Div(t(f"grid.count.{key}", lang), className="cc-grid-tile-label"),
                    html.Div(fmt_int(data.get(key)), className="cc-grid-tile-value"),
                ],
                className="cc-grid-tile" + (" alert" if key == "open_cases" and data[key] else ""),
                **_data(count=key),
            )
            for key in PROFILE_COUNTS
        ],
        className="cc-grid-tiles",
    )
    team = html.Div(
        [html.Span(t("grid.team", lang), className="cc-grid-label")]
        + [
            html.Span(
                f"{worker_role(w['role'], lang)} {w['name']} {w['phone']}".strip()
                + f" · {t('map.status.on_duty' if w['on_duty'] else 'map.status.off_duty', lang)}",
                className="cc-grid-worker" + (" on" if w["on_duty"] else ""),
            )
            for w in data["workers"][:4]
        ]
        or [html.Span(t("grid.no_team", lang))],
        className="cc-grid-team",
    )
    patrol = data.get("patrol")
    if patrol is None:
        patrol_line: Any = None
    elif patrol["walked"]:
        last = month_day_time(patrol["last_at"]) if patrol["last_at"] else ""
        patrol_line = html.Div(
            t(
                "grid.patrolled",
                lang,
                workers=patrol["workers"],
                points=patrol["points"],
                last=last,
            ),
            className="cc-grid-patrol ok",
        )
    else:
        patrol_line = html.Div(t("grid.not_patrolled", lang), className="cc-grid-patrol missing")
    cases = html.Div(
        [html.Div(t("grid.recent_cases", lang), className="cc-grid-label")]
        + [
            html.Div(
                [
                    html.Span(month_day_time(c["reported_at"]), className="cc-ticker-time"),
                    html.Span(c["class_name"]),
                    html.Span(t(f"status.{c['status']}", lang), className="cc-grid-status"),
                ],
                className="cc-grid-case",
            )
            for c in data.get("recent_cases", [])
        ]
        or [html.Div(t("panel.no_cases", lang), className="cc-grid-none")],
        className="cc-grid-cases",
    )
    return html.Div([head, tiles, team, patrol_line, cases], className="cc-grid-profile")


def build_grid_tree(ctx: PanelContext) -> Any:
    """The frame: a search box over the tree; the body is filled by callbacks/grid.py."""
    opts: GridTreeOptions = ctx.options
    search = (
        dcc.Input(
            id=ctx.id("search"),
            type="search",
            placeholder=t("grid.search", ctx.lang),
            debounce=True,
            className="cc-grid-search",
        )
        if opts.search
        else html.Div(id=ctx.id("search"))
    )
    body = html.Div(
        [
            search,
            html.Div(id=ctx.id("results")),
            html.Div(id=ctx.id("tree"), className="cc-tree"),
            # the tree is static HTML (``render_tree``), so its nodes carry no ids: a click on
            # one (data-region-code) lands here through one delegated listener
            # (assets/cc_wall.js)
            dcc.Store(id=ctx.id("pick")),
        ],
        className="cc-tree-wrap",
        **{"data-tree-pick-id": json_id(ctx.id("pick"))},
    )
    return html.Div(
        className="cc-panel-wrap",
        children=[
            panel_frame(ctx, body),
            dcc.Interval(id=ctx.id("tick"), interval=opts.refresh_seconds * 1000, n_intervals=0),
        ],
    )


def _node_html(ctx: PanelContext, node: TreeNode, current: str) -> str:
    name = node.name or t("map.city_all", ctx.lang)  # the city above several districts
    parts = []
    if node.level != "grid":
        parts.append(t("grid.tree.grids", ctx.lang, n=f"{node.grids:,}"))
        parts.append(t("grid.tree.open", ctx.lang, n=f"{node.open:,}"))
    parts.append(t("grid.tree.people", ctx.lang, n=f"{node.population:,}"))
    code = escape(node.code, quote=True)
    return (
        f'<div class="cc-tree-line"><button class="cc-tree-node'
        f'{" current" if node.code == current else ""}" title="{code}" '
        f'data-region-code="{code}">{escape(name)}</button>'
        f'<span class="cc-tree-counts">{escape(" · ".join(parts))}</span></div>'
    )


def tree_html(node: TreeNode, current: str, ctx: PanelContext, stub: bool = False) -> str:
    """A node and its children as HTML; nodes on the path to ``current`` are open. A closed
    node lists its children without theirs (``stub``); clicking a listed node drills to it,
    which opens it."""
    line = _node_html(ctx, node, current)
    if stub or node.children is None or (not node.children and node.level == "grid"):
        return f'<div class="cc-tree-leaf cc-tree-{node.level}">{line}</div>'
    # the top is open; below it, what leads to the current region
    top = node.level == "city" or (node.level == "district" and not current)
    on_path = top or (bool(current) and current.startswith(node.code))
    children = "".join(tree_html(c, current, ctx, stub=not on_path) for c in node.children)
    return (
        f'<details class="cc-tree-{node.level}"{" open" if on_path else ""}>'
        f"<summary>{line}</summary>{children}</details>"
    )


def render_tree(node: TreeNode, current: str, ctx: PanelContext) -> Any:
    """The tree as one component of static HTML, clicks handled by one delegated listener
    (``data-region-code``, assets/cc_wall.js). As Dash components (a button, a line and
    counts per node) the browser's Dash renderer spent ~9 s mounting a district of 40
    streets and 516 communities: every mounted component re-reads the layout on each
    update, so the cost grows with the square of their number."""
    return dcc.Markdown(tree_html(node, current, ctx), dangerously_allow_html=True)


def render_search_results(grids: list[Any], query: str, ctx: PanelContext) -> Any:
    if not query:
        return None
    if not grids:
        return html.Div(t("grid.search_none", ctx.lang), className="cc-grid-none")
    return html.Div(
        [
            html.Button(
                [html.Span(g.name), html.Span(g.code, className="cc-grid-code")],
                className="cc-tree-node cc-search-hit",
                **{"data-region-code": g.code},
            )
            for g in grids
        ],
        className="cc-search-results",
    )


def render_patrol(data: dict[str, Any], ctx: PanelContext) -> Any:
    """Coverage today (grids walked / all), unpatrolled grids, attendance (masked names)."""
    lang = ctx.lang
    share = data["covered"] / data["grids"] if data["grids"] else 0.0
    summary = html.Div(
        [
            html.Div(
                [
                    html.Div(t("grid.coverage", lang), className="cc-grid-tile-label"),
                    html.Div(f"{share * 100:.0f}%", className="cc-grid-tile-value"),
                    html.Div(
                        t("grid.coverage_of", lang, covered=data["covered"], total=data["grids"]),
                        className="cc-kpi-trend flat",
                    ),
                ],
                className="cc-grid-tile",
            ),
            html.Div(
                [
                    html.Div(t("map.unpatrolled", lang), className="cc-grid-tile-label"),
                    html.Div(fmt_int(data["missing_total"]), className="cc-grid-tile-value"),
                ],
                className="cc-grid-tile" + (" alert" if data["missing_total"] else ""),
            ),
            html.Div(
                [
                    html.Div(t("grid.attendance", lang), className="cc-grid-tile-label"),
                    html.Div(f"{data['walked']}/{data['workers']}", className="cc-grid-tile-value"),
                ],
                className="cc-grid-tile",
            ),
        ],
        className="cc-grid-tiles cc-patrol-tiles",
    )
    missing = html.Div(
        [html.Span(t("map.unpatrolled", lang), className="cc-grid-label")]
        + [
            html.Span(g["name"], title=g["code"], className="cc-grid-missing")
            for g in data["missing"]
        ],
        className="cc-grid-missing-list",
    )

    def hm(value: Any) -> str:
        return value.strftime("%H:%M") if value else "—"

    head = ["name", "role", "first", "last", "km", "grids"]
    table = html.Table(
        [
            html.Thead(html.Tr([html.Th(t(f"grid.col.{h}", lang)) for h in head])),
            html.Tbody(
                [
                    html.Tr(
                        [
                            html.Td(r["name"]),
                            html.Td(worker_role(r["role"], lang)),
                            html.Td(hm(r["first_at"])),
                            html.Td(hm(r["last_at"])),
                            html.Td(f"{r['km']:.1f}"),
                            html.Td(r["grids"]),
                        ],
                        className="" if r["first_at"] else "absent",
                    )
                    for r in data["rows"]
                ]
            ),
        ],
        className="cc-table cc-patrol-table",
    )
    day = html.Div(t("grid.day", lang, day=f"{data['day']:%Y-%m-%d}"), className="cc-grid-none")
    return html.Div([summary, missing, table, day], className="cc-patrol")
