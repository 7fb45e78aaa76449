"""The live simulator moves the city through the same contracts and events as a backend."""

from __future__ import annotations

from adapters.case.contract import CaseFilter
from command_center import events
from command_center.plugins import load_adapters
from command_center.services import DataServices
from command_center.simulator import LiveSimulator


def test_simulator_reports_advances_moves_and_raises_alarms(city_settings) -> None:  # noqa: ANN001
    settings = city_settings
    adapters = load_adapters(settings)
    from command_center.events import EventBus

    bus = EventBus()
    seen: list[str] = []
    bus.subscribe("*", lambda topic, _payload: seen.append(topic))
    services = DataServices(settings, adapters, bus)
    before = len(adapters.case.list_cases(CaseFilter(limit=None)))
    sim = LiveSimulator(services, rate_per_minute=600, seed=3, tick_seconds=2)
    for _ in range(5):
        sim.tick()
    after = adapters.case.list_cases(CaseFilter(limit=None))
    assert len(after) - before == sim.stats.reported > 0
    assert sim.stats.steps > 0 and sim.stats.moves > 0 and sim.stats.alarms > 0
    assert events.CASE_REPORTED in seen and events.CASE_CHANGED in seen
    assert events.WORKER_MOVED in seen and events.ALARM_RAISED in seen
    new = [c for c in after if c.number and c.description.endswith("（模拟上报）")]
    assert all(len(c.grid_code) == 14 for c in new)
    adapters.close()
