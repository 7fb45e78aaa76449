"""POST /api/alarms and friends against a running server: keys, 4xx with the field at
fault, 201/200, acknowledgement, replay by id. Nothing refused reaches a screen."""

from __future__ import annotations

import requests
from rt_support import API_KEYS, alarm_body  # type: ignore[import-not-found]

IOT = {"X-API-Key": API_KEYS["iot"]}


def test_new_alarm_is_201_and_the_same_source_id_again_is_200(rt_app) -> None:  # noqa: ANN001
    _cc, base = rt_app
    first = requests.post(f"{base}/api/alarms", json=alarm_body(1), headers=IOT, timeout=5)
    again = requests.post(f"{base}/api/alarms", json=alarm_body(1), headers=IOT, timeout=5)
    assert first.status_code == 201 and first.json()["outcome"] == "new"
    assert again.status_code == 200 and again.json()["outcome"] == "duplicate"
    assert again.json()["alarm"]["id"] == first.json()["alarm"]["id"]
    assert first.json()["alarm"]["level"] == "critical"


def test_missing_or_unknown_key_is_401_and_reaches_no_screen(rt_app, screens) -> None:  # noqa: ANN001
    cc, base = rt_app
    wall = screens(base, screen="main").connect()
    for headers in ({}, {"X-API-Key": "nope"}, {"X-API-Key": ""}):
        answer = requests.post(f"{base}/api/alarms", json=alarm_body(), headers=headers, timeout=5)
        assert answer.status_code == 401
    assert requests.get(f"{base}/api/alarms", timeout=5).status_code == 401
    assert requests.post(f"{base}/api/alarms/1/ack", timeout=5).status_code == 401
    assert cc.alarms.store.last_id() == 0 and wall.of("alarm") == []


def test_key_of_another_source_is_403(rt_app) -> None:  # noqa: ANN001
    _cc, base = rt_app
    answer = requests.post(
        f"{base}/api/alarms", json=alarm_body(source="video"), headers=IOT, timeout=5
    )
    assert answer.status_code == 403
    assert answer.json()["fields"][0]["field"] == "source"


def test_malformed_alarm_is_422_naming_each_field(rt_app, screens) -> None:  # noqa: ANN001
    _cc, base = rt_app
    wall = screens(base, screen="main").connect()
    body = alarm_body(level="紧急", lat=123.0, grid_code="12ab")
    del body["class_code"]
    answer = requests.post(f"{base}/api/alarms", json=body, headers=IOT, timeout=5)
    assert answer.status_code == 422
    fields = {f["field"] for f in answer.json()["fields"]}
    assert fields == {"level", "lat", "grid_code", "class_code"}
    unknown = requests.post(
        f"{base}/api/alarms", json=alarm_body(colour="red"), headers=IOT, timeout=5
    )
    assert unknown.status_code == 422 and unknown.json()["fields"][0]["field"] == "colour"
    assert wall.of("alarm") == []


def test_body_that_is_not_a_json_object_is_400(rt_app) -> None:  # noqa: ANN001
    _cc, base = rt_app
    for data, kind in (("level=warn", "text/plain"), ("[1, 2]", "application/json")):
        answer = requests.post(
            f"{base}/api/alarms",
            data=data,
            headers={**IOT, "Content-Type": kind},
            timeout=5,
        )
        assert answer.status_code == 400


def test_source_is_taken_from_the_key_when_missing(rt_app) -> None:  # noqa: ANN001
    _cc, base = rt_app
    body = alarm_body()
    del body["source"]
    answer = requests.post(f"{base}/api/alarms", json=body, headers=IOT, timeout=5)
    assert answer.status_code == 201 and answer.json()["alarm"]["source"] == "iot"


def test_acknowledge_once_then_list_since(rt_app) -> None:  # noqa: ANN001
    _cc, base = rt_app
    ids = [
        requests.post(
            f"{base}/api/alarms",
            json=alarm_body(n, class_code=f"07{n:02d}"),
            headers=IOT,
            timeout=5,
        ).json()["alarm"]["id"]
        for n in range(1, 4)
    ]
    ack = requests.post(
        f"{base}/api/alarms/{ids[0]}/ack",
        json={"by": "王值班", "note": "已派人"},
        headers=IOT,
        timeout=5,
    )
    assert ack.status_code == 200 and ack.json()["acknowledged"] is True
    # ``by`` is the key (here one from CC_API_KEYS), never the name the caller sends
    assert ack.json()["alarm"]["acknowledged_by"] == "iot:env"
    again = requests.post(f"{base}/api/alarms/{ids[0]}/ack", headers=IOT, timeout=5)
    assert again.json()["acknowledged"] is False
    assert again.json()["alarm"]["acknowledged_by"] == "iot:env"
    missing = requests.post(f"{base}/api/alarms/999/ack", headers=IOT, timeout=5)
    assert missing.status_code == 404
    listed = requests.get(f"{base}/api/alarms?since={ids[0]}", headers=IOT, timeout=5).json()
    assert [a["id"] for a in listed["alarms"]] == ids[1:] and listed["last_id"] == ids[-1]
    bad = requests.get(f"{base}/api/alarms?since=x", headers=IOT, timeout=5)
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "since"
