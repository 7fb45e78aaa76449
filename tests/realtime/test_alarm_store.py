"""The alarm store on a real database: idempotency, storm folding, acknowledgement once for
all, replay in order, escalation by SMS through the log adapter."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from adapters.sms.log import LogSmsAdapter
from adapters.sql.db import make_engine, upgrade
from command_center.alarms import AlarmIn, AlarmService, AlarmStore, level_key
from command_center.events import ALARM_ACKED, ALARM_RAISED, EventBus
from command_center.settings import Settings


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 25, 10, 0, 0)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def store(tmp_path: Path) -> AlarmStore:
    url = f"sqlite:///{tmp_path / 'alarms.sqlite'}"
    upgrade(url, "alarms@head")
    return AlarmStore(make_engine(url), clock=Clock())


def alarm(n: int = 1, **kw) -> AlarmIn:  # noqa: ANN003
    data = {
        "source": "iot",
        "source_id": f"s-{n}",
        "level": "重大",
        "class_code": "0701",
        "title": "水位超限",
        "grid_code": "11010100100101",
    }
    return AlarmIn.model_validate({**data, **kw})


def test_levels_accept_chinese_english_and_roman_grades() -> None:
    assert [level_key(v) for v in ("一般", "较大", "重大", "特别重大")] == [
        "info",
        "warn",
        "critical",
        "emergency",
    ]
    assert level_key("II") == "critical" and level_key("warn") == "warn"
    with pytest.raises(ValidationError, match="level"):
        alarm(level="紧急")


def test_malformed_alarm_names_the_field() -> None:
    with pytest.raises(ValidationError) as info:
        AlarmIn.model_validate({"source": "iot", "source_id": "1", "level": "warn", "title": "x"})
    assert info.value.errors()[0]["loc"] == ("class_code",)
    with pytest.raises(ValidationError, match="lon and lat"):
        alarm(lon=116.4)


def test_same_source_id_twice_is_one_alarm(store: AlarmStore) -> None:
    first = store.ingest(alarm(1))
    again = store.ingest(alarm(1, title="changed"))
    assert first.outcome == "new" and again.outcome == "duplicate"
    assert again.alarm.id == first.alarm.id and again.alarm.title == "水位超限"
    assert store.counts() == {"open": 1}


def test_storm_within_window_folds_into_one_alarm_with_count(store: AlarmStore) -> None:
    results = [store.ingest(alarm(n, level="一般" if n < 5 else "特别重大"), 60) for n in range(10)]
    assert [r.outcome for r in results] == ["new"] + ["folded"] * 9
    folded = store.get(results[0].alarm.id)
    assert folded.count == 10 and folded.level == "emergency"
    # a folded source id is still known: replaying it is a duplicate, the count stays
    assert store.ingest(alarm(3), 60).outcome == "duplicate"
    assert store.get(folded.id).count == 10
    # another place or another class is another alarm
    assert store.ingest(alarm(20, grid_code="11010100100102"), 60).outcome == "new"
    assert store.ingest(alarm(21, class_code="0702"), 60).outcome == "new"


def test_storm_after_window_or_after_acknowledgement_is_a_new_alarm(store: AlarmStore) -> None:
    clock: Clock = store.clock  # type: ignore[assignment]
    first = store.ingest(alarm(1), 60).alarm
    clock.now += timedelta(seconds=61)
    assert store.ingest(alarm(2), 60).outcome == "new"
    third = store.ingest(alarm(3), 60)
    assert third.outcome == "folded"
    store.acknowledge(third.alarm.id, "值班员")
    assert store.ingest(alarm(4), 60).outcome == "new"
    assert first.id < third.alarm.id


def test_acknowledged_once_for_all(store: AlarmStore) -> None:
    a = store.ingest(alarm(1)).alarm
    acked, first = store.acknowledge(a.id, "张值班", "已通知街道")
    again, second = store.acknowledge(a.id, "李值班")
    assert first and not second
    assert again.acknowledged_by == "张值班" and again.ack_note == "已通知街道"
    assert acked.status == again.status == "acknowledged"
    assert store.open_alarms() == []


def test_since_gives_what_was_missed_in_order(store: AlarmStore) -> None:
    ids = [store.ingest(alarm(n, class_code=f"07{n:02d}")).alarm.id for n in range(6)]
    assert [a.id for a in store.since(ids[2])] == ids[3:]
    assert store.since(ids[-1]) == []
    assert store.last_id() == ids[-1]


def test_open_alarms_by_region_prefix(store: AlarmStore) -> None:
    store.ingest(alarm(1, grid_code="11010100100101"))
    store.ingest(alarm(2, grid_code="11010100200101", class_code="0702"))
    assert len(store.open_alarms(region_code="110101001")) == 1
    assert len(store.open_alarms()) == 2


def test_a_street_s_scope_adds_the_citywide_levels_and_counts_up_to_an_id(
    store: AlarmStore,
) -> None:
    own = store.ingest(alarm(1, grid_code="11010100100101")).alarm
    store.ingest(alarm(2, grid_code="11010100200101", class_code="0702"))
    far = store.ingest(alarm(3, grid_code="11010100200101", level="特别重大")).alarm
    scoped = store.open_alarms(region_code="110101001", also_levels=("emergency",))
    assert [a.id for a in scoped] == [own.id, far.id]
    assert store.open_count("110101001", ("emergency",)) == 2
    # what a sync counts: the open alarms up to the last id it names, no later one
    assert store.open_count(up_to=2) == 2 and store.open_count() == 3


def service(store: AlarmStore, tmp_path: Path, **kw) -> tuple[AlarmService, EventBus]:  # noqa: ANN003
    settings = Settings(data_dir=tmp_path / "var", **kw)
    bus = EventBus()
    sms = LogSmsAdapter(deliver_after_seconds=0, log_file=tmp_path / "sms.jsonl")
    return AlarmService(store, bus, settings, sms), bus


def test_bus_alarm_is_stored_before_listeners_hear_it(store: AlarmStore, tmp_path: Path) -> None:
    svc, bus = service(store, tmp_path)
    heard: list[tuple[str, int, int]] = []
    svc.listen(lambda what, a: heard.append((what, a.id, len(store.since(0)))))
    acked: list[dict] = []
    bus.subscribe(ALARM_ACKED, lambda _t, p: acked.append(p))
    bus.publish(ALARM_RAISED, alarm(1).model_dump(mode="json"))
    bus.publish(ALARM_RAISED, alarm(1).model_dump(mode="json"))  # duplicate: not re-broadcast
    bus.publish(ALARM_RAISED, {"source": "iot"})  # malformed: dropped, logged
    assert heard == [("alarm", 1, 1)]
    svc.acknowledge(1, "值班员")
    svc.acknowledge(1, "值班员")
    assert heard[-1][0] == "ack" and len(heard) == 2
    assert acked == [{"alarm_id": 1, "by": "值班员", "note": ""}]


def test_unacknowledged_critical_alarm_escalates_by_sms_once(
    store: AlarmStore, tmp_path: Path
) -> None:
    svc, _bus = service(
        store, tmp_path, alarm_leader_mobile="13800138000", alarm_escalate_minutes=5
    )
    clock: Clock = store.clock  # type: ignore[assignment]
    critical = svc.ingest(alarm(1)).alarm
    minor = svc.ingest(alarm(2, level="一般", class_code="0702")).alarm
    acked = svc.ingest(alarm(3, class_code="0703")).alarm
    svc.acknowledge(acked.id, "值班员")
    assert svc.escalate_due() == []
    clock.now += timedelta(minutes=6)
    sent = svc.escalate_due()
    assert [s.alarm_id for s in sent] == [critical.id]
    assert sent[0].to == "13800138000" and sent[0].status == "sent"
    assert svc.escalate_due() == []  # once
    assert store.get(critical.id).escalated_at is not None
    assert store.get(minor.id).escalated_at is None
    # the log adapter reports delivery; the next round records it
    svc.escalate_due()
    assert store.sms(critical.id)[0].status == "delivered"
    assert store.sms_counts() == {"delivered": 1}
    assert "告警升级" in (tmp_path / "sms.jsonl").read_text(encoding="utf-8")


def test_open_alarms_as_geojson_for_the_map(store: AlarmStore) -> None:
    from layouts.alarms import alarms_geojson

    store.ingest(alarm(1, lon=116.40, lat=39.93))
    store.ingest(alarm(2, class_code="0702"))  # no point: not on the map
    collection = alarms_geojson(store.open_alarms(), "zh")
    (feature,) = collection["features"]
    assert feature["geometry"]["coordinates"] == [116.40, 39.93]
    assert feature["properties"]["level_text"] == "重大"
