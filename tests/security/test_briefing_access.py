"""The briefing export starts Chromium for half a minute: only a signed-in shift leader,
leader or admin may start it, one at a time per user, and every attempt is audited
(issue 13, item 10). Driven through the Dash callback of a running app, as a browser
(or anyone with curl) would."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
import requests

from command_center.audit import OK, REFUSED
from tests.conftest import require_service
from tests.security.input_support import (
    add_user,
    dash_body,
    post_dash,
    signed_in,
)

PID = "briefing.export"


def export_id(role: str) -> dict[str, str]:
    return {"role": role, "kind": "briefing_export", "pid": PID}


def export(base: str, http: Any = requests) -> dict[str, Any]:
    """Click 导出 PDF on the briefing screen; the callback's answer (outputs by id)."""
    deps = http.get(f"{base}/_dash-dependencies", timeout=10).json()
    dep = next(d for d in deps if '"briefing_export"' in d["output"])
    item = lambda role, prop, value: {"id": export_id(role), "property": prop, "value": value}  # noqa: E731
    body = dash_body(
        dep,
        {
            "pdf.n_clicks": item("pdf", "n_clicks", 1),
            "png.n_clicks": item("png", "n_clicks", None),
            "paper.value": item("paper", "value", "A4"),
            "cc-wall-meta.data": {"screen": "briefing", "version": 1, "lang": "zh"},
        },
        json.dumps(export_id("pdf"), sort_keys=True, separators=(",", ":")) + ".n_clicks",
        outputs=[
            {"id": export_id("download"), "property": "data"},
            {"id": export_id("status"), "property": "children"},
        ],
    )
    answer = post_dash(base, body, http=http, headers={"Referer": f"{base}/wall/briefing"})
    assert answer.status_code == 200, answer.text[:300]
    return answer.json()["response"]


def status_text(response: dict[str, Any]) -> str:
    return json.dumps(response, ensure_ascii=False)


def downloaded(response: dict[str, Any]) -> bool:
    return any("data" in outputs for outputs in response.values())


def exports_audited(cc: Any) -> list[tuple[str, str]]:
    entries = cc.collab.audit.entries(limit=50)
    return [(e.user_name, e.result) for e in reversed(entries) if e.action == "briefing_export"]


def test_a_kiosk_without_a_session_is_refused_at_once_and_audited(live_app) -> None:  # noqa: ANN001
    cc, base = live_app
    started = time.monotonic()
    response = export(base)
    assert time.monotonic() - started < 5  # no Chromium was started
    assert not downloaded(response)
    assert "请先登录" in status_text(response)
    assert exports_audited(cc) == [("?", REFUSED)]
    assert not list((cc.settings.data_dir / "briefings").glob("*"))


@pytest.mark.parametrize("role", ["duty_officer", "dispatcher"])
def test_a_role_that_may_not_export_is_refused_and_audited(live_app, role: str) -> None:  # noqa: ANN001
    cc, base = live_app
    add_user(cc, "officer", role)
    response = export(base, http=signed_in(base, "officer"))
    assert not downloaded(response)
    assert "当前岗位不能导出简报" in status_text(response)
    assert exports_audited(cc) == [("officer", REFUSED)]


def test_a_leader_exports_and_a_second_click_while_it_runs_is_told_to_wait(live_app) -> None:  # noqa: ANN001
    cc, base = live_app
    add_user(cc, "lingdao", "leader")
    leader = signed_in(base, "lingdao")
    slots = cc.server.extensions["briefing_export_slots"]
    first: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: first.update(export(base, http=leader)))
    worker.start()
    deadline = time.monotonic() + 20
    while not slots.busy("lingdao") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert slots.busy("lingdao"), "the first export did not start"
    second = export(base, http=leader)
    assert not downloaded(second) and "简报正在生成" in status_text(second)
    worker.join(120)
    assert downloaded(first), status_text(first)[:300]
    assert exports_audited(cc) == [("lingdao", REFUSED), ("lingdao", OK)]
    assert not slots.busy("lingdao")


@pytest.mark.parametrize("role", ["shift_leader", "admin"])
def test_the_other_roles_that_may_export_get_past_the_check(live_app, role: str) -> None:  # noqa: ANN001
    """Held by another export of theirs, these users are told to wait: the role check let
    them through (the export itself is the leader's test above)."""
    cc, base = live_app
    add_user(cc, "boss", role)
    slots = cc.server.extensions["briefing_export_slots"]
    with slots.hold("boss") as got:
        assert got
        response = export(base, http=signed_in(base, "boss"))
    assert "简报正在生成" in status_text(response)


@pytest.mark.redis
def test_one_export_per_user_across_processes_with_redis() -> None:
    require_service("redis", "127.0.0.1", 6379)
    from callbacks.briefing import ExportSlots

    url = "redis://127.0.0.1:6379/0"
    one, two = ExportSlots(url, "cc-test-briefing"), ExportSlots(url, "cc-test-briefing")
    with one.hold("lingdao") as got:
        assert got
        with two.hold("lingdao") as again, two.hold("other") as other:
            assert not again and other
    with two.hold("lingdao") as after:
        assert after
