"""Fixtures for the demo video adapter: a pinned clock and a Flask app serving snapshots."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from flask import Flask

from adapters.video.contract import Camera
from adapters.video.demo import DemoVideoAdapter
from adapters.video.routes import register_video_routes

NOON_BEIJING = datetime(2026, 11, 25, 4, 0, 0, tzinfo=UTC)


class PinnedClock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = NOON_BEIJING) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> PinnedClock:
    return PinnedClock()


@pytest.fixture
def video(clock: PinnedClock) -> DemoVideoAdapter:
    return DemoVideoAdapter(clock=clock, snapshot_size=(320, 180), alarms_per_minute=6)


@pytest.fixture
def db_cameras() -> list[Camera]:
    """Cameras as the app reads them from the GIS layer "camera"."""
    return [
        Camera("cam-gate", "东华门大街路口", 116.401, 39.915, "11010100100101", True),
        Camera("cam-market", "隆福寺街菜市场", 116.412, 39.929, "11010100100202", True),
        Camera("cam-dark", "南锣鼓巷北口", 116.403, 39.940, "11010100200303", False),
    ]


@pytest.fixture
def snapshot_client(clock: PinnedClock, db_cameras: list[Camera]):
    adapter = DemoVideoAdapter(cameras_source=lambda: db_cameras, clock=clock)
    app = Flask(__name__)
    register_video_routes(app, lambda: adapter)
    return app.test_client()
