"""The living map's services against the tiny city: region filters, measures and KPI extras
counted by hand in SQL, simplified boundaries cached per zoom, GCJ-02 output, feature diffs
for Patch updates, and masking of people on walls."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from dash import Patch, no_update
from shapely.geometry import shape

from command_center.domain.coords import wgs84_to_gcj02
from command_center.events import EventBus
from command_center.geo import (
    CityGeo,
    ancestors,
    diff_features,
    grid_profile_view,
    grid_tree,
    kpi_extras,
    level_of,
    search_grids,
    shade,
    tolerance_for_zoom,
    view_level,
    wall_safe_profile,
)
from command_center.plugins import load_adapters
from command_center.services import DataServices

OPEN = "('reported','accepted','registered','dispatched','handled','verified')"


@pytest.fixture()
def services(tiny_city_url: str, tmp_path: Path):  # noqa: ANN201
    from tests.conftest import DEMO_NOW, make_settings

    settings = make_settings(tiny_city_url, tmp_path)
    adapters = load_adapters(settings)
    yield DataServices(settings, adapters, EventBus(), clock=lambda: DEMO_NOW)
    adapters.close()


def rows(url: str, sql: str, *params: object) -> list[tuple]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return conn.execute(sql, params).fetchall()


def one(url: str, sql: str, *params: object) -> int:
    return int(rows(url, sql, *params)[0][0] or 0)


def first_code(url: str, level: str) -> str:
    return rows(url, "SELECT code FROM regions WHERE level = ? ORDER BY code", level)[0][0]


# --- pure pieces ----------------------------------------------------------------------------


def test_levels_follow_code_lengths_and_nest_by_prefix() -> None:
    assert [level_of(c) for c in ("110101", "110101001", "110101001001", "11010100100102")] == [
        "district",
        "street",
        "community",
        "grid",
    ]
    assert level_of("110101001001003") == "grid"  # Beijing's 3-digit sequence
    assert ancestors("11010100100102") == [
        "110101",
        "110101001",
        "110101001001",
        "11010100100102",
    ]
    with pytest.raises(ValueError):
        level_of("1101")


def test_drilling_shows_the_level_below_the_region_never_coarser_than_the_panel() -> None:
    assert view_level("street", None) == "street"
    assert view_level("street", "110101001") == "community"
    assert view_level("community", "110101001001") == "grid"
    assert view_level("grid", "110101001") == "grid"  # a grid panel stays at grids
    assert view_level("community", "11010100100102") == "grid"  # a grid: its siblings


def test_simplification_tolerance_is_half_a_pixel_and_halves_per_zoom_level() -> None:
    assert tolerance_for_zoom(0) == pytest.approx(360 / 256 / 2)
    assert tolerance_for_zoom(13) == pytest.approx(tolerance_for_zoom(12) / 2)


def test_choropleth_classes_keep_zero_apart_and_put_the_top_in_the_hottest_class() -> None:
    assert shade(0, 10) == 0
    assert shade(1, 10) == 1
    assert shade(10, 10) == 5
    assert shade(5, 0) == 0


def feature(fid: object, colour: str = "red") -> dict:
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [116.4, 39.9]},
        "properties": {"id": fid, "colour": colour},
    }


def apply(shown_features: list[dict], diff) -> list[dict]:  # noqa: ANN001
    """What the browser does with the Patch: replace, delete (highest first), append."""
    out = list(shown_features)
    for index, f in diff.replace:
        out[index] = f
    for index in diff.delete:
        del out[index]
    out.extend(diff.append)
    return out


def test_feature_diff_sends_only_changed_gone_and_new_features() -> None:
    before = [feature(1), feature(2), feature(3)]
    first = diff_features(None, before)
    assert first.append == before and not first.replace and not first.delete
    after = [feature(1, "blue"), feature(3), feature(4)]
    diff = diff_features(first.shown, after)
    assert [i for i, _ in diff.replace] == [0]
    assert diff.delete == [1]
    assert [f["properties"]["id"] for f in diff.append] == [4]
    result = apply(before, diff)
    assert [f["properties"] for f in result] == [f["properties"] for f in after]
    assert [fid for fid, _sig in diff.shown] == [1, 3, 4]
    assert diff_features(diff.shown, after).empty


def test_layer_update_sends_nothing_a_patch_or_the_whole_layer() -> None:
    from callbacks.city_map import layer_update, patch_shown

    features = [feature(i) for i in range(100)]
    first = layer_update(None, features)
    assert first.full and len(first.data["features"]) == 100
    shown = first.diff.shown
    same = layer_update(shown, features)
    assert same.data is no_update and not same.changed
    features[5] = feature(5, "blue")
    update = layer_update(shown, [*features, feature(100)])
    assert isinstance(update.data, Patch) and not update.full
    ops = update.data.to_plotly_json()["operations"]
    assert len(ops) == 2  # one feature replaced, one appended: not 101 features
    record = Patch()
    patch_shown(record, "cases", update)
    assert len(record.to_plotly_json()["operations"]) == 2  # the record moves by difference too


# --- services over the tiny city -------------------------------------------------------------


def test_boundaries_are_built_once_per_zoom_and_simpler_when_zoomed_out(services) -> None:  # noqa: ANN001
    geo = CityGeo(services)
    fine = geo.boundaries("grid", None, 18)
    again = geo.boundaries("grid", None, 18)
    assert again is fine and geo.serialisations == 1
    coarse = geo.boundaries("grid", None, 11)
    assert geo.serialisations == 2

    def vertices(fc: dict) -> int:
        return sum(len(shape(f["geometry"]).exterior.coords) for f in fc["features"])

    assert vertices(coarse) <= vertices(fine)
    codes = [f["properties"]["code"] for f in fine["features"]]
    assert len(codes) == len(set(codes)) and all(len(c) == 14 for c in codes)


def test_boundaries_inside_a_region_are_only_its_children(services, tiny_city_url) -> None:  # noqa: ANN001
    geo = CityGeo(services)
    street = first_code(tiny_city_url, "street")
    fc = geo.boundaries("community", street, 14)
    expected = rows(
        tiny_city_url,
        "SELECT code FROM regions WHERE level='community' AND code LIKE ? ORDER BY code",
        street + "%",
    )
    assert [f["properties"]["code"] for f in fc["features"]] == [c for (c,) in expected]
    assert geo.synthetic("community", street) is True  # the demo city's geometry is invented


def test_gcj02_base_map_gets_offset_geometry_and_points(services) -> None:  # noqa: ANN001
    wgs = CityGeo(services, "wgs84").boundaries("street", None, 18)
    gcj = CityGeo(services, "gcj02").boundaries("street", None, 18)
    lon, lat = shape(wgs["features"][0]["geometry"]).exterior.coords[0]
    glon, glat = shape(gcj["features"][0]["geometry"]).exterior.coords[0]
    elon, elat = wgs84_to_gcj02(lon, lat)
    assert (glon, glat) == pytest.approx((elon, elat), abs=2e-5)
    assert abs(glon - lon) > 1e-3  # hundreds of metres, as GCJ-02 is
    assert CityGeo(services, "gcj02").point(116.4, 39.9) == pytest.approx(
        list(wgs84_to_gcj02(116.4, 39.9)), abs=1e-5
    )


def test_measures_match_open_and_overdue_cases_counted_by_hand(services, tiny_city_url) -> None:  # noqa: ANN001
    geo = CityGeo(services)
    street = first_code(tiny_city_url, "street")
    open_by_hand = dict(
        rows(
            tiny_city_url,
            f"SELECT community_code, COUNT(*) FROM cases WHERE status IN {OPEN} "
            "AND street_code = ? GROUP BY community_code",
            street,
        )
    )
    measured = geo.measures("community", street, "open").value
    assert {k: v for k, v in measured.items() if v} == {
        k: float(v) for k, v in open_by_hand.items()
    }
    overdue = geo.measures("street", None, "overdue").value
    assert sum(overdue.values()) <= sum(geo.measures("street", None, "open").value.values())


def test_cases_per_thousand_people_divide_by_the_region_population(services, tiny_city_url) -> None:  # noqa: ANN001
    geo = CityGeo(services)
    opened = geo.measures("street", None, "open").value
    per = geo.measures("street", None, "per_1000").value
    population = dict(
        rows(tiny_city_url, "SELECT code, population FROM regions WHERE level='street'")
    )
    for code, value in opened.items():
        assert per[code] == pytest.approx(round(value * 1000 / population[code], 2))


def test_kpi_extras_match_workers_and_devices_counted_by_hand(services, tiny_city_url) -> None:  # noqa: ANN001
    street = first_code(tiny_city_url, "street")
    for region, like in ((None, "%"), (street, street + "%")):
        extras = kpi_extras(services, region)
        assert extras["workers_on_duty"] == one(
            tiny_city_url, "SELECT COUNT(*) FROM workers WHERE on_duty AND grid_code LIKE ?", like
        )
        assert extras["workers"] == one(
            tiny_city_url, "SELECT COUNT(*) FROM workers WHERE grid_code LIKE ?", like
        )
        assert extras["devices_online"] == one(
            tiny_city_url,
            "SELECT COUNT(*) FROM devices WHERE status IN ('online','alarm') AND grid_code LIKE ?",
            like,
        )
    assert kpi_extras(services, street)["workers"] < kpi_extras(services, None)["workers"]


def test_point_layers_inside_a_region_stay_inside_it(services, tiny_city_url) -> None:  # noqa: ANN001
    geo = CityGeo(services)
    community = first_code(tiny_city_url, "community")
    inside = geo.point_features("cameras", community).value
    everywhere = geo.point_features("cameras", None).value
    assert len(inside) == one(
        tiny_city_url,
        "SELECT COUNT(*) FROM devices WHERE kind='camera' AND grid_code LIKE ?",
        community + "%",
    )
    assert len(inside) < len(everywhere)


def test_workers_on_the_map_are_masked(services, tiny_city_url) -> None:  # noqa: ANN001
    names = [n for (n,) in rows(tiny_city_url, "SELECT name FROM workers")]
    tooltips = " ".join(
        f["properties"]["tooltip"] for f in CityGeo(services).point_features("workers", None).value
    )
    assert "*" in tooltips
    assert not any(name in tooltips for name in names if len(name) > 1)


def test_grid_profile_counts_people_by_category_and_masks_the_team(services, tiny_city_url) -> None:  # noqa: ANN001
    grid = rows(
        tiny_city_url,
        "SELECT h.grid_code FROM houses h JOIN households hh ON hh.house_id = h.id "
        "GROUP BY h.grid_code ORDER BY COUNT(*) DESC LIMIT 1",
    )[0][0]
    view = grid_profile_view(services, grid).value
    people_sql = (
        "SELECT COUNT(*) FROM people p JOIN households hh ON p.household_id = hh.id "
        "JOIN houses h ON hh.house_id = h.id WHERE h.grid_code = ?"
    )
    assert view["people"] == one(tiny_city_url, people_sql, grid)
    assert view["registered"] == one(tiny_city_url, people_sql + " AND hh.kind='户籍'", grid)
    assert view["floating"] == one(tiny_city_url, people_sql + " AND hh.kind='流动'", grid)
    assert view["registered"] + view["floating"] == view["people"]
    assert view["elderly_alone"] == one(
        tiny_city_url, people_sql + " AND p.tags LIKE '%独居老人%'", grid
    )
    team = rows(
        tiny_city_url,
        "SELECT w.name, w.phone FROM workers w JOIN regions r ON r.code = ? "
        "WHERE w.grid_code = ? OR (w.social_grid_code = r.social_grid_code)",
        grid,
        grid,
    )
    text = repr(view)
    for name, phone in team:
        assert name not in text and (not phone or phone not in text)
    assert all("*" in w["name"] for w in view["workers"])


def test_wall_safe_profile_never_passes_phones_unmasked(services, tiny_city_url) -> None:  # noqa: ANN001
    grid = first_code(tiny_city_url, "grid")
    profile = services.adapters.gis.grid_profile(grid)
    profile.worker_phones = {w.id: "13812341234" for w in profile.workers}
    view = wall_safe_profile(profile)
    assert all(w["phone"] in ("138****1234", "") for w in view["workers"])


def test_grid_tree_counts_add_up_at_every_level(services, tiny_city_url) -> None:  # noqa: ANN001
    grid = first_code(tiny_city_url, "grid")
    root = grid_tree(services, grid).value
    assert root.grids == one(tiny_city_url, "SELECT COUNT(*) FROM regions WHERE level='grid'")
    assert root.grids == sum(s.grids for s in root.children)
    for street in root.children:
        assert street.grids == sum(c.grids for c in street.children)
        assert street.open == one(
            tiny_city_url,
            f"SELECT COUNT(*) FROM cases WHERE status IN {OPEN} AND street_code = ?",
            street.code,
        )
    expanded = [c for s in root.children for c in s.children if c.children is not None]
    assert [c.code for c in expanded] == [grid[:12]]  # only the path to the grid opens
    assert grid in [g.code for g in expanded[0].children]


def test_grid_search_finds_by_code_prefix_and_by_name(services, tiny_city_url) -> None:  # noqa: ANN001
    code, name = rows(tiny_city_url, "SELECT code, name FROM regions WHERE level='grid' LIMIT 1")[0]
    assert code in [g.code for g in search_grids(services, code)]
    assert code in [g.code for g in search_grids(services, name, limit=500)]
    assert search_grids(services, "") == []
    assert search_grids(services, "不存在的网格") == []


def test_breadcrumb_runs_from_the_district_down(services, tiny_city_url) -> None:  # noqa: ANN001
    grid = first_code(tiny_city_url, "grid")
    crumbs = CityGeo(services).breadcrumb(grid)
    assert [c["level"] for c in crumbs] == ["district", "street", "community", "grid"]
    assert crumbs[-1]["code"] == grid and all(c["name"] for c in crumbs)
    assert CityGeo(services).breadcrumb(None) == []
