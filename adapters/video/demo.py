"""The built-in video adapter for the demo and for halls without a video platform yet.

It serves the cameras the embedded database knows (the GIS layer "camera") or, when none
are given, a deterministic set around 东城区; it renders a synthetic street-scene PNG per
camera with the camera id and the current time burnt in, as a real camera's OSD would; and
it raises video-analytics alarms (占道经营, 乱停放, 暴露垃圾, 露天烧烤) at a configurable rate.

Everything is a pure function of the seed and the clock, so two processes behind a proxy
show the same alarms with the same source ids, and a restart does not raise them again.
Nothing here needs the internet or a media server.
"""

from __future__ import annotations

import math
import random
import struct
import threading
import time
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from adapters.base import AdapterConfigError, AdapterError, BackendUnavailable, NotFound
from adapters.gis.contract import PointFeature
from adapters.video.contract import Camera, LiveView, VideoAdapter, VideoAlarm
from command_center.domain.calendar import city_timezone

#: China Standard Time: what a camera's OSD shows. China has no daylight saving.

#: The analytics alarm classes raised by the demo: (event class code, label, weight).
#: Codes are the 4-digit big+small event codes of the case catalogue (DOMAIN.md).
DEFAULT_ALARM_CLASSES: tuple[tuple[str, str, float], ...] = (
    ("0502", "占道经营", 0.35),
    ("0504", "乱停放", 0.30),
    ("0102", "暴露垃圾", 0.25),
    ("0505", "露天烧烤", 0.10),
)

CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")

# Real road names around 东四/王府井 so the generated cameras read like a 东城 hall's.
_ROADS = (
    "东四北大街",
    "朝阳门内大街",
    "王府井大街",
    "东单北大街",
    "灯市口大街",
    "美术馆后街",
    "交道口南大街",
    "地安门东大街",
    "南锣鼓巷",
    "东直门内大街",
    "张自忠路",
    "平安大街",
    "隆福寺街",
    "金宝街",
    "东华门大街",
    "五四大街",
    "北河沿大街",
    "东四十条",
    "雍和宫大街",
    "北新桥三条",
)
_SPOTS = ("路口", "北口", "南口", "东口", "西口", "公交站", "菜市场", "小区门口")


def generate_cameras(
    count: int = 20,
    *,
    seed: int = 20261125,
    center: tuple[float, float] = (116.416, 39.928),
    district_code: str = "110101",
    offline_share: float = 0.15,
) -> list[Camera]:
    """A deterministic set of cameras scattered within ~1.5 km of ``center`` (lon, lat).

    Ids follow the GB/T 28181 20-digit device code (6-digit region, 2+2 unit and industry,
    type 132 = network camera, 1 network digit, 6-digit sequence), as video platforms in
    Chinese halls name them.
    """
    rng = random.Random(f"cameras:{seed}")
    offline = set(rng.sample(range(count), min(count, max(1, round(count * offline_share)))))
    lon0, lat0 = center
    cameras = []
    for i in range(count):
        radius_m = 1500 * math.sqrt(rng.random())
        angle = rng.uniform(0, 2 * math.pi)
        lat = lat0 + radius_m * math.sin(angle) / 111_320
        lon = lon0 + radius_m * math.cos(angle) / (111_320 * math.cos(math.radians(lat0)))
        road = _ROADS[i % len(_ROADS)]
        cameras.append(
            Camera(
                id=f"{district_code}00001320{i + 1:06d}",
                name=f"{road}{rng.choice(_SPOTS)}",
                lon=round(lon, 6),
                lat=round(lat, 6),
                grid_code=None,  # the GIS layer resolves the grid from the point
                online=i not in offline,
                kind=rng.choice(("fixed", "fixed", "ptz")),
            )
        )
    return cameras


def camera_from_feature(feature: PointFeature) -> Camera:
    """A camera from a point of the GIS layer "camera" (status "offline" means offline)."""
    return Camera(
        id=feature.id,
        name=feature.name,
        lon=feature.lon,
        lat=feature.lat,
        grid_code=feature.grid_code,
        online=feature.status != "offline",
        kind=str(feature.props.get("kind", "fixed")),
        updated_at=feature.updated_at,
    )


CamerasSource = Callable[[], Iterable[Camera | PointFeature]] | Iterable[Camera | PointFeature]


class DemoVideoAdapter(VideoAdapter):
    """Synthetic cameras, snapshots and analytics alarms.

    Options (all optional; JSON-friendly ones can come from ``CC_VIDEO_OPTIONS``):

    - ``cameras_source``: the cameras, as an iterable of ``Camera`` (or GIS ``PointFeature``
      of layer "camera"), or a callable returning one, re-read every ``cameras_cache_seconds``
      (default 30); None generates ``camera_count`` (default 20) cameras around ``center``
      (default [116.416, 39.928]) in ``district_code`` (default "110101").
    - ``base_url``: where ``register_video_routes`` serves snapshots (default "/video").
    - ``refresh_seconds``: how often a panel reloads the snapshot (default 3).
    - ``seed``: drives cameras and alarms (default 20261125, as ``CC_SEED``).
    - ``alarms_per_minute``: average analytics alarm rate over all cameras (default 2; 0: none).
    - ``recent_alarm_minutes``: the window ``poll_alarms(None)`` returns (default 10).
    - ``alarm_classes``: [[code, label, weight], ...] replacing ``DEFAULT_ALARM_CLASSES``.
    - ``snapshot_size``: [width, height] in pixels (default [640, 360]).
    - ``clock``: a callable returning an aware ``datetime`` (tests pin time with it).
    """

    def __init__(
        self,
        cameras_source: CamerasSource | None = None,
        base_url: str = "/video",
        *,
        refresh_seconds: int = 3,
        seed: int = 20261125,
        alarms_per_minute: float = 2.0,
        recent_alarm_minutes: float = 10,
        alarm_classes: Iterable[Sequence[Any]] = DEFAULT_ALARM_CLASSES,
        snapshot_size: Sequence[int] = (640, 360),
        camera_count: int = 20,
        center: Sequence[float] = (116.416, 39.928),
        district_code: str = "110101",
        cameras_cache_seconds: float = 30,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        # Named keyword options, not **options: a misspelt CC_VIDEO_OPTIONS key is an error
        # at start-up rather than a silently ignored setting.
        super().__init__(
            cameras_source=cameras_source,
            base_url=base_url,
            refresh_seconds=refresh_seconds,
            seed=seed,
            alarms_per_minute=alarms_per_minute,
            recent_alarm_minutes=recent_alarm_minutes,
            alarm_classes=alarm_classes,
            snapshot_size=snapshot_size,
            camera_count=camera_count,
            center=center,
            district_code=district_code,
            cameras_cache_seconds=cameras_cache_seconds,
        )
        self.base_url = base_url.rstrip("/")
        self.refresh_seconds = int(refresh_seconds)
        self.seed = int(seed)
        self.alarms_per_minute = float(alarms_per_minute)
        self.recent_alarm_window = timedelta(minutes=float(recent_alarm_minutes))
        self.alarm_classes = _alarm_classes(alarm_classes)
        width, height = (int(v) for v in snapshot_size)
        if not (64 <= width <= 3840 and 64 <= height <= 2160):
            raise AdapterConfigError(
                "CC_VIDEO_OPTIONS snapshot_size must be [width, height] between 64 and 3840x2160"
            )
        self.snapshot_size = (width, height)
        self._clock: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
        self._cache_seconds = float(cameras_cache_seconds)

        if cameras_source is None:
            generated = generate_cameras(
                int(camera_count),
                seed=self.seed,
                center=(float(center[0]), float(center[1])),
                district_code=str(district_code),
            )
            self._source: Callable[[], Iterable[Camera | PointFeature]] = lambda: generated
        elif callable(cameras_source):
            self._source = cameras_source
        else:
            # Materialise once: an iterator would be empty the second time round.
            fixed = list(cameras_source)
            self._source = lambda: fixed
        self._lock = threading.Lock()
        self._cameras: dict[str, Camera] | None = None
        self._cameras_read_at = 0.0
        self._renderer = _SceneRenderer(*self.snapshot_size)

    # -- cameras ------------------------------------------------------------------------

    def cameras(self) -> list[Camera]:
        """Every camera with position and online status."""
        return list(self._camera_index().values())

    def _camera_index(self) -> dict[str, Camera]:
        with self._lock:
            stale = time.monotonic() - self._cameras_read_at >= self._cache_seconds
            if self._cameras is None or stale:
                self._cameras = {c.id: c for c in self._read_source()}
                self._cameras_read_at = time.monotonic()
            return self._cameras

    def _read_source(self) -> list[Camera]:
        try:
            return [
                camera_from_feature(c) if isinstance(c, PointFeature) else c for c in self._source()
            ]
        except AdapterError:
            raise
        except Exception as exc:
            # The source is the app's database: its failure is a backend failure.
            raise BackendUnavailable(f"cannot read the cameras: {exc}") from exc

    def ping(self) -> None:
        """Read the camera source afresh: the demo is only as up as the database behind it."""
        cameras = self._read_source()
        with self._lock:
            self._cameras = {c.id: c for c in cameras}
            self._cameras_read_at = time.monotonic()

    def _camera(self, camera_id: str) -> Camera:
        try:
            return self._camera_index()[camera_id]
        except KeyError:
            raise NotFound(f"no camera {camera_id!r}") from None

    def live_view(self, camera_id: str) -> LiveView:
        """A snapshot URL refreshed every few seconds; the demo has no HLS stream."""
        camera = self._camera(camera_id)
        return LiveView(
            camera_id=camera.id,
            hls_url=None,
            snapshot_url=f"{self.base_url}/{camera.id}/snapshot.png",
            refresh_seconds=self.refresh_seconds,
        )

    def snapshot(self, camera_id: str) -> bytes:
        """A PNG street scene with the camera id and the current time. An offline camera
        raises ``BackendUnavailable``, as a real platform's would."""
        camera = self._camera(camera_id)
        if not camera.online:
            raise BackendUnavailable(f"camera {camera.name} ({camera.id}) is offline")
        return self._renderer.render(camera, self._now())

    # -- alarms -------------------------------------------------------------------------

    def poll_alarms(self, since: datetime | None) -> list[VideoAlarm]:
        """The alarms in (``since``, now], oldest first.

        Time is cut into slots of 60/rate seconds with one alarm at a seeded random instant
        in each, so the answer depends only on the seed, the window and the online cameras:
        overlapping polls return the same alarms with the same ``source_id``.
        """
        now = self._now()
        start = now - self.recent_alarm_window if since is None else _aware(since)
        # A poller that was down for days must not get (or wait for) a flood.
        start = max(start, now - timedelta(days=1))
        online = sorted(c.id for c in self._camera_index().values() if c.online)
        if self.alarms_per_minute <= 0 or not online or start >= now:
            return []
        slot = 60.0 / self.alarms_per_minute
        codes = [c[0] for c in self.alarm_classes]
        labels = {c[0]: c[1] for c in self.alarm_classes}
        weights = [c[2] for c in self.alarm_classes]
        alarms = []
        first, last = math.floor(start.timestamp() / slot), math.floor(now.timestamp() / slot)
        for k in range(first, last + 1):
            rng = random.Random(f"alarm:{self.seed}:{slot}:{k}")
            at_ms = round((k + rng.random()) * slot * 1000)
            at = datetime.fromtimestamp(at_ms / 1000, UTC)
            if not start < at <= now:
                continue
            camera_id = rng.choice(online)
            code = rng.choices(codes, weights)[0]
            alarms.append(
                VideoAlarm(
                    camera_id=camera_id,
                    # camera + instant is unique: at most one alarm per slot
                    source_id=f"demo-{camera_id}-{at_ms}",
                    class_code=code,
                    label=labels[code],
                    at=at,
                    confidence=round(rng.uniform(0.62, 0.99), 2),
                )
            )
        return alarms

    def _now(self) -> datetime:
        return _aware(self._clock())


def _aware(moment: datetime) -> datetime:
    """Naive datetimes are the city's wall time, the app's storage convention."""
    return moment if moment.tzinfo else moment.replace(tzinfo=city_timezone())


def _alarm_classes(value: Iterable[Sequence[Any]]) -> tuple[tuple[str, str, float], ...]:
    try:
        classes = tuple((str(c[0]), str(c[1]), float(c[2])) for c in value)
    except (TypeError, ValueError, IndexError):
        raise AdapterConfigError(
            "CC_VIDEO_OPTIONS alarm_classes must be a list of [code, label, weight]"
        ) from None
    if not classes or any(len(code) != 4 or not code.isdigit() for code, _, _ in classes):
        raise AdapterConfigError(
            "CC_VIDEO_OPTIONS alarm_classes needs at least one class with a 4-digit event code"
        )
    return classes


# -- rendering ------------------------------------------------------------------------------
#
# Pillow is not a dependency, so the scene is drawn into a raw RGB buffer and encoded as PNG
# with zlib. If Pillow happens to be installed, it only adds the Chinese camera name (it needs
# a CJK font; the bitmap font below covers the ASCII OSD: id and time).

RGB = tuple[int, int, int]

# 5x7 bitmap glyphs, one string of 5 bits per row.
_GLYPHS: Mapping[str, str] = {
    "0": "01110 10001 10011 10101 11001 10001 01110",
    "1": "00100 01100 00100 00100 00100 00100 01110",
    "2": "01110 10001 00001 00010 00100 01000 11111",
    "3": "11111 00010 00100 00010 00001 10001 01110",
    "4": "00010 00110 01010 10010 11111 00010 00010",
    "5": "11111 10000 11110 00001 00001 10001 01110",
    "6": "00110 01000 10000 11110 10001 10001 01110",
    "7": "11111 00001 00010 00100 01000 01000 01000",
    "8": "01110 10001 10001 01110 10001 10001 01110",
    "9": "01110 10001 10001 01111 00001 00010 01100",
    "A": "01110 10001 10001 11111 10001 10001 10001",
    "B": "11110 10001 10001 11110 10001 10001 11110",
    "C": "01110 10001 10000 10000 10000 10001 01110",
    "D": "11100 10010 10001 10001 10001 10010 11100",
    "E": "11111 10000 10000 11110 10000 10000 11111",
    "F": "11111 10000 10000 11110 10000 10000 10000",
    "G": "01110 10001 10000 10111 10001 10001 01111",
    "H": "10001 10001 10001 11111 10001 10001 10001",
    "I": "01110 00100 00100 00100 00100 00100 01110",
    "J": "00111 00010 00010 00010 00010 10010 01100",
    "K": "10001 10010 10100 11000 10100 10010 10001",
    "L": "10000 10000 10000 10000 10000 10000 11111",
    "M": "10001 11011 10101 10101 10001 10001 10001",
    "N": "10001 10001 11001 10101 10011 10001 10001",
    "O": "01110 10001 10001 10001 10001 10001 01110",
    "P": "11110 10001 10001 11110 10000 10000 10000",
    "Q": "01110 10001 10001 10001 10101 10010 01101",
    "R": "11110 10001 10001 11110 10100 10010 10001",
    "S": "01111 10000 10000 01110 00001 00001 11110",
    "T": "11111 00100 00100 00100 00100 00100 00100",
    "U": "10001 10001 10001 10001 10001 10001 01110",
    "V": "10001 10001 10001 10001 10001 01010 00100",
    "W": "10001 10001 10001 10101 10101 10101 01010",
    "X": "10001 10001 01010 00100 01010 10001 10001",
    "Y": "10001 10001 10001 01010 00100 00100 00100",
    "Z": "11111 00001 00010 00100 01000 10000 11111",
    "-": "00000 00000 00000 11111 00000 00000 00000",
    ":": "00000 01100 01100 00000 01100 01100 00000",
    ".": "00000 00000 00000 00000 00000 01100 01100",
    "_": "00000 00000 00000 00000 00000 00000 11111",
    "/": "00000 00001 00010 00100 01000 10000 00000",
    "#": "01010 01010 11111 01010 11111 01010 01010",
    "?": "01110 10001 00001 00010 00100 00000 00100",
    " ": "00000 00000 00000 00000 00000 00000 00000",
}


class _Canvas:
    """A raw RGB buffer with the few primitives a street scene needs."""

    def __init__(self, width: int, height: int, pixels: bytearray | None = None) -> None:
        self.width, self.height = width, height
        self.pixels = pixels if pixels is not None else bytearray(width * height * 3)

    def copy(self) -> _Canvas:
        return _Canvas(self.width, self.height, bytearray(self.pixels))

    def rect(self, x0: float, y0: float, x1: float, y1: float, color: RGB) -> None:
        x0, x1 = max(0, int(x0)), min(self.width, int(x1))
        y0, y1 = max(0, int(y0)), min(self.height, int(y1))
        if x0 >= x1 or y0 >= y1:
            return
        run = bytes(color) * (x1 - x0)
        stride = self.width * 3
        for y in range(y0, y1):
            offset = y * stride + x0 * 3
            self.pixels[offset : offset + len(run)] = run

    def text(self, x: int, y: int, text: str, color: RGB, scale: int = 2) -> int:
        """Draw ASCII text with the bitmap font; returns the x after the last glyph."""
        for char in text.upper():
            rows = _GLYPHS.get(char, _GLYPHS["?"]).split()
            for row, bits in enumerate(rows):
                for col, bit in enumerate(bits):
                    if bit == "1":
                        px, py = x + col * scale, y + row * scale
                        self.rect(px, py, px + scale, py + scale, color)
            x += 6 * scale
        return x

    def png(self) -> bytes:
        stride = self.width * 3
        # Filter type 0 (none) per scanline: the scene is flat colour, zlib does the rest.
        raw = b"".join(
            b"\x00" + bytes(self.pixels[y * stride : (y + 1) * stride]) for y in range(self.height)
        )
        return encode_png(self.width, self.height, raw)


def encode_png(width: int, height: int, filtered_rgb: bytes) -> bytes:
    """An 8-bit RGB PNG from scanlines that already carry their filter byte."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(filtered_rgb, 6))
        + chunk(b"IEND", b"")
    )


class _SceneRenderer:
    """Sky, a row of buildings and a road going into the distance, with cars that move as
    the clock runs, and a camera-style OSD. The static part is cached per camera."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.horizon = int(height * 0.52)
        self._backgrounds: dict[tuple[str, bool], _Canvas] = {}
        self._lock = threading.Lock()
        self._cjk_font = _load_cjk_font(max(14, height // 20))

    def render(self, camera: Camera, now: datetime) -> bytes:
        local = now.astimezone(city_timezone())  # the OSD shows the city's time
        night = not 6 <= local.hour < 19
        canvas = self._background(camera.id, night).copy()
        self._draw_cars(canvas, camera.id, now.timestamp(), night)
        self._draw_osd(canvas, camera, local)
        if self._cjk_font is not None:
            return self._with_cjk_name(canvas, camera)
        return canvas.png()

    def _background(self, camera_id: str, night: bool) -> _Canvas:
        key = (camera_id, night)
        with self._lock:
            if key not in self._backgrounds:
                if len(self._backgrounds) > 256:
                    self._backgrounds.clear()
                self._backgrounds[key] = self._draw_background(camera_id, night)
            return self._backgrounds[key]

    def _draw_background(self, camera_id: str, night: bool) -> _Canvas:
        w, h, horizon = self.width, self.height, self.horizon
        rng = random.Random(f"scene:{camera_id}")
        canvas = _Canvas(w, h)
        top, bottom = ((12, 18, 40), (38, 48, 80)) if night else ((120, 170, 220), (200, 220, 235))
        for y in range(horizon):
            t = y / max(1, horizon - 1)
            canvas.rect(0, y, w, y + 1, _mix(top, bottom, t))
        # Buildings: 胡同-height grey blocks with windows, lit at night.
        x = -rng.randint(0, 40)
        while x < w:
            bw = rng.randint(w // 14, w // 6)
            bh = rng.randint(h // 8, int(h * 0.42))
            shade = rng.randint(70, 150) if not night else rng.randint(30, 60)
            tint = (shade, shade - rng.randint(0, 12), shade - rng.randint(0, 20))
            canvas.rect(x, horizon - bh, x + bw, horizon, tint)
            for wy in range(horizon - bh + 8, horizon - 10, 14):
                for wx in range(x + 6, x + bw - 8, 12):
                    lit = night and rng.random() < 0.45
                    color = (235, 205, 120) if lit else ((25, 28, 40) if night else (90, 110, 130))
                    canvas.rect(wx, wy, wx + 6, wy + 7, color)
            x += bw + rng.randint(2, 14)
        # Pavement, then the road as a trapezoid narrowing to the horizon, with a dashed line.
        canvas.rect(0, horizon, w, h, (70, 72, 76) if night else (150, 148, 140))
        cx = w // 2 + rng.randint(-w // 10, w // 10)
        road = (40, 42, 46) if night else (85, 88, 92)
        for y in range(horizon, h):
            depth = (y - horizon) / max(1, h - horizon)
            half = 8 + depth * w * 0.42
            canvas.rect(cx - half, y, cx + half, y + 1, road)
            if int(depth**0.5 * 14) % 2 == 0:
                lane = 1 + depth * 5
                canvas.rect(cx - lane, y, cx + lane, y + 1, (220, 210, 150))
        return canvas

    def _draw_cars(self, canvas: _Canvas, camera_id: str, t: float, night: bool) -> None:
        w, h, horizon = self.width, self.height, self.horizon
        rng = random.Random(f"cars:{camera_id}")
        cx = w // 2 + random.Random(f"scene:{camera_id}").randint(-w // 10, w // 10)
        cars = []
        for _ in range(rng.randint(3, 6)):
            phase, speed = rng.random(), rng.uniform(0.03, 0.12)
            towards = rng.random() < 0.5
            s = (phase + t * speed) % 1.0
            depth = s if towards else 1 - s
            color = rng.choice(((200, 40, 40), (230, 230, 230), (30, 30, 35), (40, 90, 170)))
            cars.append((depth, towards, color))
        for depth, towards, color in sorted(cars):  # far ones first
            y = horizon + depth**1.6 * (h - horizon)
            size = 6 + depth * w * 0.16
            lane = (0.22 if towards else -0.22) * (8 + depth * w * 0.42)
            x = cx + lane - size / 2
            canvas.rect(x, y - size * 0.55, x + size, y, color)
            canvas.rect(x + size * 0.18, y - size * 0.85, x + size * 0.82, y - size * 0.5, color)
            canvas.rect(
                x + size * 0.24,
                y - size * 0.8,
                x + size * 0.76,
                y - size * 0.58,
                (150, 190, 215) if not night else (40, 50, 70),
            )
            light = (255, 240, 180) if towards else (220, 30, 30)
            canvas.rect(x + size * 0.05, y - size * 0.35, x + size * 0.2, y - size * 0.25, light)
            canvas.rect(x + size * 0.8, y - size * 0.35, x + size * 0.95, y - size * 0.25, light)

    def _draw_osd(self, canvas: _Canvas, camera: Camera, local: datetime) -> None:
        scale = max(1, self.height // 180)
        line = 9 * scale
        canvas.rect(0, 0, self.width, line + 4 * scale, (0, 0, 0))
        stamp = local.strftime("%Y-%m-%d %H:%M:%S")
        canvas.text(3 * scale, 2 * scale, stamp, (255, 255, 255), scale)
        rec_x = self.width - 30 * scale
        canvas.rect(rec_x - 8 * scale, 3 * scale, rec_x - 3 * scale, 8 * scale, (230, 30, 30))
        canvas.text(rec_x, 2 * scale, "LIVE", (230, 30, 30), scale)
        bottom = self.height - line - 4 * scale
        canvas.rect(0, bottom, self.width, self.height, (0, 0, 0))
        canvas.text(3 * scale, bottom + 2 * scale, camera.id, (255, 255, 255), scale)

    def _with_cjk_name(self, canvas: _Canvas, camera: Camera) -> bytes:
        import io

        from PIL import Image, ImageDraw

        image = Image.frombytes("RGB", (canvas.width, canvas.height), bytes(canvas.pixels))
        draw = ImageDraw.Draw(image)
        text = camera.name
        box = draw.textbbox((0, 0), text, font=self._cjk_font)
        x = canvas.width - (box[2] - box[0]) - 8
        y = canvas.height - (box[3] - box[1]) - 8 - box[1]
        draw.rectangle((x - 6, y + box[1] - 4, canvas.width, canvas.height), fill=(0, 0, 0))
        draw.text((x, y), text, font=self._cjk_font, fill=(255, 255, 255))
        out = io.BytesIO()
        image.save(out, format="PNG")
        return out.getvalue()


def _load_cjk_font(size: int) -> Any:
    """The CJK font for camera names, or None without Pillow or without the font file."""
    if not CJK_FONT.exists():
        return None
    try:
        from PIL import ImageFont
    except ImportError:
        return None
    try:
        return ImageFont.truetype(str(CJK_FONT), size)
    except OSError:
        return None


def _mix(a: RGB, b: RGB, t: float) -> RGB:
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )
