import pytest
import yaml

from command_center.screens.loader import (
    ScreensError,
    ScreensIssue,
    check_file,
    json_schema,
    load_screens,
)


def issues(path, registry):
    found = check_file(path, registry)
    assert found, "expected the file to be rejected"
    return [f"{i.line}: {i.path}: {i.message}" for i in found]


def test_a_good_file_loads(good_yaml, registry):
    screens = load_screens(good_yaml, registry)
    assert screens.ids() == ["main", "briefing"]
    assert check_file(good_yaml, registry) == []


def test_issue_text_is_file_line_path_message():
    issue = ScreensIssue("screens.yaml", 7, "screens[main].panels[0].col", "field required")
    assert str(issue) == "screens.yaml:7: screens[main].panels[0].col: field required"


def test_error_lists_every_issue_one_per_line(write_yaml, registry):
    path = write_yaml(
        """\
        screens:
          - id: main
            title: T
            size: 100x100
            theme: drak
            grid: {columns: 2, rows: 2}
            panels:
              - {kind: kpi, col: 1, row: 1, colspan: 2, options: {metrics: [a]}}
        """
    )
    with pytest.raises(ScreensError) as info:
        load_screens(path, registry)
    assert str(info.value).splitlines() == [
        f"{path}:5: screens[main].theme: input should be 'dark' or 'light' (got 'drak')",
        f"{path}:8: screens[main].panels[0].colspan: unknown field 'colspan' "
        "(did you mean 'col_span'?)",
    ]
    assert all(i.file == str(path) for i in info.value.issues)


def test_unknown_kind_and_bad_options_point_at_their_lines(write_yaml, registry):
    path = write_yaml(
        """\
        screens:
          - id: main
            title: T
            size: 1920x1080
            grid: {columns: 4, rows: 2}
            panels:
              - kind: mapp
                col: 1
                row: 1
              - kind: map
                col: 2
                row: 1
                options:
                  layers:
                    - cases
                    - roads
                  zooom: 3
              - kind: kpi
                col: 3
                row: 1
                options: {}
        """
    )
    assert issues(path, registry) == [
        "7: screens[main].panels[0].kind: unknown panel kind 'mapp' (known: kpi, map)",
        "16: screens[main].panels[1].options.layers[1]: "
        "input should be 'cases', 'cameras' or 'workers' (got 'roads')",
        "17: screens[main].panels[1].options.zooom: unknown field 'zooom' (did you mean 'zoom'?)",
        # A missing field points at the mapping that lacks it.
        "21: screens[main].panels[2].options.metrics: field required",
    ]


def test_layout_errors_name_panels_and_lines(write_yaml, registry):
    path = write_yaml(
        """\
        screens:
          - id: main
            title: T
            size: 1920x1080
            grid: {columns: 4, rows: 2}
            panels:
              - {id: map, kind: map, col: 1, row: 1, col_span: 3, row_span: 2}
              - {kind: kpi, col: 3, row: 2, options: {metrics: [a]}}
              - {id: map, kind: kpi, col: 4, row: 1, options: {metrics: [a]}}
              - kind: kpi
                col: 4
                row: 2
                row_span: 2
                options: {metrics: [a]}
        """
    )
    assert issues(path, registry) == [
        "8: screens[main].panels[1].col: panels 'map' and 'kpi-1' overlap at col 3, row 2",
        "9: screens[main].panels[2].id: duplicate panel id 'map' (also used by panels[0])",
        "13: screens[main].panels[3].row_span: "
        "panel 'kpi-2' covers rows 2-3 but the grid has 2 rows",
    ]


def test_pages_are_addressed_by_index(write_yaml, registry):
    path = write_yaml(
        """\
        screens:
          - id: briefing
            title: B
            size: 1920x1080
            grid: {columns: 2, rows: 2}
            pages:
              - panels:
                  - {kind: kpi, col: 1, row: 1, options: {metrics: [a]}}
              - title: Second
                panels:
                  - {kind: kpi, col: 1, row: 1, options: {metrics: [a]}}
                  - kind: map
                    col: three
                    row: 1
        """
    )
    assert issues(path, registry) == [
        "13: screens[briefing].pages[1].panels[1].col: "
        "input should be a valid integer, unable to parse string as an integer (got 'three')",
    ]


def test_screens_without_a_valid_id_are_addressed_by_index(write_yaml, registry):
    path = write_yaml(
        """\
        screens:
          - title: no id
            size: 1920x1080
            grid: {columns: 1, rows: 1}
            panels: [{kind: kpi, col: 1, row: 1, col_span: 2, options: {metrics: [a]}}]
        """
    )
    assert issues(path, registry) == [
        "2: screens[0].id: field required",
        "5: screens[0].panels[0].col_span: "
        "panel 'kpi-1' covers columns 1-2 but the grid has 1 columns",
    ]


def test_duplicate_screen_ids(write_yaml, registry):
    path = write_yaml(
        """\
        screens:
          - id: main
            title: A
            size: 1920x1080
            grid: {columns: 1, rows: 1}
            panels: [{kind: kpi, col: 1, row: 1, options: {metrics: [a]}}]
          - id: main
            title: B
            size: 1920x1080
            grid: {columns: 1, rows: 1}
            panels: [{kind: kpi, col: 1, row: 1, options: {metrics: [a]}}]
        """
    )
    assert issues(path, registry) == [
        "7: screens[main].id: duplicate screen id 'main' (also screens[0])",
    ]


def test_missing_screens_key(write_yaml, registry):
    path = write_yaml(
        """\
        # the walls
        screen:
          - id: main
        """
    )
    assert issues(path, registry) == [
        "2: screen: unknown field 'screen' (did you mean 'screens'?)",
        "2: screens: field required",
    ]


def test_yaml_syntax_error_names_its_line(write_yaml, registry):
    path = write_yaml(
        """\
        screens:
          - id: main
            title: T
            grid: {columns: 2, rows: 2
            size: 1920x1080
        """
    )
    [issue] = check_file(path, registry)
    assert issue.line == 5
    assert issue.message.startswith("YAML syntax error:")


def test_bad_indentation_is_a_syntax_error(write_yaml, registry):
    path = write_yaml("screens:\n  - id: main\n   title: T\n")
    [issue] = check_file(path, registry)
    assert (issue.line, issue.path) == (3, "(top level)")


def test_wrong_types(write_yaml, registry):
    path = write_yaml(
        """\
        screens:
          - id: main
            title: T
            size: 1920 by 1080
            grid: 4
            refresh_seconds: soon
            panels: {kind: kpi}
        """
    )
    assert issues(path, registry) == [
        "4: screens[main].size: size must look like 5760x2160 (width x height in px), "
        "got '1920 by 1080'",
        "5: screens[main].grid: expected a mapping (key: value lines), got 4",
        "6: screens[main].refresh_seconds: "
        "input should be a valid number, unable to parse string as a number (got 'soon')",
        "7: screens[main].panels: expected a list (lines starting with '- '), got a mapping",
    ]


def test_a_file_that_is_not_a_mapping(write_yaml, registry):
    path = write_yaml("- id: main\n")
    assert issues(path, registry) == [
        "1: (top level): the file must be a mapping with a screens: list"
    ]


def test_an_empty_file(write_yaml, registry):
    path = write_yaml("# nothing yet\n")
    assert issues(path, registry) == ["1: screens: the file is empty; it needs a screens: list"]


def test_duplicate_yaml_keys_are_reported(write_yaml, registry):
    path = write_yaml(
        """\
        screens:
          - id: main
            title: T
            size: 1920x1080
            grid: {columns: 1, rows: 1}
            panels: [{kind: kpi, col: 1, row: 1, options: {metrics: [a]}}]
            title: Again
        """
    )
    assert issues(path, registry) == [
        "7: screens[0].title: duplicate key 'title' (first at line 3); YAML keeps only the last",
    ]


def test_a_missing_file(tmp_path, registry):
    with pytest.raises(ScreensError) as info:
        load_screens(tmp_path / "nope.yaml", registry)
    [issue] = info.value.issues
    assert issue.line is None and "cannot read" in issue.message
    assert str(issue).startswith(f"{tmp_path / 'nope.yaml'}: (top level): cannot read")


# --- JSON schema ---


def test_schema_ties_options_to_the_kind(registry):
    schema = json_schema(registry)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["screens"]
    assert schema["additionalProperties"] is False
    defs = schema["$defs"]
    panel = defs["PanelSpec"]
    assert panel["properties"]["kind"]["enum"] == ["kpi", "map"]
    assert panel["additionalProperties"] is False
    branches = {b["if"]["properties"]["kind"]["const"]: b["then"] for b in panel["allOf"]}
    map_ref = branches["map"]["properties"]["options"]["$ref"]
    map_schema = defs[map_ref.rsplit("/", 1)[-1]]
    assert map_schema["properties"]["layers"]["items"]["enum"] == ["cases", "cameras", "workers"]
    assert map_schema["properties"]["layers"]["description"] == "Layers drawn on the map"
    kpi_schema = defs[branches["kpi"]["properties"]["options"]["$ref"].rsplit("/", 1)[-1]]
    assert kpi_schema["required"] == ["metrics"]
    screen = defs["ScreenSpec"]
    assert "size" not in screen["required"]
    assert {"width", "height", "size"} <= set(screen["properties"])
    assert screen["properties"]["size"]["description"].startswith("Design size")


def test_schema_validates_the_good_file_and_rejects_bad_options(good_yaml, registry):
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(json_schema(registry))
    data = yaml.safe_load(good_yaml.read_text(encoding="utf-8"))
    assert list(validator.iter_errors(data)) == []
    data["screens"][0]["panels"][0]["options"]["layers"] = ["roads"]
    assert list(validator.iter_errors(data))


def test_schema_is_json(registry):
    import json

    assert json.loads(json.dumps(json_schema(registry)))["title"] == "screens.yaml"
