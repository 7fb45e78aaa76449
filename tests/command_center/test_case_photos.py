"""案件照片 through the app: an alarm's camera still becomes the case's evidence, an officer's
photo goes with 处置反馈 and 核查, a photo that is not an image refuses the action, and the
app serves photos and thumbnails itself with caching headers."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from adapters.case.contract import CaseStatus, PhotoKind
from command_center.audit import REFUSED
from command_center.photos import prepare_upload
from tests.command_center.test_collaboration import add_user, new_case


@pytest.fixture()
def cc(city_copy: str, tmp_path: Path) -> Iterator[object]:
    from command_center.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(city_copy, tmp_path, cache_seconds=0.0), start_background=False)
    yield app
    app.stop()


def phone_photo(width: int = 3000, height: int = 2000, orientation: int | None = 6) -> bytes:
    """A large JPEG as a phone writes it: EXIF orientation and a GPS position inside."""
    image = Image.new("RGB", (width, height), (200, 60, 40))
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation  # rotated 90° when shown
    exif[0x8825] = {2: (39.0, 55.0, 33.0)}  # GPSLatitude: personal data
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


def dispatched(cc: object) -> tuple[object, int]:
    admin = add_user(cc, "root", "admin")
    case_id = new_case(cc)
    for action, kw in [("accept", {}), ("register", {}), ("dispatch", {"department_code": "D02"})]:
        assert cc.collab.perform(admin, case_id, action, **kw).ok  # type: ignore[attr-defined]
    return admin, case_id


def test_uploads_are_turned_upright_scaled_and_stripped_of_their_metadata() -> None:
    data, width, height = prepare_upload(phone_photo())
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG" and (width, height) == image.size == (1067, 1600)
    assert not image.getexif()  # no orientation, no GPS left


def test_a_report_back_carries_the_officers_photo_and_verify_another(cc: object) -> None:
    admin, case_id = dispatched(cc)
    collab = cc.collab  # type: ignore[attr-defined]
    done = collab.perform(admin, case_id, "report_back", "已清运", photo=phone_photo())
    assert done.ok and done.message == ""
    assert collab.perform(admin, case_id, "verify", "现场已恢复", photo=phone_photo(800, 600)).ok
    photos = cc.services.case_detail(case_id).photos  # type: ignore[attr-defined]
    assert [(p.kind, p.by) for p in photos] == [
        (PhotoKind.AFTER, "root"),
        (PhotoKind.VERIFY, "root"),
    ]
    assert not any(p.illustrative for p in photos)
    [entry] = [e for e in collab.audit.entries(case_id=case_id) if e.action == "report_back"]
    assert f"照片 #{photos[0].id}" in entry.detail


def test_a_photo_that_is_not_an_image_refuses_the_action_and_changes_nothing(cc: object) -> None:
    admin, case_id = dispatched(cc)
    collab = cc.collab  # type: ignore[attr-defined]
    refused = collab.perform(admin, case_id, "report_back", photo=b"%PDF-1.7 not a photo")
    assert not refused.ok and "图片" in refused.message
    assert cc.services.case_detail(case_id).case.status is CaseStatus.DISPATCHED  # type: ignore[attr-defined]
    assert cc.services.case_detail(case_id).photos == []  # type: ignore[attr-defined]
    assert collab.audit.entries(case_id=case_id)[0].result == REFUSED
    # a photo with an action that takes none is refused too
    assert not collab.perform(admin, case_id, "urge", photo=phone_photo(100, 100)).ok


def test_a_case_from_an_alarm_with_a_camera_keeps_the_cameras_still_as_evidence(
    cc: object,
) -> None:
    from adapters.case.contract import CaseFilter
    from command_center.alarms import AlarmIn

    leader = add_user(cc, "sun", "shift_leader")
    camera = cc.services.adapters.video.cameras()[0]  # type: ignore[attr-defined]
    some = cc.services.adapters.case.list_cases(CaseFilter(limit=1))[0]  # type: ignore[attr-defined]
    alarm = cc.alarms.ingest(  # type: ignore[attr-defined]
        AlarmIn(
            source="video",
            source_id="photo-0001",
            level="warn",
            class_code="0502",
            title="占道经营",
            lon=some.lon,
            lat=some.lat,
            camera_id=camera.id,
        )
    ).alarm
    made = cc.collab.case_from_alarm(leader, alarm.id, screen="duty")  # type: ignore[attr-defined]
    [photo] = cc.services.case_detail(made.case.id).photos  # type: ignore[attr-defined]
    assert photo.kind is PhotoKind.EVIDENCE and photo.by == camera.id
    assert f"告警#{alarm.id}" in photo.caption
    content = cc.services.adapters.case.photo_content(photo.id)  # type: ignore[attr-defined]
    assert Image.open(io.BytesIO(content.data)).size == (photo.width, photo.height)


def test_the_app_serves_photos_and_thumbnails_with_caching_headers(cc: object) -> None:
    admin, case_id = dispatched(cc)
    cc.collab.perform(admin, case_id, "report_back", photo=phone_photo())  # type: ignore[attr-defined]
    [photo] = cc.services.case_detail(case_id).photos  # type: ignore[attr-defined]
    client = cc.server.test_client()  # type: ignore[attr-defined]
    full = client.get(f"/photos/{photo.id}")
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    assert full.data == cc.services.adapters.case.photo_content(photo.id).data  # type: ignore[attr-defined]
    assert "immutable" in full.headers["Cache-Control"] and full.headers["ETag"]
    assert full.headers["X-Content-Type-Options"] == "nosniff"
    thumb = client.get(f"/photos/{photo.id}/thumb")
    assert thumb.status_code == 200 and max(Image.open(io.BytesIO(thumb.data)).size) == 320
    assert thumb.headers["ETag"] != full.headers["ETag"]
    again = client.get(f"/photos/{photo.id}", headers={"If-None-Match": full.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    assert client.get("/photos/999999999").status_code == 404
    assert client.get("/photos/999999999/thumb").status_code == 404


def test_a_region_put_on_the_wall_is_named_and_an_unknown_one_refused(cc: object) -> None:
    officer = add_user(cc, "wang", "duty_officer")
    collab = cc.collab  # type: ignore[attr-defined]
    street = cc.services.regions("street").value[0]  # type: ignore[attr-defined]
    done = collab.put_on_wall(officer, region_code=street.code, seconds=30, from_screen="duty")
    assert done.ok and done.message == street.name
    focus = collab.wall_focus("main")
    assert focus.region_code == street.code and focus.case_id is None and focus.by
    assert not collab.put_on_wall(officer, region_code="999999999").ok
    assert collab.wall_focus("main").region_code == street.code  # the refusal changed nothing
    assert not collab.put_on_wall(officer).ok  # neither case nor region
    newest_first = [e for e in collab.audit.entries() if e.action == "put_on_wall"]
    assert newest_first[0].result == REFUSED and street.name in newest_first[1].detail
