"""Case photos benchmark: what photos cost the demo generator, an officer's upload and the
app's photo routes.

    .venv/bin/python bench/bench_photos.py [--demo]

1. Generation: the ``photos`` phase of generating the tiny city (``--demo``: the demo city,
   a few minutes) against its total, and how many photos and distinct images it wrote.
2. Scenes: drawing every 示意图 scene once (what the first generation in a process pays).
3. Upload: checking and re-encoding a 12-megapixel phone JPEG (``prepare_upload``).
4. Routes: ``/photos/<id>`` and ``/photos/<id>/thumb`` through Flask's test client, the first
   request (thumbnail made) and the median of 20 after it, and a 304 revalidation.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import io
import secrets
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PIL import Image  # noqa: E402

from command_center.demo import scenes  # noqa: E402
from command_center.demo.generator import generate  # noqa: E402
from command_center.photos import prepare_upload  # noqa: E402

NOW = datetime(2026, 11, 25, 10, 0)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:,.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--demo", action="store_true", help="generate the demo city too")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-photos-"))

    t = time.perf_counter()
    for motif in scenes.MOTIFS:
        for state in ("before", "after", "camera"):
            scenes.scene_jpeg(motif, state)  # type: ignore[arg-type]
    drawn = len(scenes.MOTIFS) * 3
    print(f"scenes: {drawn} drawn in {ms(time.perf_counter() - t)}")
    scenes.scene_jpeg.cache_clear()

    for size in ("tiny", "demo") if args.demo else ("tiny",):
        url = f"sqlite:///{tmp / (size + '.sqlite')}"
        report = generate(url, size, seed=20261125, now=NOW)
        c = report.counts
        print(
            f"generate {size}: {report.seconds:.1f} s in all, photos phase "
            f"{report.phases['photos']:.2f} s ({report.phases['photos'] / report.seconds:.1%}); "
            f"{c.get('case_photos', 0):,} photos of {c.get('cases', 0):,} cases, "
            f"{c.get('photo_blobs', 0)} distinct images"
        )

    phone = io.BytesIO()
    Image.effect_noise((4000, 3000), 40).convert("RGB").save(phone, format="JPEG", quality=92)
    raw = phone.getvalue()
    runs = []
    for _ in range(3):
        t = time.perf_counter()
        data, width, height = prepare_upload(raw)
        runs.append(time.perf_counter() - t)
    print(
        f"upload: {len(raw) / 1e6:.1f} MB 4000x3000 JPEG → {width}x{height} "
        f"{len(data) / 1e3:.0f} kB in {ms(statistics.median(runs))} (median of 3)"
    )

    from command_center.app import create_app
    from command_center.settings import Settings

    settings = Settings(
        database_url=f"sqlite:///{tmp / 'tiny.sqlite'}",
        data_dir=tmp / "var",
        screens_file=ROOT / "screens.yaml",
        simulate=False,
        secret_key=secrets.token_urlsafe(32),
    )
    cc = create_app(settings, start_background=False)
    try:
        from sqlalchemy import text

        with cc.collab.engine.connect() as conn:
            photo_id = conn.execute(text("SELECT MIN(id) FROM case_photos")).scalar_one()
        client = cc.server.test_client()
        for path in (f"/photos/{photo_id}", f"/photos/{photo_id}/thumb"):
            t = time.perf_counter()
            first = client.get(path)
            cold = time.perf_counter() - t
            warm = []
            for _ in range(20):
                t = time.perf_counter()
                client.get(path)
                warm.append(time.perf_counter() - t)
            t = time.perf_counter()
            client.get(path, headers={"If-None-Match": first.headers["ETag"]})
            revalidate = time.perf_counter() - t
            print(
                f"GET {path}: {len(first.data) / 1e3:.1f} kB, first {ms(cold)}, "
                f"then {ms(statistics.median(warm))} (median of 20), 304 in {ms(revalidate)}"
            )
    finally:
        cc.stop()


if __name__ == "__main__":
    main()
