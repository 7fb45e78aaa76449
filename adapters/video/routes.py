"""Serve camera snapshots from the app's own Flask server, so walls never reach a camera
or the internet directly. Plain Flask: the Dash app passes its ``server``."""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, Response

from adapters.base import AdapterError, BackendUnavailable, NotFound
from adapters.video.contract import VideoAdapter

log = logging.getLogger(__name__)

# A snapshot is "now": browsers and proxies must ask again every refresh.
NO_CACHE = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0",
    "Pragma": "no-cache",
    "Expires": "0",
}


def register_video_routes(
    flask_app: Flask,
    video_adapter_getter: Callable[[], VideoAdapter],
    prefix: str = "/video",
) -> None:
    """Add ``GET {prefix}/<camera_id>/snapshot.png``: 200 with the image, 404 for an unknown
    camera, 503 for an offline camera or an unreachable video platform.

    The adapter is looked up per request (``video_adapter_getter``) so that an adapter
    rebuilt after a configuration change is used without re-registering routes.
    """
    prefix = "/" + prefix.strip("/")

    def snapshot(camera_id: str) -> Response:
        try:
            image = video_adapter_getter().snapshot(camera_id)
        except NotFound as exc:
            return _text(404, str(exc))
        except BackendUnavailable as exc:
            return _text(503, str(exc), {"Retry-After": "10"})
        except AdapterError as exc:
            log.warning("snapshot of camera %s failed: %s", camera_id, exc)
            return _text(502, str(exc))
        return Response(image, status=200, mimetype=_image_type(image), headers=NO_CACHE)

    # One endpoint name per prefix, so the routes can be registered under several prefixes.
    endpoint = "video_snapshot" + prefix.replace("/", "_")
    flask_app.add_url_rule(
        f"{prefix}/<camera_id>/snapshot.png", endpoint, snapshot, methods=["GET"]
    )


def _image_type(image: bytes) -> str:
    # The contract allows JPEG or PNG; the URL says .png but the browser goes by the header.
    return "image/jpeg" if image[:3] == b"\xff\xd8\xff" else "image/png"


def _text(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        message,
        status=status,
        mimetype="text/plain",
        headers={**NO_CACHE, **(headers or {})},
    )
