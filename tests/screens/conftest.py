"""A small panel registry with two fake kinds, and a helper writing screens.yaml files."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest
from pydantic import Field

from command_center.screens.registry import PanelKind, PanelOptions, PanelRegistry


class MapOptions(PanelOptions):
    layers: list[Literal["cases", "cameras", "workers"]] = Field(
        default_factory=lambda: ["cases"], description="Layers drawn on the map"
    )
    zoom: int = Field(12, ge=1, le=20)


class KpiOptions(PanelOptions):
    metrics: list[str] = Field(min_length=1, description="KPI names, left to right")


@pytest.fixture
def registry() -> PanelRegistry:
    reg = PanelRegistry()
    reg.register(PanelKind("map", MapOptions, build=lambda ctx: None, module="panorama"))
    reg.register(PanelKind("kpi", KpiOptions, build=lambda ctx: None, module="statistics"))
    return reg


GOOD = """\
screens:
  - id: main
    title: 全景城市
    size: 5760x2160
    grid: {columns: 6, rows: 4}
    panels:
      - id: map
        kind: map
        col: 1
        row: 1
        col_span: 4
        row_span: 4
        options:
          layers: [cases, cameras]
      - kind: kpi
        col: 5
        row: 1
        col_span: 2
        options:
          metrics: [cases_today, closed_rate]
  - id: briefing
    title: Briefing
    width: 3840
    height: 2160
    grid: {columns: 2, rows: 2}
    rotation: {dwell_seconds: 20}
    pages:
      - title: Overview
        panels:
          - {kind: kpi, col: 1, row: 1, options: {metrics: [a]}}
      - panels:
          - {kind: kpi, col: 1, row: 1, col_span: 2, options: {metrics: [b]}}
          - {kind: map, col: 1, row: 2, col_span: 2}
"""


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[str], Path]:
    """Write (dedented) YAML text to a screens.yaml in tmp_path and return its path."""

    def write(text: str, name: str = "screens.yaml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def good_yaml(write_yaml: Callable[[str], Path]) -> Path:
    return write_yaml(GOOD)
