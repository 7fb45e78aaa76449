from datetime import UTC, date, datetime, time, timedelta

import pytest

from adapters.case.contract import SlaState
from command_center.domain.calendar import (
    DEFAULT_CALENDAR,
    WorkingCalendar,
    load_calendar,
    remaining_time,
    sla_deadline,
    sla_state,
)
from command_center.domain.classes import TimeLimit

# Weekends only: the arithmetic tests must not depend on the holiday list.
PLAIN = WorkingCalendar(holidays=frozenset(), makeup_workdays=frozenset())
CHINA = DEFAULT_CALENDAR

ONE_DAY = TimeLimit(1, "work_days")


def dt(text: str) -> datetime:
    return datetime.fromisoformat(text)


# --------------------------------------------------------------------------- working days


def test_weekends_are_off_and_weekdays_work():
    assert PLAIN.is_working_day(date(2026, 11, 20))  # Friday
    assert not PLAIN.is_working_day(date(2026, 11, 21))  # Saturday
    assert not PLAIN.is_working_day(date(2026, 11, 22))  # Sunday


def test_national_day_2026_is_off_and_its_makeup_saturday_works():
    for day in range(1, 8):
        assert not CHINA.is_working_day(date(2026, 10, day))
    assert CHINA.is_working_day(date(2026, 10, 10))  # Saturday, 调休上班
    assert CHINA.is_working_day(date(2026, 9, 20))  # Sunday, 调休上班
    assert CHINA.is_working_day(date(2026, 10, 8))


def test_spring_festival_2025_and_its_makeup_days():
    assert not CHINA.is_working_day(date(2025, 1, 28))
    assert not CHINA.is_working_day(date(2025, 2, 4))
    assert CHINA.is_working_day(date(2025, 1, 26))  # Sunday
    assert CHINA.is_working_day(date(2025, 2, 8))  # Saturday


def test_a_working_day_is_nine_hours_by_default():
    assert PLAIN.hours_per_day == 9.0


def test_day_must_end_after_it_starts():
    with pytest.raises(ValueError, match="end after it starts"):
        WorkingCalendar(day_start=time(18), day_end=time(9))


def test_a_date_cannot_be_both_holiday_and_makeup_day():
    d = date(2026, 10, 10)
    with pytest.raises(ValueError, match="2026-10-10"):
        WorkingCalendar(holidays={d}, makeup_workdays={d})


# --------------------------------------------------------------------------- adding time


def test_one_working_day_from_tuesday_morning_ends_wednesday_same_time():
    assert PLAIN.add_working_days(dt("2026-11-17 10:00"), 1) == dt("2026-11-18 10:00")


def test_one_working_day_from_friday_afternoon_ends_monday_afternoon():
    assert PLAIN.add_working_days(dt("2026-11-20 14:00"), 1) == dt("2026-11-23 14:00")


def test_working_hours_skip_the_night():
    assert PLAIN.add_working_hours(dt("2026-11-17 16:00"), 5) == dt("2026-11-18 12:00")


def test_working_hours_skip_the_weekend():
    assert PLAIN.add_working_hours(dt("2026-11-20 16:00"), 5) == dt("2026-11-23 12:00")


def test_start_before_opening_counts_from_opening():
    assert PLAIN.add_working_hours(dt("2026-11-17 07:00"), 1) == dt("2026-11-17 09:30")


def test_start_after_closing_counts_from_next_morning():
    assert PLAIN.add_working_hours(dt("2026-11-17 18:00"), 1) == dt("2026-11-18 09:30")


def test_start_on_saturday_counts_from_monday_morning():
    assert PLAIN.add_working_hours(dt("2026-11-21 10:00"), 2) == dt("2026-11-23 10:30")


def test_deadline_exactly_at_closing_stays_on_that_day():
    assert PLAIN.add_working_hours(dt("2026-11-17 08:30"), 9) == dt("2026-11-17 17:30")


def test_zero_hours_is_the_start_itself():
    start = dt("2026-11-21 10:00")
    assert PLAIN.add_working_hours(start, 0) == start


def test_negative_hours_are_refused():
    with pytest.raises(ValueError):
        PLAIN.add_working_hours(dt("2026-11-17 10:00"), -1)


def test_fractional_working_days():
    assert PLAIN.add_working_days(dt("2026-11-17 08:30"), 0.5) == dt("2026-11-17 13:00")


def test_one_working_day_across_national_day_2026():
    # Wed 30 Sep 15:00: 2.5 h that day, then the holiday 1-7 Oct, then 6.5 h on Thu 8 Oct.
    assert CHINA.add_working_days(dt("2026-09-30 15:00"), 1) == dt("2026-10-08 15:00")


def test_three_working_days_across_national_day_end_on_the_makeup_saturday():
    # 2.5 h on 30 Sep, 9 h on 8 Oct, 9 h on 9 Oct, 6.5 h on Saturday 10 Oct (调休上班).
    assert CHINA.add_working_days(dt("2026-09-30 15:00"), 3) == dt("2026-10-10 15:00")


def test_makeup_sunday_before_national_day_counts():
    assert CHINA.add_working_days(dt("2026-09-18 15:00"), 1) == dt("2026-09-20 15:00")


def test_mid_autumn_long_weekend_is_skipped():
    assert CHINA.add_working_days(dt("2026-09-24 15:00"), 1) == dt("2026-09-28 15:00")


def test_custom_working_hours():
    cal = WorkingCalendar(time(9), time(17), frozenset(), frozenset())
    assert cal.hours_per_day == 8
    assert cal.add_working_days(dt("2026-11-17 09:00"), 1) == dt("2026-11-17 17:00")


def test_timezone_aware_start_is_read_as_beijing_wall_time():
    start = datetime(2026, 11, 17, 2, 0, tzinfo=UTC)  # 10:00 in Beijing
    assert PLAIN.add_working_hours(start, 1) == dt("2026-11-17 11:00")


# --------------------------------------------------------------------------- measuring time


def test_working_hours_between_over_a_weekend():
    assert PLAIN.working_hours_between(dt("2026-11-20 16:00"), dt("2026-11-23 10:00")) == 3.0


def test_working_hours_between_is_negative_backwards():
    assert PLAIN.working_hours_between(dt("2026-11-23 10:00"), dt("2026-11-20 16:00")) == -3.0


def test_no_working_hours_over_national_day():
    assert CHINA.working_hours_between(dt("2026-09-30 17:30"), dt("2026-10-08 08:30")) == 0.0


def test_working_hours_between_inverts_add_working_hours():
    start = dt("2026-09-29 11:15")
    for hours in (0.5, 3, 9, 17.25, 40, 135):
        end = CHINA.add_working_hours(start, hours)
        assert CHINA.working_hours_between(start, end) == pytest.approx(hours)


def test_working_days_lists_the_makeup_saturday():
    days = CHINA.working_days(date(2026, 10, 1), date(2026, 10, 11))
    assert days == [date(2026, 10, 8), date(2026, 10, 9), date(2026, 10, 10)]


# --------------------------------------------------------------------------- SLA


def test_sla_deadline_in_working_hours():
    limit = TimeLimit(5, "work_hours")
    assert sla_deadline(dt("2026-11-20 16:00"), limit, PLAIN) == dt("2026-11-23 12:00")


def test_sla_deadline_in_working_days_across_weekend():
    limit = TimeLimit(4, "work_days")
    assert sla_deadline(dt("2026-11-19 10:00"), limit, PLAIN) == dt("2026-11-25 10:00")


def test_sla_deadline_in_wall_clock_hours_runs_through_the_night_and_holidays():
    limit = TimeLimit(2, "hours")
    assert sla_deadline(dt("2026-10-03 23:00"), limit, CHINA) == dt("2026-10-04 01:00")


def test_sla_deadline_across_national_day_with_makeup_saturday():
    limit = TimeLimit(3, "work_days")
    assert sla_deadline(dt("2026-09-30 15:00"), limit, CHINA) == dt("2026-10-10 15:00")


def test_sla_is_on_time_with_plenty_left():
    deadline = dt("2026-11-18 10:00")
    assert sla_state(deadline, dt("2026-11-17 10:00"), ONE_DAY, PLAIN) is SlaState.ON_TIME


def test_sla_is_due_soon_when_less_than_a_fifth_is_left():
    deadline = dt("2026-11-18 10:00")
    # 2 working hours left of 9: 22% -> on time; 1.5 left: 17% -> due soon.
    assert sla_state(deadline, dt("2026-11-17 17:00"), ONE_DAY, PLAIN) is SlaState.ON_TIME
    assert sla_state(deadline, dt("2026-11-18 08:30"), ONE_DAY, PLAIN) is SlaState.DUE_SOON


def test_time_before_opening_does_not_count_as_remaining():
    deadline = dt("2026-11-18 10:00")
    assert remaining_time(deadline, dt("2026-11-18 06:00"), ONE_DAY, PLAIN) == pytest.approx(
        1.5 / 9
    )


def test_sla_is_due_soon_exactly_at_the_deadline_and_overdue_after():
    deadline = dt("2026-11-18 10:00")
    assert sla_state(deadline, deadline, ONE_DAY, PLAIN) is SlaState.DUE_SOON
    later = deadline + timedelta(seconds=1)
    assert sla_state(deadline, later, ONE_DAY, PLAIN) is SlaState.OVERDUE


def test_weekend_does_not_use_up_a_working_day_clock():
    deadline = dt("2026-11-23 10:30")  # Monday; 2 working hours are left from Friday 17:30
    friday_evening = dt("2026-11-20 17:30")
    sunday = dt("2026-11-22 12:00")
    assert remaining_time(deadline, friday_evening, ONE_DAY, PLAIN) == pytest.approx(2 / 9)
    assert remaining_time(deadline, sunday, ONE_DAY, PLAIN) == pytest.approx(2 / 9)
    assert sla_state(deadline, sunday, ONE_DAY, PLAIN) is SlaState.ON_TIME


def test_wall_clock_sla_counts_the_night():
    limit = TimeLimit(4, "hours")
    deadline = dt("2026-11-21 03:00")
    assert sla_state(deadline, dt("2026-11-20 23:00"), limit, PLAIN) is SlaState.ON_TIME
    assert sla_state(deadline, dt("2026-11-21 02:20"), limit, PLAIN) is SlaState.DUE_SOON
    assert sla_state(deadline, dt("2026-11-21 03:01"), limit, PLAIN) is SlaState.OVERDUE


def test_due_soon_fraction_is_configurable():
    deadline = dt("2026-11-18 10:00")
    now = dt("2026-11-17 17:00")  # 2 of 9 working hours left
    assert sla_state(deadline, now, ONE_DAY, PLAIN, due_soon_fraction=0.3) is SlaState.DUE_SOON


def test_sla_across_national_day_is_not_overdue_during_the_holiday():
    deadline = sla_deadline(dt("2026-09-30 15:00"), ONE_DAY, CHINA)
    assert sla_state(deadline, dt("2026-10-05 12:00"), ONE_DAY, CHINA) is SlaState.ON_TIME
    assert sla_state(deadline, dt("2026-10-08 14:00"), ONE_DAY, CHINA) is SlaState.DUE_SOON
    assert sla_state(deadline, dt("2026-10-08 15:01"), ONE_DAY, CHINA) is SlaState.OVERDUE


# --------------------------------------------------------------------------- loading


def test_load_calendar_without_file_is_the_builtin_china_calendar():
    cal = load_calendar(None)
    assert not cal.is_working_day(date(2026, 10, 1))
    assert cal.is_working_day(date(2026, 10, 10))
    assert cal.day_start == time(8, 30) and cal.day_end == time(17, 30)


def test_load_calendar_reads_working_hours():
    cal = load_calendar(None, day_start="09:00", day_end="18:00")
    assert cal.day_start == time(9) and cal.hours_per_day == 9


def test_load_calendar_rejects_bad_working_hours():
    with pytest.raises(ValueError, match="day_start"):
        load_calendar(None, day_start="nine")


def test_load_calendar_reads_dates_and_ranges(tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "holidays:\n  - 2027-01-01\n  - '2027-10-01..2027-10-07'\nmakeup_workdays: [2027-10-09]\n",
        encoding="utf-8",
    )
    cal = load_calendar(path)
    assert not cal.is_working_day(date(2027, 1, 1))
    assert not cal.is_working_day(date(2027, 10, 4))
    assert cal.is_working_day(date(2027, 10, 9))
    # The file overrides the built-in dates, which stay for the other days.
    assert cal.is_working_day(date(2026, 10, 8))
    assert not cal.is_working_day(date(2026, 10, 1))


def test_load_calendar_can_replace_the_builtin_dates(tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text("include_builtin: false\nholidays: [2027-01-01]\n", encoding="utf-8")
    cal = load_calendar(path)
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.is_working_day(date(2026, 10, 8))
    assert cal.is_working_day(date(2026, 10, 9))  # Friday of 国庆 week: the built-in list is gone


def test_load_calendar_can_keep_the_builtin_dates(tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text("include_builtin: true\nholidays: [2027-01-01]\n", encoding="utf-8")
    cal = load_calendar(path)
    assert not cal.is_working_day(date(2027, 1, 1))
    assert not cal.is_working_day(date(2026, 10, 1))


def test_load_calendar_names_the_file_and_the_bad_entry(tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text("holidays: ['2027-13-01']\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"calendar\.yaml: holidays: bad date.*2027-13-01"):
        load_calendar(path)


def test_load_calendar_rejects_a_backwards_range(tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text("holidays: ['2027-10-07..2027-10-01']\n", encoding="utf-8")
    with pytest.raises(ValueError, match="ends before it starts"):
        load_calendar(path)


def test_load_calendar_rejects_unknown_keys(tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text("holiday: [2027-01-01]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown keys"):
        load_calendar(path)


def test_load_calendar_rejects_a_date_in_both_lists(tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text("holidays: [2027-01-02]\nmakeup_workdays: [2027-01-02]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="both holiday and make-up"):
        load_calendar(path)


# --------------------------------------------------------------------------- years ahead


def test_a_five_work_hour_case_dispatched_on_new_years_eve_is_not_due_on_new_years_day():
    deadline = sla_deadline(dt("2026-12-31T16:00"), TimeLimit(5, "work_hours"), CHINA)
    # 1.5 h on 31 Dec; 1 Jan is 元旦 and 2-3 Jan a weekend: the rest runs on Monday 4 Jan
    assert deadline == dt("2027-01-04T12:00")


def test_the_builtin_holidays_are_every_year_of_the_maintained_package():
    assert not CHINA.is_working_day(date(2024, 10, 1))  # 国庆节 2024
    assert CHINA.is_working_day(date(2024, 9, 29))  # Sunday, 调休上班 2024
    assert not CHINA.is_working_day(date(2020, 1, 30))  # 春节 2020, extended
    assert CHINA.missing_years(date(2025, 6, 1)) == []


def test_a_year_nobody_lists_is_named_and_keeps_its_fixed_statutory_holidays():
    assert CHINA.missing_years(date(2098, 12, 2)) == [2098, 2099]
    assert not CHINA.knows_year(2099)
    for d in (date(2099, 1, 1), date(2099, 5, 1), date(2099, 5, 2), date(2099, 10, 1),
              date(2099, 10, 2), date(2099, 10, 3)):  # fmt: skip
        assert not CHINA.is_working_day(d), d
    assert CHINA.is_working_day(date(2099, 10, 5))  # a Monday: no 国庆 week beyond the law's 3 days
    assert not CHINA.is_working_day(date(2099, 10, 4))  # a Sunday


def test_a_year_in_the_city_file_is_known_and_overrides_the_fallback(tmp_path):
    path = tmp_path / "calendar.yaml"
    path.write_text(
        "holidays: ['2099-10-01..2099-10-07']\nmakeup_workdays: [2099-01-01]\n", encoding="utf-8"
    )
    cal = load_calendar(path)
    assert cal.missing_years(date(2099, 3, 1)) == [2100]
    assert not cal.is_working_day(date(2099, 10, 5))
    assert cal.is_working_day(date(2099, 1, 1))  # the file's 调休 wins over the fixed date


def test_a_calendar_built_by_hand_knows_every_year():
    assert PLAIN.missing_years(date(2099, 1, 1)) == []
    assert PLAIN.is_working_day(date(2099, 1, 1))  # a Thursday: weekends only, as asked
