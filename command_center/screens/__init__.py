"""Screens: the screens.yaml model, its loader and watcher, and the scaling maths."""

from command_center.screens.loader import (
    ScreensError,
    ScreensIssue,
    ScreensWatcher,
    check_file,
    json_schema,
    load_screens,
)
from command_center.screens.model import (
    GridSpec,
    PageSpec,
    PanelSpec,
    RotationSpec,
    ScreensFile,
    ScreenSpec,
)
from command_center.screens.scaling import Transform, parse_part, part_region, scale_transform

__all__ = [
    "GridSpec",
    "PageSpec",
    "PanelSpec",
    "RotationSpec",
    "ScreenSpec",
    "ScreensError",
    "ScreensFile",
    "ScreensIssue",
    "ScreensWatcher",
    "Transform",
    "check_file",
    "json_schema",
    "load_screens",
    "parse_part",
    "part_region",
    "scale_transform",
]
