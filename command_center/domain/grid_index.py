"""Point-to-grid look-up: which unit grid (单元网格) a WGS-84 point lies in.

An R-tree (shapely 2 ``STRtree``) finds candidate grids by bounding box, then the exact
predicate decides. A point counts as inside a grid when the grid *covers* it, boundary
included, so a point on the district's outer edge still has a grid. A point exactly on a
boundary shared by several grids goes to the one with the **lowest code** (string order):
deterministic, and the same answer from ``locate`` and ``locate_many``.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree


def _geometry(code: str, geom: BaseGeometry | Mapping[str, Any]) -> BaseGeometry:
    if isinstance(geom, Mapping):
        # A GeoJSON geometry, or a Feature carrying one.
        raw = geom.get("geometry", geom) if geom.get("type") == "Feature" else geom
        try:
            geom = shape(raw)
        except Exception as exc:  # shapely raises several types for bad GeoJSON
            raise ValueError(f"grid {code}: not a GeoJSON geometry ({exc})") from None
    if not isinstance(geom, BaseGeometry):
        raise ValueError(f"grid {code}: expected a shapely geometry or GeoJSON, got {geom!r}")
    if geom.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"grid {code}: expected a Polygon or MultiPolygon, got {geom.geom_type}")
    if geom.is_empty:
        raise ValueError(f"grid {code}: empty geometry")
    if not geom.is_valid:
        raise ValueError(f"grid {code}: invalid polygon ({shapely.is_valid_reason(geom)})")
    return geom


class GridIndex:
    """Grids by code, for locating WGS-84 points (lon, lat) in them."""

    def __init__(self, polygons: Iterable[tuple[str, BaseGeometry | Mapping[str, Any]]]) -> None:
        by_code: dict[str, BaseGeometry] = {}
        for code, geom in polygons:
            if code in by_code:
                raise ValueError(f"grid {code} appears twice")
            by_code[code] = _geometry(code, geom)
        # Sorted by code, so the lowest tree index among hits is the lowest code.
        self._codes: list[str] = sorted(by_code)
        self._geoms = [by_code[c] for c in self._codes]
        self._tree = STRtree(self._geoms)

    def __len__(self) -> int:
        return len(self._codes)

    @property
    def codes(self) -> list[str]:
        """Every grid code, sorted."""
        return list(self._codes)

    def geometry(self, code: str) -> BaseGeometry:
        """The polygon of grid ``code``; KeyError when unknown."""
        i = self._index_of(code)
        return self._geoms[i]

    def _index_of(self, code: str) -> int:
        i = bisect.bisect_left(self._codes, code)
        if i == len(self._codes) or self._codes[i] != code:
            raise KeyError(code)
        return i

    def locate(self, lon: float, lat: float) -> str | None:
        """The code of the grid covering (lon, lat), or ``None`` outside every grid."""
        if not self._codes:
            return None
        hits = self._tree.query(shapely.Point(lon, lat), predicate="intersects")
        if len(hits) == 0:
            return None
        return self._codes[int(hits.min())]

    def locate_many(self, lons: Sequence[float], lats: Sequence[float]) -> list[str | None]:
        """``locate`` for many points at once (vectorised R-tree query)."""
        lon_arr = np.asarray(lons, dtype=float)
        lat_arr = np.asarray(lats, dtype=float)
        if lon_arr.shape != lat_arr.shape or lon_arr.ndim != 1:
            raise ValueError("lons and lats must be flat sequences of the same length")
        n = len(lon_arr)
        if n == 0 or not self._codes:
            return [None] * n
        points = shapely.points(lon_arr, lat_arr)
        point_idx, grid_idx = self._tree.query(points, predicate="intersects")
        best = np.full(n, len(self._codes), dtype=np.int64)
        np.minimum.at(best, point_idx, grid_idx)
        return [self._codes[b] if b < len(self._codes) else None for b in best.tolist()]
