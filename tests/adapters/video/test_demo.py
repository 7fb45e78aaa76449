"""The demo video adapter: cameras, PNG snapshots served over Flask, deterministic alarms."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta

import pytest
from flask import Flask

from adapters.base import AdapterConfigError, BackendUnavailable, NotFound
from adapters.gis.contract import PointFeature
from adapters.video.contract import Camera
from adapters.video.demo import DEFAULT_ALARM_CLASSES, DemoVideoAdapter
from adapters.video.routes import register_video_routes
from command_center.domain.calendar import CHINA_STANDARD_TIME
from command_center.plugins import build_adapter
from command_center.settings import Settings

ALARM_CODES = {code for code, _, _ in DEFAULT_ALARM_CLASSES}


def png_size(data: bytes) -> tuple[int, int]:
    """Decode enough of a PNG to prove it is valid: signature, chunk CRCs, pixel data."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) == crc, kind
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height, depth, colour, *_ = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, colour) == (8, 2)
    assert b"IEND" in chunks
    assert len(zlib.decompress(chunks[b"IDAT"])) == height * (1 + width * 3)
    return width, height


# -- cameras -------------------------------------------------------------------------------


def test_generated_cameras_are_deterministic_around_dongcheng_with_a_few_offline():
    first, second = DemoVideoAdapter().cameras(), DemoVideoAdapter().cameras()
    assert first == second
    assert len(first) == 20
    assert len({c.id for c in first}) == 20
    assert all(len(c.id) == 20 and c.id.startswith("110101") for c in first)
    assert all(abs(c.lon - 116.416) < 0.03 and abs(c.lat - 39.928) < 0.02 for c in first)
    assert 1 <= sum(not c.online for c in first) <= 5


def test_another_seed_gives_another_camera_set():
    assert DemoVideoAdapter(seed=1).cameras() != DemoVideoAdapter(seed=2).cameras()


def test_cameras_from_the_database_are_served_as_given(db_cameras):
    adapter = DemoVideoAdapter(cameras_source=lambda: db_cameras)
    assert adapter.cameras() == db_cameras


def test_a_one_shot_iterator_of_cameras_is_not_exhausted_by_the_first_read(db_cameras):
    adapter = DemoVideoAdapter(cameras_source=iter(db_cameras), cameras_cache_seconds=0)
    assert adapter.cameras() == db_cameras
    assert adapter.cameras() == db_cameras


def test_gis_camera_points_become_cameras_with_offline_status():
    point = PointFeature(
        "cam-9",
        "camera",
        "北新桥三条东口",
        116.42,
        39.94,
        "11010100300101",
        status="offline",
        props={"kind": "ptz"},
    )
    (camera,) = DemoVideoAdapter(cameras_source=[point]).cameras()
    assert camera == Camera(
        "cam-9", "北新桥三条东口", 116.42, 39.94, "11010100300101", online=False, kind="ptz"
    )


def test_live_view_is_a_local_snapshot_url_refreshed_every_three_seconds(db_cameras):
    view = DemoVideoAdapter(cameras_source=db_cameras, base_url="/video/").live_view("cam-gate")
    assert view.hls_url is None
    assert view.snapshot_url == "/video/cam-gate/snapshot.png"
    assert view.refresh_seconds == 3


def test_live_view_of_an_unknown_camera_raises_not_found(video):
    with pytest.raises(NotFound):
        video.live_view("no-such-camera")


# -- snapshots ------------------------------------------------------------------------------


def test_snapshot_is_a_valid_png_of_the_configured_size(video):
    camera = next(c for c in video.cameras() if c.online)
    assert png_size(video.snapshot(camera.id)) == (320, 180)


def test_default_snapshot_is_640_by_360(db_cameras):
    adapter = DemoVideoAdapter(cameras_source=db_cameras)
    assert png_size(adapter.snapshot("cam-gate")) == (640, 360)


def test_snapshot_shows_the_running_clock_and_differs_per_camera(video, clock):
    first, second = [c.id for c in video.cameras() if c.online][:2]
    before = video.snapshot(first)
    assert video.snapshot(first) == before  # same instant, same picture
    clock.now += timedelta(seconds=1)
    assert video.snapshot(first) != before
    assert video.snapshot(second) != video.snapshot(first)


def test_snapshot_at_night_is_still_a_valid_png(video, clock):
    clock.now += timedelta(hours=12)  # 00:00 in Beijing
    camera = next(c for c in video.cameras() if c.online)
    assert png_size(video.snapshot(camera.id)) == (320, 180)


def test_snapshot_of_an_offline_camera_raises_backend_unavailable(video):
    offline = next(c for c in video.cameras() if not c.online)
    with pytest.raises(BackendUnavailable, match="offline"):
        video.snapshot(offline.id)


def test_snapshot_of_an_unknown_camera_raises_not_found(video):
    with pytest.raises(NotFound):
        video.snapshot("no-such-camera")


def test_snapshot_route_serves_the_png_uncached(snapshot_client):
    response = snapshot_client.get("/video/cam-gate/snapshot.png")
    assert response.status_code == 200
    assert response.mimetype == "image/png"
    assert "no-store" in response.headers["Cache-Control"]
    assert png_size(response.data) == (640, 360)


def test_snapshot_route_answers_404_for_an_unknown_camera(snapshot_client):
    assert snapshot_client.get("/video/nobody/snapshot.png").status_code == 404


def test_snapshot_route_answers_503_for_an_offline_camera(snapshot_client):
    response = snapshot_client.get("/video/cam-dark/snapshot.png")
    assert response.status_code == 503
    assert "offline" in response.get_data(as_text=True)


def test_snapshot_route_can_live_under_two_prefixes(db_cameras):
    adapter = DemoVideoAdapter(cameras_source=db_cameras)
    app = Flask(__name__)
    register_video_routes(app, lambda: adapter)
    register_video_routes(app, lambda: adapter, prefix="/hall2/video/")
    client = app.test_client()
    assert client.get("/video/cam-gate/snapshot.png").status_code == 200
    assert client.get("/hall2/video/cam-gate/snapshot.png").status_code == 200


# -- alarms ---------------------------------------------------------------------------------


def test_alarms_are_deterministic_across_adapters_and_processes(clock):
    one = DemoVideoAdapter(clock=clock, alarms_per_minute=6).poll_alarms(None)
    two = DemoVideoAdapter(clock=clock, alarms_per_minute=6).poll_alarms(None)
    assert one and one == two


def test_alarms_have_unique_source_ids_known_classes_and_online_cameras(video, clock):
    alarms = video.poll_alarms(clock.now - timedelta(hours=2))
    online = {c.id for c in video.cameras() if c.online}
    assert len({a.source_id for a in alarms}) == len(alarms)
    assert {a.class_code for a in alarms} == ALARM_CODES
    assert {a.label for a in alarms} == {"占道经营", "乱停放", "暴露垃圾", "露天烧烤"}
    assert {a.camera_id for a in alarms} <= online
    assert all(0.5 < a.confidence <= 1 for a in alarms)


def test_alarm_rate_follows_the_configured_rate(clock):
    adapter = DemoVideoAdapter(clock=clock, alarms_per_minute=3)
    alarms = adapter.poll_alarms(clock.now - timedelta(hours=1))
    assert 175 <= len(alarms) <= 181  # one per 20 s slot


def test_alarms_fall_in_the_polled_window_oldest_first(video, clock):
    since = clock.now - timedelta(minutes=5)
    alarms = video.poll_alarms(since)
    assert all(since < a.at <= clock.now for a in alarms)
    assert [a.at for a in alarms] == sorted(a.at for a in alarms)


def test_polling_again_from_the_last_alarm_gives_only_new_ones(video, clock):
    first = video.poll_alarms(None)
    clock.now += timedelta(minutes=2)
    later = video.poll_alarms(first[-1].at)
    assert later
    assert not {a.source_id for a in later} & {a.source_id for a in first}
    # overlapping windows agree on the alarms they share
    both = video.poll_alarms(clock.now - timedelta(minutes=12))
    assert {a.source_id for a in first + later} == {a.source_id for a in both}


def test_polling_with_no_since_returns_the_recent_window(clock):
    adapter = DemoVideoAdapter(clock=clock, alarms_per_minute=6, recent_alarm_minutes=10)
    alarms = adapter.poll_alarms(None)
    assert 58 <= len(alarms) <= 61
    assert all(a.at > clock.now - timedelta(minutes=10) for a in alarms)


def test_naive_since_is_taken_as_city_wall_time(video, clock):
    since = clock.now - timedelta(minutes=5)
    wall_time = since.astimezone(CHINA_STANDARD_TIME).replace(tzinfo=None)
    assert video.poll_alarms(since) != video.poll_alarms(since.replace(tzinfo=None))
    assert video.poll_alarms(wall_time) == video.poll_alarms(since)


def test_zero_rate_raises_no_alarms(clock):
    assert DemoVideoAdapter(clock=clock, alarms_per_minute=0).poll_alarms(None) == []


# -- health ---------------------------------------------------------------------------------


def test_health_is_up_with_a_latency(video):
    health = video.health()
    assert health.up
    assert health.latency_ms >= 0


def test_health_is_down_when_the_camera_source_fails():
    def broken_database():
        raise ConnectionError("database is locked")

    health = DemoVideoAdapter(cameras_source=broken_database).health()
    assert not health.up
    assert "database is locked" in health.detail
    assert health.latency_ms >= 0


def test_cameras_raise_backend_unavailable_when_the_source_fails():
    def broken_database():
        raise ConnectionError("database is locked")

    with pytest.raises(BackendUnavailable):
        DemoVideoAdapter(cameras_source=broken_database).cameras()


def test_the_app_builds_the_demo_adapter_over_its_camera_source(db_cameras, tmp_path):
    settings = Settings(data_dir=tmp_path, video_options={"alarms_per_minute": 0})
    adapter = build_adapter("video", settings, cameras_source=lambda: db_cameras)
    assert isinstance(adapter, DemoVideoAdapter)
    assert adapter.cameras() == db_cameras
    assert adapter.poll_alarms(None) == []


def test_a_misspelt_cc_video_option_fails_at_start_up_naming_the_setting(tmp_path):
    settings = Settings(data_dir=tmp_path, video_options={"alarm_rate": 5})
    with pytest.raises(AdapterConfigError, match="CC_VIDEO_OPTIONS"):
        build_adapter("video", settings)
