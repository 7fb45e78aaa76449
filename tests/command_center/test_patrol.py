"""Patrol positions: the demo day of tracks, coverage and attendance, recording worker moves
from the event bus, and the wall's fall-back to the last day with patrols."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

from adapters.sql.db import make_engine
from command_center import events
from command_center.patrol import DAY_END, DAY_START, PatrolStore, store_of

DAY = date(2026, 11, 25)


def test_demo_day_of_tracks_stays_in_working_hours_and_leaves_grids_unwalked(
    city_copy: str,
) -> None:
    store = PatrolStore(make_engine(city_copy))
    added = store.generate_day(DAY, datetime(2026, 11, 25, 23, 0))
    assert added > 0 and store.count_on(DAY) == added
    tracks = store.tracks(DAY)
    times = [at for points in tracks.values() for at, _lon, _lat in points]
    assert min(times).time() >= DAY_START and max(times).time() <= DAY_END
    covered = store.covered_grids(DAY)
    with store.engine.connect() as conn:
        grids = {c for (c,) in conn.exec_driver_sql("SELECT code FROM regions WHERE level='grid'")}
    assert covered and covered < grids  # some grids walked, some not: the wall highlights those
    # the same seed gives the same day
    again = PatrolStore(make_engine(city_copy))
    assert again.generate_day(DAY, datetime(2026, 11, 25, 23, 0)) == added


def test_tracks_stop_at_the_current_time(city_copy: str) -> None:
    store = PatrolStore(make_engine(city_copy))
    store.generate_day(DAY, datetime(2026, 11, 25, 10, 0))
    latest = max(at for pts in store.tracks(DAY).values() for at, _x, _y in pts)
    assert latest <= datetime(2026, 11, 25, 10, 0)
    assert store.generate_day(DAY + timedelta(days=1), datetime(2026, 11, 26, 7, 0)) == 0


def test_attendance_sums_distance_and_grids_per_worker(city_copy: str) -> None:
    store = PatrolStore(make_engine(city_copy))
    store.generate_day(DAY, datetime(2026, 11, 25, 23, 0))
    rows = store.attendance(DAY)
    walked = [a for a in rows if a.points]
    absent = [a for a in rows if not a.points]
    assert walked and absent  # the demo leaves some workers off patrol
    for a in walked:
        assert a.first_at <= a.last_at and a.km > 0 and a.grids >= 1
    street = walked[0]
    assert store.attendance(DAY, "999999") == []
    assert len(store.tracks(DAY, worker_ids={street.worker_id})) == 1


def test_worker_moves_on_the_event_bus_are_recorded_with_their_grid(
    city_copy: str, tmp_path: Path
) -> None:
    from command_center.app import create_app
    from tests.conftest import make_settings

    cc = create_app(make_settings(city_copy, tmp_path), start_background=False)
    try:
        store = store_of(cc)
        assert store is not None and store_of(cc.services) is store
        worker = cc.adapters.gis.points("worker")[0]
        today = cc.services.clock().date()
        before = store.count_on(today)
        cc.bus.publish(
            events.WORKER_MOVED, {"worker_id": worker.id, "lon": worker.lon, "lat": worker.lat}
        )
        assert store.count_on(today) == before + 1
        track = store.tracks(today, worker_ids={worker.id})[worker.id]
        assert (track[-1][1], track[-1][2]) == (worker.lon, worker.lat)
        assert worker.grid_code in store.covered_grids(today)
    finally:
        cc.stop()


def test_before_the_day_starts_the_wall_shows_yesterday(city_copy: str) -> None:
    store = PatrolStore(make_engine(city_copy))
    assert store.latest_day(DAY) == DAY  # nothing anywhere: today, empty
    store.generate_day(DAY, datetime(2026, 11, 25, 23, 0))
    assert store.latest_day(DAY + timedelta(days=1)) == DAY
    store.record("W000001", 116.4, 39.93, datetime(2026, 11, 26, 8, 40))
    assert store.latest_day(DAY + timedelta(days=1)) == DAY + timedelta(days=1)
