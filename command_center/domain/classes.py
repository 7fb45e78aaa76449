"""The case class catalogue: event (事件) and component (部件) classes with their time limits.

Every small class carries a handling time limit (处置时限) that the city sets, in working hours
(工作时), working days (工作日) or, for danger items such as a missing manhole cover or a gas
leak, wall-clock hours. The built-in ``CATALOGUE`` holds sensible defaults modelled on the
GB/T 30428 / CJ/T 214 classes; a city overrides names, limits and departments with a YAML file
(``Settings.case_classes_file``) read by ``load_catalogue``.

Responsibility follows "部件先属主后属地, 事件先属地后属主": a component goes first to its
owning department (``"owner"``), an event first to the street where it happens
(``"territorial"``). ``default_department`` is the professional department (专业部门) a
dispatcher proposes: the first choice for a component, the fallback behind the street for an
event.

YAML shape of a city's override file (every key optional; codes are quoted strings)::

    events:
      "0102":                       # an existing class: only the keys given change
        name: 暴露垃圾
        name_en: Exposed garbage
        limit: 1 work_days          # "<amount> <unit>" or {amount: 1, unit: work_days}
        urgent_limit: 4 work_hours  # null removes the urgent grade
        default_department: D02
      "0701":                       # a new (extension) class needs name and limit; a new big
        big_name: 扩展事件           # class also needs big_name
        name: 共享单车乱停放
        limit: 2 work_hours
    components:
      "0101":
        urgent_limit: 2 hours

Units are ``work_hours`` (工作时), ``work_days`` (工作日) or ``hours`` (wall-clock 小时); the
Chinese words are accepted too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from command_center.i18n import Term, localized, t

Unit = Literal["work_hours", "work_days", "hours"]
Kind = Literal["event", "component"]
Responsibility = Literal["territorial", "owner"]

UNITS: tuple[str, ...] = get_args(Unit)
KINDS: tuple[str, ...] = get_args(Kind)

_UNIT_ALIASES = {
    "work_hours": "work_hours",
    "work_hour": "work_hours",
    "工作时": "work_hours",
    "工作小时": "work_hours",
    "work_days": "work_days",
    "work_day": "work_days",
    "工作日": "work_days",
    "hours": "hours",
    "hour": "hours",
    "小时": "hours",
}


class UnknownClass(ValueError):
    """A case class code (or kind) that the catalogue does not know."""


@dataclass(frozen=True)
class TimeLimit:
    """A handling time limit: ``amount`` of ``unit`` (working hours, working days, hours)."""

    amount: float
    unit: Unit

    def __post_init__(self) -> None:
        if self.unit not in UNITS:
            raise ValueError(f"unknown time-limit unit {self.unit!r}; use one of {UNITS}")
        if not self.amount > 0:
            raise ValueError(f"a time limit must be positive, got {self.amount!r}")

    def __str__(self) -> str:
        return f"{self.amount:g} {self.unit}"


@dataclass(frozen=True)
class CaseClass:
    """One small class (小类) of events or components."""

    code: str  # 4 digits: big class + small class, e.g. "0102"
    kind: Kind
    big_code: str  # 2 digits, e.g. "01"
    big_name: str  # e.g. 市容环境
    name: str  # e.g. 暴露垃圾
    limit: TimeLimit
    urgent_limit: TimeLimit | None
    responsibility: Responsibility
    name_en: str = ""
    default_department: str = ""  # a code of DEPARTMENTS, e.g. "D02"

    def limit_for(self, urgent: bool) -> TimeLimit:
        """The limit that applies: the urgent grade when asked and defined, else the normal."""
        if urgent and self.urgent_limit is not None:
            return self.urgent_limit
        return self.limit


# --------------------------------------------------------------------------- departments

#: The professional departments (专业部门) of a typical district: (code, name, name_en).
DEPARTMENTS: list[tuple[str, str, str]] = [
    ("D01", "城管执法局", "Urban Management and Law Enforcement Bureau"),
    ("D02", "市政市容委（环卫）", "Municipal Administration and Sanitation Commission"),
    ("D03", "园林绿化局", "Landscaping and Greening Bureau"),
    ("D04", "水务局", "Water Affairs Bureau"),
    ("D05", "住建委", "Housing and Urban-Rural Development Commission"),
    ("D06", "交通委", "Transport Commission"),
    ("D07", "供电公司", "Power Supply Company"),
    ("D08", "燃气集团", "Gas Group"),
    ("D09", "自来水集团", "Waterworks Group"),
    ("D10", "市场监管局", "Market Regulation Bureau"),
    ("D11", "公安分局交通支队", "Traffic Police Detachment, Public Security Sub-bureau"),
    ("D12", "排水集团", "Drainage Group"),
]

DEPARTMENT_NAMES: dict[str, str] = {code: name for code, name, _ in DEPARTMENTS}
DEPARTMENT_NAMES_EN: dict[str, str] = {code: name_en for code, _, name_en in DEPARTMENTS}


# --------------------------------------------------------------------------- built-in classes


def _tl(spec: str) -> TimeLimit:
    amount, unit = spec.split()
    return TimeLimit(float(amount), unit)  # type: ignore[arg-type]


# big code -> (name, name_en)
_EVENT_BIG = {
    "01": ("市容环境", "City appearance"),
    "02": ("宣传广告", "Advertising"),
    "03": ("施工管理", "Construction management"),
    "04": ("突发事件", "Emergencies"),
    "05": ("街面秩序", "Street order"),
    "06": ("其他事件", "Other events"),
}
_COMPONENT_BIG = {
    "01": ("公用设施", "Public utilities"),
    "02": ("道路交通", "Road traffic"),
    "03": ("市容环境", "City appearance"),
    "04": ("园林绿化", "Landscaping"),
    "05": ("房屋土地", "Housing and land"),
    "06": ("其他设施", "Other facilities"),
}

# code, name, name_en, limit, urgent limit, default department
_EVENTS: list[tuple[str, str, str, str, str | None, str]] = [
    ("0101", "违法搭建", "Illegal construction", "15 work_days", "5 work_days", "D01"),
    ("0102", "暴露垃圾", "Exposed garbage", "1 work_days", "4 work_hours", "D02"),
    ("0103", "积存垃圾渣土", "Accumulated garbage and muck", "4 work_days", "1 work_days", "D02"),
    ("0104", "道路不洁", "Dirty road", "5 work_hours", "2 work_hours", "D02"),
    ("0105", "水域不洁", "Dirty water surface", "2 work_days", "1 work_days", "D04"),
    ("0106", "绿地脏乱", "Untidy green space", "2 work_days", "1 work_days", "D03"),
    ("0201", "非法小广告", "Illegal small advertisements", "1 work_days", "4 work_hours", "D01"),
    # Noise at night cannot wait for the next working morning: wall-clock for the urgent grade.
    ("0301", "施工扰民", "Construction disturbing residents", "1 work_days", "2 hours", "D01"),
    ("0302", "工地扬尘", "Construction-site dust", "1 work_days", "4 work_hours", "D05"),
    # Danger items: the clock never stops at night or on holidays.
    ("0401", "路面塌陷", "Road surface collapse", "4 hours", "2 hours", "D06"),
    ("0402", "水管破裂", "Burst water pipe", "4 hours", "2 hours", "D09"),
    ("0403", "燃气泄漏", "Gas leak", "2 hours", "1 hours", "D08"),
    ("0404", "道路积水", "Road waterlogging", "4 hours", "2 hours", "D12"),
    ("0501", "无照经营游商", "Unlicensed street vending", "2 work_hours", "1 work_hours", "D01"),
    ("0502", "占道经营", "Business occupying the road", "4 work_hours", "2 work_hours", "D01"),
    ("0503", "店外经营", "Business outside the shop", "4 work_hours", "2 work_hours", "D01"),
    ("0504", "乱停放", "Illegal parking", "2 work_hours", "1 work_hours", "D11"),
    # Barbecues happen in the evening, outside working hours: wall-clock.
    ("0505", "露天烧烤", "Open-air barbecue", "2 hours", None, "D01"),
    ("0601", "其他", "Other", "5 work_days", "1 work_days", "D01"),
]

_COMPONENTS: list[tuple[str, str, str, str, str | None, str]] = [
    # Manhole covers: damaged ones within days, missing ones (urgent) are danger items.
    ("0101", "上水井盖", "Water-supply manhole cover", "2 work_days", "2 hours", "D09"),
    ("0102", "污水井盖", "Sewage manhole cover", "2 work_days", "2 hours", "D12"),
    ("0103", "雨水井盖", "Storm-water manhole cover", "2 work_days", "2 hours", "D12"),
    ("0104", "路灯", "Street lamp", "2 work_days", "4 work_hours", "D02"),
    ("0105", "电力井盖", "Power manhole cover", "2 work_days", "2 hours", "D07"),
    ("0106", "燃气井盖", "Gas manhole cover", "2 work_days", "2 hours", "D08"),
    ("0107", "消火栓", "Fire hydrant", "2 work_days", "4 hours", "D09"),
    ("0201", "交通标志牌", "Traffic sign", "3 work_days", "4 work_hours", "D11"),
    ("0202", "公交站亭", "Bus shelter", "3 work_days", "1 work_days", "D06"),
    ("0203", "护栏", "Guardrail", "2 work_days", "4 work_hours", "D06"),
    ("0301", "公共厕所", "Public toilet", "1 work_days", "4 work_hours", "D02"),
    ("0302", "垃圾箱", "Litter bin", "1 work_days", "4 work_hours", "D02"),
    # A loose billboard over a pavement can fall on someone: wall-clock urgent grade.
    ("0303", "广告牌匾", "Billboard and shop sign", "5 work_days", "4 hours", "D01"),
    ("0401", "行道树", "Street tree", "3 work_days", "4 hours", "D03"),
    ("0402", "绿地", "Green land", "3 work_days", "1 work_days", "D03"),
    ("0403", "雕塑", "Sculpture", "5 work_days", None, "D03"),
    ("0404", "座椅", "Bench", "3 work_days", None, "D03"),
    ("0501", "宣传栏", "Public notice board", "5 work_days", None, "D02"),
    ("0502", "人防工事", "Civil air-defence works", "5 work_days", "1 work_days", "D05"),
    ("0601", "工地", "Construction site", "5 work_days", "1 work_days", "D05"),
    ("0602", "其他设施", "Other facility", "5 work_days", None, "D01"),
]

_RESPONSIBILITY: dict[str, Responsibility] = {"event": "territorial", "component": "owner"}


def _build(
    kind: Kind,
    bigs: Mapping[str, tuple[str, str]],
    rows: list[tuple[str, str, str, str, str | None, str]],
) -> list[CaseClass]:
    return [
        CaseClass(
            code=code,
            kind=kind,
            big_code=code[:2],
            big_name=bigs[code[:2]][0],
            name=name,
            limit=_tl(limit),
            urgent_limit=_tl(urgent) if urgent else None,
            responsibility=_RESPONSIBILITY[kind],
            name_en=name_en,
            default_department=dept,
        )
        for code, name, name_en, limit, urgent, dept in rows
    ]


# --------------------------------------------------------------------------- the catalogue


class Catalogue:
    """The classes a city uses, looked up by kind and 4-digit code."""

    def __init__(
        self,
        classes: list[CaseClass],
        big_names_en: Mapping[tuple[str, str], str] | None = None,
    ) -> None:
        self._by_key: dict[tuple[str, str], CaseClass] = {}
        for cls in classes:
            key = (cls.kind, cls.code)
            if key in self._by_key:
                raise ValueError(f"duplicate {cls.kind} class {cls.code}")
            self._by_key[key] = cls
        self._big_names_en = dict(big_names_en or {})

    def get(self, kind: str, code: str) -> CaseClass:
        """The class ``code`` of ``kind`` ("event" or "component"); raises ``UnknownClass``."""
        if kind not in KINDS:
            raise UnknownClass(f"unknown case kind {kind!r}: use 'event' or 'component'")
        try:
            return self._by_key[(kind, code)]
        except KeyError:
            what = Term(f"drawer.kind.{kind}")
            error = UnknownClass(
                f"{t('classes.unknown', kind=what, code=code)} / unknown {kind} class {code!r} "
                f"(the catalogue has {', '.join(c.code for c in self._of(kind))})"
            )
            raise localized(error, "classes.unknown", kind=what, code=code) from None

    def find(self, kind: str, code: str) -> CaseClass | None:
        """Like ``get`` but ``None`` for an unknown class."""
        return self._by_key.get((kind, code))

    def _of(self, kind: str) -> list[CaseClass]:
        return sorted((c for c in self._by_key.values() if c.kind == kind), key=lambda c: c.code)

    def events(self) -> list[CaseClass]:
        """Every event class, by code."""
        return self._of("event")

    def components(self) -> list[CaseClass]:
        """Every component class, by code."""
        return self._of("component")

    def big_classes(self, kind: str) -> dict[str, str]:
        """Big class code -> Chinese name for ``kind``, by code."""
        if kind not in KINDS:
            raise UnknownClass(f"unknown case kind {kind!r}: use 'event' or 'component'")
        return {c.big_code: c.big_name for c in self._of(kind)}

    def big_class_name_en(self, kind: str, big_code: str) -> str:
        """English name of a big class, or "" when none is known."""
        return self._big_names_en.get((kind, big_code), "")

    def __iter__(self) -> Iterator[CaseClass]:
        return iter(self.events() + self.components())

    def __len__(self) -> int:
        return len(self._by_key)

    def __contains__(self, key: object) -> bool:
        return key in self._by_key


def _builtin_big_names_en() -> dict[tuple[str, str], str]:
    names = {("event", code): en for code, (_, en) in _EVENT_BIG.items()}
    names.update({("component", code): en for code, (_, en) in _COMPONENT_BIG.items()})
    return names


#: The built-in catalogue (the demo city's configuration).
CATALOGUE = Catalogue(
    _build("event", _EVENT_BIG, _EVENTS) + _build("component", _COMPONENT_BIG, _COMPONENTS),
    _builtin_big_names_en(),
)


def parse_time_limit(value: Any, where: str = "time limit") -> TimeLimit:
    """A ``TimeLimit`` from ``"4 work_hours"``, ``"4 工作时"`` or ``{amount: 4, unit: ...}``."""
    if isinstance(value, TimeLimit):
        return value
    if isinstance(value, str):
        parts = value.split()
        if len(parts) != 2:
            raise ValueError(f"{where}: expected '<amount> <unit>', got {value!r}")
        amount_raw, unit_raw = parts
    elif isinstance(value, Mapping):
        if set(value) != {"amount", "unit"}:
            raise ValueError(f"{where}: expected keys amount and unit, got {sorted(value)}")
        amount_raw, unit_raw = value["amount"], value["unit"]
    else:
        raise ValueError(f"{where}: expected '<amount> <unit>' or a mapping, got {value!r}")
    unit = _UNIT_ALIASES.get(str(unit_raw).strip().lower())
    if unit is None:
        raise ValueError(f"{where}: unknown unit {unit_raw!r}; use one of {UNITS}")
    try:
        amount = float(amount_raw)
    except (TypeError, ValueError):
        raise ValueError(f"{where}: amount {amount_raw!r} is not a number") from None
    try:
        return TimeLimit(amount, unit)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


_OVERRIDE_KEYS = {"name", "name_en", "big_name", "limit", "urgent_limit", "default_department"}


def load_catalogue(path: Path | None) -> Catalogue:
    """The built-in catalogue with a city's YAML overrides applied (see the module docstring).

    ``None`` gives ``CATALOGUE``. Errors name the file, the class and the key at fault.
    """
    if path is None:
        return CATALOGUE
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, Mapping):
        raise ValueError(f"{path}: expected a mapping with keys 'events' and/or 'components'")
    unknown = set(data) - {"events", "components"}
    if unknown:
        raise ValueError(f"{path}: unknown top-level keys {sorted(unknown)}")

    classes: dict[tuple[str, str], CaseClass] = {(c.kind, c.code): c for c in CATALOGUE}
    big_en = _builtin_big_names_en()
    big_names: dict[tuple[str, str], str] = {}
    sections: tuple[tuple[str, Kind], ...] = (("events", "event"), ("components", "component"))
    for section, kind in sections:
        entries = data.get(section) or {}
        if not isinstance(entries, Mapping):
            raise ValueError(f"{path}: '{section}' must map class codes to settings")
        for raw_code, spec in entries.items():
            code = str(raw_code)
            where = f"{path}: {section}.{code}"
            if len(code) != 4 or not code.isdigit() or code[:2] == "00" or code[2:] == "00":
                raise ValueError(f"{where}: a class code has 4 digits, big + small, e.g. '0102'")
            if not isinstance(spec, Mapping):
                raise ValueError(f"{where}: expected a mapping of settings")
            bad = set(spec) - _OVERRIDE_KEYS
            if bad:
                raise ValueError(
                    f"{where}: unknown keys {sorted(bad)}; use {sorted(_OVERRIDE_KEYS)}"
                )
            classes[(kind, code)] = _apply(kind, code, spec, classes, where)
            if "big_name" in spec:
                big_names[(kind, code[:2])] = str(spec["big_name"])
    # A big class has one name: renaming it on one class renames it on all its classes.
    for key, cls in classes.items():
        big_name = big_names.get((cls.kind, cls.big_code))
        if big_name is not None and cls.big_name != big_name:
            classes[key] = replace(cls, big_name=big_name)
    return Catalogue(list(classes.values()), big_en)


def _apply(
    kind: Kind,
    code: str,
    spec: Mapping[str, Any],
    classes: Mapping[tuple[str, str], CaseClass],
    where: str,
) -> CaseClass:
    changes: dict[str, Any] = {}
    for key in ("name", "name_en", "big_name", "default_department"):
        if key in spec:
            changes[key] = str(spec[key])
    if "limit" in spec:
        changes["limit"] = parse_time_limit(spec["limit"], f"{where}.limit")
    if "urgent_limit" in spec:
        raw = spec["urgent_limit"]
        changes["urgent_limit"] = (
            None if raw is None else parse_time_limit(raw, f"{where}.urgent_limit")
        )
    dept = changes.get("default_department")
    if dept is not None and dept not in DEPARTMENT_NAMES:
        raise ValueError(
            f"{where}: unknown department {dept!r}; use one of {sorted(DEPARTMENT_NAMES)}"
        )

    existing = classes.get((kind, code))
    if existing is not None:
        return replace(existing, **changes)

    # A new class, e.g. a city's extension class.
    missing = [k for k in ("name", "limit") if k not in changes]
    big_code = code[:2]
    siblings = [c for c in classes.values() if c.kind == kind and c.big_code == big_code]
    if "big_name" not in changes:
        if siblings:
            changes["big_name"] = siblings[0].big_name
        else:
            missing.append("big_name")
    if missing:
        raise ValueError(f"{where}: a new class needs {', '.join(missing)}")
    return CaseClass(
        code=code,
        kind=kind,
        big_code=big_code,
        big_name=changes["big_name"],
        name=changes["name"],
        limit=changes["limit"],
        urgent_limit=changes.get("urgent_limit"),
        responsibility=_RESPONSIBILITY[kind],
        name_en=changes.get("name_en", ""),
        default_department=changes.get("default_department", "D01"),
    )
