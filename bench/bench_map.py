"""What the city map sends to the browser and how fast it answers, at any city size.

    .venv/bin/python bench/bench_map.py [--db var/command_center.sqlite] [--ticks 6]
                                        [--shots DIR]

Runs the app on a private copy of the database (``make demo`` seeds the demo city; a large
one comes from ``command_center.demo.generator.generate(url, "large", ...)``), opens the
walls in headless Chromium and measures:

- the main wall's first map: the bytes of every map callback up to the first cases layer
  (JSON as parsed, and as compressed on the wire) and the time from navigation until every
  boundary of the top level is drawn;
- each live update of the map (one tick): nothing new, one new case, five new cases;
  beside it, what resending the whole cases layer would cost;
- a drill-down: a click on a community the pointer really reaches (a case cluster often
  covers the middle of a small community) until the breadcrumb shows it, until its unit
  grids are drawn, and until every other panel of the screen has followed the region;
  then the way back up;
- zooming in by hand on the duty console (its zoom buttons): the bytes and time until the
  finer outlines (communities, then unit grids) are drawn, a pan, and zooming back out;
- the scope work of a drill-down on the server, cold and warm.

``--shots DIR`` saves the main and grid walls as PNG. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import secrets
import shutil
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
MAP = "[data-kind=city_map]"
REGIONS = f"{MAP} .leaflet-cc-regions-pane path"
DETAIL = f"{MAP} .leaflet-cc-detail-pane path"
CASES_LAYER = '"role":"cases"'  # in the output of the map's tick (cases, fills, alarms)

ZOOM_SCREEN = """
  - id: bench-zoom
    title: 地图
    size: 1920x1080
    theme: light
    grid: {columns: 1, rows: 1}
    panels:
      - {id: map, kind: city_map, col: 1, row: 1,
         options: {layers: [boundaries, cases], level: street, layer_control: true}}
"""

# a region whose middle the pointer reaches (not under a case cluster or marker)
PICK_REGION = """() => {
    const map = document.querySelector('[data-kind=city_map]');
    const paths = [...map.querySelectorAll('.leaflet-cc-regions-pane path')];
    const free = paths.filter(p => {
        const r = p.getBoundingClientRect();
        const x = r.x + r.width / 2, y = r.y + r.height / 2;
        return r.width > 6 && document.elementFromPoint(x, y) === p;
    });
    if (!free.length) { return null; }
    const r = free[Math.floor(free.length / 2)].getBoundingClientRect();
    return {x: r.x + r.width / 2, y: r.y + r.height / 2, free: free.length, all: paths.length};
}"""


def copy_db(src: Path, dst: Path) -> None:
    """A consistent copy even while a demo server writes to the source."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)


def kb(n: float) -> str:
    return f"{n / 1024:,.1f} KiB"


def both(entries: list[dict]) -> str:
    """Bytes as parsed and as sent (compressed)."""
    raw = sum(e["bytes"] for e in entries)
    wire = sum(e["wire"] for e in entries)
    return f"{kb(raw)} JSON, {kb(wire)} on the wire"


class Traffic:
    """Every Dash callback request of a page: output, trigger, bytes, times."""

    def __init__(self, page) -> None:  # noqa: ANN001
        self.log: list[dict] = []
        self.started: list[str] = []  # outputs of the requests sent, in order
        page.on("request", self._started)
        page.on("requestfinished", self._finished)

    def _started(self, request) -> None:  # noqa: ANN001
        if "_dash-update-component" in request.url:
            self.started.append(json.loads(request.post_data or "{}").get("output", ""))

    def _finished(self, request) -> None:  # noqa: ANN001
        if "_dash-update-component" not in request.url:
            return
        try:
            response = request.response()
            body = response.body() if response is not None and response.status == 200 else b""
            wire = request.sizes()["responseBodySize"] if body else 0
        except Exception:  # noqa: BLE001 - navigated away
            body, wire = b"", 0
        payload = json.loads(request.post_data or "{}")
        level = re.search(rb'"key": ?"[0-9]*\|(\w+)"', body)  # the finer outlines' level
        timing = request.timing
        self.log.append(
            {
                # the browser's own clock (epoch seconds): Playwright delivers events late
                "sent": timing["startTime"] / 1000,
                "done": (timing["startTime"] + timing["responseEnd"]) / 1000,
                "output": payload.get("output", ""),
                "changed": payload.get("changedPropIds", []),
                "bytes": len(body),
                "wire": wire,
                "map": "city_map" in payload.get("output", ""),
                "server_ms": timing["responseStart"] - timing["requestStart"],
                "level": level.group(1).decode() if level else "",
            }
        )

    def mark(self) -> int:
        return len(self.log)

    def since(self, mark: int) -> list[dict]:
        return self.log[mark:]


def count(page, selector: str) -> int:  # noqa: ANN001
    return page.locator(selector).count()


def wait_count(page, selector: str, n: int, timeout: float = 60000, at_least: bool = True) -> None:  # noqa: ANN001
    page.wait_for_function(
        "([s, n, least]) => { const c = document.querySelectorAll(s).length;"
        " return least ? c >= n : c === n; }",
        arg=[selector, n, at_least],
        timeout=timeout,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", default=str(ROOT / "var" / "command_center.sqlite"))
    parser.add_argument("--ticks", type=int, default=6)
    parser.add_argument("--shots", default="", help="save the main and grid walls as PNG here")
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
    db = tmp / "city.sqlite"
    t0 = time.perf_counter()
    copy_db(Path(args.db), db)
    from adapters.sql.db import upgrade

    upgrade(f"sqlite:///{db}")  # tables other modules added since the city was seeded
    screens = tmp / "screens.yaml"
    # the walls, plus a console with the map alone: zooming by hand is timed there, away
    # from the duty console's queue (hundreds of rows re-rendered every tick)
    screens.write_text(
        (ROOT / "screens.yaml").read_text(encoding="utf-8") + ZOOM_SCREEN, encoding="utf-8"
    )
    settings = Settings(
        database_url=f"sqlite:///{db}",
        data_dir=tmp / "var",
        screens_file=screens,
        simulate=False,
        secret_key=secrets.token_urlsafe(32),
    )
    cc = create_app(settings)
    print(f"copy and app start: {time.perf_counter() - t0:.1f} s")
    counts = {
        level: len(cc.services.regions(level).value) for level in ("street", "community", "grid")
    }
    open_cases = len(geo_of(cc).case_features(None, 3000).value)
    print(f"regions: {counts}; open cases on the map: {open_cases}")
    server, base = start_background_server(cc)
    sim = LiveSimulator(cc.services, seed=11)
    shots = Path(args.shots) if args.shots else None
    if shots:
        shots.mkdir(parents=True, exist_ok=True)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1920, "height": 720})
        traffic = Traffic(page)
        log = traffic.log

        # --- the first map ----------------------------------------------------------------
        start = time.perf_counter()
        page.goto(f"{base}/wall/main")
        wait_count(page, REGIONS, counts["community"], timeout=180000)
        first_paint = time.perf_counter() - start
        deadline = time.perf_counter() + 60
        while time.perf_counter() < deadline and not any(CASES_LAYER in e["output"] for e in log):
            page.wait_for_timeout(250)
        first_cases = next(i for i, e in enumerate(log) if CASES_LAYER in e["output"])
        initial = [e for e in log[: first_cases + 1] if e["map"]]
        print("\n== first map (main wall, community outlines, open cases) ==")
        print(f"map callbacks: {len(initial)}, {both(initial)}")
        for e in initial:
            print(f"  {kb(e['bytes']):>12} {kb(e['wire']):>12}  {e['output'][:80]}")
        print(f"navigation to all {counts['community']} outlines drawn: {first_paint:.1f} s")
        geo = CityGeo(cc.services)
        fc = geo.boundaries("community", None, 13)
        print(f"community outlines alone (zoom 13): {kb(len(json.dumps(fc)))}")
        full_grid = geo.boundaries("grid", None, 13)
        print(
            f"all {counts['grid']} unit grids at zoom 13 (never sent whole): "
            f"{kb(len(json.dumps(full_grid)))}"
        )

        # --- live ticks -------------------------------------------------------------------
        page.wait_for_timeout(12000)  # warm-up: two ticks, caches filled
        print("\n== live updates (one map tick each) ==")
        scenarios = ["nothing new"] * 2 + ["1 new case"] * 2 + ["5 new cases"] * 2
        per: dict[str, list[dict]] = {}
        for scenario in scenarios[: args.ticks]:
            n = 5 if scenario.startswith("5") else (1 if scenario.startswith("1") else 0)
            for _ in range(n):
                sim.report_one()
            mark = traffic.mark()
            deadline = time.perf_counter() + 20
            while time.perf_counter() < deadline:
                page.wait_for_timeout(250)
                ticks = [e for e in traffic.since(mark) if CASES_LAYER in e["output"]]
                if ticks:
                    per.setdefault(scenario, []).append(ticks[0])
                    break
            else:
                print(f"  {scenario}: no map tick within 20 s")
        full = len(json.dumps(collection(geo_of(cc).case_features(None, 3000).value)))
        for scenario, ticks in per.items():
            raw = [e["bytes"] for e in ticks]
            wire = [e["wire"] for e in ticks]
            print(
                f"  {scenario:<12} {statistics.mean(raw):>8,.0f} B JSON, "
                f"{statistics.mean(wire):>6,.0f} B on the wire per tick  (ticks {raw})"
            )
        print(f"  resending the whole cases layer instead: {kb(full)} JSON per tick")

        # --- drill-down -----------------------------------------------------------------
        print("\n== drill-down: click a community, then back to the district ==")
        target = page.evaluate(PICK_REGION)
        if target is None:
            print("  no community outline the pointer reaches: not measured")
        else:
            mark = traffic.mark()
            clicked = time.time()
            page.mouse.click(target["x"], target["y"])
            wait_count(page, f"{MAP} .cc-crumb", 3, timeout=60000)
            crumb_ms = (time.time() - clicked) * 1000
            code = page.locator(f"{MAP} .cc-crumb.current").get_attribute("title") or ""
            grids = [g for g in cc.services.regions("grid").value if g.code[:12] == code]
            wait_count(page, REGIONS, len(grids), timeout=60000, at_least=False)
            grids_ms = (time.time() - clicked) * 1000
            page.wait_for_timeout(6000)
            after = traffic.since(mark)
            followed = [
                e
                for e in after
                if "cc-region.data" in e["changed"] and "cc-region" not in e["output"]
            ]
            scope = [e for e in after if '"role":"scope"' in e["output"]]
            drill = [e for e in after if e["output"].lstrip(".").startswith("cc-region.data")]
            print(
                f"  community {code} ({target['free']} of {target['all']} outlines reachable, "
                f"{len(grids)} grids)"
            )
            print(f"  click to breadcrumb shown: {crumb_ms:,.0f} ms")
            for e in drill:
                print(
                    f"  click answered (region, breadcrumb) after "
                    f"{(e['done'] - clicked) * 1000:,.0f} ms "
                    f"(asked after {(e['sent'] - clicked) * 1000:,.0f} ms, "
                    f"{e['server_ms']:,.0f} ms on the server)"
                )
            print(f"  click to its unit grids drawn: {grids_ms:,.0f} ms")
            for e in scope:
                print(
                    f"  scope callback done after {(e['done'] - clicked) * 1000:,.0f} ms "
                    f"(asked after {(e['sent'] - clicked) * 1000:,.0f} ms, "
                    f"{e['server_ms']:,.0f} ms on the server), {both([e])}"
                )
            if followed:
                last = max(e["done"] for e in followed) - clicked
                slowest = max(e["server_ms"] for e in followed)
                print(
                    f"  {len(followed)} panel callbacks followed the region; all done "
                    f"{last * 1000:,.0f} ms after the click (slowest {slowest:,.0f} ms on "
                    f"the server), {both(followed)}"
                )
            mark = traffic.mark()
            clicked = time.time()
            page.locator(f"{MAP} .cc-crumb").first.click()
            wait_count(page, REGIONS, counts["community"], timeout=60000, at_least=False)
            print(f"  back to the district, all outlines drawn: {time.time() - clicked:.1f} s")
            page.wait_for_timeout(3000)
            back = [e for e in traffic.since(mark) if e["map"] and e["bytes"]]
            print(f"  map callbacks on the way back: {both(back)}")
            for e in back:
                print(f"  {kb(e['bytes']):>12} {kb(e['wire']):>12}  {e['output'][:80]}")
        page.close()

        # --- zoom in by hand on the duty console --------------------------------------------
        print("\n== zoom in by hand (a console map, street outlines; its + and - buttons) ==")
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        traffic = Traffic(page)
        page.goto(f"{base}/wall/bench-zoom")
        wait_count(page, REGIONS, counts["street"], timeout=120000, at_least=False)
        page.wait_for_timeout(3000)

        def detail_step(label: str, button: str) -> None:
            """One click on a zoom button; if the move asks for finer outlines, the time
            until they are drawn (the request's answer, then a frame)."""
            mark, sent_before = traffic.mark(), len(traffic.started)
            before = count(page, DETAIL)
            clicked = time.time()
            page.locator(f"{MAP} .leaflet-control-zoom-{button}").click()
            asked = 0
            deadline = time.time() + 8  # the zoom animation, then the move's request (if any)
            while not asked and time.time() < deadline:
                page.wait_for_timeout(100)
                asked = sum("detail" in o for o in traffic.started[sent_before:])
            drawn = None
            deadline = time.time() + 120
            while asked and time.time() < deadline:
                done = [e for e in traffic.since(mark) if "detail" in e["output"]]
                if len(done) >= asked:
                    page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
                    drawn = max(e["done"] for e in done) - clicked
                    break
                page.wait_for_timeout(50)
            sent = [e for e in traffic.since(mark) if "detail" in e["output"] and e["bytes"]]
            levels = {e["level"] for e in sent if e["level"]}
            server = max((e["server_ms"] for e in sent), default=0)
            asked_at = min((e["sent"] for e in sent), default=clicked) - clicked
            when = (
                f"{drawn * 1000:,.0f} ms after the click (asked after {asked_at * 1000:,.0f} "
                f"ms, {server:,.0f} ms on the server)"
                if drawn is not None and sent
                else ("nothing new" if asked else "no request")
            )
            print(
                f"  {label:<12} finer outlines {before:>4} -> {count(page, DETAIL):>4} "
                f"{'/'.join(sorted(levels)) or '':<9} "
                f"{both(sent) if sent else '':<36} {when}"
            )

        for step in range(1, 6):
            detail_step(f"zoom in {step}", "in")
        box = page.locator(f"{MAP} .leaflet-container").bounding_box()
        assert box is not None
        cx, cy = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
        mark = traffic.mark()
        page.mouse.move(cx, cy)
        page.mouse.down()
        page.mouse.move(cx - box["width"] * 0.6, cy - box["height"] * 0.4, steps=10)
        page.mouse.up()
        page.wait_for_timeout(3000)
        sent = [e for e in traffic.since(mark) if "detail" in e["output"] and e["bytes"]]
        print(
            f"  {'pan':<14} finer outlines now {count(page, DETAIL):>4}, "
            f"{both(sent) if sent else 'nothing sent'}"
        )
        for step in range(1, 6):
            detail_step(f"zoom out {step}", "out")
        page.close()

        if shots:
            for screen, size in (("main", (2880, 1080)), ("grid", (1920, 1080))):
                page = browser.new_page(viewport={"width": size[0], "height": size[1]})
                page.goto(f"{base}/wall/{screen}")
                wait_count(page, REGIONS, counts["community"], timeout=120000, at_least=False)
                cases = f"{MAP} .cc-cluster, {MAP} .leaflet-overlay-pane > svg path"
                wait_count(page, cases, 1, timeout=120000)
                page.wait_for_timeout(5000)  # every panel filled
                page.screenshot(path=str(shots / f"{screen}-wall.png"), timeout=180000)
                page.close()
            print(f"\nscreenshots: {shots}/main-wall.png, {shots}/grid-wall.png")
        browser.close()

    print("\n== drill-down on the server (scope: outlines, fills, breadcrumb) ==")
    streets = cc.services.regions("street").value
    communities = cc.services.regions("community").value
    for label, code, level in (
        ("street", streets[len(streets) // 2].code, "community"),
        ("community", communities[len(communities) // 2].code, "grid"),
    ):
        cc.services._cache.clear()  # noqa: SLF001 - a cold drill: nothing cached
        fresh = CityGeo(cc.services)
        times = []
        for _ in range(3):
            t = time.time()
            data = fresh.boundaries(level, code, 15)
            fresh.fills(fresh.measures(level, code, "open").value, [])
            fresh.breadcrumb(code)
            cc.services.kpis(code)
            times.append((time.time() - t) * 1000)
        print(
            f"  {label:<10} cold {times[0]:7.1f} ms, warm {min(times[1:]):6.1f} ms, "
            f"{len(data['features'])} outlines, {kb(len(json.dumps(data)))}  (with the KPIs)"
        )
    server.shutdown()
    cc.stop()
    shutil.rmtree(tmp, ignore_errors=True)  # the copy of a large city is over a gigabyte
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
