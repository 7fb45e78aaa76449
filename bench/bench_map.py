"""Bytes the city map sends to the browser, and how long a drill-down takes, at demo size.

    .venv/bin/python bench/bench_map.py [--db var/command_center.sqlite] [--ticks 6]

Runs the app on a private copy of the demo database (``make demo`` seeds it; or generate one
with ``command_center.demo.generator.generate(url, "demo")``), opens the main wall in headless
Chromium and measures what goes over the wire:

- the initial map: every ``_dash-update-component`` response that carries map outputs;
- each live update of the map (one tick), with nothing new, after one new case, after five;
  beside it, what resending the whole cases layer would have cost;
- a drill-down: the callback's server time (cold and warm caches) and the bytes it sends,
  and the time until every panel of the screen has followed.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]


def copy_db(src: Path, dst: Path) -> None:
    """A consistent copy even while a demo server writes to the source."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def kb(n: float) -> str:
    return f"{n / 1024:,.1f} KiB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=str(ROOT / "var" / "command_center.sqlite"))
    parser.add_argument("--ticks", type=int, default=6)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from playwright.sync_api import sync_playwright

    from command_center.app import create_app
    from command_center.geo import CityGeo, collection, geo_of
    from command_center.runtime import start_background_server
    from command_center.settings import Settings
    from command_center.simulator import LiveSimulator

    tmp = Path(tempfile.mkdtemp(prefix="bench_map_"))
    db = tmp / "demo.sqlite"
    t0 = time.perf_counter()
    copy_db(Path(args.db), db)
    from adapters.sql.db import upgrade

    upgrade(f"sqlite:///{db}")  # tables other modules added since the demo was seeded
    screens = tmp / "screens.yaml"
    screens.write_text((ROOT / "screens.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    settings = Settings(
        database_url=f"sqlite:///{db}", data_dir=tmp / "var", screens_file=screens, simulate=False
    )
    cc = create_app(settings)
    print(f"demo copy and app start: {time.perf_counter() - t0:.1f} s")
    counts = {
        level: len(cc.services.regions(level).value) for level in ("street", "community", "grid")
    }
    open_cases = len(geo_of(cc).case_features(None, 3000).value)
    print(f"regions: {counts}; open cases on the map: {open_cases}")
    server, base = start_background_server(cc)
    sim = LiveSimulator(cc.services, seed=11)

    log: list[dict] = []

    def on_response(response) -> None:  # noqa: ANN001
        if "_dash-update-component" not in response.url:
            return
        try:
            body = response.body()
        except Exception:  # noqa: BLE001 - navigated away
            return
        request = json.loads(response.request.post_data or "{}")
        output = request.get("output", "")
        log.append(
            {
                "at": time.perf_counter(),
                "output": output,
                "bytes": len(body),
                "map": "city_map" in output,
                "ms": response.request.timing.get("responseEnd", 0.0),
            }
        )

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1920, "height": 720})
        page.on("response", on_response)
        start = time.perf_counter()
        page.goto(f"{base}/wall/main")
        page.wait_for_function(
            "() => document.querySelectorAll('[data-kind=city_map] path.leaflet-interactive')"
            ".length > 100",
            timeout=120000,
        )
        first_paint = time.perf_counter() - start
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline and not any(
            e["map"] and "shown" in e["output"] for e in log
        ):
            page.wait_for_timeout(250)
        first_cases = next(i for i, e in enumerate(log) if e["map"] and "shown" in e["output"])
        initial = [e for e in log[: first_cases + 1] if e["map"]]
        print("\n== initial map (main wall, community level, open cases) ==")
        print(f"map callbacks: {len(initial)}, bytes: {kb(sum(e['bytes'] for e in initial))}")
        for e in initial:
            print(f"  {kb(e['bytes']):>12}  {e['output'][:90]}")
        print(f"time to boundaries drawn: {first_paint:.1f} s")
        geo = CityGeo(cc.services)
        fc = geo.boundaries("community", None, 13)
        print(f"community boundaries alone (simplified for zoom 13): {kb(len(json.dumps(fc)))}")
        full_grid = geo.boundaries("grid", None, 13)
        print(
            f"all {counts['grid']} unit grids at zoom 13 (not sent at district scope): "
            f"{kb(len(json.dumps(full_grid)))}"
        )

        page.wait_for_timeout(12000)  # warm-up: two ticks, caches filled
        print("\n== live updates (one map tick each) ==")
        scenarios = ["nothing new"] * 2 + ["1 new case"] * 2 + ["5 new cases"] * 2
        scenarios = scenarios[: args.ticks]
        per: dict[str, list[int]] = {}
        for scenario in scenarios:
            n = 5 if scenario.startswith("5") else (1 if scenario.startswith("1") else 0)
            for _ in range(n):
                sim.report_one()
            mark = len(log)
            deadline = time.perf_counter() + 15
            while time.perf_counter() < deadline:
                page.wait_for_timeout(250)
                ticks = [e for e in log[mark:] if e["map"] and "shown" in e["output"]]
                if ticks:
                    per.setdefault(scenario, []).append(ticks[0]["bytes"])
                    break
        full = len(json.dumps(collection(geo_of(cc).case_features(None, 3000).value)))
        for scenario, sizes in per.items():
            print(f"  {scenario:<12} {statistics.mean(sizes):>8,.0f} B per tick  (ticks {sizes})")
        print(f"  resending the whole cases layer instead: {kb(full)} per tick")

        print("\n== drill-down: click a community ==")
        mark = len(log)
        clicked = time.perf_counter()
        page.locator("[data-kind=city_map] .leaflet-overlay-pane path.leaflet-interactive").nth(
            40
        ).click(force=True)
        page.wait_for_function(
            "() => document.querySelectorAll('[data-kind=city_map] .cc-crumb').length >= 3",
            timeout=30000,
        )
        drawn = time.perf_counter() - clicked
        page.wait_for_timeout(4000)
        after = log[mark:]
        scope = [e for e in after if "viewport" in e["output"]]
        print(f"click to breadcrumb shown: {drawn * 1000:,.0f} ms")
        for e in scope:
            print(f"  scope callback: {e['ms']:,.0f} ms round trip, {kb(e['bytes'])}")
        followed = [e for e in after if not e["map"]]
        if followed:
            settle = max(e["at"] for e in followed) - clicked
            print(
                f"  {len(followed)} other panel refreshes followed; last done after "
                f"{settle * 1000:,.0f} ms"
            )
        browser.close()

    print("\n== drill-down on the server (scope: boundaries, fills, breadcrumb) ==")
    streets = cc.services.regions("street").value
    communities = cc.services.regions("community").value
    for label, code, level in (
        ("street", streets[3].code, "community"),
        ("community", communities[20].code, "grid"),
    ):
        fresh = CityGeo(cc.services)
        times = []
        for _ in range(3):
            t = time.perf_counter()
            data = fresh.boundaries(level, code, 15)
            fresh.fills(fresh.measures(level, code, "open").value, [])
            fresh.breadcrumb(code)
            times.append((time.perf_counter() - t) * 1000)
        print(
            f"  {label:<10} cold {times[0]:7.1f} ms, warm {min(times[1:]):6.1f} ms, "
            f"{len(data['features'])} outlines, {kb(len(json.dumps(data)))}"
        )
    server.shutdown()
    cc.stop()
    print("\nlarge size: not measured here (generate it with the generator's 'large' preset).")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
