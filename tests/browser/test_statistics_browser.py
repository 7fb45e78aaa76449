"""统计分析 and 监督考核 in real Chromium: a click on a chart filters the other panels, the
console's period picker and the drill from a ranking row; screenshots of both screens."""

from __future__ import annotations

import pytest
from test_walls import PageWatch, wait_for_panels

pytestmark = pytest.mark.browser

PLOT_TOTAL = """(panel) => {
    const plot = document.querySelector(`[data-panel="${panel}"] .js-plotly-plot`);
    if (!plot || !plot.data) return null;
    const trace = plot.data[0];
    if (trace.type === 'sunburst' || trace.type === 'treemap')
        return trace.values.filter((v, i) => !trace.parents[i]).reduce((a, b) => a + b, 0);
    return (trace.x || trace.values).reduce((a, b) => a + b, 0);
}"""


def plot_total(page, panel: str) -> float | None:  # noqa: ANN001
    return page.evaluate(PLOT_TOTAL, panel)


def wait_for_change(page, panel: str, before: float, timeout: float = 15.0) -> float:  # noqa: ANN001
    deadline = page.evaluate("Date.now()") + timeout * 1000
    while page.evaluate("Date.now()") < deadline:
        now = plot_total(page, panel)
        if now is not None and now != before:
            return now
        page.wait_for_timeout(250)
    raise AssertionError(f"{panel} still shows {before} after the filter")


def test_clicking_a_source_bar_and_a_region_filters_the_stats_screen(
    at_city_now, live_app, browser, artifacts
) -> None:  # noqa: ANN001
    _cc, base = live_app
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    watch = PageWatch(page)
    page.goto(f"{base}/wall/stats")
    page.wait_for_selector(".cc-canvas.cc-scaled", timeout=40000)  # a loaded machine
    wait_for_panels(page, timeout=40)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "stats-wall.png"))
    # 平均处置时长 with both units, in the trend panel's summary line
    summary = page.locator('[data-panel="trend"] .cc-stats-summary').inner_text()
    assert "平均处置时长" in summary and "工作时" in summary and "小时" in summary, summary

    all_classes = plot_total(page, "classes")
    assert all_classes and all_classes > 0
    # the longest source bar is the last point drawn (bars run bottom-up)
    bars = page.locator('[data-panel="sources"] .bars .point path')
    bars.nth(bars.count() - 1).click(force=True)
    filtered = wait_for_change(page, "classes", all_classes)
    assert 0 < filtered < all_classes

    # a click on the street map narrows the other panels to that street
    page.wait_for_timeout(1500)  # let the map re-render under the new filter first
    region = page.locator('[data-panel="region"] .js-plotly-plot').first
    region.wait_for(state="visible", timeout=15000)
    box = region.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    narrowed = wait_for_change(page, "classes", filtered)
    assert 0 <= narrowed < filtered
    page.wait_for_timeout(800)
    page.screenshot(path=str(artifacts / "stats-wall-filtered.png"))
    watch.assert_clean()
    page.close()


def file_overdue_case(cc) -> str:  # noqa: ANN001
    """Report and dispatch a case ten days ago so that it is overdue now; returns the name
    of the department it went to."""
    from datetime import timedelta

    from adapters.case.contract import CaseAction, CaseSource, NewCase
    from command_center.domain.calendar import local_now

    case_adapter = cc.adapters.case
    grid = cc.adapters.gis.regions("grid")[0]
    at = local_now() - timedelta(days=10)
    case = case_adapter.report_case(
        NewCase(
            kind="event",
            class_code="0104",
            source=CaseSource.SUPERVISOR,
            description="道路不洁",
            lon=grid.centroid[0],
            lat=grid.centroid[1],
            reported_at=at,
        )
    )
    for action in (CaseAction.ACCEPT, CaseAction.REGISTER):
        case_adapter.act(case.id, action, "测试员", at=at)
    case_adapter.act(case.id, CaseAction.DISPATCH, "测试员", department_code="D01", at=at)
    return {d.code: d.name for d in case_adapter.departments()}["D01"]


def test_appraisal_console_picks_a_period_and_drills_to_overdue_cases(
    at_city_now, live_app, browser, artifacts
) -> None:  # noqa: ANN001
    cc, base = live_app
    late_department = file_overdue_case(cc)
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    watch = PageWatch(page)
    page.goto(f"{base}/wall/appraisal")
    page.wait_for_selector(".cc-canvas.cc-scaled", timeout=40000)  # a loaded machine
    wait_for_panels(page, timeout=40)
    page.screenshot(path=str(artifacts / "appraisal-console.png"))
    summary = page.locator('[data-panel="summary"] .cc-kpi-handling').inner_text()
    assert "工作时" in summary and "小时" in summary, summary
    head = page.locator('[data-panel="departments"] thead').inner_text()
    assert "平均处置时长" in head and "工作时/小时" in head, head

    chips = page.locator('[data-panel="filter"] .cc-chip-period')
    month_label = chips.inner_text()
    assert "月" in month_label
    page.locator('[data-panel="filter"] .cc-stats-grain').click()
    page.get_by_text("年", exact=True).click()
    page.wait_for_function(
        """(before) => {
            const chip = document.querySelector('[data-panel="filter"] .cc-chip-period');
            return chip && chip.innerText !== before;
        }""",
        arg=month_label,
        timeout=15000,
    )
    assert chips.inner_text().endswith("年")

    rows = page.locator('[data-panel="departments"] .cc-drill-row')
    rows.first.wait_for(timeout=15000)
    name = rows.first.locator(".cc-rank-name").inner_text()
    rows.first.click()
    title = page.locator('[data-panel="overdue"] .cc-drill-title')
    title.wait_for(timeout=15000)
    assert name in title.inner_text()
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / "appraisal-console-drill.png"))
    # a department with an overdue case: the case opens in the case drawer
    late = page.locator('[data-panel="departments"] .cc-drill-row', has_text=late_department)
    late.first.wait_for(timeout=15000)
    late.first.click()
    overdue = page.locator('[data-panel="overdue"] tr[data-case-id]')
    overdue.first.wait_for(timeout=15000)
    number = overdue.first.locator(".cc-case-number").inner_text()
    overdue.first.click()
    page.wait_for_selector(".cc-drawer.open .cc-drawer-card", timeout=15000)
    assert number in page.inner_text(".cc-drawer.open")
    watch.assert_clean()
    page.close()


@pytest.mark.parametrize("page_index", [0, 1, 3])
def test_briefing_pages_render_with_rankings_and_export(
    at_city_now, live_app, browser, artifacts, page_index: int
) -> None:  # noqa: ANN001
    cc, base = live_app
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    # pages rotate by wall-clock time (30 s each): pin the clock on the wanted page
    page.add_init_script(f"const t0 = {page_index * 30 + 5} * 1000; Date.now = () => t0;")
    watch = PageWatch(page)
    if page_index == 0:  # the export starts Chromium: a signed-in leader's, not a kiosk's
        cc.collab.users.add("lingdao", "leader", "leader-password", now=cc.collab.clock())
        page.goto(f"{base}/login?next=/wall/briefing")
        page.fill("input[name=username]", "lingdao")
        page.fill("input[name=password]", "leader-password")
        page.click("button[type=submit]")
        page.wait_for_url("**/wall/briefing")
    else:
        page.goto(f"{base}/wall/briefing")
    page.wait_for_selector(".cc-canvas.cc-scaled", timeout=40000)  # a loaded machine
    wait_for_panels(page, timeout=40)
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts / f"briefing-page{page_index + 1}.png"))
    if page_index == 1:  # 考核排名: the month's 平均处置时长 with its units
        tile = page.locator('[data-panel="summary"] .cc-kpi-handling').inner_text()
        assert "工作时" in tile and "小时" in tile, tile
    if page_index == 0:
        # the export button hands the day's briefing to the browser as a PDF download
        with page.expect_download(timeout=180_000) as download:
            page.locator(".cc-briefing-button").first.click()
        name = download.value.suggested_filename
        assert name.startswith("briefing-") and name.endswith("-A4.pdf")
        saved = artifacts / "briefing-export.pdf"
        download.value.save_as(saved)
        assert saved.read_bytes()[:5] == b"%PDF-"
    watch.assert_clean()
    page.close()
