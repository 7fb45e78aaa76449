"""The city map (全景城市, shared with 网格管理): region boundaries shaded by a measure, live
cases, grid workers, cameras, IoT sensors and key places, on a configured local base map or
none.

The map component is built once per page; callbacks change only its layers' ``data`` and
``hideout`` (with dash ``Patch``), so new cases appear without resetting the view. Pure: data
in, components out.
"""

from __future__ import annotations

from typing import Any, Literal

import dash_leaflet as dl
from dash import dcc, html
from pydantic import field_validator, model_validator

from command_center.geo import ZOOM_SNAP
from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions
from layouts.common import month_day_time, panel_frame

Layer = Literal[
    "boundaries", "cases", "alarms", "workers", "cameras", "sensors", "key_places", "tracks"
]
LAYERS: tuple[str, ...] = (
    "boundaries",
    "cases",
    "alarms",
    "tracks",
    "workers",
    "cameras",
    "sensors",
    "key_places",
)
#: live layers besides the cases, refreshed as differences (tracks: today's patrols, drawn
#: once the map is drilled to a street or below)
POINT_LAYERS: tuple[str, ...] = ("workers", "cameras", "sensors", "key_places", "tracks")


class MapOptions(PanelOptions):
    layers: list[Layer] = ["boundaries", "cases"]
    level: Literal["district", "street", "community", "grid"] = "street"
    measure: Literal["open", "overdue", "per_1000"] = "open"
    zoom: int = 13  # used when fit_district is off
    fit_district: bool = True  # first view: the whole district
    max_cases: int = 3000
    drill: bool = True  # a click on a region zooms to it and filters the screen's panels
    tour_seconds: int = 0  # an untouched wall visits the streets in turn; 0 = off
    layer_control: bool = False  # a layer switcher (consoles; walls have no mouse)
    patrol: bool = False  # outline the grids nobody patrolled today (网格管理)
    points_refresh_seconds: int = 15  # workers, devices, places, tracks (cases: every tick)
    hidden_layers: list[Layer] = []  # offered in the layer switcher, off until ticked
    detail_on_zoom: bool = True  # zoomed in by hand: finer outlines of the visible area

    @field_validator("layers")
    @classmethod
    def _unique(cls, layers: list[str]) -> list[str]:
        if len(set(layers)) != len(layers):
            raise ValueError("each layer once")
        return layers

    @model_validator(mode="after")
    def _hidden_are_layers(self) -> MapOptions:
        extra = [name for name in self.hidden_layers if name not in self.layers]
        if extra:
            raise ValueError(f"hidden_layers {extra} are not in layers")
        return self

    @field_validator("tour_seconds", "max_cases", "points_refresh_seconds")
    @classmethod
    def _not_negative(cls, value: int) -> int:
        if value < 0:
            raise ValueError("must be 0 or more")
        return value


# Function props live in assets/cc_map.js (no inline JS, nothing from the internet).
REGION_STYLE = {"variable": "cc.map.regionStyle"}
DETAIL_STYLE = {"variable": "cc.map.detailStyle"}
VIEW_SETTLED = {"variable": "cc.map.viewSettled"}
CASE_POINT = {"variable": "cc.map.casePoint"}
CASE_STYLE = {"variable": "cc.map.caseStyle"}
CLUSTER_ICON = {"variable": "cc.map.clusterIcon"}
DEVICE_POINT = {"variable": "cc.map.devicePoint"}
POINT_CLUSTER = {"variable": "cc.map.pointCluster"}
TRACK_STYLE = {"variable": "cc.map.trackStyle"}
ALARM_POINT = {"variable": "cc.map.alarmPoint"}
TOOLTIP = {"variable": "cc.map.bindTooltip"}

CASE_LEGEND = ("overdue", "due_soon", "on_time", "waiting")


def empty_hideout(theme: str = "dark") -> dict[str, Any]:
    """What the region style reads: fill class per code, the selected and toured regions,
    unpatrolled grids, and the theme (light consoles get a light palette)."""
    return {"fills": {}, "selected": "", "unpatrolled": {}, "touring": "", "theme": theme}


PLACE_KINDS = (
    "school",
    "hospital",
    "market",
    "park",
    "police",
    "metro",
    "gas_station",
    "elderly_care",
)


def place_letters(lang: str) -> dict[str, str]:
    """The one-letter marks of key places by kind, and of a grid worker (``worker``)."""
    letters = {kind: t(f"map.place_letter.{kind}", lang) for kind in PLACE_KINDS}
    return letters | {"worker": t("map.worker_letter", lang)}


def _layer(ctx: PanelContext, name: str) -> Any:
    if name == "boundaries":
        # Outlines live in panes of their own under the cases (negative z-index inside the
        # overlay pane): outlines added later, by a drill-down or a zoom, never cover a case.
        # The finer outlines of a zoomed-in view lie above the shaded regions they divide.
        regions = dl.GeoJSON(
            id=ctx.id("regions"),
            data=None,
            style=REGION_STYLE,
            hideout=empty_hideout(ctx.theme),
            onEachFeature=TOOLTIP,
            hoverStyle={"weight": 4, "color": "#ffffff"},
        )
        detail = dl.GeoJSON(
            id=ctx.id("detail"),
            data=None,
            style=DETAIL_STYLE,
            hideout={"theme": ctx.theme},
            onEachFeature=TOOLTIP,
            hoverStyle={"weight": 3, "color": "#ffffff"},
        )
        return dl.LayerGroup(
            [
                dl.Pane(regions, name="cc-regions", pane="overlayPane", style={"zIndex": -2}),
                dl.Pane(detail, name="cc-detail", pane="overlayPane", style={"zIndex": -1}),
            ]
        )
    if name == "cases":
        return dl.GeoJSON(
            id=ctx.id("cases"),
            data=None,
            cluster=True,
            zoomToBoundsOnClick=True,
            pointToLayer=CASE_POINT,
            style=CASE_STYLE,  # GeoJSON restyles its circles: keep the white rim and colour
            clusterToLayer=CLUSTER_ICON,
            onEachFeature=TOOLTIP,
            superClusterOptions={"radius": 60, "maxZoom": 16},
        )
    if name == "alarms":  # few and urgent: never clustered, always on top
        return dl.GeoJSON(
            id=ctx.id(name), data=None, pointToLayer=ALARM_POINT, onEachFeature=TOOLTIP
        )
    if name == "tracks":
        return dl.GeoJSON(id=ctx.id(name), data=None, style=TRACK_STYLE, onEachFeature=TOOLTIP)
    # thousands of cameras and sensors at district scale: clustered, like the cases
    return dl.GeoJSON(
        id=ctx.id(name),
        data=None,
        cluster=True,
        zoomToBoundsOnClick=True,
        pointToLayer=DEVICE_POINT,
        # the letter on a key place's or a worker's marker, in the screen's language
        hideout={"letters": place_letters(ctx.lang)},
        clusterToLayer=POINT_CLUSTER,
        onEachFeature=TOOLTIP,
        superClusterOptions={"radius": 80, "maxZoom": 16},
    )


def build_map(ctx: PanelContext) -> Any:
    """The map, fitted to ``ctx.extra["bounds"]`` with the base map of ``ctx.extra["tiles"]``.

    Every layer component exists (so the panel's callbacks always find them); only the
    layers in ``options.layers`` are drawn or offered in the layer switcher."""
    opts: MapOptions = ctx.options
    tile_url, attribution = ctx.extra.get("tiles", ("", ""))
    centre = ctx.extra.get("centre", (116.4165, 39.9285))
    children: list[Any] = []
    if tile_url:
        children.append(dl.TileLayer(url=tile_url, attribution=attribution, maxZoom=18))
    shown = [name for name in LAYERS if name in opts.layers]
    hidden = [name for name in LAYERS if name not in opts.layers]
    if opts.layer_control:
        overlays = [
            dl.Overlay(
                _layer(ctx, name),
                name=t(f"map.layer.{name}", ctx.lang),
                checked=name not in opts.hidden_layers,
            )
            for name in shown
        ]
        children.append(dl.LayersControl(overlays, position="topright", collapsed=False))
        children.append(dl.ZoomControl(position="topright"))
    else:
        children.extend(_layer(ctx, name) for name in shown)
    # Layers not asked for: present (their callbacks need them), never filled or drawn.
    children.append(dl.LayerGroup([_layer(ctx, name) for name in hidden]))
    view: dict[str, Any] = {"center": [centre[1], centre[0]], "zoom": opts.zoom}
    if ctx.extra.get("bounds") and opts.fit_district:
        view = {"bounds": ctx.extra["bounds"], "boundsOptions": {"padding": [12, 12]}}
    events: dict[str, Any] = {}
    if opts.detail_on_zoom and "boundaries" in opts.layers:
        # a settled view reports its zoom and bounds: zoomed in by hand, it gets the finer
        # outlines of what it shows
        events["eventHandlers"] = {"moveend": VIEW_SETTLED}
    body = dl.Map(
        id=ctx.id("map"),
        **view,
        zoomControl=False,
        zoomSnap=ZOOM_SNAP,  # +/- and the wheel still step whole levels (zoomDelta 1)
        trackViewport=False,  # not every frame of a flight: only settled views (below)
        **events,
        attributionControl=bool(tile_url),
        children=children,
        className="cc-map",
        style={"height": "100%", "width": "100%"},
    )
    overlay = html.Div(
        className="cc-map-overlay",
        children=[
            html.Div(id=ctx.id("crumbs"), className="cc-map-crumbs"),
            html.Div(
                [
                    # always present (the card callback listens to it); shown with a card
                    html.Button("×", id=ctx.id("card-close"), className="cc-map-card-close"),
                    html.Div(id=ctx.id("card")),
                ],
                className="cc-map-card-slot",
            ),
        ],
    )
    foot = html.Div(
        # above the tile attribution when there is a base map
        className="cc-map-foot" + (" has-tiles" if tile_url else ""),
        children=[
            legend(ctx) if "cases" in opts.layers else None,
            html.Div(id=ctx.id("caption"), className="cc-map-caption"),
        ],
    )
    parts: list[Any] = [
        panel_frame(ctx, html.Div([body, overlay, foot], className="cc-map-wrap")),
        dcc.Interval(id=ctx.id("tick"), interval=ctx.extra.get("refresh_ms", 5000), n_intervals=0),
        dcc.Interval(
            id=ctx.id("tour"),
            interval=max(1, opts.tour_seconds) * 1000,
            disabled=opts.tour_seconds <= 0,
            n_intervals=0,
        ),
        dcc.Interval(
            id=ctx.id("tick-points"),
            interval=max(ctx.extra.get("refresh_ms", 5000), opts.points_refresh_seconds * 1000),
            n_intervals=0,
        ),
        dcc.Store(id=ctx.id("shown"), data={}),
        dcc.Store(id=ctx.id("shown-points"), data={}),
        dcc.Store(id=ctx.id("scope"), data={}),
        dcc.Store(id=ctx.id("detail-shown"), data={}),
    ]
    return html.Div(className="cc-panel-wrap", children=parts)


def legend(ctx: PanelContext) -> html.Div:
    return html.Div(
        [
            html.Span(
                [html.I(className=f"cc-dot cc-dot-{state}"), t(f"map.legend.{state}", ctx.lang)],
                className="cc-map-legend-item",
            )
            for state in CASE_LEGEND
        ],
        className="cc-map-legend",
    )


def breadcrumb(
    ctx: PanelContext, crumbs: list[dict[str, str]], several_districts: bool = False
) -> list[Any]:
    """全区 > street > community > grid; each step but the last leads back up. One district
    is the whole map (全区); with several the top is the city, 全市 > district > street ..."""
    if not several_districts:
        crumbs = [c for c in crumbs if c["level"] != "district"]
    items: list[Any] = [
        html.Button(
            t("map.city_all" if several_districts else "map.city", ctx.lang),
            id={**ctx.id("crumb"), "code": ""},
            className="cc-crumb" + ("" if crumbs else " current"),
            n_clicks=0,
        )
    ]
    for index, crumb in enumerate(crumbs):
        items.append(html.Span("›", className="cc-crumb-sep"))
        items.append(
            html.Button(
                crumb["name"],
                id={**ctx.id("crumb"), "code": crumb["code"]},
                className="cc-crumb" + (" current" if index == len(crumbs) - 1 else ""),
                title=crumb["code"],
                n_clicks=0,
            )
        )
    return items


def caption(ctx: PanelContext, synthetic: bool, level: str) -> list[Any]:
    parts: list[Any] = [t(f"map.level.{level}", ctx.lang)]
    if synthetic:
        parts = [html.Span(t("map.synthetic", ctx.lang), className="cc-map-synthetic"), *parts]
    return [html.Span(p) if isinstance(p, str) else p for p in parts]


def _card(ctx: PanelContext, title: str, rows: list[tuple[str, Any]], extra: Any = None) -> Any:
    return html.Div(
        className="cc-map-card",
        children=[
            html.Div(html.Span(title, className="cc-map-card-title"), className="cc-map-card-head"),
            extra,
            html.Table(
                [html.Tr([html.Th(k), html.Td(v)]) for k, v in rows if v not in (None, "")],
                className="cc-map-card-rows",
            ),
        ],
    )


def case_card(ctx: PanelContext, case: Any, state: str, department: str) -> Any:
    """A case's card on the map: number, class, state, place and clocks (no reporter)."""
    lang = ctx.lang
    deadline = month_day_time(case.deadline) if case.deadline else ""
    rows = [
        (t("map.card.class", lang), case.class_name),
        (t("map.card.status", lang), t(f"status.{case.status}", lang)),
        (t("map.card.sla", lang), t(f"map.legend.{state}", lang)),
        (t("map.card.address", lang), case.address or case.grid_code),
        (t("map.card.source", lang), t(f"source.{case.source}", lang)),
        (t("map.card.reported", lang), month_day_time(case.reported_at)),
        (t("map.card.deadline", lang), deadline),
        (t("map.card.department", lang), department),
    ]
    return _card(ctx, case.number, rows)


def camera_card(ctx: PanelContext, camera: dict[str, Any]) -> Any:
    """A camera's live view: its snapshot, reloaded every few seconds by assets/cc_map.js."""
    src = f"/video/{camera['id']}/snapshot.png"
    data_attrs: dict[str, Any] = {"data-src": src}  # what the refresher reloads
    img = html.Img(src=src, className="cc-cam-live", alt=camera.get("name", ""), **data_attrs)
    rows = [(t("map.card.status", ctx.lang), t(f"map.status.{camera['status']}", ctx.lang))]
    return _card(ctx, camera.get("name", camera["id"]), rows, extra=img)


def point_card(ctx: PanelContext, props: dict[str, Any]) -> Any:
    """Workers, sensors, key places: what the tooltip says, kept open."""
    if props.get("layer") == "alarm":
        rows = [
            (t("map.card.level", ctx.lang), props.get("level_text", "")),
            (t("map.card.time", ctx.lang), props.get("at", "")),
            (t("map.card.address", ctx.lang), props.get("grid_code", "")),
        ]
        return _card(ctx, str(props.get("title", "")), rows)
    lines = props.get("tooltip") or [""]  # command_center.geo.tooltip_lines
    title, detail = str(lines[0]), [str(x) for x in lines[1:]]
    rows = [(t(f"map.layer.{props.get('layer', '')}s", ctx.lang), " ".join(detail))]
    if props.get("status"):
        rows.append((t("map.card.status", ctx.lang), t(f"map.status.{props['status']}", ctx.lang)))
    return _card(ctx, title, rows)
