import pytest

from command_center.screens.scaling import (
    Transform,
    parse_part,
    part_region,
    part_transform,
    scale_transform,
)


def test_contain_letterboxes_a_wide_design_in_a_taller_view():
    t = scale_transform(5760, 2160, 1920, 1080, "contain")
    assert t == pytest.approx(Transform(1 / 3, 1 / 3, 0, (1080 - 720) / 2))


def test_contain_pillarboxes_a_narrow_design_in_a_wider_view():
    t = scale_transform(1920, 1080, 3840, 1080, "contain")
    assert t == pytest.approx(Transform(1, 1, 960, 0))


def test_contain_of_the_same_aspect_fills_exactly():
    assert scale_transform(5760, 2160, 2880, 1080, "contain") == pytest.approx(
        Transform(0.5, 0.5, 0, 0)
    )


def test_fit_width_is_uniform_and_top_aligned():
    t = scale_transform(5760, 2160, 1920, 1080, "fit-width")
    assert t == pytest.approx(Transform(1 / 3, 1 / 3, 0, 0))
    t = scale_transform(1920, 1080, 1920, 600, "fit-width")  # overflows below, cut
    assert t == pytest.approx(Transform(1, 1, 0, 0))


def test_fit_height_is_uniform_and_horizontally_centred():
    t = scale_transform(5760, 2160, 1920, 1080, "fit-height")
    assert t == pytest.approx(Transform(0.5, 0.5, (1920 - 2880) / 2, 0))


def test_stretch_scales_axes_independently():
    t = scale_transform(5760, 2160, 1920, 1080, "stretch")
    assert t == pytest.approx(Transform(1 / 3, 0.5, 0, 0))


@pytest.mark.parametrize("bad", [(0, 1, 1, 1), (1, -1, 1, 1), (1, 1, 0, 1), (1, 1, 1, 0)])
def test_non_positive_sizes_are_rejected(bad):
    with pytest.raises(ValueError, match="must be positive"):
        scale_transform(*bad, "contain")


def test_unknown_mode_names_the_known_ones():
    with pytest.raises(ValueError, match="contain, fit-width"):
        scale_transform(1, 1, 1, 1, "cover")


def test_css_of_a_transform():
    assert Transform(0.5, 0.5, 10, 0).css() == (
        "translate(10.000px, 0.000px) scale(0.500000, 0.500000)"
    )


def test_part_region_of_a_3x2_mosaic():
    assert part_region(5760, 2160, (2, 1), (3, 2)) == (1920, 0, 1920, 1080)
    assert part_region(5760, 2160, (1, 1), (3, 2)) == (0, 0, 1920, 1080)
    assert part_region(5760, 2160, (3, 2), (3, 2)) == (3840, 1080, 1920, 1080)
    assert part_region(5760, 2160, (1, 1), (1, 1)) == (0, 0, 5760, 2160)


@pytest.mark.parametrize(
    "part, of", [((0, 1), (3, 2)), ((4, 1), (3, 2)), ((1, 3), (3, 2)), ((1, 1), (0, 2))]
)
def test_part_region_rejects_parts_outside_the_mosaic(part, of):
    with pytest.raises(ValueError):
        part_region(5760, 2160, part, of)


def test_part_transform_shows_only_that_part_full_screen():
    # Browser (2, 1) of a 3x2 wall, each a 1920x1080 monitor: 1:1 pixels, shifted left.
    t = part_transform(5760, 2160, 1920, 1080, "contain", (2, 1), (3, 2))
    assert t == pytest.approx(Transform(1, 1, -1920, 0))
    # The design point at the part's centre lands in the view's centre.
    x, y = 1920 + 960, 540
    assert (x * t.scale_x + t.offset_x, y * t.scale_y + t.offset_y) == pytest.approx((960, 540))


def test_parse_part_of_query_strings():
    assert parse_part("2,1", "3x2") == ((2, 1), (3, 2))
    assert parse_part(" 3 , 2 ", "3X2") == ((3, 2), (3, 2))
    assert parse_part(None, None) is None
    assert parse_part("", "") is None


@pytest.mark.parametrize(
    "part, of, message",
    [
        ("2,1", None, "give both"),
        (None, "3x2", "give both"),
        ("two", "3x2", "part='two' should be column,row"),
        ("2,1", "3by2", "of='3by2' should be columns x rows"),
        ("4,1", "3x2", "outside 3x2"),
        ("0,1", "3x2", "outside 3x2"),
    ],
)
def test_parse_part_errors_say_what_to_write(part, of, message):
    with pytest.raises(ValueError, match=message):
        parse_part(part, of)
