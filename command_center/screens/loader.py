"""Load screens.yaml, report its problems as file:line: path: message, and watch it for edits.

A bad file never takes a running wall down: the watcher keeps the last good layout and logs
what is wrong, naming the line an admin has to fix. Only the first load (server start) raises.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import threading
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from command_center.screens.model import PanelSpec, ScreensFile, ScreenSpec
from command_center.screens.registry import PanelRegistry

log = logging.getLogger(__name__)

ROOT_PATH = "(top level)"
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


@dataclass(frozen=True)
class ScreensIssue:
    """One problem in screens.yaml, located by line and by path into the document."""

    file: str
    line: int | None
    path: str  # e.g. screens[main].panels[3].options.layer
    message: str

    def __str__(self) -> str:
        if self.line is None:  # the file could not be read at all
            return f"{self.file}: {self.path}: {self.message}"
        return f"{self.file}:{self.line}: {self.path}: {self.message}"


class ScreensError(Exception):
    """screens.yaml is not usable; ``issues`` lists every problem found."""

    def __init__(self, issues: Sequence[ScreensIssue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


#: code → name of every street and community of the city, or None when it cannot be had
KnownRegions = Callable[[], Mapping[str, str] | None]


def load_screens(
    path: Path,
    registry: PanelRegistry,
    regions: Mapping[str, str] | KnownRegions | None = None,
) -> ScreensFile:
    """Read and validate screens.yaml; raise ScreensError listing every problem. With
    ``regions`` (code → name, or a function giving them, asked only when a screen names a
    region), a screen's ``region`` must be one of them."""
    return _load_text(path, _read(path), registry, regions)


def check_file(
    path: Path,
    registry: PanelRegistry,
    regions: Mapping[str, str] | KnownRegions | None = None,
) -> list[ScreensIssue]:
    """Every problem of the file, empty when it is fine (for `command-center check`)."""
    try:
        load_screens(path, registry, regions)
    except ScreensError as exc:
        return exc.issues
    return []


def _read(path: Path) -> str:
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise ScreensError(
            [ScreensIssue(str(path), None, ROOT_PATH, f"cannot read: {exc}")]
        ) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:  # the line of the first bad byte, for the admin
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        message = f"not UTF-8 text: byte 0x{raw[exc.start]:02x} at column {column} ({exc.reason})"
        raise ScreensError([ScreensIssue(str(path), line, ROOT_PATH, message)]) from None


def known_region_names(regions_of_level: Callable[[str], Sequence[Any]]) -> dict[str, str]:
    """Code → name of every street and community, from a GIS ``regions(level)`` call."""
    return {r.code: r.name for level in ("street", "community") for r in regions_of_level(level)}


def _resolve_regions(
    regions: Mapping[str, str] | KnownRegions | None, data: Any
) -> Mapping[str, str] | None:
    """The known regions when a screen names one (asked only then), or None (not checked)
    when the GIS cannot say: a screen is never refused because a backend is down or the
    city is not seeded yet."""
    if regions is None or not callable(regions):
        return regions
    screens = data.get("screens") if isinstance(data, dict) else None
    if not any(isinstance(s, dict) and s.get("region") for s in screens or []):
        return None
    try:
        return regions() or None
    except Exception as exc:  # noqa: BLE001 - unchecked is better than refused
        log.warning("screens: region codes not checked (%s)", exc)
        return None


def _load_text(
    path: Path,
    text: str,
    registry: PanelRegistry,
    regions: Mapping[str, str] | KnownRegions | None = None,
) -> ScreensFile:
    """The layout of ``text``, or ScreensError: whatever is in the file, nothing else
    escapes (an admin gets a file:line message, never a traceback)."""
    try:
        return _parse_and_validate(path, text, registry, regions)
    except ScreensError:
        raise
    except Exception as exc:  # noqa: BLE001 - a bug of ours must not look like a good file
        log.exception("screens: %s could not be loaded", path)
        raise ScreensError(
            [ScreensIssue(str(path), 1, ROOT_PATH, f"cannot load: {type(exc).__name__}: {exc}")]
        ) from None


def _parse_and_validate(
    path: Path,
    text: str,
    registry: PanelRegistry,
    regions: Mapping[str, str] | KnownRegions | None = None,
) -> ScreensFile:
    file = str(path)
    bad = _unprintable(text)
    if bad is not None:  # YAML's reader refuses these before parsing anything
        line, column, char = bad
        raise ScreensError(
            [
                ScreensIssue(
                    file,
                    line,
                    ROOT_PATH,
                    f"control character U+{ord(char):04X} at column {column} is not allowed "
                    "in YAML (save the file as plain UTF-8 text)",
                )
            ]
        )
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
        data = loader.construct_document(root) if root is not None else None
    except RecursionError:
        raise ScreensError(
            [ScreensIssue(file, 1, ROOT_PATH, "YAML nested too deeply to be a screens file")]
        ) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ScreensError(
            [
                ScreensIssue(
                    file, mark.line + 1 if mark else 1, ROOT_PATH, f"YAML syntax error: {problem}"
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise ScreensError([ScreensIssue(file, 1, ROOT_PATH, f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()

    if root is None:
        raise ScreensError(
            [ScreensIssue(file, 1, "screens", "the file is empty; it needs a screens: list")]
        )
    issues = _duplicate_keys(file, root)
    if not isinstance(data, dict):
        issues.append(
            ScreensIssue(
                file,
                root.start_mark.line + 1,
                ROOT_PATH,
                "the file must be a mapping with a screens: list",
            )
        )
        raise ScreensError(issues)
    try:
        screens = ScreensFile.validate_with(data, registry, _resolve_regions(regions, data))
    except ValidationError as exc:
        issues += [_issue(file, root, data, err, registry) for err in exc.errors()]
    if issues:
        issues.sort(key=lambda i: (i.line or 0, i.path))
        raise ScreensError(issues)
    return screens


def _unprintable(text: str) -> tuple[int, int, str] | None:
    """Line, column and the first character YAML does not allow in a document (NUL and
    other control characters, lone surrogates), or None when there is none."""
    match = yaml.reader.Reader.NON_PRINTABLE.search(text)
    if match is None:
        return None
    at = match.start()
    line_start = text.rfind("\n", 0, at) + 1
    return text.count("\n", 0, at) + 1, at - line_start + 1, match.group()


# --- pydantic errors -> issues -------------------------------------------------------------


def _issue(
    file: str, root: yaml.Node, data: Any, err: Any, registry: PanelRegistry
) -> ScreensIssue:
    loc = tuple(err["loc"])
    node = _node_at(root, loc)
    return ScreensIssue(
        file, node.start_mark.line + 1, _path_text(loc, data), _message(loc, data, err, registry)
    )


def _node_at(root: yaml.Node, loc: tuple[Any, ...]) -> yaml.Node:
    """The node ``loc`` names (the key node for a mapping entry), else its nearest parent."""
    node = root
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if isinstance(node, yaml.MappingNode):
            entry = next((kv for kv in node.value if _scalar(kv[0]) == str(part)), None)
            if entry is None:
                return node
            node = entry[0] if last else entry[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            if not 0 <= part < len(node.value):
                return node
            node = node.value[part]
        else:
            return node
    return node


def _scalar(node: yaml.Node) -> str | None:
    return node.value if isinstance(node, yaml.ScalarNode) else None


def _path_text(loc: tuple[Any, ...], data: Any) -> str:
    """``screens[main].pages[1].panels[0].col``: screens by id when known, the rest by index."""
    if not loc:
        return ROOT_PATH
    parts = []
    value = data
    for i, part in enumerate(loc):
        if isinstance(part, int):
            label: Any = part
            if i == 1 and loc[0] == "screens" and isinstance(value, list) and part < len(value):
                screen_id = value[part].get("id") if isinstance(value[part], dict) else None
                if isinstance(screen_id, str) and screen_id:
                    label = screen_id
            parts.append(f"[{label}]")
        else:
            parts.append(f".{part}" if parts else str(part))
        value = _child(value, part)
    return "".join(parts)


def _child(value: Any, part: Any) -> Any:
    if isinstance(value, dict):
        return value.get(part)
    if isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
        return value[part]
    return None


def _message(loc: tuple[Any, ...], data: Any, err: Any, registry: PanelRegistry) -> str:
    kind, msg, value = err["type"], err["msg"], err.get("input")
    if kind == "missing":
        return "field required"
    if kind == "extra_forbidden" and loc:
        key = loc[-1]
        known = _known_fields(loc[:-1], data, registry)
        close = difflib.get_close_matches(str(key), known, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        allowed = f" (allowed: {', '.join(known)})" if known and not close else ""
        return f"unknown field '{key}'{hint}{allowed}"
    if kind == "model_type" or kind == "dict_type":
        return f"expected a mapping (key: value lines), got {_describe(value)}"
    if kind == "list_type":
        return f"expected a list (lines starting with '- '), got {_describe(value)}"
    if kind == "string_pattern_mismatch" and loc and loc[-1] == "size":
        return f"size must look like 5760x2160 (width x height in px), got {value!r}"
    if kind == "string_pattern_mismatch" and loc and loc[-1] == "region":
        return f"region is a street (9 digits) or community (12 digits) code, got {value!r}"
    if kind == "string_pattern_mismatch" and loc and loc[-1] == "id":
        return f"ids use only a-z, 0-9, '_' and '-', got {value!r}"
    msg = msg[:1].lower() + msg[1:]
    if isinstance(value, str | int | float) and repr(value) not in msg and str(value) not in msg:
        msg = f"{msg} (got {value!r})"
    return msg


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def _known_fields(loc: tuple[Any, ...], data: Any, registry: PanelRegistry) -> list[str]:
    """The field names allowed at ``loc`` (a mapping), for 'did you mean'."""
    model: type[BaseModel] | None = ScreensFile
    value = data
    for part in loc:
        if model is None:
            return []
        if isinstance(part, str):
            if model is PanelSpec and part == "options":
                kind = value.get("kind") if isinstance(value, dict) else None
                model = (
                    registry.get(kind).options_model
                    if isinstance(kind, str) and kind in registry
                    else None
                )
            else:
                field = model.model_fields.get(part)
                model = _model_in(field.annotation) if field else None
        value = _child(value, part)
    if model is None:
        return []
    names = list(model.model_fields)
    if model is ScreenSpec:
        names += ["width", "height"]
    return names


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``list[X]``, ``X | None`` and the like."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


def _duplicate_keys(file: str, root: yaml.Node) -> list[ScreensIssue]:
    """YAML silently keeps the last of two equal keys; an admin means one of them."""
    issues = []
    stack: list[tuple[yaml.Node, str]] = [(root, "")]
    while stack:
        node, path = stack.pop()
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                name = _scalar(key)
                child = f"{path}.{name}" if path else str(name)
                if name is not None and name in first:
                    issues.append(
                        ScreensIssue(
                            file,
                            key.start_mark.line + 1,
                            child,
                            f"duplicate key '{name}' (first at line {first[name]}); "
                            "YAML keeps only the last",
                        )
                    )
                elif name is not None:
                    first[name] = key.start_mark.line + 1
                stack.append((value, child))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, f"{path}[{i}]") for i, item in enumerate(node.value))
    return issues


# --- JSON schema ----------------------------------------------------------------------------


def json_schema(registry: PanelRegistry) -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of screens.yaml, each panel's options tied to its kind.

    Point the VS Code YAML extension at it (``# yaml-language-server: $schema=...``) and an
    admin gets completion and inline errors for every panel kind's options.
    """
    kinds = registry.kinds()
    models: list[tuple[type[BaseModel], Any]] = [
        (model, "validation") for model in (ScreensFile, ScreenSpec, PanelSpec)
    ]
    models += [(kind.options_model, "validation") for kind in kinds]
    refs, top = models_json_schema(models, ref_template="#/$defs/{model}")
    defs: dict[str, Any] = top.get("$defs", {})

    def ref_name(model: type[BaseModel]) -> str:
        return refs[(model, "validation")]["$ref"].rsplit("/", 1)[-1]

    panel = defs[ref_name(PanelSpec)]
    kind_titles = {k.name: (k.module or k.title_key or k.name) for k in kinds}
    panel["properties"]["kind"] = {
        "title": "Kind",
        "description": "The panel kind: " + ", ".join(kind_titles) if kinds else "The panel kind",
        "enum": [k.name for k in kinds],
    }
    panel["properties"]["options"] = {
        "title": "Options",
        "description": "The kind's options (see the kind's schema)",
        "type": "object",
    }
    panel["allOf"] = [
        {
            "if": {"properties": {"kind": {"const": k.name}}, "required": ["kind"]},
            "then": {"properties": {"options": {"$ref": f"#/$defs/{ref_name(k.options_model)}"}}},
        }
        for k in kinds
    ]

    screen = defs[ref_name(ScreenSpec)]
    screen["properties"]["width"] = {
        "type": "integer",
        "minimum": 1,
        "description": "Design width in px (instead of size)",
    }
    screen["properties"]["height"] = {
        "type": "integer",
        "minimum": 1,
        "description": "Design height in px (instead of size)",
    }
    screen["required"] = [name for name in screen.get("required", []) if name != "size"]
    screen["oneOf"] = [{"required": ["size"]}, {"required": ["width", "height"]}]

    root = defs.pop(ref_name(ScreensFile))
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": "https://command-center.local/schemas/screens.json",
        **root,
        "title": "screens.yaml",
        "description": "The walls of the command center: screens, their grids and panels",
        "$defs": defs,
    }


# --- hot reload -----------------------------------------------------------------------------


class ScreensWatcher:
    """Re-reads screens.yaml when its content changes; a broken edit keeps the last good one.

    Construction loads the file and raises ScreensError when it is broken: a server must not
    start without a valid layout. Later edits never raise; their problems are logged and kept
    in ``last_error`` (for the ops panel) until a good version arrives.
    """

    def __init__(
        self,
        path: Path,
        registry: PanelRegistry,
        poll_seconds: float = 2.0,
        on_change: Callable[[ScreensFile], None] | None = None,
        regions: KnownRegions | None = None,
    ) -> None:
        self.path = Path(path)
        self.registry = registry
        self.regions = regions
        self.poll_seconds = poll_seconds
        self.on_change = on_change
        self.last_error: ScreensError | None = None
        self.last_error_at: datetime | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        text = _read(self.path)
        self._current = _load_text(self.path, text, registry, regions)
        self._good_hash = self._seen_hash = _hash(text)
        self._version = 1
        self.last_good_at: datetime | None = datetime.now(UTC)

    @property
    def current(self) -> ScreensFile:
        """The last good layout."""
        return self._current

    @property
    def version(self) -> int:
        """Starts at 1 and increments each time a changed, valid file is adopted."""
        return self._version

    def check_now(self) -> bool:
        """Re-read the file if its content changed; True when a new good layout was adopted."""
        with self._lock:
            try:
                text = _read(self.path)
            except ScreensError as exc:
                self._fail(exc, digest=None)
                return False
            digest = _hash(text)
            if digest == self._seen_hash:
                return False
            self._seen_hash = digest
            if digest == self._good_hash:  # an edit undone: the current layout is right again
                self.last_error = None
                return False
            try:
                screens = _load_text(self.path, text, self.registry, self.regions)
            except ScreensError as exc:
                self._fail(exc, digest)
                return False
            self._current, self._good_hash = screens, digest
            self._version += 1
            self.last_error = None
            self.last_good_at = datetime.now(UTC)
            version = self._version
        log.info(
            "screens: loaded %s (version %d, %d screens)", self.path, version, len(screens.screens)
        )
        if self.on_change is not None:
            try:
                self.on_change(screens)
            except Exception:
                log.exception("screens: on_change failed for version %d", version)
        return True

    def _fail(self, exc: ScreensError, digest: str | None) -> None:
        if digest is None:  # unreadable (e.g. mid-rename): report once, re-check when back
            if self._seen_hash == "":
                return
            self._seen_hash = ""
        self.last_error = exc
        self.last_error_at = datetime.now(UTC)
        log.warning("screens: %s rejected, keeping version %d", self.path, self._version)
        for issue in exc.issues:
            log.warning("%s", issue)

    def start(self) -> None:
        """Poll in a daemon thread until stop()."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="screens-watcher", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = 5.0) -> None:
        """Stop polling and wait for the thread."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.check_now()
            except Exception:  # the wall keeps running whatever happens to one check
                log.exception("screens: checking %s failed", self.path)


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
