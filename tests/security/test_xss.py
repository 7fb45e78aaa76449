"""Stored XSS: script-like text sent through every input the walls read (the alarm API's
title, ``by`` and note; a case's description, address, reporter and action notes; an SMS
contact's name; a user's display name; region and department names; screens.yaml titles)
is shown as text on every wall, in the map's tooltips, in the case drawer, on the audit page
and in the briefing export. Headless Chromium proves it: no dialog opens, no injected element
exists, and the payload shows literally where it belongs.

No Content-Security-Policy is relied on: the pages are opened with CSP bypassed, so a payload
that got into the DOM would run whatever policy the app sends."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import requests
import yaml

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 25, 10, 0)
SLOW = 60_000  # ms: the machine is shared
KEY = {"X-API-Key": "key-iot"}

IMG = "<img src=x onerror=alert(1)>"
SCRIPT = '"><script>alert(1)</script>'
JS_URL = "javascript:alert(1)"
SVG = "<svg onload=alert(1)>"
TEMPLATE = "{{7*7}}"
TEXTAREA = "</textarea><b>x</b>"
PAYLOADS = (IMG, SCRIPT, JS_URL, SVG, TEMPLATE, TEXTAREA)

STREET = "110101001"  # a street of the tiny city
GRID = "11010100100101"  # a unit grid inside it

# Whatever a payload would leave in the DOM had it been parsed as HTML anywhere.
INJECTED = """() => {
  const bad = [];
  const note = (e) => bad.push(e.outerHTML.slice(0, 160));
  document.querySelectorAll('img[src="x"], svg[onload], [onerror], [onload]').forEach(note);
  document.querySelectorAll('script').forEach((s) => {
    if (s.textContent.includes('alert(1)')) { note(s); }
  });
  document.querySelectorAll('[href^="javascript:"], [src^="javascript:"]').forEach(note);
  document.querySelectorAll('b').forEach((b) => { if (b.textContent === 'x') { note(b); } });
  return bad;
}"""


def hostile_screens(path: Path) -> None:
    """The default walls with payloads as screen, page and panel titles."""
    doc = yaml.safe_load((ROOT / "screens.yaml").read_text(encoding="utf-8"))
    screens = {s["id"]: s for s in doc["screens"]}
    screens["main"]["title"] = IMG
    for panel in screens["main"]["panels"]:
        if panel["kind"] == "breakdown":
            panel["title"] = SCRIPT
    screens["duty"]["title"] = SVG
    screens["ops"]["title"] = TEXTAREA
    screens["briefing"]["title"] = TEMPLATE
    screens["briefing"]["pages"][0]["title"] = IMG
    screens["briefing"]["pages"][0]["panels"][2]["title"] = SVG
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")


def hostile_names(db_file: Path) -> None:
    """Region and department names as a foreign GIS or case system might deliver them."""
    with closing(sqlite3.connect(db_file)) as db:
        db.execute("UPDATE regions SET name = ? WHERE code = ?", (TEXTAREA, STREET))
        db.execute("UPDATE regions SET name = ? WHERE code = ?", (SCRIPT, GRID[:12]))
        db.execute("UPDATE departments SET name = ? WHERE code = 'D02'", (IMG,))
        db.commit()


@pytest.fixture()
def hostile_app(city_copy: str, tmp_path: Path) -> Iterator[tuple[Any, str]]:
    from command_center.app import create_app
    from command_center.runtime import start_background_server
    from command_center.settings import Settings
    from tests.conftest import random_secret

    hostile_names(Path(city_copy.removeprefix("sqlite:///")))
    hostile_screens(tmp_path / "screens.yaml")
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


def post_alarm(base: str, n: int, title: str, where: Any) -> dict[str, Any]:
    body = {
        "lon": where.lon,
        "lat": where.lat,
        "source": "iot",
        "source_id": f"xss-{n}",
        "level": "重大",
        "class_code": "0701",
        "title": title,
        "grid_code": GRID,
    }
    answer = requests.post(f"{base}/api/alarms", json=body, headers=KEY, timeout=5)
    assert answer.status_code == 201, answer.text
    return answer.json()["alarm"]


def hostile_data(cc: Any, base: str) -> dict[str, Any]:
    """Payloads through every input: the alarm API, a case reported and worked on by signed-in
    officers with notes, an SMS contact, users' display names."""
    from adapters.case.contract import CaseAction, CaseFilter, CaseSource, NewCase

    cases = cc.services.adapters.case.list_cases(CaseFilter(region_code=STREET, limit=50))
    cases.sort(key=lambda c: c.lon)  # three markers apart, each hoverable
    some, middle, far = cases[0], cases[len(cases) // 2], cases[-1]
    open_alarm = post_alarm(base, 1, IMG, some)
    acked = post_alarm(base, 2, SVG, middle)
    answer = requests.post(
        f"{base}/api/alarms/{acked['id']}/ack",
        json={"by": SCRIPT, "note": JS_URL},
        headers=KEY,
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    post_alarm(base, 3, TEMPLATE, far)

    cc.collab.sms.set_contact("D02", "13800000000", TEXTAREA)
    users = cc.collab.users
    leader = users.add("xss-leader", "shift_leader", "leader-pass-1", IMG, now=NOW)
    dispatcher = users.add("xss-disp", "dispatcher", "disp-pass-1", SVG, now=NOW)
    users.add("xss-admin", "admin", "admin-pass-1", SCRIPT, now=NOW)
    case = cc.services.adapters.case.report_case(
        NewCase(
            kind="event",
            class_code="0102",
            source=CaseSource.PUBLIC,
            description=TEXTAREA,
            address=SCRIPT,
            reporter=TEMPLATE,
            lon=some.lon,
            lat=some.lat,
            urgent=True,
        )
    )
    for user, action, note, extra in (
        (leader, CaseAction.ACCEPT, IMG, {}),
        (leader, CaseAction.REGISTER, SVG, {}),
        (dispatcher, CaseAction.DISPATCH, JS_URL, {"department_code": "D02"}),
    ):
        outcome = cc.collab.perform(user, case.id, action, note, screen="duty", **extra)
        assert outcome.ok, outcome.message
    return {"alarm": open_alarm, "case": case}


def open_page(browser: Any, dialogs: list[str], width: int = 1920, height: int = 1080) -> Any:
    # bypass_csp: a Content-Security-Policy the app sends may block an injected script too;
    # this test proves that nothing gets injected in the first place
    page = browser.new_page(viewport={"width": width, "height": height}, bypass_csp=True)

    def dialog(d: Any) -> None:
        dialogs.append(f"{page.url}: {d.type} {d.message}")
        d.dismiss()

    page.on("dialog", dialog)
    return page


def assert_nothing_ran(page: Any, dialogs: list[str]) -> None:
    page.wait_for_timeout(300)  # an onerror/onload fires within a frame or two
    assert not dialogs, dialogs
    assert page.evaluate(INJECTED) == [], page.url


def hover_alarms(page: Any, count: int) -> list[str]:
    """Hover each of the ``count`` alarm markers on the page's map in turn; the text of
    their tooltips."""
    markers = page.locator(".cc-alarm-pt")
    page.wait_for_function(
        f"document.querySelectorAll('.cc-alarm-pt').length >= {count}", timeout=SLOW
    )
    texts = []
    for i in range(count):
        markers.nth(i).hover(force=True)
        tooltip = page.locator(".leaflet-tooltip.cc-map-tooltip").first
        tooltip.wait_for(timeout=SLOW)
        texts.append(tooltip.inner_text())
        page.mouse.move(1, 1)
        tooltip.wait_for(state="detached", timeout=SLOW)
    return texts


def test_payloads_show_as_text_on_the_walls_and_in_the_map_tooltip(
    hostile_app, browser, artifacts
) -> None:  # noqa: ANN001
    cc, base = hostile_app
    data = hostile_data(cc, base)
    dialogs: list[str] = []

    wall = open_page(browser, dialogs, 1920, 720)
    wall.goto(f"{base}/wall/main")
    wall.wait_for_selector(f".cc-alarm-row[data-alarm='{data['alarm']['id']}']", timeout=SLOW)
    assert IMG in wall.inner_text(".cc-header-title")
    assert SCRIPT in wall.inner_text("[data-kind=breakdown]")
    assert IMG in wall.inner_text(".cc-alarm-list")
    texts = hover_alarms(wall, 2)
    assert any(IMG in t for t in texts) and any(TEMPLATE in t for t in texts), texts
    # the tooltip with the literal payload, for the record
    wall.locator(".cc-alarm-pt").nth([IMG in t for t in texts].index(True)).hover(force=True)
    tooltip = wall.wait_for_selector(".leaflet-tooltip.cc-map-tooltip", timeout=SLOW)
    tooltip.screenshot(path=str(artifacts / "xss_map_tooltip_close.png"))
    wall.screenshot(path=str(artifacts / "xss_map_tooltip.png"))
    wall.screenshot(path=str(artifacts / "xss_main_wall.png"))
    assert_nothing_ran(wall, dialogs)
    wall.close()

    ops = open_page(browser, dialogs)
    ops.goto(f"{base}/wall/ops")
    ops.wait_for_selector(f".cc-alarm-row[data-alarm='{data['alarm']['id']}']", timeout=SLOW)
    assert TEXTAREA in ops.inner_text(".cc-header-title")
    assert TEMPLATE in ops.inner_text(".cc-alarm-list")
    assert_nothing_ran(ops, dialogs)
    ops.close()

    stats = open_page(browser, dialogs)
    stats.goto(f"{base}/wall/stats")
    stats.wait_for_selector("[data-kind=stats_region] .main-svg", timeout=SLOW)
    stats.wait_for_timeout(1500)
    # a street's name on the chart, as Plotly draws it (it renders <b>, <a>, <br> in text)
    drawn = " ".join(stats.locator("[data-kind=stats_region] .main-svg").all_text_contents())
    assert TEXTAREA in drawn, drawn
    assert_nothing_ran(stats, dialogs)
    stats.close()

    grid = open_page(browser, dialogs)
    grid.goto(f"{base}/wall/grid")
    grid.wait_for_selector(".cc-tree-node", timeout=SLOW)
    assert TEXTAREA in grid.inner_text("[data-kind=grid_tree]")
    assert_nothing_ran(grid, dialogs)
    grid.close()


def test_payloads_show_as_text_in_the_duty_console_and_its_drawer(
    hostile_app, browser, artifacts
) -> None:  # noqa: ANN001
    cc, base = hostile_app
    data = hostile_data(cc, base)
    case = data["case"]
    dialogs: list[str] = []
    page = open_page(browser, dialogs)
    page.goto(f"{base}/login?next=/wall/duty")
    page.fill("input[name=username]", "xss-disp")
    page.fill("input[name=password]", "disp-pass-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/wall/duty")
    page.wait_for_selector(".cc-q-tabs .cc-q-count", timeout=SLOW)
    assert SVG in page.inner_text(".cc-header-title")
    texts = hover_alarms(page, 2)
    assert any(IMG in t for t in texts) and any(TEMPLATE in t for t in texts), texts
    page.mouse.move(5, 5)
    assert IMG in page.inner_text("[data-kind=department_board]")
    # the case in the drawer: description, address, reporter, notes, actors, the contact
    page.click(".cc-q-tabs label:has-text('处置中')")
    page.click(f".cc-q-table tr[data-case-id='{case.id}']", timeout=SLOW)
    page.wait_for_selector(".cc-drawer.open .cc-drawer-card", timeout=SLOW)
    page.wait_for_selector(".cc-drawer.open .cc-step-note", timeout=SLOW)
    drawer = page.inner_text(".cc-drawer.open")
    for literal in (TEXTAREA, SCRIPT, IMG, SVG, JS_URL):
        assert literal in drawer, (literal, drawer)
    assert SVG in page.inner_text("#cc-drawer-user")
    page.screenshot(path=str(artifacts / "xss_duty_drawer.png"))
    assert_nothing_ran(page, dialogs)
    page.close()


def test_payloads_show_as_text_on_the_briefing_wall_and_in_its_export(
    hostile_app, browser, artifacts
) -> None:  # noqa: ANN001
    from command_center import briefing
    from layouts.briefing import briefing_html

    cc, base = hostile_app
    case = hostile_data(cc, base)["case"]
    dialogs: list[str] = []
    page = open_page(browser, dialogs)
    page.goto(f"{base}/wall/briefing")
    page.wait_for_selector("[data-kind=briefing_export]", timeout=SLOW)
    assert TEMPLATE in page.inner_text(".cc-header-title")
    assert_nothing_ran(page, dialogs)
    page.close()

    adapters = cc.services.adapters
    at = case.reported_at  # the day the urgent case came in: it is in that day's briefing
    data = briefing.collect(adapters.case, adapters.gis, at.date(), now=at)
    assert any(c.address == SCRIPT for c in data.urgent)
    text = briefing_html(data, briefing.render_charts(data, "A4"), "A4")
    export = open_page(browser, dialogs)
    export.set_content(text)
    tables = export.inner_text(".notable")
    rankings = " ".join(export.locator(".rank").all_inner_texts())  # streets, departments
    assert SCRIPT in tables and TEXTAREA in rankings and IMG in rankings
    assert_nothing_ran(export, dialogs)
    export.close()


def test_payloads_show_as_text_on_the_audit_and_login_pages(hostile_app, browser) -> None:  # noqa: ANN001
    cc, base = hostile_app
    hostile_data(cc, base)
    dialogs: list[str] = []
    page = open_page(browser, dialogs)
    page.goto(f"{base}/login?next=/admin/audit")
    page.fill("input[name=username]", SCRIPT)
    page.fill("input[name=password]", "wrong-password")
    page.click("button[type=submit]")
    page.wait_for_selector(".cc-auth-error", timeout=SLOW)
    assert page.input_value("input[name=username]") == SCRIPT
    assert_nothing_ran(page, dialogs)
    page.fill("input[name=username]", "xss-admin")
    page.fill("input[name=password]", "admin-pass-1")
    page.click("button[type=submit]")
    page.wait_for_selector(".cc-audit-table", timeout=SLOW)
    audit = page.inner_text(".cc-audit-table")
    assert IMG in audit and JS_URL in audit and SCRIPT in audit
    assert_nothing_ran(page, dialogs)
    page.close()


def test_a_photo_a_backend_calls_svg_is_not_rendered_in_the_apps_origin(
    hostile_app, browser, city_copy
) -> None:  # noqa: ANN001
    """A case backend is another system: its "photo" of type image/svg+xml with a script in
    it must not run when an officer opens /photos/<id> (the drawer's lightbox links it)."""
    from io import BytesIO

    from PIL import Image

    from adapters.case.contract import CaseFilter, NewPhoto, PhotoKind

    cc, base = hostile_app
    png = BytesIO()
    Image.new("RGB", (8, 8), (200, 40, 40)).save(png, format="PNG")
    adapter = cc.services.adapters.case
    case = adapter.list_cases(CaseFilter(limit=1))[0]
    photo = adapter.add_photo(case.id, NewPhoto(PhotoKind.REPORT, png.getvalue(), "image/png", "x"))
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(1)</script></svg>'
    )
    with closing(sqlite3.connect(city_copy.removeprefix("sqlite:///"))) as db:
        # as a foreign case system would deliver it: no check of ours stood in its way
        db.execute(
            "UPDATE photo_blobs SET media_type = 'image/svg+xml', data = ? "
            "WHERE id = (SELECT blob_id FROM case_photos WHERE id = ?)",
            (svg, photo.id),
        )
        db.commit()
    answer = requests.get(f"{base}/photos/{photo.id}", timeout=5)
    assert answer.status_code == 200
    assert answer.headers["Content-Type"] == "application/octet-stream"
    assert answer.headers["Content-Disposition"].startswith("attachment")
    dialogs: list[str] = []
    page = open_page(browser, dialogs)
    page.goto(f"{base}/login")
    # opened in the app's origin, as the drawer's lightbox or a new tab would
    page.set_content(f'<iframe src="{base}/photos/{photo.id}"></iframe>')
    page.wait_for_timeout(1500)
    assert not dialogs, dialogs
    page.close()
