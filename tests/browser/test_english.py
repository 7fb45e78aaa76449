"""Every default screen with ``?lang=en`` in Chromium, every page of it, and the signed-in
duty console with the drawer open on a case and on an alarm: no Chinese of the app's own
remains, and no label, button or heading is clipped. Screenshots: test-artifacts/en_*.png.

What may stay Chinese is the city's data: the database's own words (street, community and
grid names, case descriptions and addresses, people's names, department and camera names,
alarm titles) and the names of the class catalogue (a city's own list). Each visible line has
those removed; any Chinese left is the app's, and fails."""

from __future__ import annotations

import re
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from sqlalchemy import String, Text, create_engine, inspect, select, table

from command_center.i18n import catalogue
from tests.conftest import alarm_at_a_case

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENS = yaml.safe_load((ROOT / "screens.yaml").read_text(encoding="utf-8"))["screens"]
SLOW = 60_000
NOW = datetime(2026, 11, 25, 10, 0)
CJK = re.compile(r"[\u3400-\u9fff\uff01-\uff5e\u3000-\u303f]")
#: what a person reads as a label: clipped, it misleads ("Registere")
LABELS = (
    "button, th, label, h1, h2, h3, h4, .cc-panel-title, .cc-kpi-label, .cc-kv-k, "
    ".cc-status-pill, .cc-header-title, .cc-header-page, .cc-q-tab, .cc-stage-label, "
    ".cc-stats-label, .cc-grid-tile-label, .cc-ops-fig-label, .cc-card-title, .cc-alarm-level, "
    ".cc-legend span, .cc-funnel-title"
)


def data_words(db_url: str) -> list[str]:
    """Every text value of the city's database holding Chinese, and the class catalogue's
    names: longest first, so a name is removed before a shorter one inside it."""
    from command_center.domain.classes import DEPARTMENTS, load_catalogue

    engine = create_engine(db_url)
    words: set[str] = set()
    with engine.connect() as conn:
        for name in inspect(engine).get_table_names():
            columns = [
                c["name"]
                for c in inspect(engine).get_columns(name)
                if isinstance(c["type"], String | Text) and c["name"] != "geometry"
            ]
            for col in columns:
                rows = conn.execute(select(table(name, *[_col(col)])).distinct()).scalars()
                words.update(v for v in rows if isinstance(v, str) and CJK.search(v))
    engine.dispose()
    for cls in load_catalogue(None):
        words.update((cls.name, cls.big_name))
    words.update(name for _code, name, _en in DEPARTMENTS)
    parts = {p for w in words for p in re.split(r"[\s·,，;；()（）]+", w) if CJK.search(p)}
    return sorted(words | parts, key=len, reverse=True)


def _col(name: str):  # noqa: ANN202
    from sqlalchemy import column

    return column(name)


def app_chinese(lines: list[str], words: list[str]) -> list[str]:
    """The lines that still hold Chinese once the data's words are taken out."""
    left = []
    for line in lines:
        if not CJK.search(line):
            continue
        rest = line
        for w in words:
            if w in rest:
                rest = rest.replace(w, " ")
            if not CJK.search(rest):
                break
        # masked people's names (张*明) and single-character map marks of data
        rest = re.sub(r"[\u4e00-\u9fff]\*+[\u4e00-\u9fff]?", " ", rest)
        if CJK.search(rest):
            left.append(f"{line!r} -> {rest.strip()!r}")
    return left


VISIBLE_LINES = """() => {
  const out = document.body.innerText.split('\\n');
  document.querySelectorAll('svg text').forEach(n => {
    const r = n.getBoundingClientRect();
    if (r.width > 0 && r.height > 0) out.push(n.textContent);
  });
  return out.map(s => s.trim()).filter(Boolean);
}"""

CLIPPED = """([selector, owned]) => {
  const words = new Set(owned);
  const leaf = el => el.children.length === 0 && words.has(el.innerText.trim());
  return Array.from(document.querySelectorAll('body *')).filter(el => {
    if (!el.offsetParent || !el.innerText || !el.innerText.trim()) return false;
    if (!el.matches(selector) && !leaf(el)) return false;
    return el.clientWidth > 0 && el.scrollWidth > el.clientWidth + 1;
  }).map(el => (el.className || el.tagName) + ': ' + el.innerText.trim().slice(0, 60)
    + ' (' + el.scrollWidth + ' > ' + el.clientWidth + ')');
}"""


def english_words() -> list[str]:
    """The catalogue's English texts without placeholders: an element showing one of them
    whole is the app's own label, and must not be clipped."""
    return sorted(
        {str(e["en"]) for e in catalogue().values() if e.get("en") and "{" not in str(e["en"])}
    )


def settle(page, timeout_s: float = 20.0) -> None:  # noqa: ANN001
    """Until the active page's panels hold content (as tests/browser/test_walls.py waits);
    a panel that stays empty is that test's business, this one checks what is shown."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        empty = page.evaluate(
            """() => Array.from(document.querySelectorAll('.cc-page.active .cc-cell'))
               .filter(cell => {
                 const body = cell.querySelector('.cc-panel-body');
                 return !body || body.querySelector('.cc-loading')
                   || (!body.innerText.trim() && !body.querySelector('svg, canvas'));
               }).length"""
        )
        if not empty:
            break
        page.wait_for_timeout(250)
    page.wait_for_timeout(1000)


def check(page, db_url: str, name: str, artifacts: Path) -> list[str]:  # noqa: ANN001
    """Screenshot ``page`` and list the app's Chinese on it and its clipped labels; the
    data's words are read now, so what the test itself just stored counts as data."""
    words = data_words(db_url)
    page.screenshot(path=str(artifacts / f"en_{name}.png"))
    problems = [
        f"{name}: Chinese {line}" for line in app_chinese(page.evaluate(VISIBLE_LINES), words)
    ]
    problems += [f"{name}: clipped {c}" for c in page.evaluate(CLIPPED, [LABELS, english_words()])]
    return problems


def card_of(page, alarm_id: int) -> None:  # noqa: ANN001
    """Until the drawer shows the card of alarm ``alarm_id``."""
    page.wait_for_function(
        """(id) => { const card = document.querySelector('.cc-alarm-card');
                     return card && card.innerText.includes('#' + id); }""",
        arg=alarm_id,
        timeout=SLOW,
    )


@pytest.fixture()
def english_app(at_city_now, live_app):  # noqa: ANN001, ANN201
    return live_app


def test_every_screen_in_english_shows_no_chinese_of_the_app_and_clips_no_label(
    english_app, browser, artifacts
) -> None:  # noqa: ANN001
    cc, base = english_app
    db = cc.settings.effective_database_url
    problems: list[str] = []
    for spec in SCREENS:
        width, height = (int(v) for v in spec["size"].split("x"))
        page = browser.new_page(viewport={"width": width // 2, "height": height // 2})
        page.goto(f"{base}/wall/{spec['id']}?lang=en")
        page.wait_for_selector(".cc-canvas.cc-scaled", timeout=SLOW)
        pages = page.locator(".cc-page").count()
        for index in range(pages):
            if index:
                page.evaluate(
                    """(i) => document.querySelectorAll('.cc-page').forEach(
                         (p, j) => p.classList.toggle('active', j === i))""",
                    index,
                )
            settle(page)
            suffix = f"_p{index + 1}" if pages > 1 else ""
            problems += check(page, db, f"{spec['id']}{suffix}", artifacts)
        page.close()
    index = browser.new_page(viewport={"width": 1600, "height": 1000})
    index.goto(f"{base}/?lang=en")
    index.wait_for_selector(".cc-card", timeout=SLOW)
    problems += check(index, db, "index", artifacts)
    index.close()
    assert problems == [], "\n".join(problems)


def test_the_duty_console_in_english_with_the_drawer_on_a_case_and_on_an_alarm(
    english_app, browser, artifacts
) -> None:  # noqa: ANN001

    cc, base = english_app
    cc.collab.users.add("lead1", "shift_leader", "lead-pass-1", "值班长甲", now=NOW)
    db = cc.settings.effective_database_url
    alarm = alarm_at_a_case(
        cc, "english-0001", source="iot", level="critical", class_code="0404", title="道路积水超限"
    )
    # a class the catalogue does not know: the refusal must read in English
    unknown = alarm_at_a_case(cc, "english-0002", source="iot", class_code="0701", title="积水超限")
    page = browser.new_page(viewport={"width": 1920, "height": 1080})
    page.goto(f"{base}/login?next=/wall/duty%3Flang%3Den&lang=en")
    problems = check(page, db, "login", artifacts)
    page.fill("input[name=username]", "lead1")
    page.fill("input[name=password]", "lead-pass-1")
    page.click("button[type=submit]")
    page.wait_for_url("**/wall/duty**")
    if "lang=en" not in page.url:
        page.goto(f"{base}/wall/duty?lang=en")
    page.wait_for_selector(".cc-q-tabs .cc-q-count", timeout=SLOW)
    settle(page)
    problems += check(page, db, "duty", artifacts)

    # the drawer on an alarm: level, status and class in English, the class named
    row = page.locator(f"div[data-alarm='{alarm.id}'] .cc-alarm-title")
    row.first.wait_for(timeout=SLOW)
    row.first.dispatch_event("pointerdown", {"button": 0})
    page.wait_for_selector(".cc-drawer.open .cc-alarm-card", timeout=SLOW)
    card = page.inner_text(".cc-alarm-card")
    assert "II · Severe" in card and "open" in card
    assert "0404 · Emergencies · Road waterlogging" in card
    problems += check(page, db, "duty_drawer_alarm", artifacts)
    # an alarm of a class the catalogue lacks: the refusal reads in English
    page.locator(f"div[data-alarm='{unknown.id}'] .cc-alarm-title").first.dispatch_event(
        "pointerdown", {"button": 0}
    )
    card_of(page, unknown.id)
    assert "not in the class catalogue" in page.inner_text(".cc-alarm-card")
    page.click("[data-action=case_from_alarm]")
    page.wait_for_selector(".cc-msg-error", timeout=SLOW)
    refusal = page.inner_text(".cc-msg-error")
    assert "Unknown event class 0701" in refusal and not CJK.search(refusal)
    problems += check(page, db, "duty_drawer_refused", artifacts)

    # the alarm made a case: the drawer on the case
    page.locator(f"div[data-alarm='{alarm.id}'] .cc-alarm-title").first.dispatch_event(
        "pointerdown", {"button": 0}
    )
    card_of(page, alarm.id)
    page.click("[data-action=case_from_alarm]")
    page.wait_for_selector("[data-action=dispatch]", timeout=SLOW)
    page.wait_for_timeout(800)
    drawer = page.inner_text(".cc-drawer")
    assert "Road waterlogging" in drawer and "Registered" in drawer
    problems += check(page, db, "duty_drawer_case", artifacts)
    page.close()
    assert problems == [], "\n".join(problems)
