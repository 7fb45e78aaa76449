import random

import pytest
from shapely.geometry import Polygon, box, mapping

from command_center.domain.grid_index import GridIndex

# Four 0.01° squares in a 2×2 block; codes are deliberately not in geometric order.
SQUARES = {
    "11010100100104": box(116.40, 39.90, 116.41, 39.91),  # south-west
    "11010100100102": box(116.41, 39.90, 116.42, 39.91),  # south-east
    "11010100100103": box(116.40, 39.91, 116.41, 39.92),  # north-west
    "11010100100101": box(116.41, 39.91, 116.42, 39.92),  # north-east
}


@pytest.fixture
def index():
    # Inserted in reverse code order: the tie-break must not depend on insertion order.
    return GridIndex(sorted(SQUARES.items(), reverse=True))


def test_point_inside_a_grid(index):
    assert index.locate(116.405, 39.905) == "11010100100104"
    assert index.locate(116.415, 39.915) == "11010100100101"


def test_point_outside_every_grid_is_none(index):
    assert index.locate(116.45, 39.95) is None
    assert index.locate(0.0, 0.0) is None


def test_point_on_a_shared_edge_goes_to_the_lowest_code(index):
    # Edge between south-west (…04) and south-east (…02).
    assert index.locate(116.41, 39.905) == "11010100100102"
    # Edge between south-west (…04) and north-west (…03).
    assert index.locate(116.405, 39.91) == "11010100100103"


def test_point_on_the_corner_shared_by_four_goes_to_the_lowest_code(index):
    assert index.locate(116.41, 39.91) == "11010100100101"


def test_point_on_the_outer_boundary_belongs_to_its_grid(index):
    assert index.locate(116.40, 39.905) == "11010100100104"
    assert index.locate(116.42, 39.92) == "11010100100101"


def test_locate_many_agrees_with_locate(index):
    rng = random.Random(7)
    lons = [rng.uniform(116.395, 116.425) for _ in range(300)]
    lats = [rng.uniform(39.895, 39.925) for _ in range(300)]
    # Add the boundary cases.
    lons += [116.41, 116.41, 116.405, 116.40, 116.5]
    lats += [39.91, 39.905, 39.91, 39.905, 39.5]
    expected = [index.locate(x, y) for x, y in zip(lons, lats, strict=True)]
    assert index.locate_many(lons, lats) == expected
    assert None in expected


def test_locate_many_of_nothing(index):
    assert index.locate_many([], []) == []


def test_locate_many_with_nan_is_none(index):
    assert index.locate_many([float("nan"), 116.405], [39.905, 39.905]) == [
        None,
        "11010100100104",
    ]


def test_locate_many_needs_matching_lengths(index):
    with pytest.raises(ValueError):
        index.locate_many([116.405], [39.905, 39.906])


def test_geojson_geometry_and_feature_are_accepted():
    geom = mapping(SQUARES["11010100100104"])
    feature = {"type": "Feature", "geometry": mapping(SQUARES["11010100100102"])}
    index = GridIndex([("11010100100104", geom), ("11010100100102", feature)])
    assert index.locate(116.405, 39.905) == "11010100100104"
    assert index.locate(116.415, 39.905) == "11010100100102"
    assert len(index) == 2
    assert index.codes == ["11010100100102", "11010100100104"]
    assert index.geometry("11010100100104").equals(SQUARES["11010100100104"])


def test_empty_index_locates_nothing():
    index = GridIndex([])
    assert index.locate(116.405, 39.905) is None
    assert index.locate_many([116.405], [39.905]) == [None]


def test_duplicate_grid_code_is_refused():
    sq = SQUARES["11010100100104"]
    with pytest.raises(ValueError, match="appears twice"):
        GridIndex([("11010100100104", sq), ("11010100100104", sq)])


def test_self_intersecting_polygon_is_refused():
    bowtie = Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    with pytest.raises(ValueError, match="invalid polygon"):
        GridIndex([("g1", bowtie)])


def test_non_polygon_is_refused():
    with pytest.raises(ValueError, match="Polygon or MultiPolygon"):
        GridIndex([("g1", {"type": "Point", "coordinates": [116.4, 39.9]})])


def test_unknown_grid_geometry_is_a_key_error(index):
    with pytest.raises(KeyError):
        index.geometry("99999999999999")


def test_polygon_with_a_hole_does_not_cover_the_hole():
    outer = box(0, 0, 3, 3)
    hole = box(1, 1, 2, 2)
    index = GridIndex([("ring", outer.difference(hole)), ("core", hole)])
    assert index.locate(1.5, 1.5) == "core"
    assert index.locate(0.5, 0.5) == "ring"
