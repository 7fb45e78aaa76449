"""A screen scoped to a street or community (``region:``): the code is checked against the
city's streets and communities when they can be had, and a wrong one is reported with its
file and line like any other mistake."""

from __future__ import annotations

import pytest

from command_center.screens.loader import (
    ScreensError,
    ScreensWatcher,
    check_file,
    json_schema,
    load_screens,
)

CITY = {"110101001": "东华门街道", "110101002": "景山街道", "110101001001": "多福巷社区"}

STREET_SCREEN = """\
screens:
  - id: street
    title: 东华门街道分中心
    size: 1920x1080
    grid: {{columns: 2, rows: 1}}
    region: {region}
    panels:
      - {{kind: kpi, col: 1, row: 1, options: {{metrics: [open]}}}}
"""


def test_a_street_screen_keeps_its_code_as_text(write_yaml, registry) -> None:  # noqa: ANN001
    path = write_yaml(STREET_SCREEN.format(region="110101001"))  # unquoted: YAML reads a number
    screen = load_screens(path, registry, CITY).get("street")
    assert screen is not None and screen.region == "110101001"
    community = write_yaml(STREET_SCREEN.format(region="'110101001001'"))
    assert load_screens(community, registry, CITY).get("street").region == "110101001001"


def test_an_unknown_code_is_reported_at_its_line(write_yaml, registry) -> None:  # noqa: ANN001
    path = write_yaml(STREET_SCREEN.format(region="110101003"))
    [issue] = check_file(path, registry, CITY)
    assert (issue.file, issue.line, issue.path) == (str(path), 6, "screens[street].region")
    assert issue.message.startswith("unknown region code '110101003'")
    assert "110101001 东华门街道" in issue.message  # the close ones are suggested


def test_a_code_of_the_wrong_shape_says_what_a_code_is(write_yaml, registry) -> None:  # noqa: ANN001
    path = write_yaml(STREET_SCREEN.format(region="'东华门'"))
    [issue] = check_file(path, registry, CITY)
    assert issue.line == 6
    assert issue.message == (
        "region is a street (9 digits) or community (12 digits) code, got '东华门'"
    )


def test_the_city_is_asked_only_when_a_screen_names_a_region(
    write_yaml, good_yaml, registry
) -> None:  # noqa: ANN001
    asked: list[int] = []

    def city() -> dict[str, str]:
        asked.append(1)
        return CITY

    load_screens(good_yaml, registry, city)
    assert asked == []
    load_screens(write_yaml(STREET_SCREEN.format(region="110101002")), registry, city)
    assert asked == [1]


def test_a_city_that_cannot_say_leaves_the_code_unchecked(write_yaml, registry) -> None:  # noqa: ANN001
    """A wall is not refused because the GIS is down or the city not seeded yet."""

    def down() -> dict[str, str]:
        raise ConnectionError("gis down")

    path = write_yaml(STREET_SCREEN.format(region="110101009"))
    assert load_screens(path, registry, down).get("street").region == "110101009"
    assert load_screens(path, registry, dict).get("street").region == "110101009"  # empty city


def test_the_watcher_keeps_the_last_good_layout_on_an_unknown_code(write_yaml, registry) -> None:  # noqa: ANN001
    path = write_yaml(STREET_SCREEN.format(region="110101001"))
    watcher = ScreensWatcher(path, registry, poll_seconds=60, regions=lambda: CITY)
    path.write_text(STREET_SCREEN.format(region="110101099"), encoding="utf-8")
    assert watcher.check_now() is False
    assert watcher.current.get("street").region == "110101001"
    assert "screens[street].region: unknown region code '110101099'" in str(watcher.last_error)
    with pytest.raises(ScreensError):
        load_screens(path, registry, CITY)


def test_the_schema_documents_region(registry) -> None:  # noqa: ANN001
    screen = json_schema(registry)["$defs"]["ScreenSpec"]["properties"]["region"]
    assert {"type": "string", "pattern": r"^\d{9}(\d{3})?$"} in screen["anyOf"]
    assert screen["description"].startswith("Street (9-digit)")
