"""The living map's services (全景城市 / 网格管理): region look-ups, boundaries simplified per
zoom level and cached, measures per region, point layers as GeoJSON, diffs for live updates,
KPI extras and grid profiles fit for a wall.

Plain Python over ``DataServices`` (cached reads) so the map callbacks stay thin and this is
unit-tested without a browser. Geometry leaves here in the datum of the configured base map:
stored WGS-84, converted to GCJ-02 when ``CC_TILE_DATUM=gcj02`` (DOMAIN.md, coordinates).
"""

from __future__ import annotations

import itertools
import logging
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

log = logging.getLogger(__name__)

LEVEL_BELOW = {"district": "street", "street": "community", "community": "grid", "grid": None}
MEASURES = ("open", "overdue", "per_1000")
POINT_LAYERS = {"workers": "worker", "cameras": "camera", "sensors": "sensor"}
POINT_LAYERS["key_places"] = "key_place"

#: a finer level's outlines are drawn once its regions are this wide on screen (40 px:
#: a community at zoom 14, a ~100 m unit grid at zoom 16)
DETAIL_MIN_PX = 40
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


def decimals_for_zoom(zoom: float) -> int:
    """Decimal places of a degree that still resolve one screen pixel at ``zoom``: fewer
    digits per coordinate for a zoomed-out view (4 at a district, 6 in a grid)."""
    return max(4, min(6, math.ceil(-math.log10(2 * tolerance_for_zoom(zoom)))))


def metres_per_pixel(zoom: float, lat: float) -> float:
    """Ground size of one screen pixel at ``zoom`` and latitude ``lat`` (Web Mercator)."""
    return 156543.03392 * math.cos(math.radians(lat)) / 2 ** float(zoom)


def zoom_for_bounds(bounds: list[list[float]], pixels: int = 900) -> int:
    """The Web Mercator zoom at which ``[[south, west], [north, east]]`` fits ``pixels``."""
    (south, west), (north, east) = bounds
    span = max(east - west, (north - south) / max(0.2, math.cos(math.radians(south))), 1e-6)
    return int(max(1, min(18, math.floor(math.log2(360.0 * pixels / 256 / span)))))


def _mercator_y(lat: float) -> float:
    lat = max(-85.0, min(85.0, lat))
    return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / (2 * math.pi)


#: Map zooms stop at halves: a fitted district or region fills at least ~70 % of the panel
#: (whole levels left up to half of a wall's map empty around it).
ZOOM_SNAP = 0.5


def fitted_zoom(bounds: list[list[float]], view: list[list[float]], zoom: float) -> float:
    """The zoom at which ``bounds`` fill the map that shows ``view`` at ``zoom`` (both
    ``[[south, west], [north, east]]``): what fitting the scope gave. A view zoomed in
    further than this was zoomed in by hand (or by the tour), not by a drill-down."""
    (s, w), (n, e) = bounds
    (vs, vw), (vn, ve) = view
    scale = 2.0 ** float(zoom)  # map pixels per world width, over 256
    width, height = (ve - vw) / 360.0 * scale, (_mercator_y(vn) - _mercator_y(vs)) * scale
    span_x = max((e - w) / 360.0, 1e-12)
    span_y = max(_mercator_y(n) - _mercator_y(s), 1e-12)
    return math.floor(math.log2(min(width / span_x, height / span_y)) / ZOOM_SNAP) * ZOOM_SNAP


def view_level(shown_level: str, region_code: str | None) -> str:
    """Which boundaries to draw: the panel's level, or the children of the drilled region."""
    if not region_code:
        return shown_level
    below = LEVEL_BELOW[level_of(region_code)] or "grid"
    return below if LEVELS.index(below) >= LEVELS.index(shown_level) else shown_level


def _convert(datum: str) -> Any:
    def convert(coords: np.ndarray) -> np.ndarray:
        converted = [from_wgs84(float(x), float(y), datum) for x, y in coords]
        return np.array(converted, dtype=float).reshape(-1, 2)

    return convert


def _shapes(regions: list[Region]) -> np.ndarray:
    """The regions' outlines as shapely geometries, simple polygons (the usual case) built
    in one call from their coordinates; anything else one by one."""
    out = np.empty(len(regions), dtype=object)
    simple = [
        i
        for i, r in enumerate(regions)
        if r.geometry.get("type") == "Polygon" and len(r.geometry["coordinates"]) == 1
    ]
    if simple:
        rings = [regions[i].geometry["coordinates"][0] for i in simple]
        coords = np.array(list(itertools.chain.from_iterable(rings)), dtype=float)[:, :2]
        which = np.repeat(np.arange(len(rings)), [len(ring) for ring in rings])
        out[simple] = shapely.polygons(shapely.linearrings(coords, indices=which))
    rest = set(range(len(regions))) - set(simple)
    for i in rest:
        out[i] = shape(regions[i].geometry)
    return out


def _outline_coordinates(
    geoms: np.ndarray, datum: str, decimals: int
) -> tuple[list[dict[str, Any]], np.ndarray]:
    """GeoJSON geometries of ``geoms`` in ``datum``, rounded to ``decimals``, and their
    boxes. Single-ring polygons go through numpy at once; anything else one by one."""
    convert = _convert(datum) if datum != "wgs84" else None
    geometries: list[Any] = [None] * len(geoms)
    boxes = np.zeros((len(geoms), 4))
    simple = np.flatnonzero(
        (shapely.get_type_id(geoms) == 3) & (shapely.get_num_interior_rings(geoms) == 0)
    )
    if len(simple):
        coords, which = shapely.get_coordinates(geoms[simple], return_index=True)
        if convert is not None:
            coords = convert(coords)
        coords = np.round(coords, decimals)
        starts = np.r_[0, np.flatnonzero(np.diff(which)) + 1]
        boxes[simple] = np.column_stack(
            [np.minimum.reduceat(coords, starts), np.maximum.reduceat(coords, starts)]
        )
        flat = coords.tolist()  # one conversion, then slices: not 11,000 small arrays
        ends = [*starts[1:].tolist(), len(flat)]
        for i, start, end in zip(simple.tolist(), starts.tolist(), ends, strict=True):
            geometries[i] = {"type": "Polygon", "coordinates": [flat[start:end]]}
    for i in sorted(set(range(len(geoms))) - set(simple.tolist())):
        geom = geoms[i]
        if convert is not None:
            geom = shapely.transform(geom, convert)
        geom = shapely.set_precision(geom, 10.0**-decimals)
        geometries[i] = mapping(geom)
        boxes[i] = shapely.bounds(geom)
    return geometries, boxes


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


def tooltip_lines(*lines: Any) -> list[str]:
    """A map tooltip as lines of plain text (empty ones left out). The browser puts each into a
    text node (``cc.map.bindTooltip`` in assets/cc_map.js): what data says (an alarm's title,
    a name) is shown as written, never read as markup."""
    return [str(line) for line in lines if line not in (None, "")]


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
        self._boundaries: OrderedDict[tuple[Any, ...], tuple[dict[str, Any], np.ndarray]] = (
            OrderedDict()
        )
        self._max_cached = max_cached
        self._lock = threading.Lock()
        self._widths: dict[str, float] = {}
        self._warming = False
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

    def city_bounds(self) -> list[list[float]] | None:
        """``[[south, west], [north, east]]`` around every district: the whole city."""
        boxes = [self.latlng_bounds(d) for d in self.services.regions("district").value]
        if not boxes:
            return None
        return [
            [min(b[0][0] for b in boxes), min(b[0][1] for b in boxes)],
            [max(b[1][0] for b in boxes), max(b[1][1] for b in boxes)],
        ]

    # --- regions -------------------------------------------------------------------------
    def region(self, code: str) -> Region:
        return self.services.region(code).value

    def several_districts(self) -> bool:
        """True when the city has more than one district: the top of the map and of the
        tree is then the city (全市) with its districts, not the one district (全区)."""
        return several_districts(self.services)

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
        return self._outlines(level, parent_code, zoom)[0]

    def _outlines(
        self, level: str, parent_code: str | None, zoom: float
    ) -> tuple[dict[str, Any], np.ndarray]:
        """The cached outlines and their boxes ``[west, south, east, north]`` (base map's
        datum), built in bulk: the 11,005 grids of a large district take ~0.3 s, not 9."""
        key = (level, parent_code or "", int(zoom), self.datum)
        with self._lock:
            cached = self._boundaries.get(key)
            if cached is not None:
                self._boundaries.move_to_end(key)
                return cached
        regions = self.services.regions(level, parent_code or None).value
        geoms = shapely.simplify(
            _shapes(regions), tolerance_for_zoom(int(zoom)), preserve_topology=True
        )
        coordinates, boxes = _outline_coordinates(geoms, self.datum, decimals_for_zoom(zoom))
        features = [
            {
                "type": "Feature",
                "geometry": geometry,
                # what the style, tooltip and drill-down read; nothing else travels
                "properties": {"code": r.code, "name": r.name, "level": r.level},
            }
            for r, geometry in zip(regions, coordinates, strict=True)
        ]
        built = (collection(features), boxes)
        with self._lock:
            self.serialisations += 1
            self._boundaries[key] = built
            while len(self._boundaries) > self._max_cached:
                self._boundaries.popitem(last=False)
        return built

    # --- finer boundaries when the view is zoomed in by hand -------------------------------
    def typical_width_m(self, level: str) -> float:
        """How wide a region of ``level`` usually is: the square root of the median area."""
        width = self._widths.get(level)
        if width is None:
            areas = sorted(r.area_m2 for r in self.services.regions(level).value if r.area_m2)
            width = math.sqrt(areas[len(areas) // 2]) if areas else 0.0
            self._widths[level] = width
        return width

    def detail_zoom(self, level: str) -> int | None:
        """The first zoom at which regions of ``level`` are ``DETAIL_MIN_PX`` wide on screen."""
        width = self.typical_width_m(level)
        if width <= 0:
            return None
        districts = self.services.regions("district").value
        lat = districts[0].centroid[1] if districts else 39.9
        for zoom in range(1, 21):
            if width / metres_per_pixel(zoom, lat) >= DETAIL_MIN_PX:
                return zoom
        return None

    def detail_level(self, shown_level: str, zoom: float | None) -> str | None:
        """The finest level below ``shown_level`` whose regions are big enough to read at
        ``zoom`` (community, then grid); ``None`` when the shown level is as fine as it gets."""
        if zoom is None:
            return None
        finest = None
        for level in LEVELS[LEVELS.index(shown_level) + 1 :]:
            at = self.detail_zoom(level)
            if at is not None and zoom >= at:
                finest = level
        return finest

    def boundaries_in_view(
        self, level: str, parent_code: str | None, view: list[list[float]]
    ) -> list[dict[str, Any]]:
        """Outlines of ``level`` (inside ``parent_code``) that touch ``view``
        (``[[south, west], [north, east]]`` in the base map's datum), simplified for the zoom
        their level appears at plus two: exact to half a pixel up to four zooms deeper, so
        zooming further in needs nothing new. The whole level is built once and cached."""
        zoom = (self.detail_zoom(level) or 16) + 2
        # one build of the whole city serves every scope (``warm`` may have made it already)
        data, boxes = self._outlines(level, None, zoom)
        (south, west), (north, east) = view
        # a margin of an eighth of the view: a small pan needs no new request
        dx, dy = (east - west) / 8, (north - south) / 8
        inside = (
            (boxes[:, 0] <= east + dx)
            & (boxes[:, 2] >= west - dx)
            & (boxes[:, 1] <= north + dy)
            & (boxes[:, 3] >= south - dy)
        )
        features = [data["features"][i] for i in np.flatnonzero(inside)]
        if parent_code:
            features = [f for f in features if f["properties"]["code"].startswith(parent_code)]
        return features

    def warm(self) -> None:
        """Build what a first zoom by hand needs: how wide regions are, and the finer
        levels' outlines of the whole city (at the large city ~3 s, once)."""
        for level in LEVELS[1:]:
            zoom = self.detail_zoom(level)
            if zoom is not None:
                self._outlines(level, None, zoom + 2)

    def warm_soon(self, delay: float = 10.0) -> None:
        """``warm`` in the background, once, a little after the first map has been drawn:
        the officer who first zooms in by hand does not wait, the first paint neither."""
        with self._lock:
            if self._warming:
                return
            self._warming = True

        def run() -> None:
            try:
                self.warm()
            except Exception:  # noqa: BLE001 - a cold cache is slower, never wrong
                log.warning("could not prepare the finer outlines", exc_info=True)

        timer = threading.Timer(delay, run)
        timer.daemon = True
        timer.start()

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
        """Open cases as points, coloured by SLA state, shaped by kind (event/component).
        Thousands go to a district's map: only what the marker and its tooltip need travels
        (colours per state live in assets/cc_map.js; the address is on the case's card)."""
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
                        "number": case.number,
                        "class_name": case.class_name,
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
                "tooltip": tooltip_lines(name, detail),
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
            p["tooltip"] = tooltip_lines(f"{p['level_text']} · {p['title']}", p["at"])
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


def several_districts(services: DataServices) -> bool:
    """More than one district in the hierarchy (a city level above them)."""
    return len(services.regions("district").value) > 1


def grid_tree(services: DataServices, region_code: str | None) -> Result[TreeNode]:
    """District > streets > communities, each with open cases, residents and unit grids;
    the grids of a community are listed only on the path to ``region_code`` (a district
    has thousands). With several districts the root is the city (level ``city``, no code
    and no name: the layout names it) and the districts are its children."""
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
    district_nodes = [
        TreeNode(
            code=d.code,
            name=d.name,
            level="district",
            open=sum(open_counts.get(s.code, 0) for s in streets if s.code.startswith(d.code)),
            population=d.population,
            grids=grid_count.get(d.code, 0),
            children=[],
        )
        for d in districts
    ] or [TreeNode(code="", name="", level="district", children=[])]
    if len(district_nodes) == 1:
        root = district_nodes[0]
    else:
        root = TreeNode(
            code="",
            name="",
            level="city",
            open=sum(d.open for d in district_nodes),
            population=sum(d.population for d in district_nodes),
            grids=len(grids),
            children=district_nodes,
        )
    for street in streets:
        parent = next(
            (d for d in district_nodes if street.code.startswith(d.code)), district_nodes[0]
        )
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
        assert parent.children is not None
        parent.children.append(node)
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
                    "tooltip": tooltip_lines(f"{points[0][0]:%H:%M}–{points[-1][0]:%H:%M}"),
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
