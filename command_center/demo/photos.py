"""Photos for the demo city's cases: synthetic 示意图 scenes, stored once, shown by many cases.

Which cases get which photos follows how a hall works: reports from supervisors, grid
workers and the public (随手拍) come with a photo, video analytics with a camera still, a
department shows the site before and after handling (处置反馈 needs a photo), supervisors
photograph what they verify. Only recent and open cases get them (what a drawer opens);
the ``large`` city's bulk path writes none.
"""

from __future__ import annotations

import hashlib
import random
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, or_, select

from adapters.sql.models import CasePhotoRow, CaseRow, CaseStepRow, PhotoBlobRow
from command_center.demo.scenes import motif_for, scene_jpeg

#: cases reported this many days back (or still open) get photos
RECENT_DAYS = 30
#: share of reports that came with a photo, by source
REPORT_PHOTO_SHARE = {
    "supervisor": 0.9,
    "grid_worker": 0.8,
    "public": 0.95,
    "leader": 0.3,
}
BEFORE_SHARE = 0.5  # the department photographs the site on arrival
AFTER_SHARE = 0.9  # 处置反馈 with a photo
VERIFY_SHARE = 0.7  # 核查 with a photo


def write_demo_photos(conn: Connection, now: datetime, seed: int) -> dict[str, int]:
    """Add photos to the recent and open cases of a freshly generated city."""
    cases = CaseRow.__table__
    steps = CaseStepRow.__table__
    since = now - timedelta(days=RECENT_DAYS)
    wanted = or_(cases.c.reported_at >= since, cases.c.status.in_(("dispatched", "handled")))
    rows = conn.execute(
        select(
            cases.c.id,
            cases.c.kind,
            cases.c.class_code,
            cases.c.source,
            cases.c.reported_at,
            cases.c.reporter,
        )
        .where(wanted)
        .order_by(cases.c.id)
    ).all()
    if not rows:
        return {}
    acts: dict[int, dict[str, tuple[datetime, str]]] = {}
    for step in conn.execute(
        select(steps.c.case_id, steps.c.action, steps.c.at, steps.c.actor)
        .join(cases, cases.c.id == steps.c.case_id)
        .where(wanted, steps.c.action.in_(("dispatch", "report_back", "verify")))
        .order_by(steps.c.at, steps.c.id)
    ):
        acts.setdefault(step.case_id, {})[step.action] = (step.at, step.actor)  # the latest

    blobs: dict[tuple[str, str], int] = {}
    # two motifs can draw the same picture (the "after" of a cleared street): one blob, since
    # blobs are unique by content
    by_digest: dict[str, int] = {}

    def blob(motif: str, state: str) -> int:
        key = (motif, state)
        if key not in blobs:
            data = scene_jpeg(motif, state)  # type: ignore[arg-type]
            digest = hashlib.sha256(data).hexdigest()
            if digest not in by_digest:
                by_digest[digest] = conn.execute(
                    insert(PhotoBlobRow.__table__)
                    .values(sha256=digest, media_type="image/jpeg", size=len(data), data=data)
                    .returning(PhotoBlobRow.__table__.c.id)
                ).scalar_one()
            blobs[key] = by_digest[digest]
        return blobs[key]

    rng = random.Random(seed * 11 + 5)
    photos: list[dict[str, Any]] = []

    def add(case_id: int, motif: str, state: str, kind: str, at: datetime, by: str) -> None:
        photos.append(
            {
                "case_id": case_id,
                "blob_id": blob(motif, state),
                "kind": kind,
                "taken_at": min(at, now),
                "taken_by": by[:64],
                "caption": "",
                "width": 640,
                "height": 480,
                "illustrative": True,
            }
        )

    for row in rows:
        motif = motif_for(row.kind, row.class_code)
        if row.source == "video":
            add(row.id, motif, "camera", "evidence", row.reported_at, row.reporter)
        elif rng.random() < REPORT_PHOTO_SHARE.get(row.source, 0.0):
            taken = row.reported_at - timedelta(minutes=rng.randint(1, 12))
            add(row.id, motif, "before", "report", taken, row.reporter)
        done = acts.get(row.id, {})
        if "dispatch" in done and rng.random() < BEFORE_SHARE:
            at = done["dispatch"][0] + timedelta(minutes=rng.randint(20, 90))
            end = done.get("report_back", (now, ""))[0]
            if at < end:
                add(row.id, motif, "before", "before", at, "处置人员")
        if "report_back" in done and rng.random() < AFTER_SHARE:
            at, actor = done["report_back"]
            add(row.id, motif, "after", "after", at - timedelta(minutes=rng.randint(2, 15)), actor)
        if "verify" in done and rng.random() < VERIFY_SHARE:
            at, actor = done["verify"]
            add(row.id, motif, "after", "verify", at - timedelta(minutes=rng.randint(1, 8)), actor)
    if photos:
        conn.execute(insert(CasePhotoRow.__table__), photos)
    return {"photo_blobs": len(by_digest), "case_photos": len(photos)}
