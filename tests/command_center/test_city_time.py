"""One time zone everywhere: every time that arrives is stored as the city's wall time
(``CC_CITY_TIMEZONE``, Asia/Shanghai by default) and every time is shown in it, whatever the
zone of the server process (UTC, New York here) or of a kiosk's browser."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

from command_center.domain.calendar import (
    DEFAULT_CITY_TIMEZONE,
    epoch_seconds,
    from_epoch_seconds,
    local_now,
    set_city_timezone,
)
from tests.conftest import make_settings

KEY = {"X-API-Key": "key-iot"}
# 07:41:06 in Shanghai on 3 December is 23:41:06 UTC on the 2nd and 18:41:06 in New York.
SHANGHAI = "2026-12-03T07:41:06"


@pytest.fixture()
def city(city_copy: str, tmp_path: Path, foreign_server_zone: str) -> Iterator[object]:
    from command_center.app import create_app

    cc = create_app(
        make_settings(city_copy, tmp_path, api_keys={"iot": "key-iot"}, alarm_fold_seconds=0),
        start_background=False,
    )
    yield cc
    cc.stop()


def post(cc: object, n: int, at: str) -> dict:
    some = cc.services.adapters.case.list_cases(  # type: ignore[attr-defined]
        __import__("adapters.case.contract").case.contract.CaseFilter(limit=1)
    )[0]
    body = {
        "source": "iot",
        "source_id": f"tz-{n}",
        "level": "重大",
        "class_code": "0404",  # 道路积水
        "title": "道路积水",
        "at": at,
        "lon": some.lon,
        "lat": some.lat,
    }
    answer = cc.server.test_client().post("/api/alarms", json=body, headers=KEY)  # type: ignore[attr-defined]
    assert answer.status_code == 201, answer.get_data(as_text=True)
    return answer.get_json()["alarm"]


@pytest.mark.parametrize(
    "sent",
    [f"{SHANGHAI}+08:00", "2026-12-02T23:41:06Z", "2026-12-02T18:41:06-05:00", SHANGHAI],
    ids=["shanghai-offset", "utc-z", "new-york-offset", "naive-is-city-wall-time"],
)
def test_an_alarm_time_from_the_api_is_stored_as_the_city_wall_time_on_any_server(
    city: object, sent: str
) -> None:
    alarm = post(city, 1, sent)
    assert alarm["at"] == SHANGHAI
    stored = city.alarms.store.get(alarm["id"])  # type: ignore[attr-defined]
    assert stored.at == datetime(2026, 12, 3, 7, 41, 6)


def test_a_case_made_from_an_alarm_names_the_city_time_of_the_alarm(city: object) -> None:
    alarm = post(city, 2, f"{SHANGHAI}+08:00")
    leader = city.collab.users.add("sun", "shift_leader", "password-1", now=local_now())  # type: ignore[attr-defined]
    made = city.collab.case_from_alarm(leader, alarm["id"], screen="duty")  # type: ignore[attr-defined]
    assert made.ok, made.message
    assert "12-03 07:41" in made.case.description


def test_the_sla_countdown_counts_from_the_city_time_on_any_server(
    foreign_server_zone: str,
) -> None:
    from layouts.case_drawer import sla_clock_span

    clock = SimpleNamespace(
        as_of=datetime(2026, 12, 3, 10, 0),  # 02:00 UTC
        runs_until=datetime(2026, 12, 3, 17, 30),  # 09:30 UTC: the workday's end
        remaining_s=3600.0,
        state=None,
    )
    span = sla_clock_span(clock, "zh")
    assert span.to_plotly_json()["props"]["data-asof"] == str(
        int(datetime(2026, 12, 3, 2, 0, tzinfo=UTC).timestamp() * 1000)
    )
    assert span.to_plotly_json()["props"]["data-runs-until"] == str(
        int(datetime(2026, 12, 3, 9, 30, tzinfo=UTC).timestamp() * 1000)
    )


def test_epoch_seconds_and_back_are_city_wall_time_on_any_server(
    foreign_server_zone: str,
) -> None:
    noon_utc = datetime(2026, 12, 3, 4, 0, tzinfo=UTC).timestamp()
    assert from_epoch_seconds(noon_utc) == datetime(2026, 12, 3, 12, 0)
    assert epoch_seconds(datetime(2026, 12, 3, 12, 0)) == noon_utc


def test_the_city_zone_is_a_setting_the_app_takes_at_start(city_copy: str, tmp_path: Path) -> None:
    from command_center.app import create_app

    cc = create_app(
        make_settings(city_copy, tmp_path, city_timezone="Asia/Urumqi"), start_background=False
    )
    try:
        urumqi = datetime.now(UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Urumqi"))
        assert abs((local_now() - urumqi.replace(tzinfo=None)).total_seconds()) < 5
    finally:
        cc.stop()
        set_city_timezone(DEFAULT_CITY_TIMEZONE)
