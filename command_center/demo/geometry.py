"""Synthetic but city-like geometry: a district outline split into streets, communities and
unit grids (单元网格) that tile each parent without gaps or overlaps.

Everything is built in a local metric plane (metres east/north of the district centre) and
converted to WGS-84 at the end by an affine map, which keeps the tiling exact:

- the outline is a noisy ellipse (elongated north-south like 东城区), simplified so that its
  edges run straight like the roads a real boundary follows;
- streets and communities are relaxed Voronoi cells clipped to their parent (irregular, as
  administrative areas are);
- unit grids cut each community into blocks of about 10,000 m² along "roads": a rotated
  set of columns, each cut into rows at its own offsets (so blocks are staggered, not a
  checkerboard), clipped to the community; slivers at the edge are merged into a neighbour.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely import affinity
from shapely.geometry import MultiPoint, MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry
from shapely.ops import unary_union

M_PER_DEG_LAT = 110_540.0
M_PER_DEG_LON_EQUATOR = 111_320.0


@dataclass(frozen=True)
class LocalPlane:
    """Equirectangular projection around a centre; good to centimetres over a district."""

    lon0: float
    lat0: float

    @property
    def m_per_deg_lon(self) -> float:
        return M_PER_DEG_LON_EQUATOR * math.cos(math.radians(self.lat0))

    def to_lonlat(self, geom: BaseGeometry) -> BaseGeometry:
        return shapely.transform(geom, self._forward)

    def _forward(self, xy: np.ndarray) -> np.ndarray:
        out = np.empty_like(xy)
        out[:, 0] = self.lon0 + xy[:, 0] / self.m_per_deg_lon
        out[:, 1] = self.lat0 + xy[:, 1] / M_PER_DEG_LAT
        return out

    def point_to_lonlat(self, x: float, y: float) -> tuple[float, float]:
        return float(self.lon0 + x / self.m_per_deg_lon), float(self.lat0 + y / M_PER_DEG_LAT)


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygon parts of a geometry (an intersection may add lines or points)."""
    if geom.is_empty:
        return geom
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    polys: list[Polygon] = []
    for part in parts:
        polys.extend(part.geoms if part.geom_type == "MultiPolygon" else [part])
    if not polys:
        return Polygon()
    return polys[0] if len(polys) == 1 else MultiPolygon(polys)


def district_outline(area_m2: float, rng: np.random.Generator, aspect: float = 0.55) -> Polygon:
    """A noisy ellipse of ``area_m2`` whose edges are straightened like roads."""
    n = 160
    theta = np.linspace(0, 2 * math.pi, n, endpoint=False)
    radius = np.ones(n)
    for k in range(2, 7):
        radius += rng.uniform(0.02, 0.07) / (k - 1) ** 0.5 * np.cos(k * theta + rng.uniform(0, 6.3))
    a, b = aspect, 1.0
    xs = a * radius * np.cos(theta)
    ys = b * radius * np.sin(theta)
    poly = Polygon(np.column_stack([xs, ys])).buffer(0)
    scale = math.sqrt(area_m2 / poly.area)
    poly = affinity.scale(poly, scale, scale, origin=(0, 0))
    poly = poly.simplify(0.035 * math.sqrt(area_m2), preserve_topology=True)
    # simplification changed the area a little: scale back to the target
    scale = math.sqrt(area_m2 / poly.area)
    return affinity.scale(poly, scale, scale, origin=(0, 0))


def _random_points_in(poly: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    minx, miny, maxx, maxy = poly.bounds
    out: list[np.ndarray] = []
    got = 0
    while got < n:
        xs = rng.uniform(minx, maxx, 4 * n)
        ys = rng.uniform(miny, maxy, 4 * n)
        inside = shapely.contains_xy(poly, xs, ys)
        pts = np.column_stack([xs[inside], ys[inside]])
        out.append(pts)
        got += len(pts)
    return np.concatenate(out)[:n]


def voronoi_partition(
    poly: BaseGeometry, n: int, rng: np.random.Generator, relax: int = 2
) -> list[BaseGeometry]:
    """``n`` irregular cells tiling ``poly`` (Voronoi of relaxed random seeds, clipped)."""
    if n <= 1:
        return [poly]
    seeds = _random_points_in(poly, n, rng)
    frame = box(*poly.buffer(poly.length).bounds)
    for step in range(relax + 1):
        cells = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=frame, ordered=True)
        clipped = [polygonal(shapely.intersection(c, poly)) for c in cells.geoms]
        clipped = [c for c in clipped if not c.is_empty and c.area > 0]
        if step == relax:
            return clipped
        # Lloyd relaxation: move each seed to its cell's centre (evens out the sizes a bit)
        seeds = np.array(
            [
                [p.x, p.y]
                for p in (
                    c.representative_point() if not c.contains(c.centroid) else c.centroid
                    for c in clipped
                )
            ]
        )
    return clipped  # pragma: no cover


def block_partition(
    community: BaseGeometry, target_m2: float, rng: np.random.Generator, max_cells: int
) -> list[BaseGeometry]:
    """Unit grids of about ``target_m2`` cut along staggered "roads", clipped to ``community``.

    The count is capped at ``max_cells`` (the sequence width allows 99 or 999 grids).
    """
    area = community.area
    target = max(target_m2, area / (max_cells * 0.8))
    side = math.sqrt(target)
    angle = rng.uniform(-14, 14)
    centre = community.centroid
    # work in the rotated frame so that columns are axis-aligned
    rotated = affinity.rotate(community, -angle, origin=centre)
    minx, miny, maxx, maxy = rotated.bounds
    cells: list[BaseGeometry] = []
    x = minx
    while x < maxx - 1e-6:
        width = side * rng.uniform(0.75, 1.3)
        x_next = maxx if maxx - (x + width) < 0.4 * side else x + width
        y = maxy
        first = rng.uniform(0.3, 1.0)  # stagger: each column starts its rows at its own offset
        height = side * side / (x_next - x) * first
        while y > miny + 1e-6:
            y_next = miny if (y - height) - miny < 0.4 * side else y - height
            piece = polygonal(shapely.intersection(box(x, y_next, x_next, y), rotated))
            if not piece.is_empty and piece.area > 0:
                cells.append(piece)
            y = y_next
            height = side * side / (x_next - x) * rng.uniform(0.8, 1.25)
        x = x_next
    cells = _merge_slivers(cells, 0.35 * target)
    cells = _merge_to_cap(cells, max_cells)
    return [affinity.rotate(c, angle, origin=centre) for c in cells]


def _merge_slivers(cells: list[BaseGeometry], min_area: float) -> list[BaseGeometry]:
    """Merge cells smaller than ``min_area`` into the neighbour sharing most boundary."""
    cells = list(cells)
    while len(cells) > 1:
        small = [i for i, c in enumerate(cells) if c.area < min_area]
        if not small:
            break
        i = min(small, key=lambda k: cells[k].area)
        j = _best_neighbour(cells, i)
        if j is None:  # an island piece: leave it
            break
        merged = polygonal(unary_union([cells[i], cells[j]]))
        cells = [c for k, c in enumerate(cells) if k not in (i, j)] + [merged]
    return cells


def _merge_to_cap(cells: list[BaseGeometry], cap: int) -> list[BaseGeometry]:
    cells = list(cells)
    while len(cells) > cap:
        i = min(range(len(cells)), key=lambda k: cells[k].area)
        j = _best_neighbour(cells, i)
        if j is None:
            j = (i + 1) % len(cells)
        merged = polygonal(unary_union([cells[i], cells[j]]))
        cells = [c for k, c in enumerate(cells) if k not in (i, j)] + [merged]
    return cells


def _best_neighbour(cells: list[BaseGeometry], i: int) -> int | None:
    best, best_len = None, 0.0
    edge = cells[i].boundary
    for j, other in enumerate(cells):
        if j == i or not cells[i].intersects(other):
            continue
        shared = edge.intersection(other.boundary).length
        if shared > best_len:
            best, best_len = j, shared
    return best


def number_west_east_north_south(
    cells: list[BaseGeometry], row_height: float
) -> list[BaseGeometry]:
    """Order cells for sequence numbers: rows north to south, west to east within a row."""
    if not cells:
        return cells
    top = max(c.bounds[3] for c in cells)

    def key(c: BaseGeometry) -> tuple[int, float]:
        p = c.representative_point() if c.geom_type == "MultiPolygon" else c.centroid
        return int((top - p.y) // row_height), p.x

    return sorted(cells, key=key)


def sample_in(geom: BaseGeometry, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` uniform random points inside ``geom`` (same units as the geometry)."""
    return _random_points_in(geom, n, rng)
