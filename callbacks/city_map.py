"""The city map's live layers: boundaries shaded by the measure, and open cases.

Only the layers' ``data`` change, so the view (zoom, pan) is never reset; a layer whose
content has not changed is not sent again (its hash is kept in the page).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from dash import MATCH, Input, Output, State, ctx, no_update
from dash.exceptions import PreventUpdate

from adapters.case.contract import CaseFilter
from callbacks.panels import locate_panel
from command_center.i18n import t
from layouts.city_map import cases_geojson, regions_geojson
from layouts.common import stale_mark


def _digest(data: Any) -> str:
    return hashlib.sha1(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def register(app: Any, cc: Any) -> None:
    kind = "city_map"

    @app.callback(
        Output({"role": "regions", "kind": kind, "pid": MATCH}, "data"),
        Output({"role": "cases", "kind": kind, "pid": MATCH}, "data"),
        Output({"role": "hash", "kind": kind, "pid": MATCH}, "data"),
        Output({"role": "stale", "kind": kind, "pid": MATCH}, "children"),
        Input({"role": "tick", "kind": kind, "pid": MATCH}, "n_intervals"),
        State({"role": "hash", "kind": kind, "pid": MATCH}, "data"),
        State("cc-wall-meta", "data"),
        State("cc-region", "data"),
    )
    def refresh_layers(
        _n: int,
        hashes: dict[str, str] | None,
        meta: dict[str, Any] | None,
        region: dict[str, Any] | None,
    ) -> tuple[Any, ...]:
        pid = ctx.outputs_list[0]["id"]["pid"]
        lang = (meta or {}).get("lang", cc.settings.lang)
        panel = locate_panel(cc, pid, lang, (region or {}).get("code"))
        if panel is None:
            raise PreventUpdate
        opts = panel.options
        services = cc.services
        hashes = dict(hashes or {})
        stale, fetched_at, error = False, None, ""
        regions_out: Any = no_update
        cases_out: Any = no_update
        try:
            if "boundaries" in opts.layers:
                regions = services.regions(opts.level)
                counts = services.open_breakdown(f"{opts.level}_code")
                column = "open" if opts.measure == "open" else "overdue_open"
                frame = counts.value
                values = {
                    str(k): int(v)
                    for k, v in zip(frame[f"{opts.level}_code"], frame[column], strict=False)
                }
                data = regions_geojson(
                    regions.value, values, t(f"map.measure.{opts.measure}", lang)
                )
                digest = _digest(data)
                if hashes.get("regions") != digest:
                    regions_out, hashes["regions"] = data, digest
                stale |= counts.stale
                fetched_at, error = counts.fetched_at, counts.error
            if "cases" in opts.layers:
                result = services.cases(
                    CaseFilter(region_code=panel.region_code, open_only=True, limit=opts.max_cases)
                )
                data = cases_geojson(result.value)
                digest = _digest(data)
                if hashes.get("cases") != digest:
                    cases_out, hashes["cases"] = data, digest
                stale |= result.stale
                fetched_at, error = result.fetched_at, result.error or error
        except Exception:  # noqa: BLE001 - keep what the map shows
            return no_update, no_update, no_update, t("panel.source_down", lang)
        mark = stale_mark(stale, fetched_at, lang, error) if fetched_at else ""
        return regions_out, cases_out, hashes, mark

    _ = refresh_layers
