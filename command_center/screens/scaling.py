"""How a screen's design canvas maps onto a real viewport, and onto one browser of a mosaic.

Pure maths. The browser does the same in ``assets/`` JS; the unit tests pin the formulas so
both stay identical. Scale first, then translate: a design point (x, y) lands at
``(x * scale_x + offset_x, y * scale_y + offset_y)`` in the viewport.
"""

from __future__ import annotations

import re
from typing import Literal, NamedTuple

ScaleMode = Literal["contain", "fit-width", "fit-height", "stretch"]
SCALE_MODES: tuple[str, ...] = ("contain", "fit-width", "fit-height", "stretch")


class Transform(NamedTuple):
    scale_x: float
    scale_y: float
    offset_x: float
    offset_y: float

    def css(self) -> str:
        """The CSS transform (with ``transform-origin: 0 0``) that applies it."""
        return (
            f"translate({self.offset_x:.3f}px, {self.offset_y:.3f}px) "
            f"scale({self.scale_x:.6f}, {self.scale_y:.6f})"
        )


def scale_transform(
    design_w: float, design_h: float, view_w: float, view_h: float, mode: str
) -> Transform:
    """Fit a design_w x design_h canvas into a view_w x view_h viewport.

    - contain: the largest uniform scale that shows everything, centred (letterbox/pillarbox);
    - fit-width: uniform, the width fills the view, top-aligned (what overflows below is cut);
    - fit-height: uniform, the height fills the view, centred horizontally;
    - stretch: x and y scaled independently to fill the view (distorts).
    """
    for name, value in (
        ("design width", design_w),
        ("design height", design_h),
        ("view width", view_w),
        ("view height", view_h),
    ):
        if not value > 0:
            raise ValueError(f"{name} must be positive, got {value!r}")
    sx, sy = view_w / design_w, view_h / design_h
    if mode == "contain":
        s = min(sx, sy)
        return Transform(s, s, (view_w - design_w * s) / 2, (view_h - design_h * s) / 2)
    if mode == "fit-width":
        return Transform(sx, sx, 0.0, 0.0)
    if mode == "fit-height":
        return Transform(sy, sy, (view_w - design_w * sy) / 2, 0.0)
    if mode == "stretch":
        return Transform(sx, sy, 0.0, 0.0)
    raise ValueError(f"unknown scale mode {mode!r} (known: {', '.join(SCALE_MODES)})")


def part_region(
    design_w: float, design_h: float, part: tuple[int, int], of: tuple[int, int]
) -> tuple[float, float, float, float]:
    """The (x, y, w, h) of the design canvas one browser shows when a screen is split.

    ``of=(cols, rows)`` browsers, ``part=(col, row)`` 1-based from the top left: part (2, 1)
    of (3, 2) on 5760x2160 is (1920, 0, 1920, 1080).
    """
    cols, rows = of
    col, row = part
    if cols < 1 or rows < 1:
        raise ValueError(f"a screen splits into at least 1x1 parts, got {cols}x{rows}")
    if not (1 <= col <= cols and 1 <= row <= rows):
        raise ValueError(
            f"part {col},{row} is outside {cols}x{rows} (columns 1-{cols}, rows 1-{rows})"
        )
    w, h = design_w / cols, design_h / rows
    return (col - 1) * w, (row - 1) * h, w, h


def part_transform(
    design_w: float,
    design_h: float,
    view_w: float,
    view_h: float,
    mode: str,
    part: tuple[int, int],
    of: tuple[int, int],
) -> Transform:
    """The transform of the whole canvas that shows only ``part`` in this viewport."""
    x, y, w, h = part_region(design_w, design_h, part, of)
    t = scale_transform(w, h, view_w, view_h, mode)
    return Transform(t.scale_x, t.scale_y, t.offset_x - x * t.scale_x, t.offset_y - y * t.scale_y)


_PAIR = re.compile(r"^\s*(\d+)\s*[,xX×]\s*(\d+)\s*$")


def parse_part(part: str | None, of: str | None) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """Parse ``?part=2,1&of=3x2`` into ((2, 1), (3, 2)); None when neither is given."""
    if not part and not of:
        return None
    if not part or not of:
        raise ValueError(
            "give both part= (column,row, e.g. 2,1) and of= (columns x rows, e.g. 3x2)"
        )
    part_match, of_match = _PAIR.match(part), _PAIR.match(of)
    if part_match is None:
        raise ValueError(f"part={part!r} should be column,row counted from 1, e.g. part=2,1")
    if of_match is None:
        raise ValueError(f"of={of!r} should be columns x rows, e.g. of=3x2")
    parsed_part = (int(part_match.group(1)), int(part_match.group(2)))
    parsed_of = (int(of_match.group(1)), int(of_match.group(2)))
    part_region(1, 1, parsed_part, parsed_of)  # raises with the reason when out of range
    return parsed_part, parsed_of
