"""The panel registry: every kind of panel an admin can place on a screen.

A panel kind declares its options model (validated when screens.yaml is loaded), the
function that builds its component tree from its options and data, and the function that
registers its callbacks once per app. Layout builders live in ``layouts/``, callbacks in
``callbacks/``; the registration happens in ``command_center.panels``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict


class PanelOptions(BaseModel):
    """Base of every panel kind's options: unknown keys are errors, not silently ignored."""

    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class PanelKind:
    name: str
    options_model: type[PanelOptions]
    build: Callable[..., Any]  # build(ctx: PanelContext) -> Dash component
    register_callbacks: Callable[..., None] | None = None  # register(app, services)
    title_key: str = ""  # i18n key of the default title
    module: str = ""  # one of the six business modules, for the screen list


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
