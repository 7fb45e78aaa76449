import math

import pytest

from command_center.domain.coords import (
    bd09_to_gcj02,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    out_of_china,
    to_wgs84,
    wgs84_to_gcj02,
)

TIANANMEN = (116.3974, 39.9087)

# Points across China: Beijing, Shanghai, Urumqi, Harbin, Sanya, Lhasa, Chengdu, Tianmen.
POINTS = [
    TIANANMEN,
    (121.4737, 31.2304),
    (87.6168, 43.8256),
    (126.5349, 45.8038),
    (109.5119, 18.2528),
    (91.1409, 29.6456),
    (104.0665, 30.5723),
    (113.1662, 30.6633),
]


def metres(a, b):
    dlat = (a[1] - b[1]) * 111_320
    dlon = (a[0] - b[0]) * 111_320 * math.cos(math.radians(a[1]))
    return math.hypot(dlon, dlat)


def test_gcj02_offset_in_beijing_is_hundreds_of_metres():
    gcj = wgs84_to_gcj02(*TIANANMEN)
    assert 100 < metres(TIANANMEN, gcj) < 1000
    assert gcj[0] > TIANANMEN[0] and gcj[1] > TIANANMEN[1]


@pytest.mark.parametrize("point", POINTS)
def test_wgs84_gcj02_round_trip_within_a_micro_degree(point):
    back = gcj02_to_wgs84(*wgs84_to_gcj02(*point))
    assert back == pytest.approx(point, abs=1e-6)


@pytest.mark.parametrize("point", POINTS)
def test_gcj02_to_wgs84_inverts_the_forward_transform(point):
    wgs = gcj02_to_wgs84(*point)
    assert wgs84_to_gcj02(*wgs) == pytest.approx(point, abs=1e-6)


@pytest.mark.parametrize("point", POINTS)
def test_gcj02_bd09_round_trip_within_a_micro_degree(point):
    assert bd09_to_gcj02(*gcj02_to_bd09(*point)) == pytest.approx(point, abs=1e-6)


def test_bd09_is_offset_further_north_east():
    bd = gcj02_to_bd09(116.404, 39.915)
    assert bd == pytest.approx((116.4104, 39.9213), abs=2e-4)


@pytest.mark.parametrize("datum", ["wgs84", "gcj02", "bd09", "GCJ-02", "BD09", "cgcs2000"])
@pytest.mark.parametrize("point", POINTS[:3])
def test_to_and_from_wgs84_round_trip(datum, point):
    assert to_wgs84(*from_wgs84(*point, datum), datum) == pytest.approx(point, abs=1e-6)


def test_wgs84_and_cgcs2000_need_no_conversion():
    assert to_wgs84(*TIANANMEN, "wgs84") == TIANANMEN
    assert from_wgs84(*TIANANMEN, "cgcs2000") == TIANANMEN


def test_bd09_point_converts_through_gcj02():
    bd = from_wgs84(*TIANANMEN, "bd09")
    assert bd == pytest.approx(gcj02_to_bd09(*wgs84_to_gcj02(*TIANANMEN)))
    assert metres(TIANANMEN, bd) > metres(TIANANMEN, wgs84_to_gcj02(*TIANANMEN))


@pytest.mark.parametrize("point", [(2.3522, 48.8566), (-74.006, 40.7128), (139.6917, 35.6895)])
def test_outside_china_gcj02_equals_wgs84(point):
    assert out_of_china(*point)
    assert wgs84_to_gcj02(*point) == point
    assert gcj02_to_wgs84(*point) == point


def test_unknown_datum_is_a_value_error():
    with pytest.raises(ValueError, match="unknown datum 'utm50n'"):
        to_wgs84(*TIANANMEN, "utm50n")
    with pytest.raises(ValueError):
        from_wgs84(*TIANANMEN, "")
