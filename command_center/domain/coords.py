"""Conversions between the datums of Chinese maps: WGS-84, GCJ-02 and BD-09.

GPS and 天地图 (CGCS2000, the same as WGS-84 within centimetres) give WGS-84; Gaode and
Tencent maps use GCJ-02, offset from WGS-84 by hundreds of metres; Baidu uses BD-09, a further
offset of GCJ-02. We store WGS-84 and convert on the way in and out. Outside China GCJ-02 is
WGS-84 (the published algorithm only applies inside a rough bounding box of the country).

Every function takes and returns ``(lon, lat)`` in degrees. The inverse conversions have no
closed form; they iterate until the error is below 1e-9 degrees (about 0.1 mm).
"""

from __future__ import annotations

import math

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 algorithm.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
_TOLERANCE = 1e-9
_MAX_ITERATIONS = 30

DATUMS: tuple[str, ...] = ("wgs84", "gcj02", "bd09")
_ALIASES = {
    "wgs84": "wgs84",
    "wgs-84": "wgs84",
    "epsg:4326": "wgs84",
    "cgcs2000": "wgs84",  # 天地图; differs from WGS-84 by centimetres only
    "gcj02": "gcj02",
    "gcj-02": "gcj02",
    "bd09": "bd09",
    "bd-09": "bd09",
    "bd09ll": "bd09",
}


def out_of_china(lon: float, lat: float) -> bool:
    """True outside the bounding box where GCJ-02 applies."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """WGS-84 to GCJ-02 (the published forward algorithm)."""
    if out_of_china(lon, lat):
        return lon, lat
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lon + dlon, lat + dlat


def gcj02_to_wgs84(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 to WGS-84 by fixed-point iteration on the forward transform (error < 1e-9°)."""
    if out_of_china(lon, lat):
        return lon, lat
    wlon, wlat = lon, lat
    for _ in range(_MAX_ITERATIONS):
        glon, glat = wgs84_to_gcj02(wlon, wlat)
        dlon, dlat = glon - lon, glat - lat
        wlon, wlat = wlon - dlon, wlat - dlat
        if abs(dlon) < _TOLERANCE and abs(dlat) < _TOLERANCE:
            break
    return wlon, wlat


def gcj02_to_bd09(lon: float, lat: float) -> tuple[float, float]:
    """GCJ-02 to BD-09 (Baidu's published formula)."""
    z = math.sqrt(lon * lon + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """BD-09 to GCJ-02: the usual approximate inverse, refined by iteration (error < 1e-9°)."""
    x, y = lon - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    glon, glat = z * math.cos(theta), z * math.sin(theta)
    for _ in range(_MAX_ITERATIONS):
        blon, blat = gcj02_to_bd09(glon, glat)
        dlon, dlat = blon - lon, blat - lat
        if abs(dlon) < _TOLERANCE and abs(dlat) < _TOLERANCE:
            break
        glon, glat = glon - dlon, glat - dlat
    return glon, glat


def normalise_datum(datum: str) -> str:
    """``"wgs84"``, ``"gcj02"`` or ``"bd09"`` for any accepted spelling; else ValueError."""
    key = str(datum).strip().lower().replace("_", "")
    try:
        return _ALIASES[key]
    except KeyError:
        raise ValueError(f"unknown datum {datum!r}: use one of {', '.join(DATUMS)}") from None


def to_wgs84(lon: float, lat: float, datum: str) -> tuple[float, float]:
    """A point given in ``datum`` ("wgs84", "gcj02", "bd09") as WGS-84."""
    d = normalise_datum(datum)
    if d == "gcj02":
        return gcj02_to_wgs84(lon, lat)
    if d == "bd09":
        return gcj02_to_wgs84(*bd09_to_gcj02(lon, lat))
    return lon, lat


def from_wgs84(lon: float, lat: float, datum: str) -> tuple[float, float]:
    """A WGS-84 point expressed in ``datum`` ("wgs84", "gcj02", "bd09")."""
    d = normalise_datum(datum)
    if d == "gcj02":
        return wgs84_to_gcj02(lon, lat)
    if d == "bd09":
        return gcj02_to_bd09(*wgs84_to_gcj02(lon, lat))
    return lon, lat
