"""Fetchers of the ops-monitor panels: a snapshot of the app's ``OpsWatch``."""

from __future__ import annotations

from typing import Any

from command_center.screens.registry import PanelContext
from command_center.services import NoData, Result


def ops_snapshot(services: Any, _ctx: PanelContext) -> Result[dict[str, Any]]:
    watch = getattr(services, "ops_watch", None)
    if watch is None:
        raise NoData("the real-time layer is not installed")
    return watch.result()  # type: ignore[no-any-return]
