"""The duty console in Chromium: sign in, open an alarm, make it a case, dispatch it, put
it on the wall, and see the `main` wall show it; a kiosk without a session is read-only.
Screenshots of the console with the drawer open land in test-artifacts/."""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

NOW = datetime(2026, 11, 25, 10, 0)
SLOW = 60_000  # ms: the CI machine is shared; the flow itself takes seconds


def watch(page, errors: list[str], off_host: list[str]) -> None:  # noqa: ANN001
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))

    def request(r) -> None:  # noqa: ANN001
        url = urlparse(r.url)
        if url.scheme not in ("data", "blob", "about") and url.hostname not in (
            "127.0.0.1",
            "localhost",
        ):
            off_host.append(r.url)

    page.on("request", request)


def sign_in(page, base: str, name: str, password: str) -> None:  # noqa: ANN001
    page.goto(f"{base}/login?next=/wall/duty")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url("**/wall/duty")


def test_sign_in_alarm_to_case_dispatch_and_the_main_wall_shows_it(
    live_app, browser, artifacts
) -> None:  # noqa: ANN001
    from adapters.case.contract import CaseFilter
    from command_center.alarms import AlarmIn

    cc, base = live_app
    cc.collab.users.add("duty1", "shift_leader", "duty-pass-1", "值班长甲", now=NOW)
    cc.collab.users.add("disp1", "dispatcher", "disp-pass-1", "派遣员乙", now=NOW)
    some = cc.services.adapters.case.list_cases(CaseFilter(limit=1))[0]
    alarm = cc.alarms.ingest(
        AlarmIn(
            source="video",
            source_id="browser-0001",
            level="critical",
            class_code="0502",
            title="占道经营",
            lon=some.lon,
            lat=some.lat,
            camera_id="CAM042",
        )
    ).alarm
    errors: list[str] = []
    off_host: list[str] = []

    wall = browser.new_page(viewport={"width": 1920, "height": 720})
    watch(wall, errors, off_host)
    wall.goto(f"{base}/wall/main")
    wall.wait_for_selector(".cc-kpi", timeout=SLOW)

    console = browser.new_page(viewport={"width": 1920, "height": 1080})
    watch(console, errors, off_host)
    sign_in(console, base, "duty1", "duty-pass-1")
    console.wait_for_selector(".cc-q-tabs .cc-q-count", timeout=SLOW)
    row = console.locator(f"div[data-alarm='{alarm.id}'] .cc-alarm-title")
    row.first.wait_for(timeout=SLOW)
    # click 1: the alarm opens in the drawer (pointerdown: the ticker re-renders live)
    row.first.dispatch_event("pointerdown", {"button": 0})
    console.wait_for_selector(".cc-drawer.open .cc-alarm-card", timeout=SLOW)
    assert "CAM042" in console.inner_text(".cc-alarm-card")
    console.screenshot(path=str(artifacts / "duty_drawer_alarm.png"))
    # click 2: the alarm becomes a case, accepted and registered by the shift leader
    console.click("[data-action=case_from_alarm]")
    console.wait_for_selector("[data-action=dispatch]", timeout=SLOW)
    stored = cc.alarms.store.get(alarm.id)
    assert stored.case_id and stored.acknowledged_by == "duty1"
    console.wait_for_function(
        "document.querySelector('#cc-act-dept').innerText.trim().length > 1", timeout=SLOW
    )
    # click 3: dispatch to the suggested department
    console.click("[data-action=dispatch]")
    console.wait_for_selector(".cc-msg-ok", timeout=SLOW)
    console.wait_for_selector("[data-action=urge]", timeout=SLOW)
    case = cc.services.case_detail(stored.case_id).case
    assert case.status == "dispatched" and case.department_code
    console.screenshot(path=str(artifacts / "duty_drawer_dispatched.png"))

    console.click("#cc-drawer-onwall")
    wall.wait_for_selector("#cc-focus-card.show .cc-focus-number", timeout=SLOW)
    assert wall.inner_text("#cc-focus-card .cc-focus-number") == case.number
    assert "占道经营" in wall.inner_text("#cc-focus-card")
    wall.screenshot(path=str(artifacts / "main_wall_focus.png"))
    actions = [e.action for e in cc.collab.audit.entries(case_id=case.id)]
    assert {"case_from_alarm", "accept", "register", "dispatch", "put_on_wall"} <= set(actions)
    assert not off_host, off_host
    assert not errors, errors
    console.close()
    wall.close()


def test_a_kiosk_without_a_session_sees_the_card_but_no_actions(
    live_app, browser, artifacts
) -> None:  # noqa: ANN001
    cc, base = live_app
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{base}/wall/duty")
    page.wait_for_selector(".cc-q-tabs .cc-q-count", timeout=SLOW)
    # the tiny city keeps a case in handling: open the tab and the first row
    page.click(".cc-q-tabs label:has-text('处置中')")
    page.wait_for_selector(".cc-q-table tr[data-case-id]", timeout=SLOW)
    page.click(".cc-q-table tr[data-case-id] >> nth=0")
    page.wait_for_selector(".cc-drawer.open .cc-drawer-card", timeout=SLOW)
    time.sleep(0.5)
    text = page.inner_text("#cc-act-buttons")
    assert "登录后可处置" in text and not page.query_selector("[data-action]")
    assert "只读" in page.inner_text("#cc-drawer-user")
    page.screenshot(path=str(artifacts / "duty_drawer_kiosk.png"))
    page.close()
