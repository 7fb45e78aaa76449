"""Dates in layouts: ``MM-DD HH:MM`` this year, with the year otherwise, so a case a year
old does not read like one of this year."""

from __future__ import annotations

from datetime import date, datetime

import time_machine

from command_center.domain.calendar import CHINA_STANDARD_TIME
from layouts.case_drawer import fmt_dt
from layouts.common import month_day_time


def test_a_time_of_this_year_is_shown_without_the_year() -> None:
    assert month_day_time(datetime(2026, 3, 5, 9, 7), date(2026, 12, 3)) == "03-05 09:07"


def test_a_time_of_another_year_is_shown_with_its_year() -> None:
    assert month_day_time(datetime(2025, 12, 3, 9, 7), date(2026, 12, 3)) == "2025-12-03 09:07"
    assert month_day_time(datetime(2027, 1, 2, 8, 30), date(2026, 12, 31)) == "2027-01-02 08:30"


def test_this_year_is_the_city_s_year_on_new_years_eve_utc() -> None:
    # 1 January 00:30 in Shanghai is still 31 December in UTC: the city's year counts
    with time_machine.travel(datetime(2027, 1, 1, 0, 30, tzinfo=CHINA_STANDARD_TIME), tick=False):
        assert fmt_dt(datetime(2027, 1, 1, 0, 10)) == "01-01 00:10"
        assert fmt_dt(datetime(2026, 12, 31, 23, 50)) == "2026-12-31 23:50"
    assert fmt_dt(None) == "—"
