"""The panel registry: one entry per kind, ids per instance."""

from __future__ import annotations

import pytest

from command_center.panels import default_registry
from command_center.screens.registry import PanelContext, PanelKind, PanelOptions, PanelRegistry


class NoOptions(PanelOptions):
    pass


def test_a_kind_cannot_be_registered_twice() -> None:
    registry = PanelRegistry()
    registry.register(PanelKind("kpi", NoOptions, build=None))
    with pytest.raises(ValueError, match="registered twice"):
        registry.register(PanelKind("kpi", NoOptions, build=None))


def test_every_built_in_kind_renders_somehow_and_has_a_title() -> None:
    for kind in default_registry().kinds():
        assert kind.build is not None or (kind.fetch is not None and kind.render is not None)
        assert kind.title_key.startswith("kind.")
        assert kind.module in {"city", "collaboration", "statistics", "appraisal", "ops", "grid"}


def test_same_kind_placed_twice_gets_distinct_pattern_matching_ids() -> None:
    a = PanelContext(screen_id="briefing", panel_id="streets", kind="ranking", options=None)
    b = PanelContext(screen_id="briefing", panel_id="departments", kind="ranking", options=None)
    assert a.id("body") == {"role": "body", "kind": "ranking", "pid": "briefing.streets"}
    assert a.id("body") != b.id("body")
    assert a.id("tick")["pid"] == a.id("body")["pid"]


def test_unknown_options_are_rejected_by_the_kinds_model() -> None:
    model = default_registry().get("ranking").options_model
    with pytest.raises(ValueError, match="colour"):
        model(colour="red")
