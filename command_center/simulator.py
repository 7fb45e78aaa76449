"""The live simulator: keeps the demo city moving.

It goes through the same adapter contracts and the same event bus as a real backend would:
new reports via ``CaseAdapter.report_case``, workflow steps via ``DataServices.act``, worker
moves via ``GisAdapter.move_worker``, sensor and camera alarms on ``events.ALARM_RAISED``.
It runs only in ``command-center demo`` (never under gunicorn against a real backend).
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from shapely.geometry import Point, shape

from adapters.base import AdapterError
from adapters.case.contract import Case, CaseAction, CaseFilter, CaseSource, CaseStatus, NewCase
from command_center import events
from command_center.domain.calendar import local_now
from command_center.domain.classes import Catalogue, load_catalogue
from command_center.services import DataServices

log = logging.getLogger(__name__)

# Shares of case sources in a district's month (DOMAIN.md: walls show the mix by source).
SOURCE_SHARES = {
    CaseSource.SUPERVISOR: 0.45,
    CaseSource.GRID_WORKER: 0.20,
    CaseSource.PUBLIC: 0.12,
    CaseSource.HOTLINE: 0.12,
    CaseSource.VIDEO: 0.06,
    CaseSource.IOT: 0.03,
    CaseSource.LEADER: 0.02,
}
# The next ordinary step from each status, and who takes it.
NEXT_STEP: dict[CaseStatus, tuple[CaseAction, str]] = {
    CaseStatus.REPORTED: (CaseAction.ACCEPT, "受理员-模拟"),
    CaseStatus.CONFIRMING: (CaseAction.CONFIRM, "监督员-模拟"),  # where 核实 is a stage
    CaseStatus.ACCEPTED: (CaseAction.REGISTER, "值班长-模拟"),
    CaseStatus.REGISTERED: (CaseAction.DISPATCH, "派遣员-模拟"),
    CaseStatus.DISPATCHED: (CaseAction.REPORT_BACK, "专业部门-模拟"),
    CaseStatus.HANDLED: (CaseAction.VERIFY, "监督员-模拟"),
    CaseStatus.VERIFIED: (CaseAction.CLOSE, "值班长-模拟"),
}
IOT_ALARMS = [("0404", "道路积水传感器超限"), ("0403", "燃气浓度超限"), ("0402", "管网压力骤降")]
VIDEO_ALARMS = [
    ("0502", "占道经营"),
    ("0504", "乱停放"),
    ("0102", "暴露垃圾"),
    ("0505", "露天烧烤"),
]


@dataclass
class SimulatorStats:
    reported: int = 0
    steps: int = 0
    moves: int = 0
    alarms: int = 0
    errors: int = 0
    last_error: str = ""
    started_at: datetime = field(default_factory=datetime.now)


class LiveSimulator:
    def __init__(
        self,
        services: DataServices,
        rate_per_minute: float = 6.0,
        seed: int | None = None,
        tick_seconds: float = 2.0,
        catalogue: Catalogue | None = None,
        clock: Callable[[], datetime] = local_now,
    ) -> None:
        self.services = services
        self.case = services.adapters.case
        self.gis = services.adapters.gis
        self.bus = services.bus
        self.rate = rate_per_minute
        self.tick_seconds = tick_seconds
        self.rng = random.Random(seed)
        self.catalogue = catalogue or load_catalogue(services.settings.case_classes_file)
        self.clock = clock
        self.stats = SimulatorStats()
        self._grids: list[tuple[str, Any]] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._serial = 0

    # --- one tick -------------------------------------------------------------------------
    def tick(self) -> None:
        """One step of city life: a few reports, workflow steps, moves and alarms."""
        expected = self.rate * self.tick_seconds / 60.0
        for _ in range(self._poisson(expected)):
            self._guard(self.report_one)
        for _ in range(self._poisson(expected * 1.1)):
            self._guard(self.advance_one)
        for _ in range(3):
            self._guard(self.move_one_worker)
        if self.rng.random() < expected * 0.15:
            self._guard(self.raise_alarm)

    def _guard(self, step: Callable[[], object]) -> None:
        try:
            step()
        except AdapterError as exc:  # a refused step is part of life (e.g. a raced case)
            self.stats.errors += 1
            self.stats.last_error = str(exc)
        except Exception as exc:  # noqa: BLE001 - the simulator must keep the demo alive
            self.stats.errors += 1
            self.stats.last_error = str(exc)
            log.exception("simulator step failed")

    def _poisson(self, lam: float) -> int:
        # Knuth's method: fine for the small rates of one tick.
        limit, k, p = pow(2.718281828459045, -lam), 0, 1.0
        while True:
            p *= self.rng.random()
            if p <= limit:
                return k
            k += 1

    # --- the steps ------------------------------------------------------------------------
    def grids(self) -> list[tuple[str, Any]]:
        if self._grids is None:
            self._grids = [(g.code, shape(g.geometry)) for g in self.gis.regions("grid")]
        return self._grids

    def random_point(self) -> tuple[str, float, float]:
        code, geom = self.rng.choice(self.grids())
        west, south, east, north = geom.bounds
        for _ in range(50):
            lon, lat = self.rng.uniform(west, east), self.rng.uniform(south, north)
            if geom.contains(Point(lon, lat)):
                return code, lon, lat
        point = geom.representative_point()
        return code, point.x, point.y

    def report_one(self) -> Case:
        source = self.rng.choices(list(SOURCE_SHARES), weights=list(SOURCE_SHARES.values()))[0]
        pool = self.catalogue.events() if self.rng.random() < 0.97 else self.catalogue.components()
        cls = self.rng.choice(pool)
        grid, lon, lat = self.random_point()
        self._serial += 1
        case = self.case.report_case(
            NewCase(
                kind=cls.kind,
                class_code=cls.code,
                source=source,
                description=f"{cls.name}（模拟上报）",
                lon=lon,
                lat=lat,
                address=self.services.grid_address(grid),
                reporter="模拟器",
                urgent=cls.big_code == "04" and cls.kind == "event",
                external_id=f"sim-{int(time.time())}-{self._serial}",
            )
        )
        self.stats.reported += 1
        self.bus.publish(
            events.CASE_REPORTED,
            {"case_id": case.id, "number": case.number, "grid_code": case.grid_code},
        )
        return case

    def advance_one(self) -> Case | None:
        open_cases = self.case.list_cases(CaseFilter(open_only=True, limit=200))
        if not open_cases:
            return None
        case = self.rng.choice(open_cases)
        action, actor = NEXT_STEP[case.status]
        kwargs: dict[str, Any] = {}
        if action == CaseAction.DISPATCH:
            cls = self.catalogue.find(case.kind, case.class_code)
            kwargs["department_code"] = (cls.default_department if cls else "") or "D01"
        self.services.act(case.id, action, actor, "模拟处置", **kwargs)
        self.stats.steps += 1
        return case

    def move_one_worker(self) -> None:
        workers = self.services.points("worker").value
        if not workers:
            return
        worker = self.rng.choice(workers)
        # A patrol step of up to ~60 m, staying in the district.
        lon = worker.lon + self.rng.uniform(-0.0007, 0.0007)
        lat = worker.lat + self.rng.uniform(-0.0005, 0.0005)
        if self.gis.locate(lon, lat) is None:
            return
        self.gis.move_worker(worker.id, lon, lat, on_duty=True)
        self.stats.moves += 1
        self.bus.publish(events.WORKER_MOVED, {"worker_id": worker.id, "lon": lon, "lat": lat})

    def raise_alarm(self) -> None:
        video = self.rng.random() < 0.6
        grid, lon, lat = self.random_point()
        class_code, label = self.rng.choice(VIDEO_ALARMS if video else IOT_ALARMS)
        self._serial += 1
        self.bus.publish(
            events.ALARM_RAISED,
            {
                "source": "video" if video else "iot",
                "source_id": f"sim-{int(time.time())}-{self._serial}",
                "level": "warn" if video else "critical",
                "class_code": class_code,
                "title": label,
                "at": self.clock().isoformat(timespec="seconds"),
                "lon": lon,
                "lat": lat,
                "grid_code": grid,
            },
        )
        self.stats.alarms += 1

    # --- running --------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="cc-simulator", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _run(self) -> None:
        while not self._stop.wait(self.tick_seconds):
            self.tick()
