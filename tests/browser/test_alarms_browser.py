"""Alarms in real headless Chromium: an alarm posted to the API appears at once, flashing,
on an open wall; acknowledged on the ops console it vanishes from the wall within a second;
a wall that loses its server says so and recovers by itself. The wall (a kiosk) has no 确认;
the ops console acknowledges as its signed-in user."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
KEY = {"X-API-Key": "key-iot"}


@pytest.fixture()
def alarm_wall(city_copy: str, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    from command_center.app import create_app
    from command_center.runtime import start_background_server
    from command_center.settings import Settings
    from tests.conftest import random_secret

    shutil.copy(ROOT / "screens.yaml", tmp_path / "screens.yaml")
    settings = Settings(
        database_url=city_copy,
        data_dir=tmp_path / "var",
        screens_file=tmp_path / "screens.yaml",
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


def post_alarm(base: str, n: int, **kw: Any) -> dict[str, Any]:
    body = {
        "source": "iot",
        "source_id": f"browser-{n}",
        "level": "重大",
        "class_code": "0701",
        "title": f"积水超限 {n} 号点",
        "grid_code": "11010100100101",
    }
    body.update(kw)
    answer = requests.post(f"{base}/api/alarms", json=body, headers=KEY, timeout=5)
    assert answer.status_code == 201, answer.text
    return answer.json()["alarm"]


def wait_row(page: Any, alarm_id: int, present: bool = True, timeout: float = 30000) -> None:
    js = f"() => !!document.querySelector('.cc-alarm-row[data-alarm=\"{alarm_id}\"]')"
    page.wait_for_function(js if present else f"() => !({js})()", polling=50, timeout=timeout)


def rows(page: Any) -> list[str]:
    return page.eval_on_selector_all(
        ".cc-alarm-list .cc-alarm-row", "els => els.map(e => e.dataset.alarm)"
    )


def test_posted_alarm_shows_on_the_wall_and_vanishes_after_ack_elsewhere(
    alarm_wall, browser, artifacts
) -> None:  # noqa: ANN001
    from test_walls import PageWatch  # type: ignore[import-not-found]

    cc, base = alarm_wall
    wall = browser.new_page(viewport={"width": 1920, "height": 720})
    watch = PageWatch(wall)
    wall.goto(f"{base}/wall/main")
    wall.wait_for_selector(".cc-alarm-list .cc-message", timeout=60000)
    wall.wait_for_function(
        "() => Object.keys(window.cc.alarms.byId).length === 0 && "
        "document.querySelector('.cc-alarm-list').innerText.includes('暂无')",
        timeout=10000,
    )
    # 确认 needs a signed-in duty console: the ops console signs in first
    from datetime import datetime

    from test_duty_console import sign_in  # type: ignore[import-not-found]

    cc.collab.users.add("zhiban", "duty_officer", "password-1", now=datetime(2026, 11, 25, 9))
    ops = browser.new_page(viewport={"width": 1920, "height": 1080})
    sign_in(ops, base, "zhiban", "password-1")
    ops.goto(f"{base}/wall/ops")
    ops.wait_for_selector(".cc-alarm-list", timeout=60000)

    first = post_alarm(base, 1)
    started = time.monotonic()
    wait_row(wall, first["id"])
    shown_after = time.monotonic() - started
    assert (
        wall.locator(f'.cc-alarm-row[data-alarm="{first["id"]}"]')
        .get_attribute("class")
        .count("cc-alarm-new")
    )
    second = post_alarm(base, 2, level="特别重大", class_code="0702", title="燃气泄漏")
    wait_row(wall, second["id"])
    assert rows(wall) == [str(second["id"]), str(first["id"])]  # newest first
    assert "2 条未确认" in wall.inner_text(".cc-alarm-count")
    wall.wait_for_timeout(300)
    wall.screenshot(path=str(artifacts / "alarms-wall-main.png"))

    wait_row(ops, first["id"])
    ops.wait_for_timeout(500)
    ops.screenshot(path=str(artifacts / "alarms-wall-ops.png"))
    ops.click(f'.cc-alarm-ack[data-alarm="{first["id"]}"]')
    started = time.monotonic()
    wait_row(wall, first["id"], present=False)
    vanished_after = time.monotonic() - started
    wait_row(ops, first["id"], present=False)
    assert rows(wall) == [str(second["id"])]
    stored = cc.alarms.store.get(first["id"])
    assert stored.status == "acknowledged" and stored.acknowledged_by == "zhiban"
    # well within a second on an idle machine (tests/realtime pins that with socket clients);
    # a starved shared box only gets a bound that catches a wall that never updates
    print(f"alarm shown after {shown_after:.2f}s, vanished after {vanished_after:.2f}s")
    assert shown_after < 15.0 and vanished_after < 15.0, (shown_after, vanished_after)
    watch.assert_clean()
    wall.close()
    ops.close()


def test_wall_survives_a_burst_of_alarms(alarm_wall, browser, artifacts) -> None:  # noqa: ANN001
    from command_center.alarms import AlarmIn

    cc, base = alarm_wall
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(f"{base}/wall/ops")  # the console a duty officer watches a storm on
    wall.wait_for_function("() => window.cc && window.cc.alarms && window.cc.alarms.lastSeen >= 0")
    wall.wait_for_selector(".cc-alarm-list .cc-message", timeout=60000)
    # how long the wall's main thread is busy meanwhile is a figure of bench/bench_alarms.py;
    # here: every alarm arrives, counted once, and the page still answers
    for n in range(1000):
        cc.alarms.ingest(
            AlarmIn(
                source="iot",
                source_id=f"burst-{n}",
                level="一般" if n % 50 else "重大",
                class_code=f"{n:04d}",
                title=f"传感器告警 {n}",
            )
        )
    wall.wait_for_function("() => window.cc.alarms.lastSeen >= 1000", timeout=90000)
    wall.wait_for_function(
        "() => document.querySelector('.cc-alarm-count').innerText.includes('1000')",
        timeout=30000,
    )
    assert len(rows(wall)) == 8
    wall.screenshot(path=str(artifacts / "alarms-burst.png"))
    wall.close()


def test_a_wall_that_connects_during_a_storm_counts_it_exactly(alarm_wall, browser) -> None:  # noqa: ANN001
    """Alarms stored while the wall's sync is put together reach it before or after the
    sync; either way each is counted once."""
    import threading

    from command_center.alarms import AlarmIn

    cc, base = alarm_wall

    def storm() -> None:
        for n in range(600):
            cc.alarms.ingest(
                AlarmIn(
                    source="iot",
                    source_id=f"mid-{n}",
                    level="一般",
                    class_code=f"{n:04d}",
                    title=f"传感器告警 {n}",
                )
            )

    thread = threading.Thread(target=storm)
    thread.start()
    wall = browser.new_page(viewport={"width": 1920, "height": 1080})
    wall.goto(f"{base}/wall/ops")
    thread.join()
    wall.wait_for_function("() => window.cc.alarms.lastSeen >= 600", timeout=90000)
    wall.wait_for_function(
        "() => (document.querySelector('.cc-alarm-count') || {innerText: ''})"
        ".innerText.includes('600 条')",
        timeout=30000,
    )
    wall.wait_for_timeout(1000)
    assert wall.evaluate("() => window.cc.alarms.openTotal") == 600
    wall.close()


def test_wall_says_when_the_connection_is_lost_and_recovers(alarm_wall, browser, artifacts) -> None:  # noqa: ANN001
    _cc, base = alarm_wall
    wall = browser.new_page(viewport={"width": 1920, "height": 720})
    wall.goto(f"{base}/wall/main")
    wall.wait_for_selector(".cc-alarm-list .cc-message", timeout=60000)
    wall.context.set_offline(True)
    wall.evaluate("() => window.dispatchEvent(new Event('offline'))")
    wall.wait_for_function(
        "() => document.querySelector('#cc-conn').classList.contains('cc-conn-lost')",
        timeout=40000,
    )
    wall.screenshot(path=str(artifacts / "alarms-connection-lost.png"))
    wall.context.set_offline(False)
    wall.wait_for_function(
        "() => !document.querySelector('#cc-conn').classList.contains('cc-conn-lost')",
        timeout=40000,
    )
    wall.close()


def test_a_kiosk_set_to_utc_shows_the_city_time_in_the_header_and_the_ticker(
    alarm_wall, browser, artifacts
) -> None:  # noqa: ANN001
    """The kiosk's browser runs in UTC and the server in New York: the header clock and the
    ticker both read Shanghai time, as the data around them does."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from command_center.domain.calendar import local_now
    from tests.conftest import server_timezone

    SHANGHAI = ZoneInfo("Asia/Shanghai")  # noqa: N806

    _cc, base = alarm_wall
    with server_timezone("America/New_York"):
        kiosk = browser.new_context(timezone_id="UTC", viewport={"width": 1920, "height": 1080})
        wall = kiosk.new_page()
        wall.goto(f"{base}/wall/main")
        assert wall.evaluate("() => new Date().getTimezoneOffset()") == 0  # a UTC kiosk
        wall.wait_for_function(
            "() => { const el = document.getElementById('cc-clock'); return !!el && "
            "/^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$/.test(el.textContent); }",
            timeout=60000,
        )
        shown = datetime.strptime(wall.inner_text("#cc-clock"), "%Y-%m-%d %H:%M:%S")
        # the browser's own instant (time-machine moves this process, not Chromium), in Shanghai
        browser_now = datetime.fromtimestamp(wall.evaluate("() => Date.now()") / 1000, SHANGHAI)
        assert abs((shown - browser_now.replace(tzinfo=None)).total_seconds()) < 10, shown

        alarm = post_alarm(base, 1, at="2026-12-02T23:41:06Z")
        assert alarm["at"] == "2026-12-03T07:41:06"
        wait_row(wall, alarm["id"])
        row = wall.locator(f'.cc-alarm-row[data-alarm="{alarm["id"]}"] .cc-alarm-time')
        ticker = datetime.strptime(
            f"{local_now():%Y-%m-%d} {row.inner_text()}", "%Y-%m-%d %H:%M:%S"
        )
        assert abs((ticker - local_now()).total_seconds()) < 60, (ticker, local_now())
        wall.screenshot(path=str(artifacts / "alarms-kiosk-in-utc.png"))
        kiosk.close()
