"""Pieces both sql adapters share: options, the grid index, region-code columns."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select, text

from adapters.base import AdapterConfigError, AdapterError
from adapters.sql.db import make_engine
from adapters.sql.models import RegionRow
from command_center.domain.calendar import local_now  # the app's one clock
from command_center.domain.grid_index import GridIndex

#: region code length -> the cases/rollup column holding that level's code
LEVEL_COLUMN_BY_LENGTH = {
    6: "district_code",
    9: "street_code",
    12: "community_code",
    14: "grid_code",
    15: "grid_code",
}


def region_column(code: str) -> str:
    """Which column a region code filters: its length tells its level (codes nest)."""
    if not code.isdigit() or len(code) not in LEVEL_COLUMN_BY_LENGTH:
        raise AdapterError(
            f"区域编码格式错误 / malformed region code {code!r}: expected 6, 9, 12, 14 or 15 digits"
        )
    return LEVEL_COLUMN_BY_LENGTH[len(code)]




def engine_from_options(database_url: str, engine: Engine | None) -> tuple[Engine, bool]:
    """The engine to use and whether the adapter owns (and so disposes of) it."""
    if engine is not None:
        return engine, False
    if not database_url:
        raise AdapterConfigError("the sql adapter needs database_url (or an engine)")
    return make_engine(database_url), True


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


class GridIndexCache:
    """The point-to-grid index, built once from the grid polygons on first use."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._index: GridIndex | None = None
        self._lock = threading.Lock()

    def get(self) -> GridIndex:
        if self._index is None:
            with self._lock:
                if self._index is None:
                    self._index = self._build()
        return self._index

    def invalidate(self) -> None:
        self._index = None

    def _build(self) -> GridIndex:
        import json

        with self.engine.connect() as conn:
            rows = conn.execute(
                select(RegionRow.code, RegionRow.geometry).where(RegionRow.level == "grid")
            ).all()
        if not rows:
            raise AdapterError("no unit grids in the database: run the migrations and seed it")
        return GridIndex((code, json.loads(geometry)) for code, geometry in rows)


def clock_option(now: Callable[[], datetime] | None) -> Callable[[], datetime]:
    return now or local_now


def optional_path(value: Any):  # noqa: ANN201 - Path | None
    from pathlib import Path

    return Path(value) if value else None
