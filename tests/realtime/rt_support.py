"""Helpers shared by the real-time tests (imported by name: this folder is on sys.path)."""

from __future__ import annotations

from typing import Any

API_KEYS = {"iot": "key-iot", "video": "key-video", "ops": "key-ops"}


def alarm_body(n: int = 1, **kw: Any) -> dict[str, Any]:
    """A well-formed alarm for POST /api/alarms; keywords replace fields."""
    body: dict[str, Any] = {
        "source": "iot",
        "source_id": f"t-{n}",
        "level": "重大",
        "class_code": "0701",
        "title": "积水超限",
        "at": "2026-11-25T10:30:00+08:00",
        "lon": 116.40,
        "lat": 39.93,
        "grid_code": "11010100100101",
    }
    body.update(kw)
    return body
