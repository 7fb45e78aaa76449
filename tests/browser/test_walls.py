"""Every default screen in real headless Chromium: no console errors, no request leaving
127.0.0.1, no empty panel; screenshots saved under test-artifacts/ for a human to look at."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_SCREENS = [s["id"] for s in yaml.safe_load((ROOT / "screens.yaml").read_text())["screens"]]


class PageWatch:
    """Collects what a page did wrong: console errors, failed and off-host requests."""

    def __init__(self, page) -> None:  # noqa: ANN001
        self.errors: list[str] = []
        self.off_host: list[str] = []
        self.failed: list[str] = []
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("request", self._request)
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} {r.failure}"))

    def _request(self, request) -> None:  # noqa: ANN001
        url = urlparse(request.url)
        if url.scheme in ("data", "blob", "about"):
            return
        if url.hostname not in ("127.0.0.1", "localhost"):
            self.off_host.append(request.url)

    def assert_clean(self) -> None:
        assert not self.off_host, f"requests left the machine: {self.off_host}"
        assert not self.failed, f"failed requests: {self.failed}"
        assert not self.errors, f"console errors: {self.errors}"


def wait_for_panels(page, timeout: float = 20.0) -> None:  # noqa: ANN001
    """Until every visible panel body has real content (no 'loading', nothing blank)."""
    deadline = time.monotonic() + timeout
    empty: list[str] = []
    while time.monotonic() < deadline:
        empty = page.evaluate(
            """() => Array.from(document.querySelectorAll('.cc-page.active .cc-cell'))
               .filter(cell => {
                   const body = cell.querySelector('.cc-panel-body');
                   if (!body || body.querySelector('.cc-loading')) return true;
                   if (cell.dataset.kind === 'city_map')
                       return body.querySelectorAll('path.leaflet-interactive').length === 0;
                   if (body.querySelector('.js-plotly-plot'))
                       return body.querySelectorAll('.main-svg .trace, .main-svg .slice')
                           .length === 0;
                   return body.innerText.trim().length === 0;
               }).map(cell => cell.dataset.panel)"""
        )
        if not empty:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"panels still empty after {timeout}s: {empty}")


@pytest.mark.parametrize("screen_id", DEFAULT_SCREENS)
def test_default_screen_renders_every_panel_offline(
    live_app, browser, artifacts, screen_id
) -> None:  # noqa: ANN001
    _cc, base = live_app
    cfg = yaml.safe_load((ROOT / "screens.yaml").read_text())
    spec = next(s for s in cfg["screens"] if s["id"] == screen_id)
    width, height = (int(v) for v in spec["size"].split("x"))
    # Half the design size: the canvas must scale down without distortion.
    page = browser.new_page(viewport={"width": width // 2, "height": height // 2})
    watch = PageWatch(page)
    page.goto(f"{base}/wall/{screen_id}")
    page.wait_for_selector(".cc-canvas.cc-scaled", timeout=15000)
    wait_for_panels(page)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / f"wall-{screen_id}.png"))
    box = page.locator("#cc-canvas").bounding_box()
    assert box is not None
    assert abs(box["width"] - width / 2) < 2 and abs(box["height"] - height / 2) < 2
    scroll = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert scroll == [width // 2, height // 2], "the kiosk view must not scroll"
    watch.assert_clean()
    page.close()


def test_wall_scales_to_a_window_of_another_shape(live_app, browser) -> None:  # noqa: ANN001
    """5760x2160 in a 1920x1080 window, contain: letterboxed, centred, same aspect ratio."""
    _cc, base = live_app
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{base}/wall/main")
    page.wait_for_selector(".cc-canvas.cc-scaled")
    box = page.locator("#cc-canvas").bounding_box()
    assert box is not None
    assert abs(box["width"] - 1920) < 1 and abs(box["height"] - 720) < 1
    assert abs(box["y"] - 180) < 1 and abs(box["x"]) < 1
    page.close()


def test_split_wall_part_shows_its_region(live_app, browser) -> None:  # noqa: ANN001
    """/wall/main?part=2,1&of=3x2 on one 1080p kiosk shows design region x 1920-3840, y 0-1080."""
    _cc, base = live_app
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{base}/wall/main?part=2,1&of=3x2")
    page.wait_for_selector(".cc-canvas.cc-scaled")
    box = page.locator("#cc-canvas").bounding_box()
    assert box is not None
    assert abs(box["x"] + 1920) < 1 and abs(box["y"]) < 1
    assert abs(box["width"] - 5760) < 1 and abs(box["height"] - 2160) < 1
    page.close()


def test_index_lists_every_screen_and_unknown_screen_gets_a_clear_page(
    live_app, browser, artifacts
) -> None:  # noqa: ANN001
    _cc, base = live_app
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    watch = PageWatch(page)
    page.goto(base + "/")
    page.wait_for_selector(".cc-card")
    assert page.locator(".cc-card").count() == len(DEFAULT_SCREENS)
    page.screenshot(path=str(artifacts / "index.png"), full_page=True)
    page.goto(base + "/wall/nope")
    page.wait_for_selector(".cc-not-found")
    assert "nope" in page.inner_text(".cc-not-found")
    watch.assert_clean()
    page.close()


def test_english_by_query_string(live_app, browser) -> None:  # noqa: ANN001
    _cc, base = live_app
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{base}/wall/duty?lang=en")
    page.wait_for_selector(".cc-q-tabs .cc-q-count")  # the duty console's case queue
    assert "To accept" in page.inner_text(".cc-q-tabs")
    page.close()


def test_hot_reload_changes_open_wall_and_broken_edit_keeps_last_good(
    live_app, browser, artifacts
) -> None:  # noqa: ANN001
    cc, base = live_app
    path = cc.settings.screens_file
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{base}/wall/ops")
    page.wait_for_selector(".cc-header-title")
    assert page.inner_text(".cc-header-title") == "运维监控"

    good = path.read_text(encoding="utf-8")
    # the default file names the screen in both languages: {zh: 运维监控, en: Operations}
    path.write_text(good.replace("zh: 运维监控,", "zh: 运维监控（夜班）,"), encoding="utf-8")
    page.wait_for_function(
        "() => document.querySelector('.cc-header-title').innerText === '运维监控（夜班）'",
        timeout=10000,
    )

    broken = good.replace("zh: 运维监控,", "zh: 不会生效,").replace(
        "kind: ops_health", "kind: ops_healht"
    )
    path.write_text(broken, encoding="utf-8")
    page.wait_for_selector(".cc-screens-status.bad", timeout=10000)
    warning = page.inner_text(".cc-screens-status.bad")
    assert "ops_healht" in warning and "screens.yaml:" in warning
    assert page.inner_text(".cc-header-title") == "运维监控（夜班）"  # last good layout stays
    page.screenshot(path=str(artifacts / "wall-ops-broken-screens.png"))
    page.close()


def test_backend_down_keeps_last_data_with_a_stale_mark(flaky_live_app, browser, artifacts) -> None:  # noqa: ANN001
    _cc, base, case_backend = flaky_live_app
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{base}/wall/ops")
    wait_for_panels(page)
    page.wait_for_function(
        "() => document.querySelector(\"[data-panel='events'] .cc-ticker-row\") !== null"
    )
    before = page.inner_text("[data-panel='events'] .cc-panel-body")
    assert before.strip(), "the ticker shows cases before the backend goes down"
    case_backend.down = True
    page.wait_for_selector("[data-panel='events'] .cc-stale-on", timeout=15000)
    mark = page.inner_text("[data-panel='events'] .cc-stale-on")
    assert mark.startswith("数据停留于 ")
    assert page.inner_text("[data-panel='events'] .cc-panel-body") == before, "last data stays"
    page.screenshot(path=str(artifacts / "wall-ops-backend-down.png"))
    case_backend.down = False
    page.wait_for_selector("[data-panel='events'] .cc-stale-on", state="detached", timeout=15000)
    page.close()
