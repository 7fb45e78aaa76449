"""The map panel's options and pure pieces: validated layers, cards that show no personal
data, and a camera card that points at the video adapter's snapshot route."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from command_center.screens.registry import PanelContext
from layouts.city_map import MapOptions, breadcrumb, camera_card, point_card


def ctx(**options: object) -> PanelContext:
    return PanelContext("s", "map", "city_map", MapOptions(**options), lang="zh", title="地图")


def test_options_reject_repeated_hidden_unknown_and_negative_values() -> None:
    with pytest.raises(ValidationError):
        MapOptions(layers=["cases", "cases"])
    with pytest.raises(ValidationError):
        MapOptions(layers=["boundaries"], hidden_layers=["cameras"])
    with pytest.raises(ValidationError):
        MapOptions(layers=["satellites"])
    with pytest.raises(ValidationError):
        MapOptions(tour_seconds=-1)
    ok = MapOptions(layers=["boundaries", "cameras"], hidden_layers=["cameras"], measure="per_1000")
    assert ok.level == "street" and ok.tour_seconds == 0


def test_camera_card_shows_the_live_snapshot_of_that_camera() -> None:
    card = camera_card(ctx(), {"id": "CAM0007", "name": "东四路口", "status": "online"})
    text = json.dumps(
        card.to_plotly_json(), default=lambda o: o.to_plotly_json(), ensure_ascii=False
    )
    assert "/video/CAM0007/snapshot.png" in text and "cc-cam-live" in text
    assert "在线" in text


def test_point_card_for_a_worker_carries_only_the_masked_name() -> None:
    card = point_card(
        ctx(), {"layer": "worker", "status": "on_duty", "tooltip": ["张*", "网格员"], "id": "W1"}
    )
    text = json.dumps(
        card.to_plotly_json(), default=lambda o: o.to_plotly_json(), ensure_ascii=False
    )
    assert "张*" in text and "在岗" in text


def test_breadcrumb_starts_at_the_whole_district_and_marks_the_current_step() -> None:
    crumbs = [
        {"code": "110101", "name": "东城区", "level": "district"},
        {"code": "110101001", "name": "东华门街道", "level": "street"},
    ]
    items = breadcrumb(ctx(), crumbs)
    buttons = [i for i in items if getattr(i, "id", None)]
    assert [b.children for b in buttons] == ["全区", "东华门街道"]
    assert "current" in buttons[-1].className and buttons[0].id["code"] == ""


def test_breadcrumb_of_a_city_with_several_districts_starts_at_the_city() -> None:
    crumbs = [
        {"code": "110102", "name": "西城区", "level": "district"},
        {"code": "110102001", "name": "西长安街街道", "level": "street"},
    ]
    items = breadcrumb(ctx(), crumbs, several_districts=True)
    buttons = [i for i in items if getattr(i, "id", None)]
    assert [b.children for b in buttons] == ["全市", "西城区", "西长安街街道"]
    assert buttons[1].id["code"] == "110102"  # a district is a step of its own
