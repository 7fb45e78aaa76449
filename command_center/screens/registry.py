"""The panel registry: every kind of panel an admin can place on a screen.

A panel kind declares:
- its options model (validated when screens.yaml is loaded),
- ``build(ctx)``: the static frame of the panel, a pure function of its spec,
- ``fetch(services, ctx)`` and ``render(value, ctx)``: how its body is refreshed; the generic
  refresh callback calls ``fetch`` (a data service, cached) then ``render`` (pure),
- ``register_callbacks(app, cc)`` for interactivity beyond the refresh (clicks, drill-down).

Layout code lives in ``layouts/``, callbacks in ``callbacks/``; ``command_center.panels``
assembles the registry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict


class PanelOptions(BaseModel):
    """Base of every panel kind's options: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class PanelContext:
    """What a panel's builder knows: its place, its options, the language, the region."""

    screen_id: str
    panel_id: str
    kind: str
    options: Any
    lang: str = "zh"
    title: str = ""
    theme: str = "dark"
    region_code: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def pid(self) -> str:
        """The instance id used in pattern-matching component ids."""
        return f"{self.screen_id}.{self.panel_id}"

    def id(self, role: str) -> dict[str, str]:
        """A pattern-matching id for one component of this panel instance."""
        return {"role": role, "kind": self.kind, "pid": self.pid}


@dataclass(frozen=True)
class PanelKind:
    name: str
    options_model: type[PanelOptions]
    build: Callable[[PanelContext], Any] | None  # None: the generic refreshed frame
    fetch: Callable[[Any, PanelContext], Any] | None = None
    render: Callable[[Any, PanelContext], Any] | None = None
    register_callbacks: Callable[[Any, Any], None] | None = None
    title_key: str = ""  # i18n key of the default title
    module: str = ""  # one of the six business modules
    refresh_seconds: float | None = None  # None: the screen's refresh interval


class PanelRegistry:
    def __init__(self) -> None:
        self._kinds: dict[str, PanelKind] = {}

    def register(self, kind: PanelKind) -> None:
        if kind.name in self._kinds:
            raise ValueError(f"panel kind {kind.name!r} registered twice")
        self._kinds[kind.name] = kind

    def get(self, name: str) -> PanelKind:
        return self._kinds[name]

    def __contains__(self, name: object) -> bool:
        return name in self._kinds

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def options_models(self) -> dict[str, type[PanelOptions]]:
        return {name: kind.options_model for name, kind in self._kinds.items()}

    def kinds(self) -> list[PanelKind]:
        return [self._kinds[n] for n in self.names()]
