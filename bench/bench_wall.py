"""Wall rendering benchmark: request -> fully rendered wall in headless Chromium, cold and
warm, and the server's memory with every default screen open.

    .venv/bin/python bench/bench_wall.py [--db sqlite:///var/command_center.sqlite] [--runs 3]
                                         [--time main,stats,appraisal]

Uses the demo city in var/ when present (run `make demo` once), else generates `tiny`.
The server runs as its own process (`command-center serve`) so its memory is its own.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FILLED = """() => {
  const cells = Array.from(document.querySelectorAll('.cc-page.active .cc-cell'));
  return cells.length > 0 && cells.every(cell => {
    const body = cell.querySelector('.cc-panel-body');
    if (!body || body.querySelector('.cc-loading')) return false;
    if (cell.dataset.kind === 'city_map')
      return body.querySelectorAll('path.leaflet-interactive').length > 0;
    return body.innerText.trim().length > 0 || body.querySelector('svg');
  });
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser()
    default_db = ROOT / "var" / "command_center.sqlite"
    parser.add_argument("--db", default=f"sqlite:///{default_db}" if default_db.exists() else "")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--time", default="main", help="comma-separated screens to time")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cc-bench-"))
    db = args.db
    if not db:
        from adapters.sql.db import upgrade
        from command_center.demo.generator import generate

        db = f"sqlite:///{tmp / 'tiny.sqlite'}"
        upgrade(db)
        generate(db, "tiny")
    port = free_port()
    env = {**os.environ, "CC_DATABASE_URL": db, "CC_PORT": str(port), "CC_DATA_DIR": str(tmp)}
    env["CC_SECRET_KEY"] = secrets.token_urlsafe(32)
    server = subprocess.Popen(
        [sys.executable, "-m", "command_center.cli", "serve"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        idle = rss_mb(server.pid)
        print(f"database: {db.split('/')[-1]}   server pid {server.pid}, idle RSS {idle:.0f} MB")
        screens = [s["id"] for s in yaml.safe_load((ROOT / "screens.yaml").read_text())["screens"]]
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
            for screen in args.time.split(","):
                for run in range(args.runs):
                    page = browser.new_page(viewport={"width": 2880, "height": 1080})
                    start = time.perf_counter()
                    page.goto(f"{base}/wall/{screen}")
                    page.wait_for_function(FILLED, timeout=60000, polling=50)
                    took = time.perf_counter() - start
                    page.close()
                    print(
                        f"{screen} wall fully rendered, {'cold' if run == 0 else 'warm'} run "
                        f"{run + 1}: {took * 1000:.0f} ms"
                    )
            pages = []
            for screen in screens:
                page = browser.new_page(viewport={"width": 1920, "height": 1080})
                page.goto(f"{base}/wall/{screen}")
                page.wait_for_function(FILLED, timeout=60000, polling=100)
                pages.append(page)
            time.sleep(10)  # a few refresh cycles with every screen open
            print(
                f"server RSS with all {len(screens)} default screens open for 10 s: "
                f"{rss_mb(server.pid):.0f} MB"
            )
            browser.close()
    finally:
        server.terminate()
        server.wait(10)


if __name__ == "__main__":
    main()
