"""The city map (全景城市, shared with 网格管理): region boundaries shaded by a measure and
live cases, on a configured local base map or none.

The map component is built once per page; its layers' ``data`` are refreshed by callbacks,
so new cases appear without resetting the view.
"""

from __future__ import annotations

from typing import Any, Literal

import dash_leaflet as dl
from dash import dcc, html

from adapters.case.contract import Case, CaseStatus, SlaState
from adapters.gis.contract import Region
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.common import panel_frame

Layer = Literal["boundaries", "cases", "workers", "cameras", "sensors", "key_places"]
LAYERS: tuple[str, ...] = ("boundaries", "cases", "workers", "cameras", "sensors", "key_places")


class MapOptions(PanelOptions):
    layers: list[Layer] = ["boundaries", "cases"]
    level: Literal["street", "community"] = "street"
    measure: Literal["open", "overdue"] = "open"
    zoom: int = 13  # used when fit_district is off
    fit_district: bool = True  # first view: the whole district
    max_cases: int = 3000


# Function props live in assets/cc_map.js (no inline JS, nothing from the internet).
REGION_STYLE = {"variable": "cc.map.regionStyle"}
CASE_POINT = {"variable": "cc.map.casePoint"}
CLUSTER_ICON = {"variable": "cc.map.clusterIcon"}

STATUS_COLOURS = {
    "overdue": "#ff4d4f",
    "due_soon": "#ffb020",
    "on_time": "#3fa9ff",
    "waiting": "#b38cff",
}

SHADES = ["#16314f", "#1d4e7a", "#2a6fa8", "#3b8fd0", "#f0a030", "#e0492f"]


def build_map(ctx: PanelContext) -> Any:
    """The map, centred on ``ctx.extra["centre"]`` with the base map of ``ctx.extra["tiles"]``."""
    opts: MapOptions = ctx.options
    tile_url, attribution = ctx.extra.get("tiles", ("", ""))
    centre = ctx.extra.get("centre", (116.4165, 39.9285))
    children: list[Any] = []
    if tile_url:
        children.append(dl.TileLayer(url=tile_url, attribution=attribution, maxZoom=18))
    children.append(
        dl.GeoJSON(id=ctx.id("regions"), data=None, style=REGION_STYLE, hoverStyle={"weight": 4})
    )
    children.append(
        dl.GeoJSON(
            id=ctx.id("cases"),
            data=None,
            cluster=True,
            zoomToBoundsOnClick=True,
            pointToLayer=CASE_POINT,
            clusterToLayer=CLUSTER_ICON,
            superClusterOptions={"radius": 60},
        )
    )
    view: dict[str, Any] = {"center": [centre[1], centre[0]], "zoom": opts.zoom}
    if ctx.extra.get("bounds") and opts.fit_district:
        view = {"bounds": ctx.extra["bounds"], "boundsOptions": {"padding": [12, 12]}}
    body = dl.Map(
        id=ctx.id("map"),
        **view,
        zoomControl=False,
        attributionControl=bool(tile_url),
        children=children,
        className="cc-map",
        style={"height": "100%", "width": "100%"},
    )
    return html.Div(
        className="cc-panel-wrap",
        children=[
            panel_frame(ctx, html.Div(body, className="cc-map-wrap")),
            dcc.Interval(
                id=ctx.id("tick"), interval=ctx.extra.get("refresh_ms", 5000), n_intervals=0
            ),
            dcc.Store(id=ctx.id("hash"), data={}),
        ],
    )


def shade(value: int, top: int) -> str:
    if top <= 0 or value <= 0:
        return SHADES[0]
    index = min(len(SHADES) - 1, 1 + int((len(SHADES) - 2) * value / top))
    return SHADES[index]


def regions_geojson(regions: list[Region], counts: dict[str, int], label: str) -> dict[str, Any]:
    """Boundaries with their fill precomputed from the measure, and a tooltip."""
    top = max(counts.values(), default=0)
    features = []
    for region in regions:
        value = counts.get(region.code, 0)
        features.append(
            {
                "type": "Feature",
                "geometry": region.geometry,
                "properties": {
                    "code": region.code,
                    "name": region.name,
                    "level": region.level,
                    "fill": shade(value, top),
                    "tooltip": f"{region.name}<br>{label}: {value}",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def case_state(case: Case) -> str:
    if case.sla_state == SlaState.OVERDUE:
        return "overdue"
    if case.sla_state == SlaState.DUE_SOON:
        return "due_soon"
    if case.status in (CaseStatus.REPORTED, CaseStatus.ACCEPTED, CaseStatus.REGISTERED):
        return "waiting"
    return "on_time"


def cases_geojson(cases: list[Case]) -> dict[str, Any]:
    features = []
    for case in cases:
        state = case_state(case)
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [case.lon, case.lat]},
                "properties": {
                    "id": case.id,
                    "state": state,
                    "colour": STATUS_COLOURS[state],
                    "tooltip": f"{case.number}<br>{case.class_name}<br>{case.address}",
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}
