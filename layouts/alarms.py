"""告警 alarm ticker: the open alarms, newest first, flashing as they arrive.

The frame is built here (pure: spec in, components out). Its rows are drawn in the
browser by assets/cc_alarms.js from the page's Socket.IO connection: new alarms appear at
once, acknowledged ones vanish, a burst of alarms is drawn at most ten times a second and
only the rows shown exist. The texts and options the script needs travel as data
attributes.
"""

from __future__ import annotations

import json
from typing import Any

from dash import dcc, html
from pydantic import Field

from command_center.alarms import LEVELS
from command_center.auth import may
from command_center.i18n import t
from command_center.screens.registry import PanelContext, PanelOptions


class AlarmTickerOptions(PanelOptions):
    limit: int = Field(12, ge=1, le=100, description="Rows shown (the most recent open alarms)")
    ackable: bool = Field(
        True,
        description="Show a 确认 button on each row to a signed-in duty console (never a kiosk)",
    )
    mute: bool = Field(False, description="Never play the alarm sound on this wall")
    sound_levels: list[str] | None = Field(
        None, description="Levels that sound here; empty: the server's CC_ALARM_SOUND_LEVELS"
    )
    min_level: str = Field("info", description="Hide alarms below this level")


def ticker_texts(lang: str) -> dict[str, object]:
    """What the script writes on screen, in the panel's language."""
    return {
        "none": t("alarm.none", lang),
        "connecting": t("alarm.connecting", lang),
        "ack": t("alarm.ack", lang),
        "acking": t("alarm.acking", lang),
        "count": t("alarm.count", lang),
        "open": t("alarm.open_count", lang),
        "levels": {level: t(f"alarm.level.{level}", lang) for level in LEVELS},
    }


def alarms_geojson(alarms: list[Any], lang: str = "zh") -> dict[str, Any]:
    """Open alarms with a point as GeoJSON, for a map layer (``cc.alarms.open_alarms()``
    gives the list; the properties carry what a marker and its tooltip need)."""
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [a.lon, a.lat]},
            "properties": {
                "id": a.id,
                "level": a.level,
                "level_text": t(f"alarm.level.{a.level}", lang),
                "title": a.title,
                "count": a.count,
                "at": a.last_at.strftime("%H:%M:%S"),
                "grid_code": a.grid_code or "",
                "camera_id": a.camera_id or "",
                "case_id": a.case_id,
            },
        }
        for a in alarms
        if a.lon is not None and a.lat is not None
    ]
    return {"type": "FeatureCollection", "features": features}


def build_ticker(ctx: PanelContext) -> html.Div:
    opts: AlarmTickerOptions = ctx.options
    config = {
        "limit": opts.limit,
        # 确认 only for a signed-in user who may (a kiosk's ticker is read-only)
        "ackable": opts.ackable and may(ctx.extra.get("viewer"), "alarm_ack"),
        "mute": opts.mute,
        "soundLevels": opts.sound_levels,
        "minLevel": opts.min_level,
        "texts": ticker_texts(ctx.lang),
        "pid": ctx.pid,
    }
    return html.Div(
        className="cc-panel-wrap",
        children=[
            html.Div(
                className=f"cc-panel cc-kind-{ctx.kind}",
                children=[
                    html.Div(
                        className="cc-panel-head",
                        children=[
                            html.Span(ctx.title, className="cc-panel-title"),
                            html.Span(id=ctx.id("alarm-count"), className="cc-alarm-count"),
                        ],
                    ),
                    html.Div(
                        className="cc-panel-body",
                        children=html.Div(
                            # no children: the script owns the rows (React never redraws them)
                            id=ctx.id("alarm-list"),
                            className="cc-alarm-list",
                            **{"data-config": json.dumps(config, ensure_ascii=False)},
                        ),
                    ),
                ],
            ),
            # the script puts {"id", "t"} here when 确认 is clicked; the server acknowledges
            dcc.Store(id=ctx.id("alarm-ack")),
            html.Span(id=ctx.id("alarm-ack-done"), hidden=True),
        ],
    )
