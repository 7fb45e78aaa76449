"""Case photos in the sql backend, on SQLite and PostgreSQL: stored with a report or
attached later, listed with the case, read back byte for byte, one image stored once."""

from __future__ import annotations

import itertools
from datetime import datetime

import pytest
from sqlalchemy import func, select

from adapters.base import AdapterError, NotFound
from adapters.case.contract import CaseFilter, NewPhoto, PhotoKind
from adapters.sql.models import CasePhotoRow, PhotoBlobRow
from command_center.demo.scenes import scene_jpeg

from .conftest import NOW
from .test_case import new_case

_ids = itertools.count(1)
PNG_1PX = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    b"\x90wS\xde\x00\x00\x00\x0cIDATx\x9cc\xf8\xcf\xc0\x00\x00\x03\x01\x01\x00\xc9\xfe\x92\xef"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


def count(cases, table) -> int:  # noqa: ANN001
    with cases.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_photos_sent_with_a_report_come_back_with_the_case(cases) -> None:  # noqa: ANN001
    jpeg = scene_jpeg("litter", "before")
    report = NewPhoto(
        PhotoKind.REPORT, jpeg, "image/jpeg", by="监督员-张", taken_at=datetime(2026, 11, 25, 9, 55)
    )
    case = cases.report_case(new_case(cases, external_id=f"ph-{next(_ids)}", photos=[report]))
    [photo] = cases.get_case(case.id).photos
    assert (photo.case_id, photo.kind, photo.by) == (case.id, PhotoKind.REPORT, "监督员-张")
    assert photo.taken_at == datetime(2026, 11, 25, 9, 55) and photo.media_type == "image/jpeg"
    content = cases.photo_content(photo.id)
    assert content.data == jpeg and content.media_type == "image/jpeg" and content.etag


def test_attached_photos_list_in_time_order_and_one_image_is_stored_once(cases, clock) -> None:  # noqa: ANN001
    case = cases.report_case(new_case(cases, external_id=f"ph-{next(_ids)}"))
    blobs_before = count(cases, PhotoBlobRow.__table__)
    after = cases.add_photo(
        case.id, NewPhoto(PhotoKind.AFTER, PNG_1PX, "image/png", by="环卫处置员")
    )
    assert after.taken_at == clock.now  # default: when it was attached
    before = cases.add_photo(
        case.id,
        NewPhoto(
            PhotoKind.BEFORE,
            PNG_1PX,
            "image/png",
            by="环卫处置员",
            taken_at=datetime(2026, 11, 25, 8, 0),
            caption="到场时",
        ),
    )
    photos = cases.get_case(case.id).photos
    assert [p.id for p in photos] == [before.id, after.id]
    assert photos[0].caption == "到场时" and not photos[0].illustrative
    assert count(cases, PhotoBlobRow.__table__) - blobs_before <= 1  # same bytes: one blob
    assert cases.photo_content(before.id).data == cases.photo_content(after.id).data == PNG_1PX


def test_a_photo_that_is_not_what_it_claims_is_refused_and_nothing_is_written(cases) -> None:  # noqa: ANN001
    case = cases.report_case(new_case(cases, external_id=f"ph-{next(_ids)}"))
    rows = count(cases, CasePhotoRow.__table__)
    for bad in (
        NewPhoto(PhotoKind.AFTER, PNG_1PX, "image/jpeg", by="x"),  # PNG bytes said to be JPEG
        NewPhoto(PhotoKind.AFTER, b"<svg onload=alert(1)>", "image/svg+xml", by="x"),
        NewPhoto(PhotoKind.AFTER, b"", "image/png", by="x"),
    ):
        with pytest.raises(AdapterError):
            cases.add_photo(case.id, bad)
    with pytest.raises(AdapterError):  # a report whose photo is refused is not filed either
        cases.report_case(
            new_case(
                cases,
                external_id=f"ph-{next(_ids)}",
                photos=[NewPhoto(PhotoKind.REPORT, b"GIF89a", "image/gif", by="x")],
            )
        )
    assert count(cases, CasePhotoRow.__table__) == rows
    with pytest.raises(NotFound):
        cases.add_photo(10**9, NewPhoto(PhotoKind.AFTER, PNG_1PX, "image/png", by="x"))
    with pytest.raises(NotFound):
        cases.photo_content(10**9)


def test_the_demo_city_shows_illustrative_photos_on_a_share_of_its_recent_cases(cases) -> None:  # noqa: ANN001
    # the generated cases (tests add theirs at NOW)
    recent = cases.list_cases(CaseFilter(since=datetime(2026, 11, 1), until=NOW, limit=None))
    with_photos = [c for c in recent if cases.get_case(c.id).photos]
    assert 0.3 * len(recent) < len(with_photos) <= len(recent)
    photo = cases.get_case(with_photos[0].id).photos[0]
    assert photo.illustrative and photo.by
    assert cases.photo_content(photo.id).data[:3] == b"\xff\xd8\xff"
    handled = [c for c in with_photos if c.handled_at is not None]
    kinds = {p.kind for c in handled for p in cases.get_case(c.id).photos}
    assert PhotoKind.AFTER in kinds
