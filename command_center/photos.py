"""案件照片 in the app: uploads checked and re-encoded, photos served by the app itself.

Browsers never reach a case backend (nor the internet) for a photo: ``/photos/<id>`` and
``/photos/<id>/thumb`` read it through the case adapter (``photo_content``). A photo never
changes once stored, so both answer with a strong ETag and a week of private caching; a
drawer opened again costs no request at all.

An officer's upload is decoded with Pillow before anything is stored: what does not decode
as a JPEG, PNG or WebP image is refused; what does is turned upright (EXIF orientation),
scaled to at most ``MAX_SIDE`` pixels and re-encoded as JPEG without its metadata (phones
write the handset and the officer's position into it).
"""

from __future__ import annotations

import base64
import binascii
import io
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any

from flask import Flask, Response, request
from PIL import Image, ImageOps, UnidentifiedImageError

from adapters.base import AdapterError, BackendUnavailable, NotFound
from adapters.case.contract import CaseAdapter, NewPhoto, PhotoContent, PhotoKind
from command_center.domain.ids import record_id
from command_center.i18n import localized, t

log = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 12 * 1024 * 1024  # a phone's photo, with room to spare
MAX_PIXELS = 50_000_000  # refuse decompression bombs before decoding them
MAX_SIDE = 1600  # stored photos: enough to read a shop sign, small enough for a drawer
THUMB_SIDE = 320  # thumbnails: two columns in a 460 px drawer on a HiDPI screen
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "MPO"}  # MPO: the JPEG some phones write
ACCEPTED_UPLOAD_TYPES = "image/jpeg,image/png,image/webp"  # what the browser offers to pick
# What a full-size photo may be served as. A case backend is another system: a "photo" it
# calls image/svg+xml or text/html would run its script in the app's origin when opened, so
# anything else goes out as a download the browser does not render.
SERVED_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})
CACHE_HEADERS = {
    "Cache-Control": "private, max-age=604800, immutable",
    "X-Content-Type-Options": "nosniff",
}


class PhotoRefused(ValueError):
    """An upload that is not a usable image; the message is for the officer."""


def _refused(key: str, **params: Any) -> PhotoRefused:
    """A refusal in the catalogue's words; ``str()`` is both languages, for the log."""
    error = PhotoRefused(f"{t(key, **params)} / {t(key, 'en', **params)}")
    return localized(error, key, **params)  # type: ignore[return-value]


def decode_data_url(contents: str) -> bytes:
    """The bytes of a ``data:<type>;base64,<data>`` URL (what a browser upload sends)."""
    _, _, encoded = contents.partition(",")
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _refused("photo.bad_upload") from None


def prepare_upload(raw: bytes) -> tuple[bytes, int, int]:
    """Check and re-encode an uploaded image: ``(jpeg, width, height)``."""
    if not raw:
        raise _refused("photo.empty")
    if len(raw) > MAX_UPLOAD_BYTES:
        raise _refused("photo.too_large", mb=MAX_UPLOAD_BYTES // 1048576)
    try:
        image: Image.Image = Image.open(io.BytesIO(raw))
        if image.format not in ACCEPTED_FORMATS:
            raise _refused("photo.wrong_format", format=image.format)
        if image.width * image.height > MAX_PIXELS:
            raise _refused("photo.too_many_pixels")
        image = ImageOps.exif_transpose(image).convert("RGB")
    except PhotoRefused:
        raise
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise _refused("photo.not_an_image") from None
    image.thumbnail((MAX_SIDE, MAX_SIDE))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85, optimize=True)
    return out.getvalue(), image.width, image.height


def photo_from_upload(
    raw: bytes, kind: PhotoKind, by: str, *, caption: str = "", taken_at: datetime | None = None
) -> NewPhoto:
    """A ``NewPhoto`` from an uploaded (or camera) image, checked and re-encoded."""
    data, width, height = prepare_upload(raw)
    return NewPhoto(
        kind=kind,
        data=data,
        media_type="image/jpeg",
        by=by,
        taken_at=taken_at,
        caption=caption,
        width=width,
        height=height,
    )


class ThumbnailCache:
    """Thumbnails by content hash: made once per process, whichever case shows the image
    (the demo city's few scenes are shown by thousands of cases)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, content: PhotoContent) -> bytes:
        with self._lock:
            hit = self._items.get(content.etag)
            if hit is not None:
                self._items.move_to_end(content.etag)
                return hit
        thumb = make_thumbnail(content.data)
        with self._lock:
            self._items[content.etag] = thumb
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return thumb


def make_thumbnail(data: bytes, side: int = THUMB_SIDE) -> bytes:
    opened = Image.open(io.BytesIO(data))
    opened.draft("RGB", (side, side))  # JPEG: decode at a fraction of the size, much faster
    image = opened.convert("RGB")
    image.thumbnail((side, side))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=80)
    return out.getvalue()


def register_photo_routes(
    server: Flask, case_adapter: Callable[[], CaseAdapter], prefix: str = "/photos"
) -> ThumbnailCache:
    """``GET /photos/<id>`` (the photo) and ``GET /photos/<id>/thumb`` (a JPEG thumbnail):
    200 with caching headers, 304 when the browser has it, 404 for an unknown photo, 503
    when the case backend is down."""
    thumbs = ThumbnailCache()

    def serve(photo_id: int, thumb: bool) -> Response:
        if record_id(photo_id) is None:  # past a database integer: no adapter is asked
            return _text(404, f"照片不存在 / no photo {photo_id}")
        try:
            content = case_adapter().photo_content(photo_id)
        except NotFound as exc:
            return _text(404, str(exc))
        except BackendUnavailable as exc:
            return _text(503, str(exc))
        except AdapterError as exc:
            log.warning("photo %s could not be read: %s", photo_id, exc)
            return _text(502, str(exc))
        etag = content.etag + ("-t" if thumb else "")
        if request.if_none_match.contains(etag):
            response = Response(status=304)
        elif thumb:
            try:
                response = Response(thumbs.get(content), mimetype="image/jpeg")
            except (UnidentifiedImageError, OSError) as exc:
                return _text(502, f"thumbnail failed: {exc}")
        elif content.media_type in SERVED_IMAGE_TYPES:
            response = Response(content.data, mimetype=content.media_type)
        else:
            log.warning(
                "photo %s is %r, not an image: served as a download", photo_id, content.media_type
            )
            response = Response(content.data, mimetype="application/octet-stream")
            response.headers["Content-Disposition"] = f'attachment; filename="photo-{photo_id}"'
        response.set_etag(etag)
        response.headers.update(CACHE_HEADERS)
        return response

    server.add_url_rule(
        f"{prefix}/<int:photo_id>", "case_photo", lambda photo_id: serve(photo_id, False)
    )
    server.add_url_rule(
        f"{prefix}/<int:photo_id>/thumb",
        "case_photo_thumb",
        lambda photo_id: serve(photo_id, True),
    )
    return thumbs


def photo_url(photo_id: int, *, thumb: bool = False) -> str:
    return f"/photos/{photo_id}" + ("/thumb" if thumb else "")


def _text(status: int, message: str) -> Any:
    return Response(message, status=status, mimetype="text/plain")
