"""The video contract: cameras, their live view and their analytics alarms."""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass
from datetime import datetime

from adapters.base import Adapter


@dataclass
class Camera:
    id: str
    name: str
    lon: float
    lat: float
    grid_code: str | None
    online: bool
    kind: str = "fixed"  # fixed, ptz, body-worn
    updated_at: datetime | None = None


@dataclass
class LiveView:
    """How a browser shows a camera: an HLS playlist, or a snapshot URL refreshed every N s.
    URLs are served by the platform itself or a local media server, never the internet."""

    camera_id: str
    hls_url: str | None
    snapshot_url: str | None
    refresh_seconds: int = 5


@dataclass
class VideoAlarm:
    camera_id: str
    source_id: str  # the platform's own alarm id, for idempotency
    class_code: str  # event class, e.g. 占道经营 -> "0502"
    label: str
    at: datetime
    confidence: float = 1.0


class VideoAdapter(Adapter):
    kind = "video"

    @abstractmethod
    def cameras(self) -> list[Camera]:
        """Every camera with position and online status."""

    @abstractmethod
    def live_view(self, camera_id: str) -> LiveView:
        """How to show one camera live. Raises ``NotFound``."""

    @abstractmethod
    def snapshot(self, camera_id: str) -> bytes:
        """A current still image (JPEG or PNG bytes). Raises ``NotFound``."""

    @abstractmethod
    def poll_alarms(self, since: datetime | None) -> list[VideoAlarm]:
        """Analytics alarms raised since ``since`` (all recent ones when None)."""
