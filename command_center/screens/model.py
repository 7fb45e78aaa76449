"""The screens.yaml model: screens, their grids, pages and the panels placed on them.

Validation needs the panel registry (to check each panel's kind and its options), passed in
the pydantic validation context: ``ScreensFile.validate_with(data, registry)``. Without a
registry the kinds are not checked and ``options`` stays a plain dict.

Every problem is reported, not just the first: the cross-panel checks (grid bounds, overlaps,
duplicate ids) also run on the parts of a screen that are valid when other fields are not, so
an admin fixes a broken file in one round. Errors carry their location (``loc``) into the
options of a panel, which the loader turns into file:line: path.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    PrivateAttr,
    SerializeAsAny,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from command_center.screens.registry import PanelOptions

if TYPE_CHECKING:
    from command_center.screens.registry import PanelRegistry

ID_PATTERN = r"^[a-z0-9_-]+$"
#: a street (9 digits, GB/T 2260 district + 3) or a community (12 digits)
REGION_PATTERN = r"^\d{9}(\d{3})?$"
SIZE_PATTERN = re.compile(r"^\s*([1-9][0-9]*)\s*[xX×]\s*([1-9][0-9]*)\s*$")

Loc = tuple[int | str, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LocalText(_Strict):
    """A title in both languages: ``{zh: 主屏, en: Main wall}`` (English falls back to zh)."""

    zh: str = Field(min_length=1, description="Chinese (the default language)")
    en: str | None = Field(None, description="English, for ?lang=en; missing: the Chinese")

    def text(self, lang: str = "zh") -> str:
        return (self.en or self.zh) if lang == "en" else self.zh

    def __str__(self) -> str:
        return self.zh


def _title(value: Any) -> str | LocalText:
    """A plain string, or {zh, en}; anything else is one error at the title itself."""
    if isinstance(value, str | LocalText):
        return value
    if isinstance(value, Mapping):
        zh, en = value.get("zh"), value.get("en")
        if (
            set(value) <= {"zh", "en"}
            and isinstance(zh, str)
            and zh.strip()
            and (en is None or isinstance(en, str))
        ):
            return LocalText(zh=zh, en=en or None)
    raise PydanticCustomError(
        "string_type", "Input should be a string or {{zh: …, en: …}} (zh required)"
    )


#: a title: a plain string (one language for both) or {zh: …, en: …}
Title = Annotated[
    str | LocalText,
    PlainValidator(_title),
    PlainSerializer(lambda v: v.model_dump() if isinstance(v, LocalText) else v),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "properties": {
                        "zh": {"type": "string", "minLength": 1},
                        "en": {"type": "string"},
                    },
                    "required": ["zh"],
                    "additionalProperties": False,
                },
            ]
        }
    ),
]


def title_text(title: Title | None, lang: str = "zh") -> str:
    """The title in ``lang``; "" when there is none."""
    if isinstance(title, LocalText):
        return title.text(lang)
    return title or ""


class GridSpec(_Strict):
    """The grid panels are placed on; cells are equal shares of the design canvas."""

    columns: int = Field(ge=1, le=48, description="Number of grid columns (1-48)")
    rows: int = Field(ge=1, le=48, description="Number of grid rows (1-48)")
    gap: int = Field(16, ge=0, description="Space between cells, in design pixels")


class RotationSpec(_Strict):
    """A screen with several pages shows them in turn."""

    dwell_seconds: float = Field(30, ge=5, description="Seconds each page stays on the wall")


class PanelSpec(_Strict):
    """One panel placed on the grid. Columns and rows are 1-based."""

    id: str | None = Field(
        None,
        pattern=ID_PATTERN,
        description="Unique within the screen ([a-z0-9_-]); default '<kind>-<n>', "
        "n counting the panels of that kind in the screen from 1",
    )
    kind: str = Field(description="The panel kind (see the panel registry)")
    col: int = Field(ge=1, description="First grid column (1-based)")
    row: int = Field(ge=1, description="First grid row (1-based)")
    col_span: int = Field(1, ge=1, description="Number of columns the panel covers")
    row_span: int = Field(1, ge=1, description="Number of rows the panel covers")
    title: Title | None = Field(
        None, description="Title (a string or {zh, en}); empty means the kind's default title"
    )
    font_scale: float = Field(1.0, gt=0, le=10, description="Font size factor for this panel")
    options: SerializeAsAny[PanelOptions] | dict[str, Any] = Field(
        default_factory=dict, validate_default=True, description="The kind's options"
    )

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, kind: str, info: ValidationInfo) -> str:
        registry = _registry(info)
        if registry is not None and kind not in registry:
            raise PydanticCustomError(
                "unknown_panel_kind",
                "unknown panel kind '{kind}' (known: {known})",
                {"kind": kind, "known": ", ".join(registry.names()) or "none registered"},
            )
        return kind

    @field_validator("options", mode="plain")
    @classmethod
    def _kind_options(cls, options: Any, info: ValidationInfo) -> PanelOptions | dict[str, Any]:
        if isinstance(options, PanelOptions):
            return options
        if options is None:
            options = {}
        if not isinstance(options, dict):
            raise PydanticCustomError("dict_type", "options must be a mapping of option: value")
        registry = _registry(info)
        kind = info.data.get("kind")
        if registry is None or kind is None or kind not in registry:
            return options  # unchecked; an unknown kind is reported on `kind`
        # A ValidationError raised here is merged by pydantic with `options` prefixed to each
        # error's loc, so the admin sees `.options.layers[0]`, not one opaque message.
        return registry.get(kind).options_model.model_validate(options, context=info.context)

    @property
    def col_end(self) -> int:
        """The last column covered (inclusive)."""
        return self.col + self.col_span - 1

    @property
    def row_end(self) -> int:
        """The last row covered (inclusive)."""
        return self.row + self.row_span - 1


class PageSpec(_Strict):
    """One page of a rotating screen."""

    title: Title | None = Field(
        None, description="Page title (a string or {zh, en}), shown in the page indicator"
    )
    panels: list[PanelSpec] = Field(description="The panels on this page")


class ScreenSpec(_Strict):
    """One wall layout, designed at a fixed pixel size and scaled to the real viewport."""

    id: str = Field(pattern=ID_PATTERN, description="URL id of the screen ([a-z0-9_-])")
    title: Title = Field(
        description="Name shown in the screen list and the header (a string or {zh, en})"
    )
    description: Title = Field("", description="Shown on the screen list (a string or {zh, en})")
    size: str = Field(
        pattern=SIZE_PATTERN.pattern,
        description="Design size WIDTHxHEIGHT in px, e.g. 5760x2160 for a 3x2 1080p wall "
        "(or give width: and height:)",
    )
    grid: GridSpec
    theme: Literal["dark", "light"] = "dark"
    scale: Literal["contain", "fit-width", "fit-height", "stretch"] = Field(
        "contain",
        description="contain: letterbox; fit-width/fit-height: fill one axis; "
        "stretch: fill both (distorts)",
    )
    lang: Literal["zh", "en"] | None = Field(None, description="Language; empty: the server's")
    font_scale: float = Field(1.0, gt=0, le=10, description="Font size factor for the screen")
    refresh_seconds: float = Field(5, ge=1, description="How often panels refresh their data")
    region: str | None = Field(
        None,
        pattern=REGION_PATTERN,
        description="Street (9-digit) or community (12-digit) code: the screen hears only that "
        "region's alarms (plus those at or above CC_ALARM_CITYWIDE_LEVEL), and its map and "
        "panels show that region; empty: the whole city",
    )
    rotation: RotationSpec | None = Field(None, description="Rotate through the pages")
    pages: list[PageSpec] = Field(default_factory=list, description="Pages (instead of panels)")
    panels: list[PanelSpec] = Field(
        default_factory=list, description="The panels of a one-page screen (instead of pages)"
    )

    _pages: list[PageSpec] = PrivateAttr(default_factory=list)

    @field_validator("region", mode="before")
    @classmethod
    def _region_as_text(cls, value: Any) -> Any:
        # YAML reads an unquoted 110101001 as a number; a code is text
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("region")
    @classmethod
    def _known_region(cls, code: str | None, info: ValidationInfo) -> str | None:
        known = _known_regions(info)
        if code is None or not known or code in known:
            return code
        close = difflib.get_close_matches(code, list(known), n=3, cutoff=0.7)
        hint = ", ".join(f"{c} {known[c]}" for c in close)
        raise PydanticCustomError(
            "unknown_region",
            "unknown region code '{code}': no street or community of the city has it"
            + (" (did you mean {hint}?)" if hint else " ({count} known)"),
            {"code": code, "hint": hint, "count": len(known)},
        )

    @model_validator(mode="before")
    @classmethod
    def _width_height_to_size(cls, data: Any) -> Any:
        if not isinstance(data, dict) or ("width" not in data and "height" not in data):
            return data
        data = dict(data)
        width, height = data.pop("width", None), data.pop("height", None)
        given = f"{width}x{height}"
        if "size" not in data:
            data["size"] = given
        elif str(data["size"]).replace(" ", "") != given:
            raise PydanticCustomError(
                "size_conflict",
                "give either size: WIDTHxHEIGHT or width: and height:, not both "
                "(size {size} but width {width}, height {height})",
                {"size": data["size"], "width": width, "height": height},
            )
        return data

    @model_validator(mode="wrap")
    @classmethod
    def _layout(cls, data: Any, handler: Any) -> ScreenSpec:
        try:
            screen = handler(data)
        except ValidationError as exc:
            # Check what can be checked on the raw data so overlaps etc. come out in the same
            # round as the type errors.
            raise _merge(exc, _layout_errors_raw(data)) from None
        errors = _layout_errors(
            screen.grid.columns,
            screen.grid.rows,
            _placements(screen),
            both=_both(screen.panels, screen.pages),
        )
        if errors:
            raise _validation_error(errors)
        screen._assign_default_ids()
        screen._pages = (
            [PageSpec.model_construct(title=None, panels=screen.panels)]
            if screen.panels
            else list(screen.pages)
        )
        return screen

    def _assign_default_ids(self) -> None:
        taken = {p.id for page in self._raw_pages() for p in page if p.id is not None}
        counters: dict[str, int] = {}
        for page in self._raw_pages():
            for panel in page:
                if panel.id is None:
                    panel.id = _default_id(panel.kind, counters, taken)

    def _raw_pages(self) -> list[list[PanelSpec]]:
        return [self.panels] if self.panels else [p.panels for p in self.pages]

    @property
    def width(self) -> int:
        """Design width in px."""
        return _parse_size(self.size)[0]

    @property
    def height(self) -> int:
        """Design height in px."""
        return _parse_size(self.size)[1]

    def all_pages(self) -> list[PageSpec]:
        """The pages in order; a screen with ``panels:`` has one untitled page."""
        return list(self._pages)

    def all_panels(self) -> list[PanelSpec]:
        """Every panel of every page."""
        return [panel for page in self._pages for panel in page.panels]

    def panel(self, panel_id: str) -> PanelSpec | None:
        """The panel with that id on any page, or None."""
        return next((p for p in self.all_panels() if p.id == panel_id), None)


class ScreensFile(_Strict):
    """The whole screens.yaml."""

    screens: list[ScreenSpec] = Field(description="The walls this server can show")

    @model_validator(mode="wrap")
    @classmethod
    def _unique_ids(cls, data: Any, handler: Any) -> ScreensFile:
        try:
            result = handler(data)
        except ValidationError as exc:
            raw = data.get("screens") if isinstance(data, dict) else None
            ids = [s.get("id") if isinstance(s, dict) else None for s in raw or []]
            raise _merge(exc, _duplicate_screen_ids(ids)) from None
        errors = _duplicate_screen_ids([s.id for s in result.screens])
        if errors:
            raise _validation_error(errors)
        return result

    @classmethod
    def validate_with(
        cls,
        data: Any,
        registry: PanelRegistry | None,
        regions: Mapping[str, str] | None = None,
    ) -> ScreensFile:
        """Validate parsed YAML, checking kinds and options against the registry and, when
        ``regions`` (code → name of every street and community) is given, screens' region
        codes against the city's."""
        return cls.model_validate(data, context={"registry": registry, "regions": regions})

    def get(self, screen_id: str) -> ScreenSpec | None:
        """The screen with that id, or None."""
        return next((s for s in self.screens if s.id == screen_id), None)

    def ids(self) -> list[str]:
        """The screen ids in file order."""
        return [s.id for s in self.screens]


# --- helpers -------------------------------------------------------------------------------


def _registry(info: ValidationInfo) -> PanelRegistry | None:
    context = info.context
    return context.get("registry") if isinstance(context, dict) else None


def _known_regions(info: ValidationInfo) -> Mapping[str, str] | None:
    context = info.context
    return context.get("regions") if isinstance(context, dict) else None


def _loc_text(loc: Loc) -> str:
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in loc).lstrip(".")


def _parse_size(size: str) -> tuple[int, int]:
    match = SIZE_PATTERN.match(size)
    if match is None:
        raise ValueError(f"size {size!r} is not WIDTHxHEIGHT")
    return int(match.group(1)), int(match.group(2))


def _default_id(kind: str, counters: dict[str, int], taken: set[Any]) -> str:
    while True:
        counters[kind] = counters.get(kind, 0) + 1
        candidate = f"{kind}-{counters[kind]}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


@dataclass(frozen=True)
class _Placement:
    loc: Loc  # of the panel, relative to the screen
    id: str | None  # explicit id, or the default one when the panel is valid
    kind: str | None
    col: int | None
    row: int | None
    col_span: int | None
    row_span: int | None

    def cells(self) -> set[tuple[int, int]] | None:
        if None in (self.col, self.row, self.col_span, self.row_span):
            return None
        assert self.col and self.row and self.col_span and self.row_span
        return {
            (c, r)
            for c in range(self.col, self.col + self.col_span)
            for r in range(self.row, self.row + self.row_span)
        }

    @property
    def name(self) -> str:
        return self.id if self.id is not None else _loc_text(self.loc)


def _placements(screen: ScreenSpec) -> list[list[_Placement]]:
    """Placements of a valid screen, with the default ids it is about to get."""
    taken = {p.id for page in screen._raw_pages() for p in page if p.id is not None}
    counters: dict[str, int] = {}
    pages = []
    raw_pages = screen._raw_pages()
    prefixes: list[Loc] = (
        [("panels",)] if screen.panels else [("pages", i, "panels") for i in range(len(raw_pages))]
    )
    for prefix, page in zip(prefixes, raw_pages, strict=True):
        pages.append(
            [
                _Placement(
                    (*prefix, i),
                    p.id if p.id is not None else _default_id(p.kind, counters, taken),
                    p.kind,
                    p.col,
                    p.row,
                    p.col_span,
                    p.row_span,
                )
                for i, p in enumerate(page)
            ]
        )
    return pages


def _both(panels: Any, pages: Any) -> str | None:
    has_panels, has_pages = bool(panels), bool(pages)
    if has_panels and has_pages:
        return "both"
    if not has_panels and not has_pages:
        return "neither"
    return None


def _int(value: Any, default: int | None = None) -> int | None:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value


def _layout_errors_raw(data: Any) -> list[tuple[Loc, str, str, dict[str, Any]]]:
    """Best-effort layout checks on an invalid screen's raw mapping."""
    if not isinstance(data, dict):
        return []
    grid = data.get("grid")
    if not isinstance(grid, dict):
        grid = {}
    columns, rows = _int(grid.get("columns")), _int(grid.get("rows"))
    panels = data.get("panels")
    pages_raw = data.get("pages")
    raw_pages: list[tuple[Loc, list[Any]]] = []
    if isinstance(panels, list) and panels:
        raw_pages = [(("panels",), panels)]
    elif isinstance(pages_raw, list):
        for i, page in enumerate(pages_raw):
            if isinstance(page, dict) and isinstance(page.get("panels"), list):
                raw_pages.append((("pages", i, "panels"), page["panels"]))
    taken: set[Any] = {p.get("id") for _, page in raw_pages for p in page if isinstance(p, dict)}
    counters: dict[str, int] = {}
    pages = []
    for prefix, page in raw_pages:
        placements = []
        for i, p in enumerate(page):
            if not isinstance(p, dict):
                continue
            pid = p.get("id") if isinstance(p.get("id"), str) else None
            kind = p.get("kind") if isinstance(p.get("kind"), str) else None
            if pid is None and kind is not None:
                pid = _default_id(kind, counters, taken)
            placements.append(
                _Placement(
                    (*prefix, i),
                    pid,
                    kind,
                    _int(p.get("col")),
                    _int(p.get("row")),
                    _int(p.get("col_span"), 1),
                    _int(p.get("row_span"), 1),
                )
            )
        pages.append(placements)

    return _layout_errors(columns, rows, pages, both=_both(data.get("panels"), data.get("pages")))


def _layout_errors(
    columns: int | None,
    rows: int | None,
    pages: Sequence[Sequence[_Placement]],
    both: str | None,
) -> list[tuple[Loc, str, str, dict[str, Any]]]:
    """Errors as (loc, type, message template, context): bounds, overlaps, duplicate ids."""
    errors: list[tuple[Loc, str, str, dict[str, Any]]] = []
    if both == "both":
        errors.append(
            (
                ("pages",),
                "panels_and_pages",
                "a screen has either panels: (one page) or pages:, not both",
                {},
            )
        )
    elif both == "neither":
        errors.append(
            ((), "no_panels", "a screen needs panels: (one page) or pages: (several)", {})
        )
    seen_ids: dict[str, _Placement] = {}
    for page in pages:
        occupied: dict[tuple[int, int], _Placement] = {}
        for p in page:
            if p.id is not None:
                first = seen_ids.setdefault(p.id, p)
                if first is not p:
                    errors.append(
                        (
                            (*p.loc, "id"),
                            "duplicate_panel_id",
                            "duplicate panel id '{id}' (also used by {other})",
                            {"id": p.id, "other": _loc_text(first.loc)},
                        )
                    )
            cells = p.cells()
            if cells is None:
                continue
            assert p.col and p.row and p.col_span and p.row_span
            out = False
            if columns is not None and p.col + p.col_span - 1 > columns:
                out = True
                errors.append(
                    (
                        (*p.loc, "col_span" if p.col <= columns else "col"),
                        "outside_grid",
                        "panel '{id}' covers columns {first}-{last} but the grid has "
                        "{columns} columns",
                        {
                            "id": p.name,
                            "first": p.col,
                            "last": p.col + p.col_span - 1,
                            "columns": columns,
                        },
                    )
                )
            if rows is not None and p.row + p.row_span - 1 > rows:
                out = True
                errors.append(
                    (
                        (*p.loc, "row_span" if p.row <= rows else "row"),
                        "outside_grid",
                        "panel '{id}' covers rows {first}-{last} but the grid has {rows} rows",
                        {
                            "id": p.name,
                            "first": p.row,
                            "last": p.row + p.row_span - 1,
                            "rows": rows,
                        },
                    )
                )
            if out:
                continue
            clash = sorted(c for c in cells if c in occupied)
            if clash:
                other = occupied[clash[0]]
                col, row = min(clash, key=lambda c: (c[1], c[0]))
                errors.append(
                    (
                        (*p.loc, "col"),
                        "panels_overlap",
                        "panels '{a}' and '{b}' overlap at col {col}, row {row}",
                        {"a": other.name, "b": p.name, "col": col, "row": row},
                    )
                )
            for cell in cells:
                occupied.setdefault(cell, p)
    return errors


def _duplicate_screen_ids(ids: Iterable[Any]) -> list[tuple[Loc, str, str, dict[str, Any]]]:
    seen: dict[str, int] = {}
    errors: list[tuple[Loc, str, str, dict[str, Any]]] = []
    for i, screen_id in enumerate(ids):
        if not isinstance(screen_id, str):
            continue
        if screen_id in seen:
            errors.append(
                (
                    ("screens", i, "id"),
                    "duplicate_screen_id",
                    "duplicate screen id '{id}' (also screens[{other}])",
                    {"id": screen_id, "other": seen[screen_id]},
                )
            )
        else:
            seen[screen_id] = i
    return errors


def _validation_error(errors: list[tuple[Loc, str, str, dict[str, Any]]]) -> ValidationError:
    return ValidationError.from_exception_data(
        "ScreensFile",
        [
            {"type": PydanticCustomError(kind, template, ctx or None), "loc": loc, "input": None}
            for loc, kind, template, ctx in errors
        ],
    )


def _merge(
    exc: ValidationError, extra: list[tuple[Loc, str, str, dict[str, Any]]]
) -> ValidationError:
    """The errors of ``exc`` plus ``extra`` (unless already reported at the same place)."""
    if not extra:
        return exc
    line_errors: list[Any] = []
    seen = set()
    for err in exc.errors():
        # Rebuilt as custom errors with the same type name and the message already formatted.
        ctx = {**(err.get("ctx") or {}), "__message": err["msg"]}
        line_errors.append(
            {
                "type": PydanticCustomError(err["type"], "{__message}", ctx),
                "loc": err["loc"],
                "input": err.get("input"),
            }
        )
        seen.add((tuple(err["loc"]), err["type"]))
    for loc, kind, template, ctx in extra:
        if (loc, kind) not in seen:
            line_errors.append(
                {
                    "type": PydanticCustomError(kind, template, ctx or None),
                    "loc": loc,
                    "input": None,
                }
            )
    return ValidationError.from_exception_data(exc.title, line_errors)
