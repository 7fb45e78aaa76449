"""Shared fixtures: a tiny demo city on SQLite, a running app, headless Chromium.

Tests build their own data with the generator's ``tiny`` preset (seconds). Services that
this machine runs (PostgreSQL, Redis) are used for real; when one is unreachable its tests
are skipped locally with the reason, but under CI (``CI=true``) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# A fixed "now" for the tiny city, so its numbers are the same on every run.
DEMO_NOW = datetime(2026, 11, 25, 10, 30)

# The instants (Asia/Shanghai wall time) at which every test marked ``clock`` runs: the
# hours and days where a test that reads the real clock has broken (or would).
CLOCK_INSTANTS: dict[str, datetime] = {
    "before-workday": datetime(2026, 12, 3, 6, 10),  # Thursday, before 08:30
    "after-midnight": datetime(2026, 12, 4, 0, 5),  # Friday: "today" has just begun
    "month-end-evening": datetime(2026, 11, 30, 23, 50),  # the last ten minutes of November
    "year-end-evening": datetime(2026, 12, 31, 23, 50),  # and of 2026 (2027 not yet known)
    "holiday-eve": datetime(2026, 9, 30, 17, 0),  # the eve of National Day (10-01..10-07)
    "makeup-saturday": datetime(2026, 10, 10, 10, 0),  # a 调休 Saturday: a working day
}


def _clock_instant(value: str) -> tuple[str, datetime]:
    if value in CLOCK_INSTANTS:
        return value, CLOCK_INSTANTS[value]
    try:
        return value, datetime.fromisoformat(value)
    except ValueError:
        raise pytest.UsageError(
            f"--at {value!r}: one of {', '.join(CLOCK_INSTANTS)} or an ISO time (Shanghai)"
        ) from None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--at",
        default=None,
        help="run every test with the process clock moved to this Shanghai wall time (a name "
        f"of {', '.join(CLOCK_INSTANTS)} or 2026-12-03T06:10): to reproduce or find a test "
        "that depends on the hour; tests marked clock then run at this instant only",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test marked ``clock`` runs once at every instant of ``CLOCK_INSTANTS``."""
    if metafunc.definition.get_closest_marker("clock") is None:
        return
    if metafunc.config.getoption("--at"):
        return  # the whole session runs at one instant already
    metafunc.parametrize(
        "city_clock", list(CLOCK_INSTANTS.values()), ids=list(CLOCK_INSTANTS), indirect=True
    )


@pytest.fixture(autouse=True)
def city_clock(request: pytest.FixtureRequest) -> Iterator[datetime | None]:
    """The whole process (a served app's threads included) runs from the instant of this
    test's parameter (tests marked ``clock``) or of ``--at``; the clock keeps ticking. Being
    autouse, it starts before the test's other function fixtures (an app, its data)."""
    at = getattr(request, "param", None)
    if at is None and request.config.getoption("--at"):
        at = _clock_instant(request.config.getoption("--at"))[1]
    if at is None:
        yield None
        return
    import time_machine

    from command_center.domain.calendar import CHINA_STANDARD_TIME

    with time_machine.travel(at.replace(tzinfo=CHINA_STANDARD_TIME), tick=True):
        yield at


def service_reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    if service_reachable(host, port):
        return
    message = f"{name} not reachable on {host}:{port}"
    if os.environ.get("CI"):
        pytest.fail(message + " (CI must have it)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def tiny_city_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A SQLite file holding the generated tiny city (built once per test session)."""
    from adapters.sql.db import upgrade
    from command_center.demo.generator import generate

    path = tmp_path_factory.mktemp("city") / "tiny.sqlite"
    url = f"sqlite:///{path}"
    upgrade(url)
    generate(url, "tiny", seed=7, now=DEMO_NOW)
    return url


@pytest.fixture(scope="session")
def two_district_city_url(tiny_city_url: str, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The tiny city (东城区 110101) and beside it, to the west, the regions of a second tiny
    district (西城区 110102, no cases): a hierarchy with a city level above two districts."""
    import json
    import sqlite3
    from contextlib import closing

    from adapters.sql.db import upgrade
    from command_center.demo.generator import generate

    folder = tmp_path_factory.mktemp("two-districts")
    second = folder / "xicheng.sqlite"
    upgrade(f"sqlite:///{second}")
    generate(f"sqlite:///{second}", "tiny", seed=8, district_code="110102", now=DEMO_NOW)
    both = folder / "both.sqlite"
    shutil.copy(tiny_city_url.removeprefix("sqlite:///"), both)
    shift = -0.02  # degrees of longitude: the generator draws every district at one centre

    def moved(coords):  # noqa: ANN001, ANN202 - nested GeoJSON coordinate lists
        if coords and isinstance(coords[0], (int, float)):
            return [coords[0] + shift, *coords[1:]]
        return [moved(c) for c in coords]

    with closing(sqlite3.connect(second)) as src, closing(sqlite3.connect(both)) as dst:
        rows = src.execute("SELECT * FROM regions").fetchall()
        names = [d[0] for d in src.execute("SELECT * FROM regions").description]
        at = {n: i for i, n in enumerate(names)}
        for row in rows:
            row = list(row)
            geometry = json.loads(row[at["geometry"]])
            geometry["coordinates"] = moved(geometry["coordinates"])
            row[at["geometry"]] = json.dumps(geometry)
            row[at["centroid_lon"]] += shift
            marks = ", ".join("?" * len(row))
            dst.execute(f"INSERT INTO regions ({', '.join(names)}) VALUES ({marks})", row)
        dst.commit()
        # into the file itself: tests copy it, and a copy leaves the write-ahead log behind
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return f"sqlite:///{both}"


@pytest.fixture()
def city_copy(tiny_city_url: str, tmp_path: Path) -> str:
    """A private copy of the tiny city for a test that writes to it."""
    src = Path(tiny_city_url.removeprefix("sqlite:///"))
    dst = tmp_path / "city.sqlite"
    shutil.copy(src, dst)
    return f"sqlite:///{dst}"


def random_secret() -> str:
    """A random secret key for an app under test (the app refuses to start without one)."""
    import secrets

    return secrets.token_urlsafe(32)


def make_settings(db_url: str, tmp_path: Path, screens: Path | None = None, **overrides):  # noqa: ANN201
    from command_center.settings import Settings

    screens_file = tmp_path / "screens.yaml"
    shutil.copy(screens or ROOT / "screens.yaml", screens_file)
    overrides.setdefault("secret_key", random_secret())
    return Settings(
        database_url=db_url,
        data_dir=tmp_path / "var",
        screens_file=screens_file,
        screens_poll_seconds=0.5,
        simulate=False,
        **overrides,
    )


@pytest.fixture()
def city_settings(city_copy: str, tmp_path: Path):  # noqa: ANN201
    """Settings over a private copy of the tiny city (default screens, no simulator)."""
    return make_settings(city_copy, tmp_path)


@pytest.fixture()
def switchable_case():  # noqa: ANN201
    """Wraps a real case adapter in a switch that makes it unreachable (``.down = True``),
    as a backend that went down would be."""
    from adapters.base import BackendUnavailable
    from adapters.case.contract import CaseAdapter

    class SwitchableCase(CaseAdapter):
        """The real sql case adapter behind a switch that makes it unreachable, as a backend
        that went down would be (every call raises BackendUnavailable)."""

        def __init__(self, real: CaseAdapter) -> None:
            super().__init__()
            self.real = real
            self.down = False
            self.calls = 0

        def _through(self, name: str, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            self.calls += 1
            if self.down:
                raise BackendUnavailable("connection refused")
            return getattr(self.real, name)(*args, **kwargs)

        def list_cases(self, flt):  # noqa: ANN001, ANN201
            return self._through("list_cases", flt)

        def get_case(self, case_id):  # noqa: ANN001, ANN201
            return self._through("get_case", case_id)

        def case_stats(self, group_by, flt):  # noqa: ANN001, ANN201
            return self._through("case_stats", group_by, flt)

        def departments(self):  # noqa: ANN201
            return self._through("departments")

        def report_case(self, new):  # noqa: ANN001, ANN201
            return self._through("report_case", new)

        def act(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
            return self._through("act", *args, **kwargs)

    return SwitchableCase


@pytest.fixture()
def flaky_live_app(city_copy: str, tmp_path: Path, switchable_case):  # noqa: ANN001, ANN201
    """A running app whose case backend can be switched off: ``(cc, base_url, case)``."""
    from command_center.app import create_app
    from command_center.plugins import load_adapters
    from command_center.runtime import start_background_server

    settings = make_settings(city_copy, tmp_path, cache_seconds=1.0)
    adapters = load_adapters(settings)
    adapters.case = switchable_case(adapters.case)
    cc = create_app(settings, adapters=adapters)
    server, base = start_background_server(cc)
    yield cc, base, adapters.case
    server.shutdown()
    cc.stop()


@pytest.fixture()
def live_app(city_copy: str, tmp_path: Path) -> Iterator[tuple[object, str]]:
    """A running app on an ephemeral port over a private copy of the tiny city."""
    from command_center.app import create_app
    from command_center.runtime import start_background_server

    cc = create_app(make_settings(city_copy, tmp_path))
    server, base = start_background_server(cc)
    yield cc, base
    server.shutdown()
    cc.stop()


def alarm_at_a_case(cc, source_id: str, **fields):  # noqa: ANN001, ANN003, ANN201
    """An alarm ingested at the place of the city's first case (a point inside a grid, so
    it can become a case); ``fields`` are the ``AlarmIn``'s others (defaults: a video
    alarm, warn, 0502 占道经营)."""
    from adapters.case.contract import CaseFilter
    from command_center.alarms import AlarmIn

    some = cc.services.adapters.case.list_cases(CaseFilter(limit=1))[0]
    values = {"source": "video", "level": "warn", "class_code": "0502", "title": "占道经营"}
    values.update(fields)
    return cc.alarms.ingest(
        AlarmIn(source_id=source_id, lon=some.lon, lat=some.lat, **values)
    ).alarm


@pytest.fixture()
def at_city_now() -> Iterator[None]:
    """The whole process (a served app's threads included) runs from the tiny city's "now"
    on: a wall's "this month" holds the city's cases on whatever day the suite runs. Ask for
    it before ``live_app``, so the app starts in the city's time."""
    import time_machine

    from command_center.domain.calendar import CHINA_STANDARD_TIME

    with time_machine.travel(DEMO_NOW.replace(tzinfo=CHINA_STANDARD_TIME), tick=True):
        yield


@contextmanager
def server_timezone(zone: str) -> Iterator[None]:
    """This whole process runs in ``zone`` (``TZ`` + ``tzset``), as a server set to UTC or to
    New York would: whatever reads the *server's* zone (``datetime.astimezone()``,
    ``timestamp()`` of a naive time) reads this one. The city's zone stays Asia/Shanghai."""
    old = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        yield
    finally:
        if old is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = old
        time.tzset()


@pytest.fixture(params=["UTC", "America/New_York"])
def foreign_server_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test runs on a server whose own zone is not the city's (UTC, then New York)."""
    with server_timezone(request.param):
        yield request.param


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (make setup installs it)")
        pytest.skip("chromium is not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture()
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
