"""Duty-console benchmark: how fast a dispatch reaches another open screen, and how fast the
case queue renders with 5,000 open cases.

    .venv/bin/python bench/bench_duty.py [--runs 5] [--open 5000]

1. Dispatch → another screen: two Chromium pages on the tiny city, both signed in to
   /wall/duty; page A dispatches a registered case from the drawer; page B shows the
   "处置中" tab. Timed from the click on 派遣 in A until the case's row appears in B (the
   queue refreshes every ``refresh_seconds`` of the duty screen, 3 s by default, so the
   figure is dominated by that interval; also printed: click → A's own confirmation).
2. Queue with N open cases: N reports are filed into a copy of the tiny city, then the
   server-side queue (``Collaboration.queue``), its layout (``render_queue``) and, in
   Chromium, the switch to the 待受理 tab (click → rows replaced) are timed.

Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from adapters.case.contract import CaseFilter, CaseSource, NewCase  # noqa: E402
from adapters.sql.db import upgrade  # noqa: E402
from command_center.app import create_app  # noqa: E402
from command_center.demo.generator import generate  # noqa: E402
from command_center.runtime import start_background_server  # noqa: E402
from command_center.settings import Settings  # noqa: E402

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
NOW = datetime(2026, 11, 25, 10, 0)


def make_app(url: str, tmp: Path) -> object:
    screens = tmp / "screens.yaml"
    shutil.copy(ROOT / "screens.yaml", screens)
    settings = Settings(
        database_url=url,
        data_dir=tmp / "var",
        screens_file=screens,
        simulate=False,
        cache_seconds=1.0,
        secret_key=secrets.token_urlsafe(32),
    )
    return create_app(settings)


def registered_case(cc: object) -> int:
    adapter = cc.services.adapters.case  # type: ignore[attr-defined]
    some = adapter.list_cases(CaseFilter(limit=1))[0]
    case = adapter.report_case(
        NewCase(
            kind="event",
            class_code="0102",
            source=CaseSource.PUBLIC,
            description="bench",
            lon=some.lon,
            lat=some.lat,
        )
    )
    for action in ("accept", "register"):
        adapter.act(case.id, action, "bench")
    return case.id


def sign_in(page, base: str) -> None:  # noqa: ANN001
    page.goto(f"{base}/login?next=/wall/duty")
    page.fill("input[name=username]", "bench")
    page.fill("input[name=password]", "bench-pass-1")
    page.click("button[type=submit]")
    page.wait_for_selector(".cc-q-tabs .cc-q-count", timeout=120_000)


def bench_dispatch(url: str, tmp: Path, runs: int) -> None:
    cc = make_app(url, tmp)
    cc.collab.users.add("bench", "admin", "bench-pass-1", now=NOW)  # type: ignore[attr-defined]
    server, base = start_background_server(cc)
    to_other, to_self = [], []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            size = {"width": 1920, "height": 1080}
            ctx_a = browser.new_context(viewport=size)  # two officers: two sessions
            ctx_b = browser.new_context(viewport=size)
            a, b = ctx_a.new_page(), ctx_b.new_page()
            sign_in(a, base)
            sign_in(b, base)
            b.click(".cc-q-tabs label:has-text('处置中')")
            for _ in range(runs):
                case_id = registered_case(cc)
                a.evaluate(
                    "id => window.dash_clientside.set_props('cc-drawer-case',"
                    " {data: {case_id: id, t: Date.now()}})",
                    case_id,
                )
                a.wait_for_selector("[data-action=dispatch]", timeout=120_000)
                a.wait_for_function(
                    "document.querySelector('#cc-act-dept').innerText.trim().length > 1",
                    timeout=120_000,
                )
                start = time.perf_counter()
                a.click("[data-action=dispatch]")
                a.wait_for_selector(".cc-msg-ok", timeout=120_000)
                to_self.append(time.perf_counter() - start)
                b.wait_for_selector(f"tr[data-case-id='{case_id}']", timeout=120_000)
                to_other.append(time.perf_counter() - start)
                a.click("#cc-drawer-close")
                a.wait_for_selector(".cc-drawer:not(.open)", timeout=120_000)
            browser.close()
    finally:
        server.shutdown()
        cc.stop()  # type: ignore[attr-defined]
    print(f"dispatch → confirmation in the same console: {_fmt(to_self)}")
    print(f"dispatch → case shown on another open console (queue every 3 s): {_fmt(to_other)}")
    print(f"(load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


def bench_server_dispatch(url: str, tmp: Path, runs: int = 20) -> None:
    """The server's share: ``Collaboration.perform(dispatch)`` (role check, adapter
    transaction, event bus, audit entry, SMS queued), no browser."""
    cc = make_app(url, tmp)
    collab = cc.collab  # type: ignore[attr-defined]
    user = collab.users.add("bench-s", "admin", "bench-pass-1", now=NOW)
    collab.sms.set_contact("D02", "13800000000")
    times = []
    try:
        for _ in range(runs):
            case_id = registered_case(cc)
            t0 = time.perf_counter()
            out = collab.perform(
                user, case_id, "dispatch", department_code="D02", expected_status="registered"
            )
            times.append(time.perf_counter() - t0)
            assert out.ok, out.message
    finally:
        cc.stop()  # type: ignore[attr-defined]
    print(f"server: dispatch through adapter + audit + SMS queue: {_fmt(times, 'ms')}")


def bench_queue(url: str, tmp: Path, n_open: int) -> None:
    cc = make_app(url, tmp)
    adapter = cc.services.adapters.case  # type: ignore[attr-defined]
    some = adapter.list_cases(CaseFilter(limit=50))
    start = time.perf_counter()
    for i in range(n_open):
        near = some[i % len(some)]
        adapter.report_case(
            NewCase(
                kind="event",
                class_code=("0102", "0103", "0201", "0502")[i % 4],
                source=CaseSource.PUBLIC,
                description=f"bench {i}",
                lon=near.lon,
                lat=near.lat,
                address=f"测试路{i}号",
            )
        )
    print(f"filed {n_open} open cases in {time.perf_counter() - start:.1f} s")
    collab = cc.collab  # type: ignore[attr-defined]
    from layouts.case_queue import render_queue
    from layouts.wall import panel_context

    screen = cc.watcher.current.get("duty")  # type: ignore[attr-defined]
    spec = next(p for p in screen.all_pages()[0].panels if p.kind == "case_queue")
    panel = panel_context(screen, spec, cc.registry, "zh")  # type: ignore[attr-defined]
    server_times, layout_times = [], []
    for _ in range(5):
        cc.services._invalidate("bench", {})  # type: ignore[attr-defined]
        t0 = time.perf_counter()
        queue = collab.queue(clock_rows=200)
        t1 = time.perf_counter()
        items = queue["accept"]
        render_queue(items[:200], len(items), panel, collab.clock(), 5.0)
        t2 = time.perf_counter()
        server_times.append(t1 - t0)
        layout_times.append(t2 - t1)
    total_open = sum(len(v) for v in queue.values())
    print(f"queue over {total_open} open cases (fetch + 200 SLA clocks): {_fmt(server_times)}")
    print(f"queue layout of the first 200 rows: {_fmt(layout_times)}")

    collab.users.add("bench", "admin", "bench-pass-1", now=NOW)
    server, base = start_background_server(cc)
    tab_times = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            page = browser.new_page(viewport={"width": 1920, "height": 1080})
            t0 = time.perf_counter()
            sign_in(page, base)
            page.wait_for_selector(".cc-q-table tr[data-case-id]", timeout=120_000)
            print(f"console load → queue rows shown: {time.perf_counter() - t0:.2f} s")
            for step in ("accept", "handle") * 3:
                before = page.get_attribute(".cc-q-table tbody tr", "data-case-id")
                t0 = time.perf_counter()
                page.click(f".cc-q-tabs label:has(input[value={step}])")
                page.wait_for_function(
                    "([s, b]) => {"
                    " const i = document.querySelector(`.cc-q-tabs input[value=${s}]`);"
                    " const r = document.querySelector('.cc-q-table tbody tr');"
                    " return i && i.checked && r && r.dataset.caseId !== b; }",
                    arg=[step, before],
                    timeout=120_000,
                )
                if step == "accept":
                    tab_times.append(time.perf_counter() - t0)
                    rows = page.eval_on_selector_all(".cc-q-table tbody tr", "r => r.length")
            browser.close()
    finally:
        server.shutdown()
        cc.stop()  # type: ignore[attr-defined]
    print(f"tab switch to 待受理 ({rows} rows rendered of {n_open}+): {_fmt(tab_times)}")


def _fmt(values: list[float], unit: str = "s") -> str:
    if not values:
        return "no data"
    k = 1000 if unit == "ms" else 1
    return (
        f"median {statistics.median(values) * k:.2f} {unit}, min {min(values) * k:.2f} {unit}, "
        f"max {max(values) * k:.2f} {unit} (n={len(values)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--open", type=int, default=5000, dest="n_open")
    parser.add_argument("--only", choices=["dispatch", "queue"], help="run one part only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        base_db = tmp / "tiny.sqlite"
        url = f"sqlite:///{base_db}"
        upgrade(url)
        generate(url, "tiny", seed=7, now=NOW)
        for name in ("dispatch", "server", "queue"):
            (tmp / name).mkdir()
            shutil.copy(base_db, tmp / name / "city.sqlite")
        if args.only in (None, "dispatch"):
            db = f"sqlite:///{tmp / 'dispatch' / 'city.sqlite'}"
            bench_dispatch(db, tmp / "dispatch", args.runs)
            bench_server_dispatch(f"sqlite:///{tmp / 'server' / 'city.sqlite'}", tmp / "server")
        if args.only in (None, "queue"):
            bench_queue(f"sqlite:///{tmp / 'queue' / 'city.sqlite'}", tmp / "queue", args.n_open)


if __name__ == "__main__":
    main()
