"""Data services: KPIs from the tiny city, caching, and a backend that goes down."""

from __future__ import annotations

import logging
import sqlite3
from datetime import datetime, timedelta

import pytest

from command_center import events
from command_center.events import EventBus
from command_center.plugins import load_adapters
from command_center.services import DataServices, NoData

NOW = datetime(2026, 11, 25, 10, 30)  # the tiny city's "now" (tests/conftest.py DEMO_NOW)


@pytest.fixture()
def services(city_settings, switchable_case):  # noqa: ANN001, ANN201
    adapters = load_adapters(city_settings)
    adapters.case.now = lambda: NOW  # overdue is against the city's "now", not the real clock
    adapters.case = switchable_case(adapters.case)
    yield DataServices(city_settings, adapters, EventBus(), clock=lambda: NOW)
    adapters.close()


def count(url: str, sql: str, *params: object) -> int:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return int(conn.execute(sql, params).fetchone()[0])


def test_kpis_match_hand_counts_of_the_tiny_city(services, city_copy) -> None:  # noqa: ANN001
    kpis = services.kpis().value
    today = NOW.replace(hour=0, minute=0).isoformat(sep=" ")
    yesterday = (NOW.replace(hour=0, minute=0) - timedelta(days=1)).isoformat(sep=" ")
    same_time = (NOW - timedelta(days=1)).isoformat(sep=" ")
    q = "SELECT count(*) FROM cases WHERE reported_at >= ? AND reported_at < ?"
    assert kpis["reported"] == count(city_copy, q, today, NOW.isoformat(sep=" "))
    assert kpis["reported_yesterday"] == count(city_copy, q, yesterday, same_time)
    open_q = "SELECT count(*) FROM cases WHERE status NOT IN ('closed', 'voided')"
    assert kpis["open"] == count(city_copy, open_q)
    overdue_q = "SELECT count(*) FROM cases WHERE status = 'dispatched' AND deadline < ?"
    assert kpis["overdue"] == count(city_copy, overdue_q, NOW.isoformat(sep=" "))


def test_daily_trend_fills_missing_days_with_zero(services) -> None:  # noqa: ANN001
    frame = services.daily_trend(days=30).value
    assert len(frame) == 30
    assert frame["day"].iloc[-1] == NOW.date().isoformat()
    assert (frame["reported"] >= 0).all()


def test_backend_down_gives_last_result_marked_stale_and_logs_once(services, caplog) -> None:  # noqa: ANN001
    good = services.kpis()
    services.daily_trend()
    assert not good.stale
    services.adapters.case.down = True
    services._invalidate("test", {})  # new data arrived: the cache must be re-read
    caplog.set_level(logging.ERROR, logger="command_center.services")
    results = [services.kpis(), services.daily_trend(), services.kpis()]
    assert results[0].stale and results[0].value == good.value
    assert results[0].fetched_at == good.fetched_at
    assert "connection refused" in results[0].error
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1, "an outage is reported once, not once per panel"
    assert "case" in services.status.outages


def test_backend_down_before_any_data_says_so(services) -> None:  # noqa: ANN001
    services.adapters.case.down = True
    with pytest.raises(NoData):
        services.ranking()


def test_backend_recovery_clears_the_outage(services) -> None:  # noqa: ANN001
    services.kpis()
    services.adapters.case.down = True
    services._invalidate("test", {})
    assert services.kpis().stale
    services.adapters.case.down = False
    services._invalidate("test", {})
    assert not services.kpis().stale
    assert services.status.outages == {}


def test_reads_are_cached_until_a_case_event_arrives(services) -> None:  # noqa: ANN001
    services.kpis()
    calls = services.adapters.case.calls
    services.kpis()
    assert services.adapters.case.calls == calls, "second read within the TTL is cached"
    services.bus.publish(events.CASE_CHANGED, {"case_id": 1})
    services.kpis()
    assert services.adapters.case.calls > calls


def test_act_publishes_the_change_on_the_bus(services) -> None:  # noqa: ANN001
    from adapters.case.contract import CaseAction, CaseSource, NewCase

    seen: list[dict] = []
    services.bus.subscribe(events.CASE_CHANGED, lambda _t, p: seen.append(p))
    grid = services.adapters.gis.regions("grid")[0]
    target = services.adapters.case.report_case(
        NewCase(
            kind="event",
            class_code="0102",
            source=CaseSource.PUBLIC,
            description="暴露垃圾",
            lon=grid.centroid[0],
            lat=grid.centroid[1],
        )
    )
    services.act(target.id, CaseAction.ACCEPT, "测试员", "已核实")
    assert seen == [
        {
            "case_id": target.id,
            "number": target.number,
            "action": "accept",
            "from": "reported",
            "to": "accepted",
            "actor": "测试员",
            "note": "已核实",
        }
    ]


def test_a_year_missing_from_the_calendar_is_warned_at_start_and_on_the_ops_screen(
    city_settings,
    caplog,  # noqa: ANN001
) -> None:
    from command_center.screens.registry import PanelContext
    from layouts.ops import HealthOptions, render_health

    adapters = load_adapters(city_settings)
    try:
        late = DataServices(
            city_settings, adapters, EventBus(), clock=lambda: datetime(2098, 12, 2)
        )
        with caplog.at_level(logging.WARNING, logger="command_center.services"):
            late.warn_if_calendar_incomplete()
        assert "2098, 2099" in caplog.text
        report = late.ops_report().value
        assert report["calendar_missing"] == [2098, 2099]
        text = str(render_health(report, PanelContext("ops", "h", "ops_health", HealthOptions())))
        assert "工作日历缺少 2098、2099 年的节假日安排" in text

        known = DataServices(
            city_settings, adapters, EventBus(), clock=lambda: datetime(2025, 6, 1)
        )
        assert known.ops_report().value["calendar_missing"] == []
    finally:
        adapters.close()


def test_the_wall_ranking_leaves_units_with_few_cases_unranked(
    city_settings, switchable_case
) -> None:  # noqa: ANN001
    """The tiny city's communities have 2-6 cases in 30 days, most at 100 %: with the default
    minimum (10 cases due) none ranks; with 5, the 5- and 6-case ones rank and the rest are
    listed after them, unranked, with their counts."""
    from command_center.screens.registry import PanelContext
    from layouts.appraisal import RankingOptions, render_ranking

    adapters = load_adapters(city_settings)
    try:
        for minimum, ranks in ((10, {}), (5, {"110101001002": 1, "110101001003": 1,
                                              "110101002001": 1, "110101002002": 4})):  # fmt: skip
            settings = city_settings.model_copy(update={"rank_min_cases": minimum})
            services = DataServices(settings, adapters, EventBus(), clock=lambda: NOW)
            frame = services.ranking("community", None, 30).value
            got = {r.code: int(r.rank) for r in frame.itertuples() if r.rank == r.rank}
            assert got == ranks
            ranked = frame["rank"].notna().tolist()
            assert ranked == sorted(ranked, reverse=True)  # the ranked first
            assert frame.loc[frame["rank"].isna(), "dispatched"].lt(minimum).all()
            ctx = PanelContext("main", "r", "ranking", RankingOptions(level="community"))
            text = str(render_ranking(frame, ctx))
            assert f"应处置少于 {minimum} 件的单位不参与排名" in text and "'—'" in text
    finally:
        adapters.close()


@pytest.mark.parametrize(
    "now, mode, period, since, until, label, sub",
    [
        # early in a month (the 5th; a case a day in the tiny city): a rate over few cases says so
        ("2026-11-05 18:00", "label", "month_to_date", "2026-11-01", "2026-11-05 18:00",
         "本月按期结案率", "本月至今 n="),
        # the setting shows the last full month instead, named as such
        ("2026-11-05 18:00", "last_month", "last_month", "2026-10-01", "2026-11-01",
         "上月按期结案率", "10月全月 n="),
        # past the month's start the month to date again, with its n
        ("2026-11-20 09:00", "last_month", "month_to_date", "2026-11-01", "2026-11-20 09:00",
         "本月按期结案率", "本月至今 n="),
    ],
)  # fmt: skip
def test_the_month_rate_on_the_wall_names_its_period_and_denominator(
    city_settings,
    city_copy,
    now,
    mode,
    period,
    since,
    until,
    label,
    sub,  # noqa: ANN001
) -> None:
    from command_center.screens.registry import PanelContext
    from layouts.city import KpiOptions, render_kpis

    adapters = load_adapters(city_settings)
    try:
        settings = city_settings.model_copy(
            update={"month_start_rates": mode, "month_start_days": 5}
        )
        clock = datetime.fromisoformat(now)
        services = DataServices(settings, adapters, EventBus(), clock=lambda: clock)
        kpis = services.kpis().value
    finally:
        adapters.close()
    q = (
        "SELECT count(*) FROM cases WHERE dispatched_at IS NOT NULL "
        "AND reported_at >= ? AND reported_at < ?"
    )
    n = count(city_copy, q, since, until)
    on_time = count(city_copy, q + " AND status = 'closed' AND closed_on_time", since, until)
    assert n > 0 and kpis["rate_period"] == period and kpis["rate_n"] == n
    assert kpis["on_time_closure_rate"] == pytest.approx(on_time / n)
    text = str(render_kpis(kpis, PanelContext("main", "k", "kpi", KpiOptions())))
    assert label in text and f"{sub}{n:,}" in text
