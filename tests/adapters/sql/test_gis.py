"""The built-in GIS adapter: regions, point-to-grid (also on boundaries), layers, profiles."""

from __future__ import annotations

import pytest
from shapely.geometry import shape
from sqlalchemy import func, select

from adapters.base import AdapterError, NotFound
from adapters.sql.models import HouseholdRow, HouseRow, PersonRow
from command_center.domain.coords import from_wgs84


def test_region_hierarchy_nests_by_code(gis) -> None:
    (district,) = gis.regions("district")
    assert district.code == "110101" and district.name == "东城区" and district.synthetic
    streets = gis.regions("street", district.code)
    assert len(streets) == 2 and all(s.parent_code == district.code for s in streets)
    for street in streets:
        communities = gis.regions("community", street.code)
        assert communities and all(c.code.startswith(street.code) for c in communities)
    grids = gis.regions("grid", streets[0].code)  # any ancestor works as parent
    assert grids and all(len(g.code) == 14 and g.code.startswith(streets[0].code) for g in grids)
    assert sum(s.population for s in streets) == district.population > 0
    assert gis.region(grids[0].code).geometry["type"] in ("Polygon", "MultiPolygon")
    with pytest.raises(NotFound):
        gis.region("110101999")
    with pytest.raises(AdapterError):
        gis.regions("planet")


def _neighbours(gis):  # noqa: ANN001, ANN202
    grids = gis.regions("grid")
    shapes = {g.code: shape(g.geometry) for g in grids}
    for a, b in zip(grids, grids[1:], strict=False):
        shared = shapes[a.code].intersection(shapes[b.code])
        if shared.length > 1e-4:  # a real shared edge, not a corner
            return a.code, b.code, shapes[a.code], shapes[b.code], shared
    raise AssertionError("no neighbouring grids")


def test_locate_at_a_grid_boundary_is_exact_and_deterministic(gis, cases) -> None:
    a, b, shape_a, shape_b, shared = _neighbours(gis)
    on_edge = shared.interpolate(0.5, normalized=True)
    found = gis.locate(on_edge.x, on_edge.y)
    assert found is not None and found.code == min(a, b)  # lowest code wins a tie
    # a few centimetres either side of the edge: each grid gets its own side
    for code, poly in ((a, shape_a), (b, shape_b)):
        inside = on_edge.buffer(5e-7).intersection(poly).representative_point()
        assert gis.locate(inside.x, inside.y).code == code
    report = cases.report_case(
        __import__("tests.adapters.sql.test_case", fromlist=["new_case"]).new_case(
            cases, lon=on_edge.x, lat=on_edge.y
        )
    )
    assert report.grid_code == min(a, b)
    assert gis.locate(100.0, 30.0) is None


def test_locate_converts_gcj02_and_bd09(gis) -> None:
    grid = gis.regions("grid")[3]
    p = shape(grid.geometry).representative_point()
    for datum in ("gcj02", "bd09"):
        lon, lat = from_wgs84(p.x, p.y, datum)
        assert gis.locate(lon, lat, datum).code == grid.code
    with pytest.raises(AdapterError):
        gis.locate(p.x, p.y, "mars")


def test_point_layers_and_region_filter(gis) -> None:
    street = gis.regions("street")[0].code
    for layer in ("worker", "component", "key_place", "sensor", "camera"):
        everything = gis.points(layer)
        assert everything, layer
        inside = gis.points(layer, street)
        assert all(p.grid_code.startswith(street) for p in inside)
        assert len(inside) < len(everything) or layer == "key_place"
    worker = gis.points("worker")[0]
    assert worker.status in ("on_duty", "off_duty") and "phone" not in worker.props
    with pytest.raises(AdapterError):
        gis.points("tanks")


def test_grid_profile_counts_people_households_houses(gis) -> None:
    grids = sorted(gis.regions("grid"), key=lambda g: -g.population)
    profile = gis.grid_profile(grids[0].code)
    with gis.engine.connect() as conn:
        people = conn.execute(
            select(func.count())
            .select_from(PersonRow)
            .join(HouseholdRow, PersonRow.household_id == HouseholdRow.id)
            .join(HouseRow, HouseholdRow.house_id == HouseRow.id)
            .where(HouseRow.grid_code == grids[0].code)
        ).scalar_one()
    assert profile.people == people == grids[0].population > 0
    assert profile.households == grids[0].households <= profile.houses
    assert profile.components > 0 and profile.workers
    with pytest.raises(NotFound):
        gis.grid_profile("11010100100199")


def test_move_worker_updates_position_grid_and_duty(gis, clock) -> None:
    worker = gis.points("worker")[0]
    target = gis.regions("grid")[-1]
    lon, lat = target.centroid
    moved = gis.move_worker(worker.id, lon, lat, on_duty=False)
    assert (moved.lon, moved.lat, moved.status) == (lon, lat, "off_duty")
    assert moved.grid_code == gis.locate(lon, lat).code
    assert moved.updated_at == clock.now
    with pytest.raises(NotFound):
        gis.move_worker("W999999", lon, lat, True)
