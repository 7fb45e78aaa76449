"""Alarm benchmarks: prints figures, asserts nothing.

1. Latency from ``POST /api/alarms`` to receipt by 50 Socket.IO clients (p50/p99), against a
   bare Flask-SocketIO emit on the same machine in the same run (the floor: same transport,
   no validation, no database).
2. Sustained ingest rate with persistence: HTTP API in one process, and two gunicorn
   processes sharing Redis and the database (``--processes``).
3. Memory per connected client: a gunicorn process's RSS before and after connecting clients.
4. Ingest rate on PostgreSQL (a fresh schema with a random name in the database of
   ``--postgres``, dropped after), one process, HTTP and in-process.
5. A wall under a burst (``--burst 1000`` alarms POSTed by 8 threads, spread over the
   city's unit grids) in headless Chromium: the longest task of the page's main thread
   (from a Chromium trace, in wall-clock and in CPU time: on a shared machine the former
   grows with the load, the latter is what the task cost) during the burst and in the 10 s
   before, the page's CPU, and how long until the wall shows the burst (its ticker counts
   them all), per wall of ``--walls``. The app runs under gunicorn
   over a generated tiny city; ``--app-root DIR`` serves another checkout (e.g. an older
   commit unpacked with ``git archive``) to compare before and after a change.

    .venv/bin/python bench/bench_alarms.py [--clients 50] [--alarms 40] [--ingest 1000]
        [--only latency,postgres,wall] [--walls main,ops] [--burst 1000]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests
import socketio

ROOT = Path(__file__).resolve().parents[1]
KEY = "bench-key"
SCREENS = """
screens:
  - id: main
    title: bench
    size: 1920x1080
    grid: {columns: 12, rows: 6, gap: 10}
    panels:
      - {id: health, kind: ops_health, col: 1, row: 1, col_span: 12, row_span: 6}
"""


def body(n: int, run: str) -> dict[str, Any]:
    return {
        "source": "iot",
        "source_id": f"{run}-{n}",
        "level": "重大",
        "class_code": f"{n % 10000:04d}",
        "title": "积水超限",
        "grid_code": "11010100100101",
        "lon": 116.4,
        "lat": 39.93,
    }


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Listeners:
    """N Socket.IO clients recording when each alarm id reached each of them."""

    def __init__(self, base: str, n: int, key: Callable[[Any], Any]) -> None:
        self.clients: list[socketio.Client] = []
        self.received: dict[Any, list[float]] = {}
        self.lock = threading.Lock()
        self.key = key
        for i in range(n):
            client = socketio.Client(reconnection=False)
            client.on("alarm", self._record)
            client.connect(
                base, transports=["websocket"], auth={"screen": f"bench-{i}"}, wait_timeout=10
            )
            self.clients.append(client)

    def _record(self, data: Any) -> None:
        at = time.perf_counter()
        with self.lock:
            self.received.setdefault(self.key(data), []).append(at)

    def wait(self, key: Any, count: int, timeout: float = 10) -> list[float]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                got = list(self.received.get(key, []))
            if len(got) >= count:
                return got
            time.sleep(0.002)
        return got

    def close(self) -> None:
        with ThreadPoolExecutor(16) as pool:
            list(pool.map(lambda c: c.disconnect(), self.clients))


def measure(
    base: str,
    path: str,
    payloads: list[tuple[Any, dict[str, Any]]],
    clients: int,
    headers: dict[str, str],
) -> list[float]:
    listeners = Listeners(base, clients, key=lambda d: d.get("source_id"))
    session = requests.Session()
    latencies: list[float] = []
    try:
        for key, payload in payloads:
            started = time.perf_counter()
            answer = session.post(f"{base}{path}", json=payload, headers=headers, timeout=10)
            answer.raise_for_status()
            for at in listeners.wait(key, clients):
                latencies.append((at - started) * 1000)
            time.sleep(0.02)
    finally:
        listeners.close()
    return latencies


def floor_app() -> tuple[Any, str]:
    """A bare Flask-SocketIO app: POST /emit broadcasts the JSON body, nothing else."""
    from flask import Flask, request
    from flask_socketio import SocketIO
    from werkzeug.serving import make_server

    app = Flask("floor")
    sio = SocketIO(app, async_mode="threading")

    @app.post("/emit")
    def emit() -> Any:
        sio.emit("alarm", request.get_json())
        return "", 204

    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def cc_app(tmp: Path, database_url: str = "", **overrides: Any) -> tuple[Any, Any, str]:
    from adapters.sql.db import upgrade
    from command_center.app import create_app
    from command_center.runtime import start_background_server
    from command_center.settings import Settings

    url = database_url or f"sqlite:///{tmp / 'bench.sqlite'}"
    upgrade(url)
    (tmp / "screens.yaml").write_text(SCREENS, encoding="utf-8")
    settings = Settings(
        database_url=url,
        data_dir=tmp / "var",
        screens_file=tmp / "screens.yaml",
        simulate=False,
        api_keys={"iot": KEY},
        api_rate_limit="1000000/minute",  # the bench measures ingest, not the limiter
        alarm_fold_seconds=0,
        secret_key=secrets.token_urlsafe(32),
        **overrides,
    )
    cc = create_app(settings, start_background=False)
    server, base = start_background_server(cc)
    return cc, server, base


def ingest_rate(bases: list[str], n: int, run: str, threads: int = 8) -> float:
    sessions = threading.local()

    def post(i: int) -> int:
        if not hasattr(sessions, "s"):
            sessions.s = requests.Session()
        base = bases[i % len(bases)]
        answer = sessions.s.post(
            f"{base}/api/alarms", json=body(i, run), headers={"X-API-Key": KEY}, timeout=30
        )
        return answer.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(threads) as pool:
        codes = list(pool.map(post, range(n)))
    elapsed = time.perf_counter() - started
    bad = [c for c in codes if c not in (200, 201)]
    if bad:
        print(f"  ! {len(bad)} requests failed: {sorted(set(bad))}")
    return n / elapsed


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def gunicorns(tmp: Path, count: int, redis_url: str) -> tuple[list[subprocess.Popen], list[str]]:
    from adapters.sql.db import upgrade

    tmp.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{tmp / 'multi.sqlite'}"
    upgrade(url)
    (tmp / "screens.yaml").write_text(SCREENS, encoding="utf-8")
    env = {
        **os.environ,
        "CC_DATABASE_URL": url,
        "CC_DATA_DIR": str(tmp / "var"),
        "CC_SCREENS_FILE": str(tmp / "screens.yaml"),
        "CC_SIMULATE": "false",
        "CC_REDIS_URL": redis_url,
        "CC_REDIS_CHANNEL": f"cc-bench-{os.getpid()}",
        "CC_SECRET_KEY": secrets.token_urlsafe(32),
        "CC_API_KEYS": json.dumps({"iot": KEY}),
        "CC_API_RATE_LIMIT": "1000000/minute",
        "CC_ALARM_FOLD_SECONDS": "0",
    }
    if not redis_url:
        env.pop("CC_REDIS_URL")
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    procs, bases = [], []
    for _ in range(count):
        port = free_port()
        procs.append(
            subprocess.Popen(
                [
                    gunicorn,
                    "-w",
                    "1",
                    "--threads",
                    "300",
                    "--graceful-timeout",
                    "2",
                    "-b",
                    f"127.0.0.1:{port}",
                    "command_center.wsgi:app",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        bases.append(f"http://127.0.0.1:{port}")
    for base in bases:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if requests.get(
                    f"{base}/api/alarms?since=0", headers={"X-API-Key": KEY}, timeout=5
                ).ok:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.3)
    return procs, bases


def stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()


def worker_rss_kb(master_pid: int) -> int:
    """RSS of the gunicorn worker (the master's child) in kB."""
    children = Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split()
    pid = int(children[0]) if children else master_pid
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def postgres_ingest(server_url: str, n: int, run: str) -> None:
    """Ingest rate with the alarm store on PostgreSQL: a fresh schema, dropped after."""
    import uuid

    from sqlalchemy import create_engine, text

    schema = f"bench_alarms_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - a bench reports, it does not fail
        print(f"ingest on PostgreSQL: skipped ({exc.__class__.__name__}: {exc})")
        return
    try:
        url = f"{server_url}?options=-csearch_path%3D{schema}"
        with tempfile.TemporaryDirectory() as tmpdir:
            cc, server, base = cc_app(Path(tmpdir), database_url=url)
            try:
                rate = ingest_rate([base], n, run + "p")
                from command_center.alarms import AlarmIn

                started = time.perf_counter()
                for i in range(n):
                    cc.alarms.ingest(AlarmIn(**body(i, run + "pd")))
                direct = n / (time.perf_counter() - started)
            finally:
                server.shutdown()
                cc.stop()
        print(
            f"ingest, one process, PostgreSQL: {rate:7.0f} alarms/s over HTTP (8 threads), "
            f"{direct:7.0f} alarms/s in-process (store + broadcast)"
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


# --- a wall under a burst, in headless Chromium ------------------------------------------
PROBE = """n => {
  const p = window.__burst = {t0: null, first: null, all: null, lost: 0};
  const watch = () => {
    const count = document.querySelector('.cc-alarm-count');
    const rows = document.querySelectorAll('.cc-alarm-row').length;
    const now = performance.now();
    const conn = document.getElementById('cc-conn');
    if (p.t0 !== null && conn && conn.classList.contains('cc-conn-lost')) p.lost += 1;
    if (p.t0 !== null && rows && p.first === null) p.first = now;
    if (p.t0 !== null && count && parseInt(count.textContent, 10) >= (p.n || n)) p.all = now;
    if (p.all === null) requestAnimationFrame(watch);
  };
  requestAnimationFrame(watch);
}"""


def renderer_cpu_seconds() -> float:
    """CPU time (user + system) used so far by the Chromium renderer processes this bench
    started: a wall's work, whatever else the machine runs meanwhile (a long task's
    duration is wall-clock time and grows with the machine's load)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    stats: dict[int, list[str]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        if b"--type=renderer" in cmdline:
            stats[int(entry.name)] = fields
    total = 0.0
    for pid, fields in stats.items():
        ancestor = parents.get(pid)
        while ancestor and ancestor != os.getpid():
            ancestor = parents.get(ancestor)
        if ancestor == os.getpid():
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def main_thread_tasks(trace: bytes) -> list[tuple[float, float]]:
    """(wall ms, CPU ms) of every task of the page's main thread in a Chromium trace. The
    CPU time is what a task costs the wall; its wall time grows with the machine's load."""
    events = json.loads(trace)["traceEvents"]
    main = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M"
        and e.get("name") == "thread_name"
        and e["args"].get("name") == "CrRendererMain"
    }
    return [
        (e.get("dur", 0) / 1000, e.get("tdur", 0) / 1000)
        for e in events
        if e.get("name") == "ThreadControllerImpl::RunTask" and (e["pid"], e["tid"]) in main
    ]


def describe_tasks(tasks: list[tuple[float, float]]) -> str:
    longest = max(tasks, default=(0.0, 0.0))
    by_cpu = max((cpu for _wall, cpu in tasks), default=0.0)
    over = [t for t in tasks if t[0] >= 50]
    return (
        f"longest task {longest[0]:5.0f} ms ({longest[1]:4.0f} ms CPU), most CPU in one task "
        f"{by_cpu:4.0f} ms, {len(over)} tasks over 50 ms"
    )


def tiny_city(tmp: Path) -> str:
    from adapters.sql.db import upgrade
    from command_center.demo.generator import generate

    url = f"sqlite:///{tmp / 'city.sqlite'}"
    upgrade(url)
    generate(url, "tiny", seed=7)
    return url


def grid_points(city_url: str) -> list[tuple[str, float, float]]:
    from command_center.plugins import build_adapter
    from command_center.settings import Settings

    gis = build_adapter("gis", Settings(database_url=city_url))
    try:
        return [(g.code, g.centroid[0], g.centroid[1]) for g in gis.regions("grid")]
    finally:
        gis.close()


def wall_server(app_root: Path, tmp: Path, city_url: str) -> tuple[subprocess.Popen, str]:
    """gunicorn (as the Procfile) serving ``app_root``'s code and screens.yaml."""
    import shutil

    db = tmp / "wall.sqlite"
    shutil.copy(city_url.removeprefix("sqlite:///"), db)
    shutil.copy(app_root / "screens.yaml", tmp / "screens.yaml")
    env = {
        **os.environ,
        "PYTHONPATH": str(app_root),
        "CC_SECRET_KEY": secrets.token_urlsafe(32),
        "CC_DATABASE_URL": f"sqlite:///{db}",
        "CC_DATA_DIR": str(tmp / "var"),
        "CC_SCREENS_FILE": str(tmp / "screens.yaml"),
        "CC_SIMULATE": "false",
        "CC_API_KEYS": json.dumps({"iot": KEY}),
        "CC_API_RATE_LIMIT": "1000000/minute",
        "CC_ALARM_FOLD_SECONDS": "0",
    }
    env.pop("CC_REDIS_URL", None)
    port = free_port()
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    proc = subprocess.Popen(
        [gunicorn, "-w", "1", "--threads", "100", "-b", f"127.0.0.1:{port}"]
        # a starved worker must not be restarted half-way through by gunicorn's watchdog
        + ["--timeout", "300", "--graceful-timeout", "2", "command_center.wsgi:app"],
        cwd=app_root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{base}/api/alarms?since=0", headers={"X-API-Key": KEY}, timeout=5).ok:
                break
        except requests.RequestException:
            pass
        time.sleep(0.3)
    return proc, base


def wall_burst(app_root: Path, walls: list[str], n: int) -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        city = tiny_city(tmp)
        grids = grid_points(city)
        print(
            f"a wall under a burst of {n} alarms ({app_root.name}, tiny city, {len(grids)} grids):"
        )
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path="/usr/bin/chromium",
                args=["--no-sandbox", "--disable-gpu", "--no-first-run"],
                headless=True,
            )
            for wall in walls:
                (tmp / wall).mkdir()
                proc, base = wall_server(app_root, tmp / wall, city)
                try:
                    height = 720 if wall == "main" else 1080
                    page = browser.new_page(viewport={"width": 1920, "height": height})
                    page.goto(f"{base}/wall/{wall}", timeout=120000)
                    page.wait_for_function(
                        "() => [...document.querySelectorAll('.cc-alarm-list .cc-message')]"
                        ".some(e => e.offsetParent && e.innerText.includes('暂无'))",
                        timeout=120000,
                    )
                    page.wait_for_timeout(5000)  # the first map and chart draws are done
                    page.evaluate(PROBE, n)
                    # the idle reference: 10 s of a quiet wall
                    browser.start_tracing(page=page, categories=["toplevel"])
                    idle_cpu = renderer_cpu_seconds()
                    page.wait_for_timeout(10000)
                    idle_cpu = renderer_cpu_seconds() - idle_cpu
                    idle_tasks = main_thread_tasks(browser.stop_tracing())
                    browser.start_tracing(page=page, categories=["toplevel"])
                    t0 = page.evaluate("() => (window.__burst.t0 = performance.now())")
                    burst_cpu = renderer_cpu_seconds()
                    started = time.perf_counter()
                    posted = burst(base, grids, n, f"{wall}-{int(time.time())}")
                    last_post = t0 + (time.perf_counter() - started) * 1000
                    page.evaluate(
                        "n => { window.__burst.n = n; }", posted
                    )  # only what went through can be counted
                    page.wait_for_function(
                        "() => window.__burst.all !== null", timeout=300000, polling=500
                    )
                    page.wait_for_timeout(2000)
                    probe = page.evaluate("() => window.__burst")
                    burst_cpu = renderer_cpu_seconds() - burst_cpu
                    burst_tasks = main_thread_tasks(browser.stop_tracing())
                    burst_seconds = (probe["all"] + 2000 - t0) / 1000
                    markers = page.evaluate(
                        "() => document.querySelectorAll('.cc-alarm-pt').length"
                    )
                    page.close()
                finally:
                    stop([proc])
                print(f"  /wall/{wall}: burst: {describe_tasks(burst_tasks)}")
                print(f"  /wall/{wall}: idle:  {describe_tasks(idle_tasks)} (10 s before)")
                first, shown = (probe["first"] - t0) / 1000, (probe["all"] - t0) / 1000
                print(
                    f"  /wall/{wall}: {posted} POSTs answered in {(last_post - t0) / 1000:5.1f} s; "
                    f"first row after {first:5.2f} s; all {n} counted after {shown:5.2f} s "
                    f"({(probe['all'] - last_post) / 1000:+.2f} s after the last POST); "
                    f"map alarm markers at the end: {markers}"
                    + (
                        f"; connection shown lost in {probe['lost']} frames"
                        if probe["lost"]
                        else ""
                    )
                )
                print(
                    f"  /wall/{wall}: page CPU {burst_cpu:5.1f} s over the {burst_seconds:4.1f} s "
                    f"of the burst ({100 * burst_cpu / burst_seconds:3.0f} % of a core; idle "
                    f"wall: {100 * idle_cpu / 10:3.0f} %)"
                )
            browser.close()


def burst(base: str, grids: list[tuple[str, float, float]], n: int, run: str) -> int:
    """POST ``n`` alarms from 8 threads as fast as the server takes them."""
    sessions = threading.local()

    def post(i: int) -> bool:
        if not hasattr(sessions, "s"):
            sessions.s = requests.Session()
        code, lon, lat = grids[i % len(grids)]
        payload = {
            **body(i, run),
            "level": "一般" if i % 50 else "重大",
            "title": f"传感器告警 {i}",
            "grid_code": code,
            "lon": lon,
            "lat": lat,
        }
        try:
            answer = sessions.s.post(
                f"{base}/api/alarms", json=payload, headers={"X-API-Key": KEY}, timeout=120
            )
        except requests.RequestException:
            return False  # counted as not posted; the figures say how many went through
        return answer.status_code == 201

    with ThreadPoolExecutor(8) as pool:
        return sum(pool.map(post, range(n)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--alarms", type=int, default=40)
    parser.add_argument("--ingest", type=int, default=1000)
    parser.add_argument("--memory-clients", type=int, default=200)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument(
        "--only", default="latency,postgres,wall", help="sections: latency (1-3), postgres, wall"
    )
    parser.add_argument("--walls", default="main,ops")
    parser.add_argument("--burst", type=int, default=1000)
    parser.add_argument("--app-root", type=Path, default=ROOT)
    args = parser.parse_args()
    only = set(args.only.split(","))
    import logging

    logging.disable(logging.ERROR)  # the empty databases of sections 1-4 have no city to patrol
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    run = f"r{int(time.time())}"
    if "latency" in only:
        latency_and_ingest(args, run)
    if "postgres" in only:
        postgres_ingest(args.postgres, args.ingest, run)
    if "wall" in only:
        wall_burst(args.app_root.resolve(), args.walls.split(","), args.burst)
    print(f"load average at end: {os.getloadavg()[0]:.1f}")


def latency_and_ingest(args: argparse.Namespace, run: str) -> None:
    """Sections 1 to 3 (SQLite): latency against the floor, ingest rates, memory."""
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        # 1. latency, floor first then the real path, same clients count
        server, base = floor_app()
        floor = measure(
            base,
            "/emit",
            [
                (f"floor-{n}", {"source_id": f"floor-{n}", "title": "积水超限"})
                for n in range(args.alarms)
            ],
            args.clients,
            {},
        )
        server.shutdown()
        cc, server, base = cc_app(tmp)
        real = measure(
            base,
            "/api/alarms",
            [(f"{run}-{n}", body(n, run)) for n in range(args.alarms)],
            args.clients,
            {"X-API-Key": KEY},
        )
        print(f"latency to {args.clients} clients over {args.alarms} alarms (ms):")
        print(
            f"  bare Flask-SocketIO emit (floor)  p50 {pct(floor, 50):7.1f}  "
            f"p99 {pct(floor, 99):7.1f}  (n={len(floor)})"
        )
        print(
            f"  POST /api/alarms (persist first)  p50 {pct(real, 50):7.1f}  "
            f"p99 {pct(real, 99):7.1f}  (n={len(real)})"
        )

        # 2a. ingest, one process (werkzeug threaded, SQLite WAL)
        rate = ingest_rate([base], args.ingest, run + "i")
        direct_started = time.perf_counter()
        from command_center.alarms import AlarmIn

        for n in range(args.ingest):
            cc.alarms.ingest(AlarmIn(**body(n, run + "d")))
        direct = args.ingest / (time.perf_counter() - direct_started)
        print(
            f"ingest, one process: {rate:7.0f} alarms/s over HTTP (8 threads), "
            f"{direct:7.0f} alarms/s in-process (store + broadcast)"
        )
        server.shutdown()
        cc.stop()

        # 2b. + 3. gunicorn processes: ingest with Redis, memory per client
        one, bases = gunicorns(tmp / "one", 1, "")
        try:
            rate1 = ingest_rate(bases, args.ingest, run + "g1")
            before = worker_rss_kb(one[0].pid)
            clients = []
            for i in range(args.memory_clients):
                client = socketio.Client(reconnection=False)
                client.connect(
                    bases[0], transports=["websocket"], auth={"screen": f"m{i}"}, wait_timeout=10
                )
                clients.append(client)
            time.sleep(1.0)
            after = worker_rss_kb(one[0].pid)
            with ThreadPoolExecutor(16) as pool:
                list(pool.map(lambda c: c.disconnect(), clients))
            print(f"ingest, one gunicorn gthread process: {rate1:7.0f} alarms/s")
            print(
                f"memory per connected WebSocket client: "
                f"{(after - before) / args.memory_clients:6.1f} kB "
                f"(worker RSS {before / 1024:.0f} -> {after / 1024:.0f} MB "
                f"with {args.memory_clients} clients)"
            )
        finally:
            stop(one)
        two, bases = gunicorns(tmp / "two", 2, args.redis)
        try:
            rate2 = ingest_rate(bases, args.ingest, run + "g2")
            print(
                f"ingest, two gunicorn processes + Redis (one SQLite file): {rate2:7.0f} alarms/s"
            )
        finally:
            stop(two)


if __name__ == "__main__":
    main()
