"""A console scoped to one street (``region:`` in screens.yaml) in real headless Chromium:
its ticker and its map show its own street's alarms and not another street's, its map and
KPIs stay within the street, and the ops screen lists it with its scope."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
KEY = {"X-API-Key": "key-iot"}
OWN, OTHER = "110101001", "110101002"  # 东华门街道, 景山街道 (their official codes)
STREET_SCREEN = f"""
  - id: street
    title: 东华门街道分中心
    size: 1920x1080
    grid: {{columns: 12, rows: 6, gap: 10}}
    theme: light
    region: {OWN}
    panels:
      - {{id: kpi, kind: kpi, col: 1, row: 1, col_span: 5, row_span: 2}}
      - {{id: alarms, kind: alarm_ticker, col: 1, row: 3, col_span: 5, row_span: 4,
         options: {{limit: 10}}}}
      - {{id: map, kind: city_map, col: 6, row: 1, col_span: 7, row_span: 6,
         options: {{layers: [boundaries, cases, alarms], level: community}}}}
"""


@pytest.fixture()
def street_wall(city_copy: str, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    from command_center.app import create_app
    from command_center.runtime import start_background_server
    from command_center.settings import Settings
    from tests.conftest import random_secret

    screens = tmp_path / "screens.yaml"
    shutil.copy(ROOT / "screens.yaml", screens)
    with screens.open("a", encoding="utf-8") as out:
        out.write(STREET_SCREEN)
    settings = Settings(
        database_url=city_copy,
        data_dir=tmp_path / "var",
        screens_file=screens,
        screens_poll_seconds=0.5,
        simulate=False,
        api_keys={"iot": "key-iot"},
        alarm_fold_seconds=0,
        secret_key=random_secret(),
    )
    cc = create_app(settings)
    server, base = start_background_server(cc)
    yield cc, base
    server.shutdown()
    cc.stop()


def post_alarm(base: str, n: int, grid: Any, **kw: Any) -> dict[str, Any]:
    body = {
        "source": "iot",
        "source_id": f"street-{n}",
        "level": "重大",
        "class_code": f"07{n:02d}",
        "title": f"积水超限 {n} 号点",
        "grid_code": grid.code,
        "lon": grid.centroid[0],
        "lat": grid.centroid[1],
        **kw,
    }
    answer = requests.post(f"{base}/api/alarms", json=body, headers=KEY, timeout=10)
    assert answer.status_code == 201, answer.text
    return answer.json()["alarm"]


def test_a_street_console_shows_only_its_street(street_wall, browser, artifacts) -> None:  # noqa: ANN001
    from test_walls import PageWatch  # type: ignore[import-not-found]

    cc, base = street_wall
    grids = cc.services.regions("grid").value
    own = next(g for g in grids if g.code.startswith(OWN))
    other = next(g for g in grids if g.code.startswith(OTHER))
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    watch = PageWatch(page)
    page.goto(f"{base}/wall/street")
    page.wait_for_function(
        "() => (document.querySelector('.cc-alarm-list') || {innerText: ''})"
        ".innerText.includes('暂无')",
        timeout=60000,
    )
    theirs = post_alarm(base, 1, other)
    mine = post_alarm(base, 2, own)
    page.wait_for_selector(f'.cc-alarm-row[data-alarm="{mine["id"]}"]', timeout=30000)
    # the map's alarm layer follows on its next tick: one marker, its own
    page.wait_for_function(
        "() => document.querySelectorAll('.cc-alarm-pt').length === 1", timeout=30000
    )
    page.wait_for_timeout(1000)
    rows = page.eval_on_selector_all(".cc-alarm-row", "els => els.map(e => e.dataset.alarm)")
    assert rows == [str(mine["id"])] and str(theirs["id"]) not in rows
    assert page.inner_text(".cc-alarm-count") == "1 条未确认"
    assert page.evaluate("() => window.cc.alarms.openTotal") == 1
    # the map starts at the street, not the district
    assert "东华门街道" in page.inner_text(".cc-kind-city_map")
    # a city-wide emergency in the other street reaches it too
    emergency = post_alarm(base, 3, other, level="特别重大", title="燃气管道爆裂")
    page.wait_for_selector(f'.cc-alarm-row[data-alarm="{emergency["id"]}"]', timeout=30000)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "alarms-street-console.png"))

    ops = browser.new_page(viewport={"width": 1920, "height": 1080})
    ops.goto(f"{base}/wall/ops")
    ops.wait_for_function(
        "() => (document.querySelector('.cc-ops-screens') || {innerText: ''})"
        f".innerText.includes('{OWN}')",
        timeout=60000,
    )
    ops.wait_for_timeout(1000)
    ops.screenshot(path=str(artifacts / "alarms-ops-street.png"))
    watch.assert_clean()
    ops.close()
    page.close()
