"""The living map's services (全景城市 / 网格管理): region look-ups, boundaries simplified per
zoom level and cached, measures per region, point layers as GeoJSON, diffs for live updates,
KPI extras and grid profiles fit for a wall.

Plain Python over ``DataServices`` (cached reads) so the map callbacks stay thin and this is
unit-tested without a browser. Geometry leaves here in the datum of the configured base map:
stored WGS-84, converted to GCJ-02 when ``CC_TILE_DATUM=gcj02`` (DOMAIN.md, coordinates).
"""

from __future__ import annotations

import math
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry import mapping, shape

from adapters.case.contract import Case, CaseFilter, CaseStatus, SlaState
from adapters.gis.contract import LEVELS, PointFeature, Region
from command_center.domain.codes import mask_name, mask_phone
from command_center.domain.coords import from_wgs84
from command_center.services import DataServices, Result

LEVEL_BELOW = {"district": "street", "street": "community", "community": "grid", "grid": None}
MEASURES = ("open", "overdue", "per_1000")
POINT_LAYERS = {"workers": "worker", "cameras": "camera", "sensors": "sensor"}
POINT_LAYERS["key_places"] = "key_place"

CASE_COLOURS = {
    "overdue": "#ff4d4f",
    "due_soon": "#ffb020",
    "on_time": "#3fa9ff",
    "waiting": "#b38cff",
}
SPECIAL_CARE_TAGS = ("残疾人", "低保", "特困", "留守儿童", "社区矫正", "刑满释放", "精神障碍")


def level_of(code: str) -> str:
    """A region's level from its code length: 6 district, 9 street, 12 community, 14/15 grid."""
    n = len(code)
    if n == 6:
        return "district"
    if n == 9:
        return "street"
    if n == 12:
        return "community"
    if n in (14, 15):
        return "grid"
    raise ValueError(f"not a region code: {code!r}")


def ancestors(code: str) -> list[str]:
    """The codes from the district down to ``code`` itself (codes nest by prefix)."""
    return [code[:n] for n in (6, 9, 12) if len(code) > n] + [code]


def tolerance_for_zoom(zoom: float) -> float:
    """Half a screen pixel at ``zoom`` (256 px Web Mercator tiles), in degrees: what the eye
    cannot see, simplification may drop."""
    return 360.0 / (256 * 2 ** max(0.0, float(zoom))) * 0.5


def zoom_for_bounds(bounds: list[list[float]], pixels: int = 900) -> int:
    """The Web Mercator zoom at which ``[[south, west], [north, east]]`` fits ``pixels``."""
    (south, west), (north, east) = bounds
    span = max(east - west, (north - south) / max(0.2, math.cos(math.radians(south))), 1e-6)
    return int(max(1, min(18, math.floor(math.log2(360.0 * pixels / 256 / span)))))


def view_level(shown_level: str, region_code: str | None) -> str:
    """Which boundaries to draw: the panel's level, or the children of the drilled region."""
    if not region_code:
        return shown_level
    below = LEVEL_BELOW[level_of(region_code)] or "grid"
    return below if LEVELS.index(below) >= LEVELS.index(shown_level) else shown_level


def _convert(datum: str) -> Any:
    def convert(coords: np.ndarray) -> np.ndarray:
        return np.array([from_wgs84(float(x), float(y), datum) for x, y in coords])

    return convert


def feature_signature(feature: dict[str, Any]) -> int:
    """A short fingerprint of what a feature looks like: unchanged features are not resent."""
    props = feature.get("properties", {})
    geom = feature.get("geometry", {})
    text = repr((sorted(props.items()), geom.get("coordinates")))
    return zlib.crc32(text.encode())


@dataclass(frozen=True)
class Diff:
    """How to turn the features the browser shows into the new ones, index by index."""

    replace: list[tuple[int, dict[str, Any]]]
    delete: list[int]  # indexes in the list after replacements, highest first
    append: list[dict[str, Any]]
    shown: list[list[Any]]  # the new [[id, signature], ...] in browser order

    @property
    def empty(self) -> bool:
        return not (self.replace or self.delete or self.append)


def diff_features(shown: list[list[Any]] | None, features: list[dict[str, Any]]) -> Diff:
    """Changes from ``shown`` ([[id, signature], ...], browser order) to ``features``:
    changed features replaced in place, gone ones deleted (highest index first, so indexes
    stay valid), new ones appended. Only these go over the wire (dash ``Patch``)."""
    shown = shown or []
    new = {f["properties"]["id"]: f for f in features}
    sigs = {fid: feature_signature(f) for fid, f in new.items()}
    replace, delete = [], []
    kept: list[list[Any]] = []
    for index, (fid, sig) in enumerate(shown):
        if fid not in new:
            delete.append(index)
            continue
        if sigs[fid] != sig:
            replace.append((index, new[fid]))
        kept.append([fid, sigs[fid]])
    present = {fid for fid, _ in shown}
    append = [f for fid, f in new.items() if fid not in present]
    kept.extend([f["properties"]["id"], sigs[f["properties"]["id"]]] for f in append)
    return Diff(replace, sorted(delete, reverse=True), append, kept)


def collection(features: list[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": features}


def shade(value: float, top: float, classes: int = 6) -> int:
    """The choropleth class of ``value`` (0 = nothing; the top classes are the hot spots).
    Colours per theme live in assets/cc_map.js: only the small class numbers travel."""
    if top <= 0 or value <= 0:
        return 0
    return min(classes - 1, 1 + int((classes - 2) * value / top))


def case_state(case: Case) -> str:
    if case.sla_state == SlaState.OVERDUE:
        return "overdue"
    if case.sla_state == SlaState.DUE_SOON:
        return "due_soon"
    if case.status in (CaseStatus.REPORTED, CaseStatus.ACCEPTED, CaseStatus.REGISTERED):
        return "waiting"
    return "on_time"


class CityGeo:
    """The map's data, shaped for the browser. One per app (``install`` puts it on ``cc``)."""

    def __init__(self, services: DataServices, datum: str = "wgs84", max_cached: int = 48):
        self.services = services
        self.datum = datum
        self._boundaries: OrderedDict[tuple[Any, ...], dict[str, Any]] = OrderedDict()
        self._max_cached = max_cached
        self._lock = threading.Lock()
        self.serialisations = 0  # how often boundaries were built: the cache's proof

    # --- coordinates ---------------------------------------------------------------------
    def point(self, lon: float, lat: float) -> list[float]:
        """A stored WGS-84 point in the base map's datum, rounded to ~1 m."""
        if self.datum != "wgs84":
            lon, lat = from_wgs84(lon, lat, self.datum)
        return [round(lon, 5), round(lat, 5)]

    def latlng_bounds(self, region: Region) -> list[list[float]]:
        west, south, east, north = shape(region.geometry).bounds
        (w, s), (e, n) = self.point(west, south), self.point(east, north)
        return [[s, w], [n, e]]

    # --- regions -------------------------------------------------------------------------
    def region(self, code: str) -> Region:
        return self.services.region(code).value

    def breadcrumb(self, code: str | None) -> list[dict[str, str]]:
        """District > street > community > grid down to ``code`` ([] for the whole city)."""
        if not code:
            return []
        crumbs = []
        for c in ancestors(code):
            try:
                name = self.region(c).name
            except Exception:  # noqa: BLE001 - a missing parent still leaves a usable trail
                name = c
            crumbs.append({"code": c, "name": name, "level": level_of(c)})
        return crumbs

    def boundaries(self, level: str, parent_code: str | None, zoom: float) -> dict[str, Any]:
        """Region outlines of ``level`` (inside ``parent_code``), simplified for ``zoom`` and
        converted to the base map's datum. Built once per (level, parent, zoom) and cached:
        live updates never re-serialise them."""
        key = (level, parent_code or "", int(zoom), self.datum)
        with self._lock:
            cached = self._boundaries.get(key)
            if cached is not None:
                self._boundaries.move_to_end(key)
                return cached
        regions = self.services.regions(level, parent_code or None).value
        tolerance = tolerance_for_zoom(int(zoom))
        features = []
        for region in regions:
            geom = shape(region.geometry).simplify(tolerance, preserve_topology=True)
            if self.datum != "wgs84":
                geom = shapely.transform(geom, _convert(self.datum))
            geom = shapely.set_precision(geom, 1e-5)  # ~1 m: fewer bytes, nothing visible
            features.append(
                {
                    "type": "Feature",
                    "geometry": mapping(geom),
                    "properties": {
                        "id": region.code,
                        "code": region.code,
                        "name": region.name,
                        "level": region.level,
                        "synthetic": region.synthetic,
                    },
                }
            )
        data = collection(features)
        with self._lock:
            self.serialisations += 1
            self._boundaries[key] = data
            while len(self._boundaries) > self._max_cached:
                self._boundaries.popitem(last=False)
        return data

    def synthetic(self, level: str, parent_code: str | None) -> bool:
        """True when any shown boundary is invented (the demo city): the map must say so."""
        return any(r.synthetic for r in self.services.regions(level, parent_code or None).value)

    # --- measures ------------------------------------------------------------------------
    def measures(
        self, level: str, parent_code: str | None, measure: str
    ) -> Result[dict[str, float]]:
        """The measure per region of ``level`` inside ``parent_code``: open cases, overdue
        open cases, or open cases per 1,000 residents."""
        dimension = f"{level}_code"
        counts = self.services.open_breakdown(dimension, parent_code or None)
        frame = counts.value
        column = "overdue_open" if measure == "overdue" else "open"
        values: dict[str, float] = {}
        if not frame.empty:
            values = {
                str(k): float(v) for k, v in zip(frame[dimension], frame[column], strict=False)
            }
        if measure == "per_1000":
            people = {r.code: r.population for r in self.services.regions(level, parent_code).value}
            values = {
                code: round(v * 1000.0 / people[code], 2) if people.get(code) else 0.0
                for code, v in values.items()
            }
        return Result(values, counts.fetched_at, counts.stale, counts.error)

    @staticmethod
    def fills(values: dict[str, float], codes: list[str]) -> dict[str, int]:
        """Choropleth class per region code (regions without cases get class 0)."""
        top = max(values.values(), default=0.0)
        return {code: shade(values.get(code, 0.0), top) for code in codes}

    # --- point layers ----------------------------------------------------------------------
    def case_features(self, region_code: str | None, limit: int) -> Result[list[dict[str, Any]]]:
        """Open cases as points, coloured by SLA state, shaped by kind (event/component)."""
        result = self.services.cases(
            CaseFilter(region_code=region_code or None, open_only=True, limit=limit)
        )
        features = []
        for case in result.value:
            state = case_state(case)
            features.append(
                {
                    "type": "Feature",
                    "geometry": {"type": "Point", "coordinates": self.point(case.lon, case.lat)},
                    "properties": {
                        "id": case.id,
                        "state": state,
                        "kind": str(getattr(case.kind, "value", case.kind)),
                        "colour": CASE_COLOURS[state],
                        "tooltip": f"{case.number}<br>{case.class_name}<br>{case.address}",
                    },
                }
            )
        return Result(features, result.fetched_at, result.stale, result.error)

    def point_features(self, layer: str, region_code: str | None) -> Result[list[dict[str, Any]]]:
        """Workers, cameras, sensors or key places as GeoJSON points. Names of people are
        masked (a wall is a public display)."""
        result = self.services.points(POINT_LAYERS[layer], region_code or None)
        features = [self._point(p) for p in result.value]
        return Result(features, result.fetched_at, result.stale, result.error)

    def _point(self, p: PointFeature) -> dict[str, Any]:
        name = mask_name(p.name) if p.layer == "worker" else p.name
        detail = p.props.get("kind") or p.props.get("sensor_type") or p.props.get("role") or ""
        return {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": self.point(p.lon, p.lat)},
            "properties": {
                "id": p.id,
                "layer": p.layer,
                "status": p.status,
                "kind": str(p.props.get("kind", "")),
                "tooltip": f"{name}<br>{detail}" if detail else name,
            },
        }

    def alarm_features(self, alarms: Any, region_code: str | None) -> list[dict[str, Any]]:
        """Open alarms with a point (the alarm service's own GeoJSON), in the base map's
        datum, with what a marker, its tooltip and its card need."""
        if alarms is None:
            return []
        from layouts.alarms import alarms_geojson

        features = alarms_geojson(alarms.open_alarms(region_code or None))["features"]
        for f in features:
            lon, lat = f["geometry"]["coordinates"]
            f["geometry"]["coordinates"] = self.point(lon, lat)
            p = f["properties"]
            p["layer"], p["status"] = "alarm", p["level"]
            p["tooltip"] = f"{p['level_text']} · {p['title']}<br>{p['at']}"
        return features

    # --- KPIs ----------------------------------------------------------------------------
    def kpi_extras(self, region_code: str | None) -> dict[str, int]:
        return kpi_extras(self.services, region_code)


def kpi_extras(services: DataServices, region_code: str | None) -> dict[str, int]:
    """Workers on duty and devices online (cameras and sensors; one in alarm is online)."""
    workers = services.points("worker", region_code or None).value
    devices = [
        *services.points("camera", region_code or None).value,
        *services.points("sensor", region_code or None).value,
    ]
    return {
        "workers_on_duty": sum(w.status == "on_duty" for w in workers),
        "workers": len(workers),
        "devices_online": sum(d.status in ("online", "alarm") for d in devices),
        "devices": len(devices),
    }


# --- grid management (网格管理) ---------------------------------------------------------------


@dataclass
class TreeNode:
    """One region in the browsable hierarchy, with its counts."""

    code: str
    name: str
    level: str
    open: int = 0
    population: int = 0
    grids: int = 0
    children: list[TreeNode] | None = None  # None: not expanded (off the current path)


def grid_tree(services: DataServices, region_code: str | None) -> Result[TreeNode]:
    """District > streets > communities, each with open cases, residents and unit grids;
    the grids of a community are listed only on the path to ``region_code`` (a district
    has thousands)."""
    districts = services.regions("district").value
    streets = services.regions("street").value
    communities = services.regions("community").value
    grids = services.regions("grid").value
    by_street = services.open_breakdown("street_code")
    by_community = services.open_breakdown("community_code")
    open_counts: dict[str, int] = {}
    for result, dim in ((by_street, "street_code"), (by_community, "community_code")):
        frame = result.value
        if not frame.empty:
            open_counts.update(
                {str(k): int(v) for k, v in zip(frame[dim], frame["open"], strict=False)}
            )
    grid_count: dict[str, int] = {}
    for g in grids:
        for prefix in (g.code[:6], g.code[:9], g.code[:12]):
            grid_count[prefix] = grid_count.get(prefix, 0) + 1
    path = set(ancestors(region_code)) if region_code else set()
    district = districts[0] if districts else None
    root = TreeNode(
        code=district.code if district else "",
        name=district.name if district else "",
        level="district",
        open=sum(open_counts.get(s.code, 0) for s in streets),
        population=district.population if district else 0,
        grids=len(grids),
        children=[],
    )
    for street in streets:
        node = TreeNode(
            street.code,
            street.name,
            "street",
            open_counts.get(street.code, 0),
            street.population,
            grid_count.get(street.code, 0),
            children=[],
        )
        for community in (c for c in communities if c.code.startswith(street.code)):
            child = TreeNode(
                community.code,
                community.name,
                "community",
                open_counts.get(community.code, 0),
                community.population,
                grid_count.get(community.code, 0),
            )
            if community.code in path:
                child.children = [
                    TreeNode(g.code, g.name, "grid", population=g.population, grids=1)
                    for g in grids
                    if g.code.startswith(community.code)
                ]
            assert node.children is not None
            node.children.append(child)
        assert root.children is not None
        root.children.append(node)
    fetched = by_community.fetched_at
    stale = by_street.stale or by_community.stale
    return Result(root, fetched, stale, by_street.error or by_community.error)


def search_grids(services: DataServices, query: str, limit: int = 12) -> list[Region]:
    """Unit grids whose code starts with, or whose name contains, ``query``."""
    query = (query or "").strip()
    if not query:
        return []
    found = [
        g
        for g in services.regions("grid").value
        if g.code.startswith(query) or query in g.name or (query.isdigit() and query in g.code)
    ]
    return found[:limit]


def grid_profile_view(
    services: DataServices, grid_code: str, patrol: Any = None, recent: int = 5
) -> Result[dict[str, Any]]:
    """A grid's profile fit for a wall: masked team, people by category (counts), houses,
    organisations, components, open and recent cases, and today's patrol coverage."""

    def fetch() -> dict[str, Any]:
        profile = services.adapters.gis.grid_profile(grid_code)
        view = wall_safe_profile(profile)
        cases = services.adapters.case.list_cases(CaseFilter(region_code=grid_code, limit=recent))
        view["recent_cases"] = [
            {
                "number": c.number,
                "class_name": c.class_name,
                "status": str(c.status),
                "reported_at": c.reported_at,
            }
            for c in cases
        ]
        view["patrol"] = None
        if patrol is not None:
            day = patrol.latest_day(services.clock().date())
            tracks = patrol.tracks(day, region_code=grid_code)
            view["patrol"] = {
                "day": day,
                "walked": bool(tracks),
                "workers": len(tracks),
                "points": sum(len(v) for v in tracks.values()),
                "last_at": max((p[-1][0] for p in tracks.values()), default=None),
            }
        return view

    # cached like every other read; new cases and moves invalidate it
    return services._read(("grid_profile", grid_code, recent), "gis", fetch)  # noqa: SLF001


def patrol_summary(
    services: DataServices, patrol: Any, region_code: str | None, limit: int = 12
) -> Result[dict[str, Any]]:
    """Today's attendance (masked names) and coverage: grids walked, grids not walked."""

    def fetch() -> dict[str, Any]:
        today = patrol.latest_day(services.clock().date())
        rows = patrol.attendance(today, region_code)
        grids = services.regions("grid", region_code).value
        covered = patrol.covered_grids(today, region_code)
        missing = [g for g in grids if g.code not in covered]
        rows.sort(key=lambda a: (a.first_at is None, -a.km))
        return {
            "day": today,
            "grids": len(grids),
            "covered": len(grids) - len(missing),
            "missing": [{"code": g.code, "name": g.name} for g in missing[:limit]],
            "missing_total": len(missing),
            "workers": len(rows),
            "walked": sum(1 for a in rows if a.points),
            "rows": [
                {
                    "name": mask_name(a.name),
                    "role": a.role,
                    "first_at": a.first_at,
                    "last_at": a.last_at,
                    "km": a.km,
                    "grids": a.grids,
                    "on_duty": a.on_duty,
                }
                for a in rows[:limit]
            ],
        }

    # a district's attendance reads every position of the day (~1.5 s at demo size); patrols
    # move slowly, so a minute-old summary is fine
    return services._read(("patrol", region_code, limit), "gis", fetch, ttl=60)  # noqa: SLF001


def track_features(geo: CityGeo, patrol: Any, region_code: str | None) -> list[dict[str, Any]]:
    """Today's patrol tracks inside a street, community or grid, one line per worker."""
    if patrol is None or not region_code or len(region_code) < 9:
        return []
    day = patrol.latest_day(geo.services.clock().date())
    tracks = patrol.tracks(day, region_code=region_code)
    features = []
    for worker_id, points in tracks.items():
        if len(points) < 2:
            continue
        features.append(
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [geo.point(lon, lat) for _at, lon, lat in points],
                },
                "properties": {
                    "id": worker_id,
                    "layer": "track",
                    "tooltip": f"{points[0][0]:%H:%M}–{points[-1][0]:%H:%M}",
                },
            }
        )
    return features


def wall_safe_profile(profile: Any) -> dict[str, Any]:
    """A grid profile for a wall: counts and masked names and phones only."""
    phones = getattr(profile, "worker_phones", {}) or {}
    return {
        "code": profile.grid.code,
        "name": profile.grid.name,
        "synthetic": profile.grid.synthetic,
        "workers": [
            {
                "name": mask_name(w.name),
                "role": w.props.get("role", ""),
                "phone": mask_phone(phones.get(w.id, "")),
                "on_duty": w.status == "on_duty",
            }
            for w in profile.workers
        ],
        "households": profile.households,
        "people": profile.people,
        "registered": getattr(profile, "people_registered", 0),
        "floating": getattr(profile, "people_floating", 0),
        "elderly_alone": getattr(profile, "elderly_alone", 0),
        "special_care": getattr(profile, "special_care", 0),
        "houses": profile.houses,
        "organisations": profile.organisations,
        "components": profile.components,
        "open_cases": profile.open_cases,
        "key_places": [p.name for p in profile.key_places],
    }


def geo_of(cc: Any) -> CityGeo:
    """The app's ``CityGeo`` (made on first use, so tests that build bare apps work too)."""
    geo = getattr(cc, "geo", None)
    if geo is None:
        geo = CityGeo(cc.services, cc.settings.tile_datum)
        cc.geo = geo
    return geo


def install(cc: Any) -> None:
    """Attach the map services and the patrol recorder to the app."""
    from command_center import patrol

    geo_of(cc)
    patrol.install(cc)
