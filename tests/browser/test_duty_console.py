"""The duty console in Chromium: sign in, open an alarm, make it a case, dispatch it, put
it on the wall, and see the `main` wall show it; a kiosk without a session is read-only.
Screenshots of the console with the drawer open land in test-artifacts/."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.conftest import alarm_at_a_case

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


def wall_and_console(browser, base: str, name: str, password: str):  # noqa: ANN001, ANN201
    """The main wall (kiosk) and a console signed in as ``name``, both watched for errors and
    off-host requests: (wall, console, errors, off_host)."""
    errors: list[str] = []
    off_host: list[str] = []
    wall = browser.new_page(viewport={"width": 1920, "height": 720})
    watch(wall, errors, off_host)
    wall.goto(f"{base}/wall/main")
    wall.wait_for_selector(".cc-kpi", timeout=SLOW)
    console = browser.new_page(viewport={"width": 1920, "height": 1080})
    watch(console, errors, off_host)
    sign_in(console, base, name, password)
    return wall, console, errors, off_host


def test_sign_in_alarm_to_case_dispatch_and_the_main_wall_shows_it(
    live_app, browser, artifacts
) -> None:  # noqa: ANN001

    cc, base = live_app
    cc.collab.users.add("duty1", "shift_leader", "duty-pass-1", "值班长甲", now=NOW)
    cc.collab.users.add("disp1", "dispatcher", "disp-pass-1", "派遣员乙", now=NOW)
    alarm = alarm_at_a_case(cc, "browser-0001", level="critical", camera_id="CAM042")
    wall, console, errors, off_host = wall_and_console(browser, base, "duty1", "duty-pass-1")
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
        "() => document.querySelector('#cc-act-dept').innerText.trim().length > 1", timeout=SLOW
    )
    # click 3: dispatch to the suggested department
    console.click("[data-action=dispatch]")
    console.wait_for_selector(".cc-msg-ok", timeout=SLOW)
    # 延期 only once dispatched (催办 is there at every open stage)
    console.wait_for_selector("[data-action=extend]", timeout=SLOW)
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


ROOT = Path(__file__).resolve().parents[2]

#: Installed before a click: from then on, every change of the drawer is checked. The drawer
#: "lies" when it says the action is done (「已派遣」) while its card still shows the case as it
#: was; ``__shownAt`` is when it first shows the new state (status, step, actions) in full.
WATCH_DRAWER = """(args) => {
  const [done, fresh] = [args.done, new Function('return ' + args.fresh)()];
  Object.assign(window, {__lied: false, __shownAt: null, __clickAt: null});
  document.addEventListener('click', e => {
    if (e.target.closest('[data-action]')) { window.__clickAt = Date.now(); }
  }, {capture: true, once: true});
  const check = () => {
    const msg = document.querySelector('#cc-drawer-msg .cc-msg-ok');
    const said = msg && msg.innerText.includes(done);
    const shows = fresh();
    if (said && !shows) { window.__lied = true; }
    if (shows && window.__shownAt === null) { window.__shownAt = Date.now(); }
  };
  window.__drawerWatch && window.__drawerWatch.disconnect();
  window.__drawerWatch = new MutationObserver(check);
  window.__drawerWatch.observe(document.querySelector('#cc-drawer'),
    {subtree: true, childList: true, characterData: true, attributes: true});
}"""

#: The drawer shows a dispatched case: 处置中, a 派遣 step, and no dispatch form any more.
DISPATCHED = """() => {
  const pill = document.querySelector('.cc-drawer.open .cc-drawer-number .cc-status-pill');
  const steps = [...document.querySelectorAll('.cc-drawer.open .cc-step-action')]
    .map(e => e.innerText.trim());
  const form = document.querySelector('#cc-act-dept-wrap');
  return !!pill && pill.innerText.includes('处置中') && steps.includes('派遣')
    && !document.querySelector('[data-action=dispatch]')
    && !!form && getComputedStyle(form).display === 'none';
}"""

#: ... and after 催办, the newest step is the urge (the case stays 处置中).
URGED = """() => {
  const pill = document.querySelector('.cc-drawer.open .cc-drawer-number .cc-status-pill');
  const first = document.querySelector('.cc-drawer.open .cc-step .cc-step-action');
  return !!pill && pill.innerText.includes('处置中') && !!first
    && first.innerText.trim() === '催办' && !!document.querySelector('[data-action=urge]');
}"""


def readme_walkthrough_user_command() -> list[str]:
    """The command of the README's "Two commands" walkthrough that creates a user."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    [line] = [ln for ln in section.splitlines() if "users add NAME" in ln]
    return shlex.split(line.split("#", 1)[0])


def click_and_time(page, selector: str, done: str, fresh: str) -> float:  # noqa: ANN001
    """Click ``selector`` and wait until the drawer shows ``fresh``: the seconds from the
    click until it did; fails if it ever said ``done`` while showing the old state."""
    page.evaluate(WATCH_DRAWER, {"done": done, "fresh": fresh})
    page.click(selector)
    page.wait_for_function(fresh, timeout=SLOW, polling=50)
    page.wait_for_selector(f"#cc-drawer-msg .cc-msg-ok:has-text('{done}')", timeout=SLOW)
    page.wait_for_function("() => window.__shownAt !== null", timeout=SLOW)
    lied, shown_ms = page.evaluate("[window.__lied, window.__shownAt - window.__clickAt]")
    assert not lied, f"the drawer said {done} while it still showed the case as it was"
    return shown_ms / 1000


def test_the_readme_walkthrough_role_takes_an_alarm_to_a_dispatched_case_shown_at_once(
    live_app, browser, artifacts, tmp_path
) -> None:  # noqa: ANN001

    cc, base = live_app
    # the README's command, as a newcomer types it (the password given instead of typed)
    argv = [a.replace("NAME", "desk1") for a in readme_walkthrough_user_command()]
    assert argv[0].endswith("command-center") and argv[1:3] == ["users", "add"]
    env = {
        **os.environ,
        "CC_DATABASE_URL": cc.settings.effective_database_url,
        "CC_DATA_DIR": str(tmp_path / "cli"),
        "PYTHONPATH": str(ROOT),
    }
    made = subprocess.run(
        [sys.executable, "-c", "from command_center.cli import main; raise SystemExit(main())"]
        + argv[1:]
        + ["--password", "desk-pass-1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr[-2000:]
    role = cc.collab.users.get("desk1").role
    alarm = alarm_at_a_case(cc, "readme-walkthrough-1", source="iot", level="critical")
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    watch(page, errors, [])
    sign_in(page, base, "desk1", "desk-pass-1")
    row = page.locator(f"div[data-alarm='{alarm.id}'] .cc-alarm-title")
    row.first.wait_for(timeout=SLOW)
    row.first.dispatch_event("pointerdown", {"button": 0})
    page.wait_for_selector(".cc-drawer.open .cc-alarm-card", timeout=SLOW)
    page.click("[data-action=case_from_alarm]")  # 告警立案: accepted and registered at once
    page.wait_for_selector("[data-action=dispatch]", timeout=SLOW)
    page.wait_for_function(
        "() => document.querySelector('#cc-act-dept').innerText.trim().length > 1", timeout=SLOW
    )
    case_id = cc.alarms.store.get(alarm.id).case_id
    assert cc.services.case_detail(case_id).case.status == "registered"
    dispatched_in = click_and_time(page, "[data-action=dispatch]", "已派遣", DISPATCHED)
    case = cc.services.case_detail(case_id)
    assert case.case.status == "dispatched" and case.history[-1].actor == "desk1"
    page.screenshot(path=str(artifacts / "duty_drawer_walkthrough_dispatched.png"))
    urged_in = click_and_time(page, "[data-action=urge]", "已催办", URGED)
    assert cc.services.case_detail(case_id).history[-1].action == "urge"
    print(
        f"\n{role}: drawer shows the new state {dispatched_in:.2f} s after 派遣, "
        f"{urged_in:.2f} s after 催办"
    )
    assert dispatched_in < 5 and urged_in < 5, (dispatched_in, urged_in)
    assert not errors, errors
    page.close()


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


def reported_and_dispatched(cc, photos=()):  # noqa: ANN001, ANN201
    """A fresh case at an existing case's place, with ``photos``, dispatched to D02."""
    from adapters.case.contract import CaseAction, CaseFilter, CaseSource, NewCase

    adapter = cc.services.adapters.case
    some = adapter.list_cases(CaseFilter(limit=1))[0]
    case = adapter.report_case(
        NewCase(
            kind="event",
            class_code="0102",
            source=CaseSource.PUBLIC,
            description="路口暴露垃圾，市民随手拍",
            lon=some.lon,
            lat=some.lat,
            reporter="市民随手拍",
            photos=list(photos),
        )
    )
    for action in (CaseAction.ACCEPT, CaseAction.REGISTER):
        adapter.act(case.id, action, "值班长01")
    adapter.act(case.id, CaseAction.DISPATCH, "派遣员01", department_code="D02")
    return case


def test_the_drawer_shows_the_case_photos_and_a_report_back_attaches_one(
    live_app, browser, artifacts, tmp_path
) -> None:  # noqa: ANN001
    from PIL import Image

    from adapters.case.contract import NewPhoto, PhotoKind
    from command_center.demo.scenes import scene_jpeg

    cc, base = live_app
    cc.collab.users.add("disp2", "dispatcher", "disp-pass-2", "派遣员丙", now=NOW)
    report = NewPhoto(PhotoKind.REPORT, scene_jpeg("litter", "before"), "image/jpeg", "市民随手拍")
    case = reported_and_dispatched(cc, [report])
    errors: list[str] = []
    off_host: list[str] = []
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    watch(page, errors, off_host)
    sign_in(page, base, "disp2", "disp-pass-2")
    page.wait_for_selector(".cc-q-tabs .cc-q-count", timeout=SLOW)
    page.click(".cc-q-tabs label:has-text('处置中')")
    page.click(f".cc-q-table tr[data-case-id='{case.id}']", timeout=SLOW)
    page.wait_for_selector(".cc-drawer.open .cc-photo img", timeout=SLOW)
    loaded = "img => img.complete && img.naturalWidth > 0"
    page.wait_for_function(
        f"() => [...document.querySelectorAll('.cc-photo img')].every({loaded})", timeout=SLOW
    )
    assert "上报" in page.inner_text(".cc-photos") and "现场照片（1）" in page.inner_text(
        ".cc-photos"
    )
    # click to enlarge: the full photo over the page, Esc closes it
    page.click(".cc-photo >> nth=0")
    page.wait_for_selector("#cc-lightbox.show", timeout=SLOW)
    page.wait_for_function(
        f"() => ({loaded})(document.querySelector('#cc-lightbox-img'))", timeout=SLOW
    )
    [photo] = cc.services.case_detail(case.id).photos
    assert page.get_attribute("#cc-lightbox-img", "src") == f"/photos/{photo.id}"
    assert page.evaluate("document.querySelector('#cc-lightbox-img').naturalWidth") == 640
    page.keyboard.press("Escape")
    page.wait_for_selector("#cc-lightbox", state="hidden", timeout=SLOW)
    # report back with the department's photo of the cleaned site
    picture = tmp_path / "after.png"
    Image.new("RGB", (1200, 900), (40, 150, 90)).save(picture)
    page.set_input_files("#cc-act-photo input[type=file]", str(picture))
    page.wait_for_selector(".cc-act-photo-preview img", timeout=SLOW)
    page.click("[data-action=report_back]")
    page.wait_for_selector(".cc-msg-ok", timeout=SLOW)
    page.wait_for_function(
        "() => document.querySelectorAll('.cc-drawer.open .cc-photo img').length === 2",
        timeout=SLOW,
    )
    page.wait_for_function(
        f"() => [...document.querySelectorAll('.cc-photo img')].every({loaded})", timeout=SLOW
    )
    assert "处置后" in page.inner_text(".cc-photos")
    assert not page.query_selector(".cc-act-photo-preview img")  # sent: the form is empty
    page.screenshot(path=str(artifacts / "duty_drawer_photos.png"))
    after = cc.services.case_detail(case.id)
    assert after.case.status == "handled"
    assert [(p.kind, p.by, p.width) for p in after.photos][1] == (PhotoKind.AFTER, "派遣员丙", 1200)
    assert not off_host, off_host
    assert not errors, errors
    page.close()


def crumbs_of(page) -> list[str]:  # noqa: ANN001
    return page.locator("[data-kind=city_map] .cc-crumb").all_inner_texts()


def test_a_region_put_on_the_wall_from_the_console_is_followed_then_released(
    at_city_now, live_app, browser, artifacts
) -> None:  # noqa: ANN001
    # at the tiny city's now: the ranking's period must hold the city's cases (from late
    # December on, the real clock's period held none and the one-street ranking was empty)
    cc, base = live_app
    officer = cc.collab.users.add("duty3", "duty_officer", "duty-pass-3", "值班员丁", now=NOW)
    first, second = cc.services.regions("street").value[:2]
    wall, console, errors, off_host = wall_and_console(browser, base, "duty3", "duty-pass-3")
    console.wait_for_selector("#cc-region-push.show", timeout=SLOW)
    console.click("#cc-region-push-pick")
    console.keyboard.type(first.name)
    console.keyboard.press("Enter")
    console.click("#cc-region-push-go")
    console.wait_for_selector(f".cc-region-push-msg:has-text('{first.name}')", timeout=SLOW)
    # the main wall follows: its banner, its map's breadcrumb, its ranking (one street left)
    wall.wait_for_selector("#cc-focus-card.show .cc-focus-region", timeout=SLOW)
    assert first.name in wall.inner_text("#cc-focus-card")
    wall.wait_for_function(
        "name => [...document.querySelectorAll('[data-kind=city_map] .cc-crumb')]"
        ".some(c => c.innerText.includes(name))",
        arg=first.name,
        timeout=SLOW,
    )
    wall.wait_for_function(
        "() => document.querySelectorAll('[data-panel=ranking] tbody tr').length === 1",
        timeout=SLOW,
    )
    time.sleep(2)  # the flight over
    wall.screenshot(path=str(artifacts / "main_wall_region_focus.png"))
    assert "put_on_wall" in [e.action for e in cc.collab.audit.entries(user_name="duty3")]
    # another region for a short while: shown, then the wall goes back to the whole district
    assert cc.collab.put_on_wall(officer, region_code=second.code, seconds=8).ok
    wall.wait_for_selector(f"#cc-focus-card.show:has-text('{second.name}')", timeout=SLOW)
    wall.wait_for_selector("#cc-focus-card.show", state="detached", timeout=SLOW)
    wall.wait_for_function(
        "() => document.querySelectorAll('[data-panel=ranking] tbody tr').length > 1",
        timeout=SLOW,
    )
    crumbs = crumbs_of(wall)
    assert not any(first.name in c or second.name in c for c in crumbs), crumbs
    assert not off_host, off_host
    assert not errors, errors
    console.close()
    wall.close()


MAIN_WITH_TOUR = """screens:
  - id: main
    title: 主屏（巡游）
    size: 1920x1080
    grid: {columns: 1, rows: 1}
    panels:
      - {id: map, kind: city_map, col: 1, row: 1,
         options: {layers: [boundaries, cases], level: community, tour_seconds: 1}}
"""


def map_view(page) -> str:  # noqa: ANN001
    return page.evaluate(
        "() => document.querySelector('[data-kind=city_map] .leaflet-map-pane').style.transform"
        " + '|' + document.querySelector('[data-kind=city_map] .leaflet-proxy')?.style.transform"
    )


def views_over(page, seconds: float) -> list[str]:  # noqa: ANN001
    views = []
    for _ in range(int(seconds * 2)):
        views.append(map_view(page))
        page.wait_for_timeout(500)
    return views


def test_the_street_tour_waits_while_a_case_is_in_focus_and_resumes_after(
    city_copy, tmp_path, browser
) -> None:  # noqa: ANN001
    from adapters.case.contract import CaseFilter
    from command_center.app import create_app
    from command_center.runtime import start_background_server
    from tests.conftest import make_settings

    screens = tmp_path / "main-tour.yaml"
    screens.write_text(MAIN_WITH_TOUR, encoding="utf-8")
    cc = create_app(make_settings(city_copy, tmp_path, screens=screens))
    server, base = start_background_server(cc)
    try:
        officer = cc.collab.users.add("duty4", "duty_officer", "duty-pass-4", now=NOW)
        case = cc.services.adapters.case.list_cases(CaseFilter(limit=1))[0]
        page = browser.new_page(viewport={"width": 960, "height": 540})
        errors: list[str] = []
        watch(page, errors, [])
        page.goto(f"{base}/wall/main")
        page.wait_for_selector("[data-kind=city_map] .leaflet-interactive", timeout=SLOW)
        assert len(set(views_over(page, 4))) >= 3, "the tour does not run"
        assert cc.collab.put_on_wall(officer, case_id=case.id, seconds=14).ok
        page.wait_for_selector("#cc-focus-card.show .cc-focus-number", timeout=SLOW)
        page.wait_for_timeout(4000)  # the flight to the case (and its second pass) is over
        held = views_over(page, 5)
        assert len(set(held)) == 1, "the tour pulled the map away from the case in focus"
        page.wait_for_selector("#cc-focus-card.show", state="detached", timeout=SLOW)
        page.wait_for_timeout(1500)  # the flight home
        assert len(set(views_over(page, 5))) >= 3, "the tour did not resume"
        assert not errors, errors
        page.close()
    finally:
        server.shutdown()
        cc.stop()


def test_merge_a_duplicate_urge_at_register_and_confirm_on_site_with_the_verify_stage(
    city_copy, tmp_path, browser, artifacts
) -> None:  # noqa: ANN001
    """With CC_WORKFLOW_VERIFY_STAGE on: a shift leader merges a duplicate report into the
    case it repeats (the drawer links both ways), urges that case while it waits at 待立案
    (the shift leader's desk is told by SMS), and a duty officer confirms another report
    from the 待核实 tab."""
    from adapters.case.contract import CaseAction, CaseFilter, CaseSource, NewCase
    from command_center.app import create_app
    from command_center.runtime import start_background_server
    from tests.conftest import make_settings

    cc = create_app(make_settings(city_copy, tmp_path, workflow_verify_stage=True))
    server, base = start_background_server(cc)
    try:
        cc.collab.users.add("lead5", "shift_leader", "lead-pass-5", "值班长戊", now=NOW)
        cc.collab.users.add("duty5", "duty_officer", "duty-pass-5", "值班员己", now=NOW)
        cc.collab.sms.set_contact("shift_leader", "13900000005", "值班长手机")
        adapter = cc.services.adapters.case
        some = adapter.list_cases(CaseFilter(limit=1))[0]

        def report(text: str):  # noqa: ANN202
            return adapter.report_case(
                NewCase(
                    kind="event",
                    class_code="0102",
                    source=CaseSource.PUBLIC,
                    description=text,
                    lon=some.lon,
                    lat=some.lat,
                    reporter="市民随手拍",
                )
            )

        waiting = report("路边垃圾无人清运")
        adapter.act(waiting.id, CaseAction.ACCEPT, "受理员01")  # 待核实
        master = report("小区门口暴露垃圾")
        adapter.act(master.id, CaseAction.ACCEPT, "受理员01")
        adapter.act(master.id, CaseAction.CONFIRM, "监督员01", "现场属实")  # now 待立案
        dup = report("小区门口又见垃圾堆")  # 待受理: the same problem again
        errors: list[str] = []
        off_host: list[str] = []
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        watch(page, errors, off_host)
        sign_in(page, base, "lead5", "lead-pass-5")
        page.wait_for_selector(".cc-q-tabs label:has-text('待核实')", timeout=SLOW)
        page.click(".cc-q-tabs label:has-text('待受理')")
        page.click(f".cc-q-table tr[data-case-id='{dup.id}']", timeout=SLOW)
        page.wait_for_selector(".cc-drawer.open [data-action=merge]", timeout=SLOW)
        # the newest open case of the class nearby is offered first
        page.wait_for_function(
            "n => document.querySelector('#cc-act-master').innerText.includes(n)",
            arg=master.number,
            timeout=SLOW,
        )
        page.screenshot(path=str(artifacts / "duty_drawer_merge.png"))
        page.click("[data-action=merge]")
        page.wait_for_selector(".cc-msg-ok", timeout=SLOW)
        page.wait_for_selector(f".cc-case-link:has-text('{master.number}')", timeout=SLOW)
        assert "已合并" in page.inner_text(".cc-drawer-number")
        assert master.number in page.inner_text(".cc-history")
        assert not page.query_selector("[data-action]")  # a merged case is final
        stored = cc.services.case_detail(dup.id).case
        assert stored.status == "merged" and stored.merged_into == master.id
        # the master, opened from the link: its history names the duplicate; urge it at 待立案
        page.click(".cc-case-link")
        page.wait_for_selector(f".cc-drawer-number:has-text('{master.number}')", timeout=SLOW)
        page.wait_for_selector(f".cc-history:has-text('{dup.number}')", timeout=SLOW)
        assert "合并重复上报" in page.inner_text(".cc-history")
        page.click("[data-action=urge]")
        page.wait_for_selector(".cc-msg-ok:has-text('值班长')", timeout=SLOW)
        page.wait_for_selector(".cc-history .cc-step-action:has-text('催办')", timeout=SLOW)
        page.screenshot(path=str(artifacts / "duty_drawer_urge_register.png"))
        [sms] = cc.collab.sms.for_case(master.id)
        assert (sms.action, sms.department_code, sms.mobile) == (
            "urge",
            "shift_leader",
            "13900000005",
        )
        assert cc.services.case_detail(master.id).case.status == "accepted"
        page.close()
        # a duty officer (受理员 and 监督员) confirms the waiting report on site
        page = browser.new_page(viewport={"width": 1920, "height": 1080})
        watch(page, errors, off_host)
        sign_in(page, base, "duty5", "duty-pass-5")
        page.click(".cc-q-tabs label:has-text('待核实')", timeout=SLOW)
        page.click(f".cc-q-table tr[data-case-id='{waiting.id}']", timeout=SLOW)
        page.wait_for_selector(".cc-drawer.open [data-action=confirm]", timeout=SLOW)
        assert "待核实" in page.inner_text(".cc-drawer-number")
        page.screenshot(path=str(artifacts / "duty_drawer_confirm.png"))
        page.fill("#cc-act-note", "现场核实属实")
        page.click("[data-action=confirm]")
        page.wait_for_selector(".cc-msg-ok", timeout=SLOW)
        page.wait_for_selector(".cc-drawer-number:has-text('已受理')", timeout=SLOW)
        assert not page.query_selector("[data-action=confirm]")
        after = cc.services.case_detail(waiting.id)
        assert after.case.status == "accepted"
        assert [s.action for s in after.history] == ["report", "accept", "confirm"]
        actions = {e.action for e in cc.collab.audit.entries(limit=50)}
        assert {"merge", "urge", "confirm"} <= actions
        assert not off_host, off_host
        assert not errors, errors
        page.close()
    finally:
        server.shutdown()
        cc.stop()
