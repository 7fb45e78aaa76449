"""The living map in real headless Chromium: drill from the district to a unit grid and back
with the other panels following, a case card, the grid management screen, the base map
from a local tile server (WGS-84 and GCJ-02) with nothing leaving 127.0.0.1, finer outlines
when zoomed in by hand, and a city of two districts."""

from __future__ import annotations

import struct
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from tests.browser.test_walls import PageWatch, wait_for_panels

pytestmark = pytest.mark.browser

MAP = "[data-kind=city_map]"


def crumbs(page) -> list[str]:  # noqa: ANN001
    return page.locator(f"{MAP} .cc-crumb").all_inner_texts()


def ranking_rows(page) -> int:  # noqa: ANN001
    return page.locator("[data-panel=ranking] tbody tr").count()


def click_region(page, index: int = 0) -> None:  # noqa: ANN001
    """Click inside one of the drawn regions (SVG paths of the boundaries layer)."""
    paths = page.locator(f"{MAP} .leaflet-overlay-pane path.leaflet-interactive")
    paths.nth(index).click(force=True)


def wait_crumbs(page, n: int, timeout: float = 15000) -> None:  # noqa: ANN001
    page.wait_for_function(
        "n => document.querySelectorAll('[data-kind=city_map] .cc-crumb').length === n",
        arg=n,
        timeout=timeout,
    )


@contextmanager
def serving(db_url: str, tmp_path: Path, screens: Path | None = None, **settings: object):  # noqa: ANN201
    """The app over ``db_url`` (with ``screens`` as its walls file) on an ephemeral port;
    yields ``(cc, base_url)`` and stops it afterwards."""
    from command_center.app import create_app
    from command_center.runtime import start_background_server
    from tests.conftest import make_settings

    cc = create_app(make_settings(db_url, tmp_path, screens=screens, **settings))
    server, base = start_background_server(cc)
    try:
        yield cc, base
    finally:
        server.shutdown()
        cc.stop()


def test_drill_from_district_to_a_grid_and_back_filters_the_screen(
    at_city_now, live_app, browser, artifacts
) -> None:  # noqa: ANN001
    # at the tiny city's now: the 30-day ranking must hold the city's cases (from 25
    # December on, the real clock's window held none)
    cc, base = live_app
    page = browser.new_page(viewport={"width": 1920, "height": 720})
    watch = PageWatch(page)
    page.goto(f"{base}/wall/main")
    page.wait_for_selector(".cc-canvas.cc-scaled", timeout=15000)
    wait_for_panels(page)
    page.wait_for_timeout(800)
    page.screenshot(path=str(artifacts / "map-main-wall.png"))
    assert "示意边界（合成数据）" in page.inner_text(f"{MAP} .cc-map-caption")
    streets = len(cc.services.regions("street").value)
    assert ranking_rows(page) == streets
    communities = page.locator(f"{MAP} .leaflet-overlay-pane path.leaflet-interactive").count()
    # the community outlines (and the open cases, drawn as circles too)
    assert communities >= len(cc.services.regions("community").value)

    # district -> community: the map shows the community's grids, the ranking its street only
    click_region(page, 0)
    wait_crumbs(page, 3)  # 全区 › street › community
    page.wait_for_function(
        "() => document.querySelectorAll('[data-panel=ranking] tbody tr').length === 1",
        timeout=15000,
    )
    community_code = page.locator(f"{MAP} .cc-crumb.current").get_attribute("title")
    grids_here = [g for g in cc.services.regions("grid").value if g.code[:12] == community_code]
    page.wait_for_function(
        "n => document.querySelectorAll("
        "'[data-kind=city_map] .leaflet-overlay-pane path.leaflet-interactive').length >= n",
        arg=len(grids_here),
        timeout=15000,
    )
    assert "单元网格边界" in page.inner_text(f"{MAP} .cc-map-caption")

    # community -> grid: the breadcrumb has all four levels
    click_region(page, 1)
    wait_crumbs(page, 4)
    grid_code = page.locator(f"{MAP} .cc-crumb.current").get_attribute("title")
    assert grid_code in {g.code for g in grids_here}
    page.wait_for_timeout(600)
    page.screenshot(path=str(artifacts / "map-drilled-to-grid.png"))

    # back up one step, then to the whole district: the panels follow back
    page.locator(f"{MAP} .cc-crumb").nth(1).click()
    wait_crumbs(page, 2)
    page.locator(f"{MAP} .cc-crumb").first.click()
    wait_crumbs(page, 1)
    page.wait_for_function(
        "n => document.querySelectorAll('[data-panel=ranking] tbody tr').length === n",
        arg=streets,
        timeout=15000,
    )
    watch.assert_clean()
    page.close()


def test_clicking_a_case_opens_its_card_and_sets_the_focus_hook(live_app, browser) -> None:  # noqa: ANN001
    from adapters.case.contract import CaseFilter

    cc, base = live_app
    cases = cc.services.adapters.case.list_cases(CaseFilter(open_only=True, limit=50))
    assert cases, "the tiny city has open cases"
    page = browser.new_page(viewport={"width": 1920, "height": 720})
    watch = PageWatch(page)
    page.goto(f"{base}/wall/main")
    page.wait_for_selector(".cc-canvas.cc-scaled", timeout=15000)
    wait_for_panels(page)
    page.wait_for_timeout(800)
    # a case is a circle drawn after the region outlines, or a diamond marker (component);
    # a cluster is a marker too, and a click on it zooms in: try until a card opens
    for _attempt in range(6):
        targets = page.locator(
            f"{MAP} .leaflet-marker-pane .leaflet-marker-icon, "
            f"{MAP} .leaflet-overlay-pane path.leaflet-interactive"
        )
        count = page.locator(f"{MAP} .leaflet-marker-pane .leaflet-marker-icon").count()
        index = 0 if count else targets.count() - 1
        targets.nth(index).click(force=True)
        page.wait_for_timeout(900)
        if page.locator(f"{MAP} .cc-map-card").count():
            break
    card = page.inner_text(f"{MAP} .cc-map-card")
    assert any(c.number in card for c in cases)
    focused = page.evaluate(
        "() => window.dash_clientside && document.getElementById('cc-focus-case') !== null"
    )
    assert focused is not None
    page.locator(f"{MAP} .cc-map-card-close").click()
    page.wait_for_function(
        "() => !document.querySelector('[data-kind=city_map] .cc-map-card')", timeout=5000
    )
    watch.assert_clean()
    page.close()


def test_grid_screen_drills_by_tree_and_search(live_app, browser, artifacts) -> None:  # noqa: ANN001
    cc, base = live_app
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    watch = PageWatch(page)
    page.goto(f"{base}/wall/grid")
    page.wait_for_selector(".cc-canvas.cc-scaled", timeout=15000)
    wait_for_panels(page)
    # the tree: a street, then one of its communities (listed, not yet opened): each click
    # drills, and the tree opens what it drilled to
    street = cc.services.regions("street").value[1]
    tree = "[data-panel=tree] .cc-tree"
    page.locator(f'{tree} [data-region-code="{street.code}"]').click()
    wait_crumbs(page, 2)
    community = next(c for c in cc.services.regions("community", street.code).value)
    node = page.locator(f'{tree} [data-region-code="{community.code}"]')
    node.wait_for(timeout=15000)
    node.click()
    wait_crumbs(page, 3)
    assert crumbs(page)[-1] == community.name
    page.wait_for_function(
        "code => document.querySelector(`[data-panel=tree] .cc-tree-node.current`)"
        "?.dataset.regionCode === code && document.querySelectorAll("
        "`[data-panel=tree] .cc-tree-grid [data-region-code^='${code}']`).length > 0",
        arg=community.code,
        timeout=15000,
    )
    grid = cc.services.regions("grid").value[3]
    page.fill("[data-panel=tree] input", grid.code)
    page.keyboard.press("Enter")
    page.wait_for_selector(".cc-search-hit", timeout=10000)
    page.locator(".cc-search-hit").first.click()
    wait_crumbs(page, 4)
    page.wait_for_selector("[data-panel=profile] .cc-grid-profile", timeout=15000)
    profile = page.inner_text("[data-panel=profile]")
    assert grid.code in profile and grid.name in profile
    assert page.locator("[data-panel=tree] .cc-tree-node.current").inner_text() == grid.name
    page.wait_for_timeout(800)
    page.screenshot(path=str(artifacts / "grid-screen-profile.png"))
    watch.assert_clean()
    page.close()


# --- the base map from a local tile server -------------------------------------------------


def _png(size: int = 256, rgb: tuple[int, int, int] = (214, 226, 240)) -> bytes:
    """One plain tile, written by hand (PNG: signature, IHDR, IDAT, IEND)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    row = b"\x00" + bytes(rgb) * size
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * size))
        + chunk(b"IEND", b"")
    )


@pytest.fixture()
def tile_server() -> Iterator[tuple[str, list[str]]]:
    """A tiny tile server on 127.0.0.1 that serves one PNG for every z/x/y and logs paths."""
    seen: list[str] = []
    png = _png()

    @Request.application
    def app(request: Request) -> Response:
        seen.append(request.path)
        return Response(png, mimetype="image/png")

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", seen
    server.shutdown()
    thread.join(5)


@pytest.mark.parametrize("datum", ["wgs84", "gcj02"])
def test_base_map_tiles_come_from_the_configured_local_server(
    city_copy, tmp_path, browser, tile_server, artifacts, datum
) -> None:  # noqa: ANN001
    from shapely.geometry import shape

    from command_center.domain.coords import wgs84_to_gcj02

    tiles, seen = tile_server
    with serving(
        city_copy,
        tmp_path,
        tile_url=tiles + "/tiles/{z}/{x}/{y}.png",
        tile_attribution="本地瓦片 test",
        tile_datum=datum,
    ) as (cc, base):
        page = browser.new_page(viewport={"width": 1920, "height": 720})
        watch = PageWatch(page)
        bodies: list[str] = []
        page.on(
            "response",
            lambda r: "_dash-update-component" in r.url and bodies.append(r.text()),
        )
        page.goto(f"{base}/wall/main")
        page.wait_for_selector(".cc-canvas.cc-scaled", timeout=15000)
        wait_for_panels(page)
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-kind=city_map] img.leaflet-tile')]"
            ".some(i => i.complete && i.naturalWidth === 256)",
            timeout=15000,
        )
        assert any(p.startswith("/tiles/") and p.endswith(".png") for p in seen)
        assert "本地瓦片" in page.inner_text(f"{MAP} .leaflet-control-attribution")
        page.screenshot(path=str(artifacts / f"map-tiles-{datum}.png"))
        # the boundaries sent to the browser are in the base map's datum
        first = cc.services.regions("community").value[0]
        lon, lat = shape(first.geometry).exterior.coords[0]
        payload = "".join(bodies)
        gx, gy = wgs84_to_gcj02(lon, lat)
        gcj_sent = f"{round(gx, 5)}" in payload and f"{round(gy, 5)}" in payload
        assert gcj_sent == (datum == "gcj02")
        watch.assert_clean()
        page.close()


def _view(page) -> str:  # noqa: ANN001
    return page.evaluate(
        "() => document.querySelector('[data-kind=city_map] .leaflet-map-pane').style.transform"
        " + '|' + document.querySelector('[data-kind=city_map] .leaflet-proxy')?.style.transform"
    )


def _case_marks(page) -> int:  # noqa: ANN001
    return page.evaluate(
        r"""() => {
            const m = document.querySelector('[data-kind=city_map]');
            const clusters = [...m.querySelectorAll('.cc-cluster')]
                .reduce((n, c) => n + parseInt(c.innerText || '0', 10), 0);
            const single = m.querySelectorAll('.leaflet-marker-pane .cc-case-component').length;
            const dots = [...m.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive')]
                .filter(p => /a\d/.test(p.getAttribute('d') || '')).length;  // circles
            return clusters + single + dots;
        }"""
    )


def test_new_cases_appear_live_without_resetting_the_view(live_app, browser) -> None:  # noqa: ANN001
    from command_center.simulator import LiveSimulator

    cc, base = live_app
    page = browser.new_page(viewport={"width": 1920, "height": 720})
    watch = PageWatch(page)
    page.goto(f"{base}/wall/main")
    page.wait_for_selector(".cc-canvas.cc-scaled", timeout=15000)
    wait_for_panels(page)
    page.wait_for_timeout(1500)
    before, view = _case_marks(page), _view(page)
    sim = LiveSimulator(cc.services, seed=3)
    for _ in range(3):
        sim.report_one()
    page.wait_for_function(
        r"""n => {
            const m = document.querySelector('[data-kind=city_map]');
            const clusters = [...m.querySelectorAll('.cc-cluster')]
                .reduce((s, c) => s + parseInt(c.innerText || '0', 10), 0);
            const single = m.querySelectorAll('.leaflet-marker-pane .cc-case-component').length;
            const dots = [...m.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive')]
                .filter(p => /a\d/.test(p.getAttribute('d') || '')).length;  // circles
            return clusters + single + dots >= n;
        }""",
        arg=before + 3,
        timeout=20000,
    )
    assert _view(page) == view  # same pan and zoom: the layer was patched, not the map
    watch.assert_clean()
    page.close()


def test_an_untouched_wall_tours_the_streets(city_copy, tmp_path, browser) -> None:  # noqa: ANN001
    screens = tmp_path / "tour.yaml"
    screens.write_text(
        "screens:\n"
        "  - id: tour\n"
        "    title: 巡游\n"
        "    size: 1920x1080\n"
        "    grid: {columns: 1, rows: 1}\n"
        "    panels:\n"
        "      - {id: map, kind: city_map, col: 1, row: 1,\n"
        "         options: {level: community, tour_seconds: 1}}\n",
        encoding="utf-8",
    )
    with serving(city_copy, tmp_path, screens=screens) as (cc, base):
        page = browser.new_page(viewport={"width": 960, "height": 540})
        watch = PageWatch(page)
        page.goto(f"{base}/wall/tour")
        page.wait_for_selector(".cc-canvas.cc-scaled", timeout=15000)
        wait_for_panels(page)
        views = {_view(page)}
        for _ in range(8):
            page.wait_for_timeout(1000)
            views.add(_view(page))
        assert len(views) >= 3, "the map did not move between streets"
        watch.assert_clean()
        page.close()


def test_clicking_a_camera_opens_its_live_snapshot(city_copy, tmp_path, browser) -> None:  # noqa: ANN001
    screens = tmp_path / "cams.yaml"
    screens.write_text(
        "screens:\n"
        "  - id: cams\n"
        "    title: 视频\n"
        "    size: 1920x1080\n"
        "    theme: light\n"
        "    grid: {columns: 4, rows: 1}\n"
        "    panels:\n"
        "      - {id: tree, kind: grid_tree, col: 1, row: 1}\n"
        "      - {id: map, kind: city_map, col: 2, row: 1, col_span: 3,\n"
        "         options: {layers: [boundaries, cameras], level: grid}}\n",
        encoding="utf-8",
    )
    with serving(city_copy, tmp_path, screens=screens) as (cc, base):
        camera = next(c for c in cc.adapters.gis.points("camera") if c.grid_code)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        watch = PageWatch(page)
        page.goto(f"{base}/wall/cams")
        page.wait_for_selector(".cc-canvas.cc-scaled", timeout=15000)
        page.fill("[data-panel=tree] input", camera.grid_code)
        page.keyboard.press("Enter")
        page.wait_for_selector(".cc-search-hit", timeout=10000)
        page.locator(".cc-search-hit").first.click()
        wait_crumbs(page, 4)
        marker = page.locator(f"{MAP} .cc-pt-camera:not(.cc-pt-cluster)").first
        marker.wait_for(timeout=20000)
        page.wait_for_timeout(1500)  # the fly to the grid has ended
        marker.click(force=True)
        page.wait_for_selector(f"{MAP} img.cc-cam-live", timeout=10000)
        page.wait_for_function(
            "() => { const i = document.querySelector('[data-kind=city_map] img.cc-cam-live');"
            " return i && i.complete && i.naturalWidth > 0; }",
            timeout=10000,
        )
        src = page.locator(f"{MAP} img.cc-cam-live").get_attribute("data-src")
        assert src and src.startswith("/video/") and src.endswith("/snapshot.png")
        watch.assert_clean()
        page.close()


# --- zooming in by hand: finer outlines of what the view shows --------------------------------

REGIONS = f"{MAP} .leaflet-cc-regions-pane path"
DETAIL = f"{MAP} .leaflet-cc-detail-pane path"

ZOOM_SCREEN = (
    "screens:\n"
    "  - id: zoom\n"
    "    title: 缩放\n"
    "    size: 1920x1080\n"
    "    theme: light\n"
    "    grid: {columns: 3, rows: 3}\n"
    "    panels:\n"
    "      - {id: map, kind: city_map, col: 1, row: 1, col_span: 2, row_span: 2,\n"
    "         options: {layers: [boundaries, cases], level: street, layer_control: true}}\n"
)


def _scale(page) -> float:  # noqa: ANN001
    """2 ** zoom of the map, from Leaflet's zoom proxy."""
    transform = page.evaluate(
        "() => document.querySelector('[data-kind=city_map] .leaflet-proxy').style.transform"
    )
    return float(transform.rsplit("scale(", 1)[1].rstrip(")"))


def _zoom(page, button: str, watch_detail: list[int]) -> bool:  # noqa: ANN001
    """One click on + or -; True when the move asked for finer outlines and they came."""
    asked = len(watch_detail)
    page.locator(f"{MAP} .leaflet-control-zoom-{button}").click()
    page.wait_for_timeout(1200)  # the zoom animation and the move's request
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(watch_detail) == asked:
        page.wait_for_timeout(100)
    page.wait_for_timeout(300)
    return len(watch_detail) > asked


def test_zooming_in_by_hand_draws_finer_outlines_of_the_view_and_out_clears_them(
    city_copy, tmp_path, browser, artifacts
) -> None:  # noqa: ANN001

    screens = tmp_path / "zoom.yaml"
    screens.write_text(ZOOM_SCREEN, encoding="utf-8")
    with serving(city_copy, tmp_path, screens=screens) as (cc, base):
        streets = len(cc.services.regions("street").value)
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        watch = PageWatch(page)
        answers: dict[str, list[int]] = {"detail": [], "regions": []}

        def on_response(response) -> None:  # noqa: ANN001
            if "_dash-update-component" not in response.url or response.status != 200:
                return
            output = response.request.post_data_json.get("output", "")
            for role in answers:
                if f'"role":"{role}"}}.data' in output:
                    answers[role].append(len(response.body()))

        page.on("response", on_response)
        page.goto(f"{base}/wall/zoom")
        page.wait_for_selector(".cc-canvas.cc-scaled", timeout=15000)
        page.wait_for_function(
            "([s, n]) => document.querySelectorAll(s).length === n",
            arg=[REGIONS, streets],
            timeout=20000,
        )
        page.wait_for_timeout(1500)
        assert page.locator(DETAIL).count() == 0  # the fitted view: street outlines only
        sent_regions = len(answers["regions"])

        # in, one step at a time, until finer outlines come (community or unit grid: the
        # finest level wide enough to read at that zoom; which parts of the district and how
        # a pan appends are pinned in tests/command_center/test_geo.py)
        fitted = _scale(page)
        grids = len(cc.services.regions("grid").value)
        steps = 0
        while steps < 6 and not page.locator(DETAIL).count():
            steps += 1
            _zoom(page, "in", answers["detail"])
        assert 0 < page.locator(DETAIL).count() <= grids
        # every click moved one zoom in and nothing the outlines brought moved the view back
        assert _scale(page) == fitted * 2**steps
        assert len(crumbs(page)) == 1  # a zoom is not a drill-down: the screen is not filtered
        assert len(answers["regions"]) == sent_regions  # the street outlines were not resent
        # one zoom further: the same level, already there: nothing is sent again
        asked = len(answers["detail"])
        _zoom(page, "in", answers["detail"])
        steps += 1
        assert len(answers["detail"]) == asked
        page.screenshot(path=str(artifacts / "map-zoomed-by-hand.png"))

        # out again, step by step, to the fitted zoom: the finer outlines are gone
        for _ in range(steps):
            _zoom(page, "out", answers["detail"])
        page.wait_for_function(
            "s => document.querySelectorAll(s).length === 0", arg=DETAIL, timeout=20000
        )
        assert page.locator(REGIONS).count() == streets
        assert _scale(page) == fitted
        watch.assert_clean()
        page.close()


def test_a_finer_outline_of_a_zoomed_view_drills_on_click(city_copy, tmp_path, browser) -> None:  # noqa: ANN001
    screens = tmp_path / "zoom.yaml"
    screens.write_text(ZOOM_SCREEN, encoding="utf-8")
    with serving(city_copy, tmp_path, screens=screens) as (cc, base):
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        watch = PageWatch(page)
        page.goto(f"{base}/wall/zoom")
        page.wait_for_selector(".cc-canvas.cc-scaled", timeout=15000)
        wait_for_panels(page)
        for _ in range(8):
            page.locator(f"{MAP} .leaflet-control-zoom-in").click()
            page.wait_for_timeout(1500)
            if page.locator(DETAIL).count():
                break
        target = page.evaluate(
            """s => { for (const p of document.querySelectorAll(s)) {
                const r = p.getBoundingClientRect(), x = r.x + r.width / 2, y = r.y + r.height / 2;
                if (r.width > 8 && document.elementFromPoint(x, y) === p) { return {x, y}; } }
              return null; }""",
            DETAIL,
        )
        assert target is not None, "no finer outline the pointer reaches"
        page.mouse.click(target["x"], target["y"])
        page.wait_for_function(
            "() => document.querySelectorAll('[data-kind=city_map] .cc-crumb').length >= 3",
            timeout=15000,
        )
        code = page.locator(f"{MAP} .cc-crumb.current").get_attribute("title")
        assert code and len(code) in (12, 14)  # a community or a grid: what the zoom showed
        watch.assert_clean()
        page.close()


# --- a city above two districts -----------------------------------------------------------


def test_a_city_of_two_districts_shows_both_and_drills_through_the_district(
    two_district_city_url, tmp_path, browser, artifacts
) -> None:  # noqa: ANN001
    import shutil

    db = tmp_path / "city.sqlite"
    shutil.copy(two_district_city_url.removeprefix("sqlite:///"), db)
    with serving(f"sqlite:///{db}", tmp_path) as (cc, base):
        communities = cc.services.regions("community").value
        page = browser.new_page(viewport={"width": 1920, "height": 720})
        watch = PageWatch(page)
        page.goto(f"{base}/wall/main")
        page.wait_for_selector(".cc-canvas.cc-scaled", timeout=15000)
        wait_for_panels(page)
        page.wait_for_function(
            "([s, n]) => document.querySelectorAll(s).length === n",
            arg=[REGIONS, len(communities)],
            timeout=20000,
        )
        page.wait_for_timeout(1000)
        # the first view holds both districts: every community outline inside the map
        outside = page.evaluate(
            """([s, m]) => { const box = document.querySelector(m).getBoundingClientRect();
                return [...document.querySelectorAll(s)].filter(p => {
                  const r = p.getBoundingClientRect();
                  return r.left < box.left - 1 || r.right > box.right + 1 ||
                         r.top < box.top - 1 || r.bottom > box.bottom + 1; }).length; }""",
            [REGIONS, f"{MAP} .leaflet-container"],
        )
        assert outside == 0
        assert crumbs(page) == ["全市"]
        page.screenshot(path=str(artifacts / "map-two-districts.png"))
        # the westmost community the pointer reaches belongs to the second district (西城区)
        target = page.evaluate(
            """s => { let best = null;
                for (const p of document.querySelectorAll(s)) {
                  const r = p.getBoundingClientRect();
                  const x = r.x + r.width / 2, y = r.y + r.height / 2;
                  if (document.elementFromPoint(x, y) === p && (!best || x < best.x)) {
                    best = {x, y}; } }
                return best; }""",
            REGIONS,
        )
        page.mouse.click(target["x"], target["y"])
        wait_crumbs(page, 4)  # 全市 › 西城区 › street › community
        trail = crumbs(page)
        assert trail[0] == "全市" and trail[1] == "西城区"
        page.locator(f"{MAP} .cc-crumb").nth(1).click()  # up to the district
        wait_crumbs(page, 2)
        page.locator(f"{MAP} .cc-crumb").first.click()
        wait_crumbs(page, 1)
        watch.assert_clean()
        page.close()

        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        watch = PageWatch(page)
        page.goto(f"{base}/wall/grid")
        page.wait_for_selector(".cc-canvas.cc-scaled", timeout=15000)
        wait_for_panels(page)
        nodes = page.locator("[data-panel=tree] .cc-tree-node").all_inner_texts()
        assert nodes[0] == "全市" and "东城区" in nodes and "西城区" in nodes
        page.screenshot(path=str(artifacts / "grid-two-districts.png"))
        watch.assert_clean()
        page.close()
