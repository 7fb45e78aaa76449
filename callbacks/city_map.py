"""The city map's interactivity: drill-down (region clicks, breadcrumb), the region scope the
other panels follow (``cc-region``), live layers sent as differences, cards for clicked
cases and cameras, and the street tour of an untouched wall.

Live updates send only what changed: boundaries are sent when the scope changes (simplified
for the zoom and cached in ``CityGeo``); each tick patches the fills that changed and the
point features that appeared, changed or went (dash ``Patch``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from dash import ALL, MATCH, ClientsideFunction, Input, Output, Patch, State, ctx, no_update
from dash.exceptions import PreventUpdate

from callbacks.panels import locate_panel
from command_center.geo import (
    ZOOM_SNAP,
    CityGeo,
    Diff,
    case_state,
    collection,
    diff_features,
    feature_signature,
    fitted_zoom,
    geo_of,
    level_of,
    track_features,
    view_level,
    zoom_for_bounds,
)
from command_center.i18n import t
from command_center.patrol import store_of
from command_center.services import Result
from layouts.city_map import (
    POINT_LAYERS,
    breadcrumb,
    camera_card,
    caption,
    case_card,
    empty_hideout,
    point_card,
)
from layouts.common import stale_mark

log = logging.getLogger(__name__)
KIND = "city_map"
#: more changes than this share of what is shown: send the whole layer instead of a patch
FULL_SEND_SHARE = 0.5
#: finer outlines a page may pile up by panning before it gets only the visible ones again
DETAIL_MAX_FEATURES = 4000
#: refreshed on the screen's tick; the heavier point layers have a slower timer of their own
FAST_LAYERS = ("cases", "alarms")


def _id(role: str, pid: Any = MATCH) -> dict[str, Any]:
    return {"role": role, "kind": KIND, "pid": pid}


def scope_of(geo: CityGeo, level: str, region_code: str | None) -> dict[str, Any]:
    """What the map shows for a region: boundaries of which level inside which parent, the
    bounds to fit and the zoom to simplify for."""
    bounds: list[list[float]] | None
    if region_code:
        region = geo.region(region_code)
        bounds = geo.latlng_bounds(region)
        code_level = level_of(region_code)
    else:
        bounds = geo.city_bounds()
        code_level = "district"
    shown = view_level(level, region_code)
    parent = region_code or ""
    if code_level == "grid":
        parent = region_code[:12] if region_code else ""
    zoom = zoom_for_bounds(bounds, 1024) if bounds else 13
    return {
        "code": region_code or "",
        "level": shown,
        "parent": parent,
        "bounds": bounds,
        "zoom": zoom,
    }


def patch_layer(patch: Any, diff: Diff) -> Any:
    """Apply ``diff`` to a GeoJSON ``data`` Patch (replace in place, delete, append)."""
    for index, feature in diff.replace:
        patch["features"][index] = feature
    for index in diff.delete:
        del patch["features"][index]
    for feature in diff.append:
        patch["features"].append(feature)
    return patch


@dataclass(frozen=True)
class LayerUpdate:
    """What one tick sends for one layer: ``data`` (nothing, a Patch or the collection) and
    the change to the page's record of what it shows."""

    data: Any
    diff: Diff
    full: bool

    @property
    def changed(self) -> bool:
        return self.full or not self.diff.empty


def layer_update(shown: list[list[Any]] | None, features: list[dict[str, Any]]) -> LayerUpdate:
    """Nothing when nothing changed, a Patch for a few changes, the whole collection the
    first time or when most of the layer changed."""
    diff = diff_features(shown, features)
    if shown is not None and diff.empty:
        return LayerUpdate(no_update, diff, False)
    changes = len(diff.replace) + len(diff.delete) + len(diff.append)
    if shown is None or changes > FULL_SEND_SHARE * max(len(shown), 1) + 20:
        return LayerUpdate(collection(features), diff, True)
    return LayerUpdate(patch_layer(Patch(), diff), diff, False)


def patch_shown(patch: Any, name: str, update: LayerUpdate) -> None:
    """Keep the page's ``[[id, signature], ...]`` of a layer in step, by difference too: with
    thousands of cases, resending it every tick would cost more than the changes."""
    if update.full:
        patch[name] = update.diff.shown
        return
    for index, feature in update.diff.replace:
        patch[name][index] = [feature["properties"]["id"], feature_signature(feature)]
    for index in update.diff.delete:
        del patch[name][index]
    for feature in update.diff.append:
        patch[name].append([feature["properties"]["id"], feature_signature(feature)])


def register(app: Any, cc: Any) -> None:
    # --- drill-down: a region click or a breadcrumb step sets the page's region ---------
    @app.callback(
        Output("cc-region", "data", allow_duplicate=True),
        # the breadcrumb at once, before the panels' answers keep a wall's browser busy
        Output(_id("crumbs", ALL), "children", allow_duplicate=True),
        Input(_id("regions", ALL), "clickData"),
        Input(_id("detail", ALL), "clickData"),  # a finer outline of a zoomed-in view
        Input({"role": "crumb", "kind": KIND, "pid": ALL, "code": ALL}, "n_clicks"),
        State("cc-region", "data"),
        State("cc-wall-meta", "data"),
        prevent_initial_call=True,
    )
    def drill(
        _clicks: list[Any],
        _details: list[Any],
        _crumbs: list[Any],
        region: dict[str, Any] | None,
        meta: dict[str, Any] | None,
    ) -> Any:
        trigger = ctx.triggered_id
        if not trigger or not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        if trigger.get("role") == "crumb":
            code = trigger["code"]
        else:
            feature = ctx.triggered[0]["value"]
            code = str((feature.get("properties") or {}).get("code") or "")
            panel = locate_panel(cc, trigger["pid"], cc.settings.lang)
            if not code or (panel is not None and not panel.options.drill):
                raise PreventUpdate
        if code == (region or {}).get("code", ""):
            raise PreventUpdate
        lang = (meta or {}).get("lang", cc.settings.lang)
        geo = geo_of(cc)
        trail = geo.breadcrumb(code or None)
        crumbs = []
        for out in ctx.outputs_list[1]:
            panel = locate_panel(cc, out["id"]["pid"], lang, code or None)
            crumbs.append(
                no_update if panel is None else breadcrumb(panel, trail, geo.several_districts())
            )
        return ({"code": code} if code else {}), crumbs

    for layer in ("regions", "detail"):
        app.clientside_callback(
            ClientsideFunction(namespace="cc_map", function_name="flyToClicked"),
            Output(_id("map"), "viewport", allow_duplicate=True),
            Input(_id(layer), "clickData"),
            prevent_initial_call=True,
        )

    # --- the scope follows the region: boundaries, fills, view, breadcrumb, caption -----
    @app.callback(
        Output(_id("regions", ALL), "data"),
        Output(_id("regions", ALL), "hideout"),
        Output(_id("map", ALL), "viewport"),
        Output(_id("crumbs", ALL), "children"),
        Output(_id("caption", ALL), "children"),
        Output(_id("scope", ALL), "data"),
        Input("cc-region", "data"),
        State("cc-wall-meta", "data"),
    )
    def follow_region(region: dict[str, Any] | None, meta: dict[str, Any] | None) -> Any:
        outs: list[list[Any]] = [[] for _ in range(6)]
        lang = (meta or {}).get("lang", cc.settings.lang)
        code = (region or {}).get("code") or None
        geo = geo_of(cc)
        geo.warm_soon()  # the finer outlines of a zoom by hand, built before anyone zooms
        for out in ctx.outputs_list[0]:
            panel = locate_panel(cc, out["id"]["pid"], lang, code)
            row: list[Any] = [no_update] * 6
            if panel is not None:
                try:
                    row = _scope_outputs(geo, panel, panel.region_code)
                except Exception:  # noqa: BLE001 - a bad code or a backend outage
                    log.exception("map scope %s failed", code)
            for i, value in enumerate(row):
                outs[i].append(value)
        return tuple(outs)

    def _scope_outputs(geo: CityGeo, panel: Any, code: str | None) -> list[Any]:
        opts = panel.options
        scope = scope_of(geo, opts.level, code)
        data: Any = no_update
        hideout = empty_hideout(panel.theme)
        if "boundaries" in opts.layers:
            data = geo.boundaries(scope["level"], scope["parent"], scope["zoom"])
            codes = [f["properties"]["code"] for f in data["features"]]
            hideout["fills"] = geo.fills(
                geo.measures(scope["level"], scope["parent"], opts.measure).value, codes
            )
            hideout["selected"] = code or ""
            if opts.patrol and scope["level"] == "grid":
                hideout["unpatrolled"] = _unpatrolled(cc, codes, scope["parent"])
        viewport: Any = no_update
        if scope["bounds"] and (code or opts.fit_district):
            transition = "flyToBounds" if ctx.triggered_id else "fitBounds"
            viewport = {"bounds": scope["bounds"], "transition": transition}
        crumbs = breadcrumb(panel, geo.breadcrumb(code), geo.several_districts())
        cap = caption(panel, geo.synthetic(scope["level"], scope["parent"]), scope["level"])
        return [data, hideout, viewport, crumbs, cap, scope]

    def scope_trigger() -> bool:
        return ctx.triggered_id is not None and ctx.triggered_id.get("role") == "scope"

    # --- zoomed in by hand: the finer outlines of the visible area ------------------------
    @app.callback(
        Output(_id("detail"), "data"),
        Output(_id("detail-shown"), "data"),
        Input(_id("map"), "bounds"),
        Input(_id("scope"), "data"),
        State(_id("map"), "zoom"),
        State(_id("detail-shown"), "data"),
        prevent_initial_call=True,
    )
    def detail_on_zoom(
        view: list[list[float]] | None,
        scope: dict[str, Any] | None,
        zoom: float | None,
        shown: dict[str, Any] | None,
    ) -> tuple[Any, Any]:
        pid = ctx.outputs_list[0]["id"]["pid"]
        scope = scope or {}
        panel = locate_panel(cc, pid, cc.settings.lang, scope.get("code") or None)
        if panel is None or not scope or not view:
            raise PreventUpdate
        opts = panel.options
        if not opts.detail_on_zoom or "boundaries" not in opts.layers:
            raise PreventUpdate
        if scope_trigger():  # a new scope: its view is on the way, the old outlines go
            if not (shown or {}).get("codes"):
                raise PreventUpdate
            return collection([]), {}
        if zoom is not None and zoom / ZOOM_SNAP != int(zoom / ZOOM_SNAP):
            raise PreventUpdate  # a flight's intermediate stop (a settled zoom is snapped)
        try:
            return detail_update(geo_of(cc), scope, view, zoom, shown or {})
        except PreventUpdate:
            raise
        except Exception:  # noqa: BLE001 - keep what the map shows
            log.exception("finer outlines of %s failed", pid)
            raise PreventUpdate from None

    # --- live layers: only what changed --------------------------------------------------
    # Cases and fills on the screen's tick; workers, devices, places and tracks on a slower
    # timer of their own. A refresh slower than its timer would be superseded by the next
    # request before it lands (Dash drops the older answer), so the heavy layers never share
    # the fast tick.
    def layer_results(
        geo: CityGeo, panel: Any, scope: dict[str, Any], names: tuple[str, ...]
    ) -> dict[str, Result[Any]]:
        code = scope.get("code") or None
        out: dict[str, Result[Any]] = {}
        for name in names:
            if name not in panel.options.layers:
                continue
            if name == "cases":
                out[name] = geo.case_features(code, panel.options.max_cases)
            elif name == "alarms":
                alarms = getattr(cc, "alarms", None)
                out[name] = Result(geo.alarm_features(alarms, code), cc.services.clock())
            elif name == "tracks":
                out[name] = Result(track_features(geo, store_of(cc), code), cc.services.clock())
            else:
                out[name] = geo.point_features(name, code)
        return out

    def send_layers(
        results: dict[str, Result[Any]], shown: dict[str, Any], names: tuple[str, ...]
    ) -> tuple[list[Any], Any]:
        data: list[Any] = []
        shown_out: Any = no_update
        record = Patch()
        for name in names:
            if name not in results:
                data.append(no_update)
                continue
            update = layer_update(shown.get(name), results[name].value)
            data.append(update.data)
            if update.changed:
                patch_shown(record, name, update)
                shown_out = record
        return data, shown_out

    @app.callback(
        Output(_id("regions"), "hideout", allow_duplicate=True),
        Output(_id("cases"), "data"),
        Output(_id("alarms"), "data"),
        Output(_id("shown"), "data"),
        Output(_id("stale"), "children"),
        Input(_id("tick"), "n_intervals"),
        Input(_id("scope"), "data"),
        State(_id("shown"), "data"),
        State(_id("regions"), "hideout"),
        State("cc-wall-meta", "data"),
        prevent_initial_call=True,
    )
    def refresh_layers(
        _n: int,
        scope: dict[str, Any] | None,
        shown: dict[str, Any] | None,
        hideout: dict[str, Any] | None,
        meta: dict[str, Any] | None,
    ) -> tuple[Any, ...]:
        pid = ctx.outputs_list[0]["id"]["pid"]
        lang = (meta or {}).get("lang", cc.settings.lang)
        scope = scope or {}
        panel = locate_panel(cc, pid, lang, scope.get("code") or None)
        if panel is None or not scope:
            raise PreventUpdate
        opts = panel.options
        geo = geo_of(cc)
        shown = {} if scope_trigger() else dict(shown or {})
        hideout_out: Any = no_update
        try:
            results = layer_results(geo, panel, scope, FAST_LAYERS)
            if "boundaries" in opts.layers and hideout and hideout.get("fills"):
                measured = geo.measures(scope["level"], scope["parent"], opts.measure)
                results["fills"] = measured
                fills = geo.fills(measured.value, list(hideout["fills"]))
                changed = {c: f for c, f in fills.items() if hideout["fills"].get(c) != f}
                if changed:
                    hideout_out = Patch()
                    for c, f in changed.items():
                        hideout_out["fills"][c] = f
            (cases, alarms), shown_out = send_layers(results, shown, FAST_LAYERS)
        except Exception:  # noqa: BLE001 - keep what the map shows
            log.exception("map layers of %s failed", pid)
            return no_update, no_update, no_update, no_update, t("panel.source_down", lang)
        stale = next((r for r in results.values() if r.stale), None)
        mark = stale_mark(True, stale.fetched_at, lang, stale.error) if stale else ""
        return hideout_out, cases, alarms, shown_out, mark

    @app.callback(
        *(Output(_id(name), "data") for name in POINT_LAYERS),
        Output(_id("shown-points"), "data"),
        Input(_id("tick-points"), "n_intervals"),
        Input(_id("scope"), "data"),
        State(_id("shown-points"), "data"),
        prevent_initial_call=True,
    )
    def refresh_points(
        _n: int, scope: dict[str, Any] | None, shown: dict[str, Any] | None
    ) -> tuple[Any, ...]:
        pid = ctx.outputs_list[0]["id"]["pid"]
        scope = scope or {}
        panel = locate_panel(cc, pid, cc.settings.lang, scope.get("code") or None)
        if panel is None or not scope or not set(POINT_LAYERS) & set(panel.options.layers):
            raise PreventUpdate
        shown = {} if scope_trigger() else dict(shown or {})
        try:
            results = layer_results(geo_of(cc), panel, scope, POINT_LAYERS)
            data, shown_out = send_layers(results, shown, POINT_LAYERS)
        except Exception:  # noqa: BLE001 - keep what the map shows
            log.exception("map point layers of %s failed", pid)
            raise PreventUpdate from None
        return (*data, shown_out)

    # --- cards: a clicked case (and the page's focus hook), camera or other point --------
    @app.callback(
        Output(_id("card"), "children"),
        Input(_id("cases"), "clickData"),
        Input(_id("alarms"), "clickData"),
        *(Input(_id(name), "clickData") for name in POINT_LAYERS),
        Input(_id("card-close"), "n_clicks"),
        State("cc-wall-meta", "data"),
        prevent_initial_call=True,
    )
    def open_card(*args: Any) -> Any:
        trigger = ctx.triggered_id
        meta = args[-1]
        if trigger is None:
            raise PreventUpdate
        if trigger["role"] == "card-close":
            return None
        feature = ctx.triggered[0]["value"] or {}
        props = feature.get("properties") or {}
        if props.get("cluster") or "id" not in props:
            raise PreventUpdate
        lang = (meta or {}).get("lang", cc.settings.lang)
        panel = locate_panel(cc, trigger["pid"], lang)
        if panel is None:
            raise PreventUpdate
        if trigger["role"] == "cases":
            case = cc.services.case_detail(int(props["id"])).case
            department = (
                cc.services.name_of("department", case.department_code)
                if case.department_code
                else ""
            )
            return case_card(panel, case, case_state(case), department)
        if trigger["role"] == "cameras":
            return camera_card(panel, props)
        return point_card(panel, props)

    @app.callback(
        Output("cc-focus-case", "data", allow_duplicate=True),
        Input(_id("cases", ALL), "clickData"),
        Input(_id("alarms", ALL), "clickData"),
        prevent_initial_call=True,
    )
    def focus_case(_cases: list[Any], _alarms: list[Any]) -> Any:
        feature = (ctx.triggered[0]["value"] if ctx.triggered else None) or {}
        props = feature.get("properties") or {}
        if props.get("cluster") or "id" not in props:
            raise PreventUpdate
        if props.get("layer") == "alarm":  # an alarm already turned into a case opens it
            if not props.get("case_id"):
                raise PreventUpdate
            return {"case_id": int(props["case_id"])}
        return {"case_id": int(props["id"])}

    # --- the tour: an untouched wall visits the streets in turn --------------------------
    @app.callback(
        Output(_id("map"), "viewport", allow_duplicate=True),
        Output(_id("regions"), "hideout", allow_duplicate=True),
        Input(_id("tour"), "n_intervals"),
        State("cc-region", "data"),
        State("cc-focus-seen", "data"),
        prevent_initial_call=True,
    )
    def tour(n: int, region: dict[str, Any] | None, focus: Any = None) -> Any:
        if (region or {}).get("code"):
            raise PreventUpdate  # someone drilled in: the tour waits until they go back up
        if focus:
            raise PreventUpdate  # a console put a case or region on this wall: let it show
        geo = geo_of(cc)
        streets = geo.services.regions("street").value
        if not streets:
            raise PreventUpdate
        step = n % (len(streets) + 1)
        patch = Patch()
        if step == len(streets):  # the whole city again between rounds
            patch["touring"] = ""
            return {"bounds": geo.city_bounds(), "transition": "flyToBounds"}, patch
        street = streets[step]
        patch["touring"] = street.code
        return {"bounds": geo.latlng_bounds(street), "transition": "flyToBounds"}, patch

    _ = (
        drill,
        follow_region,
        detail_on_zoom,
        refresh_layers,
        refresh_points,
        open_card,
        focus_case,
        tour,
    )


def detail_update(
    geo: CityGeo,
    scope: dict[str, Any],
    view: list[list[float]],
    zoom: float | None,
    shown: dict[str, Any],
) -> tuple[Any, Any]:
    """What the finer-outline layer gets for a view: the outlines of the level the zoom can
    read (inside the scope) that the browser does not have yet, appended by ``Patch``; the
    whole set when the level or scope changed (or too many piled up); nothing, cleared, when
    zoomed back out. ``shown`` is the page's record ``{"key", "codes"}``.

    Only a view closer than the scope's own fit counts: a drill-down shows the level below
    by itself, and its first view stays as plain as the drill left it."""
    level = None
    bounds = scope.get("bounds")
    if zoom is not None and bounds and zoom > fitted_zoom(bounds, view, zoom):
        level = geo.detail_level(scope["level"], zoom)
    if level is None:
        if not shown.get("codes"):
            raise PreventUpdate
        return collection([]), {}
    key = f"{scope.get('code', '')}|{level}"
    features = geo.boundaries_in_view(level, scope.get("parent") or None, view)
    have = set(shown.get("codes") or ()) if shown.get("key") == key else None
    if have is None or len(have) + len(features) > DETAIL_MAX_FEATURES:
        codes = [f["properties"]["code"] for f in features]
        return collection(features), {"key": key, "codes": codes}
    new = [f for f in features if f["properties"]["code"] not in have]
    if not new:
        raise PreventUpdate
    data, record = Patch(), Patch()
    for feature in new:
        data["features"].append(feature)
        record["codes"].append(feature["properties"]["code"])
    return data, record


def _unpatrolled(cc: Any, codes: list[str], parent: str) -> dict[str, int]:
    store = store_of(cc)
    if store is None:
        return {}
    covered = store.covered_grids(store.latest_day(cc.services.clock().date()), parent or None)
    return {c: 1 for c in codes if c not in covered}
