"""Screens scoped to a street in screens.yaml (``region:``), with real python-socketio
clients against a real server: a street's console hears its own street and the city-wide
levels (特别重大 by default), never another street's alarms; its replay after a reconnect is
limited the same way; a burst reaches it complete and once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests
from rt_support import API_KEYS, alarm_body  # type: ignore[import-not-found]

from command_center.alarms import AlarmIn

IOT = {"X-API-Key": API_KEYS["iot"]}
OWN, OTHER = "110101001", "110101002"
SCREENS = f"""
screens:
  - id: main
    title: 全区
    size: 1920x1080
    grid: {{columns: 12, rows: 6, gap: 10}}
    panels:
      - {{id: alarms, kind: alarm_ticker, col: 1, row: 1, col_span: 12, row_span: 6}}
  - id: street
    title: 东华门街道分中心
    size: 1920x1080
    grid: {{columns: 12, rows: 6, gap: 10}}
    region: {OWN}
    panels:
      - {{id: alarms, kind: alarm_ticker, col: 1, row: 1, col_span: 12, row_span: 6}}
"""


@pytest.fixture()
def street_app(make_app, tmp_path: Path):  # noqa: ANN001, ANN201
    (tmp_path / "screens.yaml").write_text(SCREENS, encoding="utf-8")
    return make_app()


def post(base: str, n: int, street: str, **kw: str) -> dict:
    body = alarm_body(n, grid_code=f"{street}00101", class_code=f"{n:04d}", **kw)
    answer = requests.post(f"{base}/api/alarms", json=body, headers=IOT, timeout=5)
    assert answer.status_code == 201, answer.text
    return answer.json()["alarm"]


def test_a_street_console_hears_its_street_and_not_another(street_app, screens) -> None:  # noqa: ANN001
    cc, base = street_app
    console = screens(base, screen="street").connect()
    city = screens(base, screen="main").connect()
    own = post(base, 1, OWN)
    other = post(base, 2, OTHER)
    city.wait_for(lambda: len(city.of("alarm")) == 2)
    console.wait_for(lambda: console.of("alarm"))
    time.sleep(0.5)  # anything else on its way would have arrived
    assert [a["id"] for a in console.of("alarm")] == [own["id"]]
    assert {c.screen: c.region for c in cc.realtime.connected_screens()} == {
        "street": OWN,
        "main": "",
    }
    # its acknowledgement reaches it, the other street's does not
    for alarm in (other, own):
        requests.post(f"{base}/api/alarms/{alarm['id']}/ack", headers=IOT, timeout=5)
    city.wait_for(lambda: len(city.of("ack")) == 2)
    console.wait_for(lambda: console.of("ack"))
    time.sleep(0.3)
    assert [a["id"] for a in console.of("ack")] == [own["id"]]


def test_a_citywide_emergency_reaches_every_street(street_app, screens) -> None:  # noqa: ANN001
    _cc, base = street_app
    console = screens(base, screen="street").connect()
    city = screens(base, screen="main").connect()
    major = post(base, 1, OTHER, level="重大")
    emergency = post(base, 2, OTHER, level="特别重大", title="燃气管道爆裂")
    city.wait_for(lambda: len(city.of("alarm")) == 2)
    console.wait_for(lambda: console.of("alarm"))
    time.sleep(0.5)
    assert [a["id"] for a in console.of("alarm")] == [emergency["id"]]
    assert major["id"] not in [a["id"] for a in console.of("alarm")]
    assert [a["id"] for a in city.of("alarm")] == [major["id"], emergency["id"]]  # once each


def test_the_screens_file_decides_the_scope_not_the_client(street_app, screens) -> None:  # noqa: ANN001
    _cc, base = street_app
    console = screens(base, screen="street", region=OTHER).connect()  # asks for another street
    assert console.of("sync")[0]["region"] == OWN
    post(base, 1, OTHER)
    own = post(base, 2, OWN)
    console.wait_for(lambda: console.of("alarm"))
    time.sleep(0.4)
    assert [a["id"] for a in console.of("alarm")] == [own["id"]]


def test_replay_after_a_reconnect_is_limited_to_the_street(street_app, screens) -> None:  # noqa: ANN001
    _cc, base = street_app
    console = screens(base, screen="street").connect()
    first = post(base, 1, OWN)
    console.wait_for(lambda: console.of("alarm"))
    console.disconnect()
    post(base, 2, OTHER)
    own = post(base, 3, OWN)
    emergency = post(base, 4, OTHER, level="特别重大")
    post(base, 5, OTHER)
    again = screens(base, screen="street").connect(last_seen=first["id"])
    sync = again.of("sync")[0]
    assert [a["id"] for a in sync["missed"]] == [own["id"], emergency["id"]]
    assert [a["id"] for a in sync["open"]] == [first["id"], own["id"], emergency["id"]]
    assert sync["open_total"] == 3
    # the city's screen sees all five
    city = screens(base, screen="main").connect(last_seen=0)
    assert city.of("sync")[0]["open_total"] == 5


def test_a_burst_reaches_a_street_console_complete_and_once(street_app, screens) -> None:  # noqa: ANN001
    cc, base = street_app
    console = screens(base, screen="street").connect()
    city = screens(base, screen="main").connect()
    for n in range(200):
        street = OWN if n % 2 else OTHER
        level = "特别重大" if n % 25 == 0 else "一般"
        body = alarm_body(n, grid_code=f"{street}00{n % 7 + 1:03d}", class_code=f"{n:04d}")
        cc.alarms.ingest(AlarmIn(**{**body, "level": level}))
    city.wait_for(lambda: len(city.of("alarm")) == 200, timeout=20)
    expected = 100 + 4  # its own street's, and the other street's 特别重大 (n = 0, 50, 100, 150)
    console.wait_for(lambda: len(console.of("alarm")) == expected, timeout=20)
    time.sleep(0.5)
    heard = console.of("alarm")
    assert len(heard) == len({a["id"] for a in heard}) == expected
    assert all(a["grid_code"].startswith(OWN) or a["level"] == "emergency" for a in heard)
    city_ids = [a["id"] for a in city.of("alarm")]
    assert len(set(city_ids)) == 200
    assert console.batches >= 1 and city.batches >= 1  # lists, not 200 messages
