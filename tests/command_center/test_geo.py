"""The living map's services against the tiny city: region filters, measures and KPI extras
counted by hand in SQL, simplified boundaries cached per zoom, GCJ-02 output, feature diffs
for Patch updates, and masking of people on walls."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import shapely
from dash import Patch, no_update
from dash.exceptions import PreventUpdate
from shapely.geometry import shape

from command_center.domain.coords import wgs84_to_gcj02
from command_center.events import EventBus
from command_center.geo import (
    DETAIL_MIN_PX,
    CityGeo,
    ancestors,
    diff_features,
    fitted_zoom,
    grid_profile_view,
    grid_tree,
    kpi_extras,
    level_of,
    metres_per_pixel,
    search_grids,
    shade,
    tolerance_for_zoom,
    view_level,
    wall_safe_profile,
)
from command_center.plugins import load_adapters
from command_center.services import DataServices

OPEN = "('reported','accepted','registered','dispatched','handled','verified')"


def services_over(url: str, tmp_path: Path):  # noqa: ANN201
    from tests.conftest import DEMO_NOW, make_settings

    settings = make_settings(url, tmp_path)
    adapters = load_adapters(settings)
    yield DataServices(settings, adapters, EventBus(), clock=lambda: DEMO_NOW)
    adapters.close()


@pytest.fixture()
def services(tiny_city_url: str, tmp_path: Path):  # noqa: ANN201
    yield from services_over(tiny_city_url, tmp_path)


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
        " ".join(f["properties"]["tooltip"])
        for f in CityGeo(services).point_features("workers", None).value
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


# --- finer outlines of a view zoomed in by hand ------------------------------------------


def test_a_view_zoomed_past_its_fit_is_told_apart_from_the_fit_itself() -> None:
    district = [[39.90, 116.38], [39.96, 116.45]]
    # the fitted view: a little wider than the district, at the zoom the fit chose
    fitted_view = [[39.899, 116.37], [39.961, 116.46]]
    fit = fitted_zoom(district, fitted_view, 13)
    assert fit == 13
    # two zooms in by hand: a quarter of the span, same map size in pixels
    closer = [[39.92, 116.40], [39.9355, 116.4225]]
    assert fitted_zoom(district, closer, 15) == 13


def test_finer_levels_appear_once_their_regions_are_wide_enough_to_read(services) -> None:  # noqa: ANN001
    geo = CityGeo(services)
    lat = services.regions("district").value[0].centroid[1]
    community_at, grid_at = geo.detail_zoom("community"), geo.detail_zoom("grid")
    assert community_at is not None and grid_at is not None and community_at < grid_at
    for level, at in (("community", community_at), ("grid", grid_at)):
        width = geo.typical_width_m(level)
        assert width / metres_per_pixel(at, lat) >= DETAIL_MIN_PX
        assert width / metres_per_pixel(at - 1, lat) < DETAIL_MIN_PX
    assert geo.detail_level("street", community_at - 1) is None
    assert geo.detail_level("street", community_at) == "community"
    assert geo.detail_level("street", grid_at) == "grid"  # the finest that reads
    assert geo.detail_level("community", community_at) is None
    assert geo.detail_level("grid", 20) is None  # nothing is finer than a unit grid


def test_outlines_in_view_are_those_touching_the_view_and_its_margin(services) -> None:  # noqa: ANN001
    geo = CityGeo(services)
    grids = services.regions("grid").value
    target = shape(grids[len(grids) // 2].geometry)
    west, south, east, north = target.bounds
    view = [[south, west], [north, east]]
    found = geo.boundaries_in_view("grid", None, view)
    codes = {f["properties"]["code"] for f in found}
    assert grids[len(grids) // 2].code in codes
    dx, dy = (east - west) / 8, (north - south) / 8
    margin = shapely.box(west - dx, south - dy, east + dx, north + dy)
    expected = {g.code for g in grids if shape(g.geometry).intersects(margin)}
    assert expected <= codes  # every outline the view (with its margin) touches
    assert len(codes) < len(grids)  # and not the whole district
    for f in found:  # what travels: the outline, its code, name and level
        assert set(f["properties"]) == {"code", "name", "level"}
    whole = [[south - 1, west - 1], [north + 1, east + 1]]
    assert len(geo.boundaries_in_view("grid", None, whole)) == len(grids)
    street = grids[0].code[:9]
    inside = geo.boundaries_in_view("grid", street, whole)
    assert {f["properties"]["code"] for f in inside} == {
        g.code for g in grids if g.code.startswith(street)
    }


def test_zooming_in_sends_finer_outlines_once_then_only_new_ones_and_out_clears(services) -> None:  # noqa: ANN001
    from callbacks.city_map import detail_update

    geo = CityGeo(services)
    bounds = geo.city_bounds()
    (south, west), (north, east) = bounds
    scope = {"code": "", "level": "street", "parent": "", "bounds": bounds}
    at = geo.detail_zoom("community")
    fit = fitted_zoom(bounds, bounds, 12)
    # the scope's own fit: nothing finer, nothing sent
    with pytest.raises(PreventUpdate):
        detail_update(geo, scope, bounds, fit, {})
    # zoomed in by hand to the western quarter: the communities there, the whole layer
    quarter = (east - west) / 4
    half = [[south, west], [north, west + quarter]]
    zoom = max(at, fit + 1) + 1
    data, record = detail_update(geo, scope, half, zoom, {})
    assert data["type"] == "FeatureCollection" and record["key"] == "|community"
    first = {f["properties"]["code"] for f in data["features"]}
    assert first and record["codes"] == [f["properties"]["code"] for f in data["features"]]
    # the same view again: nothing new
    with pytest.raises(PreventUpdate):
        detail_update(geo, scope, half, zoom, record)
    # panned to the east end: only the communities not yet shown, appended by Patch
    east_half = [[south, east - quarter], [north, east]]
    patch, shown_patch = detail_update(geo, scope, east_half, zoom, record)
    assert isinstance(patch, Patch) and isinstance(shown_patch, Patch)
    appended = [op["params"]["value"] for op in patch.to_plotly_json()["operations"]]
    assert appended and not first & {f["properties"]["code"] for f in appended}
    # zoomed back out to the fit: the layer is cleared, the record forgotten
    data, record = detail_update(geo, scope, bounds, fit, record)
    assert data["features"] == [] and record == {}


# --- a city above several districts ---------------------------------------------------------


@pytest.fixture()
def city_services(two_district_city_url: str, tmp_path: Path):  # noqa: ANN201
    yield from services_over(two_district_city_url, tmp_path)


def test_two_districts_put_the_city_on_top_of_the_tree_and_the_map(city_services) -> None:  # noqa: ANN001
    geo = CityGeo(city_services)
    assert geo.several_districts()
    districts = city_services.regions("district").value
    assert [d.code for d in districts] == ["110101", "110102"]
    root = grid_tree(city_services, None).value
    assert root.level == "city" and root.code == "" and root.name == ""
    assert [d.code for d in root.children] == ["110101", "110102"]
    grids = city_services.regions("grid").value
    assert root.grids == len(grids) == sum(d.grids for d in root.children)
    assert root.open == sum(d.open for d in root.children)
    for district in root.children:
        assert district.children and all(s.code[:6] == district.code for s in district.children)
        assert district.grids == sum(1 for g in grids if g.code.startswith(district.code))
    assert root.children[1].open == 0  # the second district has no cases
    # the first view holds every district, not only the first
    (south, west), (north, east) = geo.city_bounds()
    for district in districts:
        (s, w), (n, e) = geo.latlng_bounds(district)
        assert south <= s and west <= w and n <= north and e <= east
    # a path into the second district keeps its district step
    street = next(s for s in city_services.regions("street").value if s.code[:6] == "110102")
    crumbs = geo.breadcrumb(street.code)
    assert [c["code"] for c in crumbs] == ["110102", street.code]


def test_an_alarm_tooltip_is_lines_of_text_with_the_title_as_sent(services) -> None:  # noqa: ANN001
    """No markup travels to the map: the title is one line of text, however it looks (the
    browser puts each line into a text node, assets/cc_map.js)."""
    from datetime import datetime
    from types import SimpleNamespace

    title = "<img src=x onerror=alert(1)>"
    alarm = SimpleNamespace(
        id=1,
        level="major",
        title=title,
        count=1,
        last_at=datetime(2026, 11, 25, 10, 0, 5),
        grid_code="",
        camera_id="",
        case_id=None,
        lon=116.41,
        lat=39.93,
    )
    alarms = SimpleNamespace(open_alarms=lambda region: [alarm])  # the service's one call here
    [feature] = CityGeo(services).alarm_features(alarms, None)
    lines = feature["properties"]["tooltip"]
    assert lines[0].endswith(f" · {title}") and lines[1] == "10:00:05"
    assert not any("<br>" in line for line in lines)
