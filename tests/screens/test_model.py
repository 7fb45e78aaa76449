import copy

import pytest
import yaml
from pydantic import ValidationError

from command_center.screens.model import PageSpec, ScreensFile


@pytest.fixture
def data(good_yaml):
    return yaml.safe_load(good_yaml.read_text(encoding="utf-8"))


def options_model(registry, kind):
    return registry.get(kind).options_model


def errors_of(data, registry):
    with pytest.raises(ValidationError) as info:
        ScreensFile.validate_with(data, registry)
    return {(tuple(e["loc"]), e["type"]): e["msg"] for e in info.value.errors()}


def test_a_good_file_gets_defaults_ids_and_validated_options(data, registry):
    screens = ScreensFile.validate_with(data, registry)
    main = screens.get("main")
    assert main is not None and screens.get("nope") is None
    assert (main.width, main.height) == (5760, 2160)
    assert (main.theme, main.scale, main.lang, main.refresh_seconds) == ("dark", "contain", None, 5)
    assert main.grid.gap == 16
    assert [p.id for p in main.panels] == ["map", "kpi-1"]
    assert main.panel("map").options == options_model(registry, "map")(layers=["cases", "cameras"])
    assert isinstance(main.panel("kpi-1").options, options_model(registry, "kpi"))
    assert main.panel("missing") is None
    assert len(main.all_pages()) == 1 and isinstance(main.all_pages()[0], PageSpec)


def test_default_ids_count_per_kind_across_pages(data, registry):
    briefing = ScreensFile.validate_with(data, registry).get("briefing")
    assert (briefing.width, briefing.height, briefing.size) == (3840, 2160, "3840x2160")
    assert [[p.id for p in page.panels] for page in briefing.all_pages()] == [
        ["kpi-1"],
        ["kpi-2", "map-1"],
    ]
    assert briefing.rotation.dwell_seconds == 20
    assert (
        briefing.panel("map-1").options == options_model(registry, "map")()
    )  # defaults of the kind


def test_default_ids_skip_ids_given_explicitly(data, registry):
    data["screens"][0]["panels"][0]["id"] = "kpi-1"
    main = ScreensFile.validate_with(data, registry).get("main")
    assert [p.id for p in main.panels] == ["kpi-1", "kpi-2"]


def test_a_validated_file_serialises_and_validates_again(data, registry):
    screens = ScreensFile.validate_with(data, registry)
    dumped = screens.model_dump()
    assert dumped["screens"][0]["panels"][0]["options"] == {
        "layers": ["cases", "cameras"],
        "zoom": 12,
    }
    again = ScreensFile.validate_with(dumped, registry)
    assert again == screens
    assert ScreensFile.model_validate_json(
        screens.model_dump_json(), context={"registry": registry}
    )


def test_without_a_registry_options_stay_a_dict(data):
    screens = ScreensFile.validate_with(data, None)
    assert screens.get("main").panel("map").options == {"layers": ["cases", "cameras"]}


def test_unknown_kind_lists_the_known_ones(data, registry):
    data["screens"][0]["panels"][1]["kind"] = "kpii"
    errors = errors_of(data, registry)
    assert errors == {
        (("screens", 0, "panels", 1, "kind"), "unknown_panel_kind"): (
            "unknown panel kind 'kpii' (known: kpi, map)"
        )
    }


def test_options_errors_continue_into_the_options(data, registry):
    data["screens"][0]["panels"][0]["options"] = {"layers": ["cases", "roads"], "zom": 3}
    errors = errors_of(data, registry)
    assert set(errors) == {
        (("screens", 0, "panels", 0, "options", "layers", 1), "literal_error"),
        (("screens", 0, "panels", 0, "options", "zom"), "extra_forbidden"),
    }


def test_options_must_be_a_mapping(data, registry):
    data["screens"][0]["panels"][0]["options"] = ["cases"]
    assert (("screens", 0, "panels", 0, "options"), "dict_type") in errors_of(data, registry)


def test_panel_outside_the_grid(data, registry):
    data["screens"][0]["panels"][1]["col_span"] = 3  # cols 5-7 of 6
    data["screens"][0]["panels"][1]["row"] = 5  # rows 5-5 of 4
    errors = errors_of(data, registry)
    assert errors[(("screens", 0, "panels", 1, "col_span"), "outside_grid")] == (
        "panel 'kpi-1' covers columns 5-7 but the grid has 6 columns"
    )
    assert errors[(("screens", 0, "panels", 1, "row"), "outside_grid")] == (
        "panel 'kpi-1' covers rows 5-5 but the grid has 4 rows"
    )


def test_overlapping_panels_are_named_both(data, registry):
    data["screens"][0]["panels"][1]["col"] = 4
    errors = errors_of(data, registry)
    assert errors == {
        (("screens", 0, "panels", 1, "col"), "panels_overlap"): (
            "panels 'map' and 'kpi-1' overlap at col 4, row 1"
        )
    }


def test_panels_on_different_pages_may_share_cells(data, registry):
    page = data["screens"][1]["pages"][1]["panels"]
    page.append({"kind": "kpi", "col": 2, "row": 2, "options": {"metrics": ["x"]}})
    errors = errors_of(data, registry)
    assert list(errors.values()) == ["panels 'map-1' and 'kpi-3' overlap at col 2, row 2"]
    assert list(errors)[0][0] == ("screens", 1, "pages", 1, "panels", 2, "col")


def test_duplicate_panel_ids_within_a_screen(data, registry):
    pages = data["screens"][1]["pages"]
    pages[0]["panels"][0]["id"] = "twice"
    pages[1]["panels"][1]["id"] = "twice"
    errors = errors_of(data, registry)
    assert errors == {
        (("screens", 1, "pages", 1, "panels", 1, "id"), "duplicate_panel_id"): (
            "duplicate panel id 'twice' (also used by pages[0].panels[0])"
        )
    }


def test_duplicate_screen_ids(data, registry):
    data["screens"].append(copy.deepcopy(data["screens"][0]))
    assert errors_of(data, registry) == {
        (
            ("screens", 2, "id"),
            "duplicate_screen_id",
        ): "duplicate screen id 'main' (also screens[0])"
    }


def test_panels_and_pages_together_or_neither_are_errors(data, registry):
    data["screens"][0]["pages"] = [{"panels": []}]
    del data["screens"][1]["pages"]
    errors = errors_of(data, registry)
    assert set(errors) == {
        (("screens", 0, "pages"), "panels_and_pages"),
        (("screens", 1), "no_panels"),
    }


def test_layout_errors_come_with_type_errors_in_one_round(data, registry):
    panels = data["screens"][0]["panels"]
    panels[0]["title"] = ["not", "a", "string"]
    panels[1]["col"] = 3  # overlaps the map
    panels[1]["kind"] = "nope"
    errors = errors_of(data, registry)
    assert set(errors) == {
        (("screens", 0, "panels", 0, "title"), "string_type"),
        (("screens", 0, "panels", 1, "kind"), "unknown_panel_kind"),
        (("screens", 0, "panels", 1, "col"), "panels_overlap"),
    }


@pytest.mark.parametrize(
    "change, loc, kind",
    [
        ({"size": "5760*2160"}, ("screens", 0, "size"), "string_pattern_mismatch"),
        ({"id": "Main Wall"}, ("screens", 0, "id"), "string_pattern_mismatch"),
        ({"theme": "blue"}, ("screens", 0, "theme"), "literal_error"),
        ({"scale": "cover"}, ("screens", 0, "scale"), "literal_error"),
        ({"refresh_seconds": 0.5}, ("screens", 0, "refresh_seconds"), "greater_than_equal"),
        (
            {"rotation": {"dwell_seconds": 1}},
            ("screens", 0, "rotation", "dwell_seconds"),
            "greater_than_equal",
        ),
        (
            {"grid": {"columns": 49, "rows": 4}},
            ("screens", 0, "grid", "columns"),
            "less_than_equal",
        ),
        ({"width": 100, "height": 100}, ("screens", 0), "size_conflict"),
    ],
)
def test_screen_field_errors(data, registry, change, loc, kind):
    data["screens"][0].update(change)
    assert (loc, kind) in errors_of(data, registry)


def test_missing_screens_key(registry):
    assert errors_of({}, registry) == {(("screens",), "missing"): "Field required"}


def test_titles_may_come_in_both_languages(data, registry):
    from command_center.screens.model import LocalText, title_text

    main = data["screens"][0]
    main["title"] = {"zh": "主屏", "en": "Main wall"}
    main["description"] = {"zh": "说明"}
    main["panels"][0]["title"] = {"zh": "地图", "en": "Map"}
    screens = ScreensFile.validate_with(data, registry)
    spec = screens.get("main")
    assert isinstance(spec.title, LocalText)
    assert (title_text(spec.title, "zh"), title_text(spec.title, "en")) == ("主屏", "Main wall")
    assert title_text(spec.description, "en") == "说明"  # no English: the Chinese
    assert title_text(spec.panel("map").title, "en") == "Map"
    again = ScreensFile.validate_with(screens.model_dump(mode="json"), registry)
    assert title_text(again.get("main").title, "en") == "Main wall"


@pytest.mark.parametrize("bad", [{"en": "Main"}, {"zh": "主屏", "fr": "x"}, {"zh": ""}, 7])
def test_a_title_is_a_string_or_zh_and_en_one_error_at_the_title(data, registry, bad):
    data["screens"][0]["title"] = bad
    errors = errors_of(data, registry)
    assert list(errors) == [(("screens", 0, "title"), "string_type")]
