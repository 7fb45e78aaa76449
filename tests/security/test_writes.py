"""Kiosks write nothing (issue 13, item 3): every Dash callback that changes state checks the
signed-in user and role on the server, records the real user in the audit log and never
takes a name from the page.

Each request here is what a browser sends to ``/_dash-update-component`` (body built from
the app's own callback map, ``Origin`` of the app), against a running server: without a
cookie, with the cookie of a role that may not, and with the cookie of one that may.
"""

from __future__ import annotations

import html
import json
import re
from datetime import datetime
from typing import Any

import pytest
import requests

PASSWORD = "secret-pass-1"
OPS_TICKER = "ops.alarms"
DUTY_TICKER = "duty.alarms"


# --------------------------------------------------------------------------- helpers


def sign_in(base: str, name: str, password: str = PASSWORD) -> requests.Session:
    """A browser session signed in through the real ``/login`` form (hidden fields, e.g. a
    CSRF token, are sent back as a browser would)."""
    s = requests.Session()
    page = s.get(f"{base}/login", timeout=10)
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input\b[^>]*>", page.text):
        if 'type="hidden"' in tag:
            name_m = re.search(r'name="([^"]*)"', tag)
            value_m = re.search(r'value="([^"]*)"', tag)
            if name_m:
                fields[name_m.group(1)] = html.unescape(value_m.group(1) if value_m else "")
    fields.update(username=name, password=password, next="/wall/duty")
    answer = s.post(
        f"{base}/login",
        data=fields,
        headers={"Origin": base, "Referer": f"{base}/login"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code in (302, 303), answer.text[:300]
    return s


def _concrete(spec_id: str, wild: dict[str, Any]) -> tuple[Any, bool]:
    """A callback map id (maybe a pattern) made concrete; True when it was ``ALL``."""
    if not spec_id.startswith("{"):
        return spec_id, False
    pattern = json.loads(spec_id)
    is_all = False
    out = {}
    for k, v in pattern.items():
        if isinstance(v, list):  # ["MATCH"] / ["ALL"] / ["ALLSMALLER"]
            is_all = is_all or v == ["ALL"]
            out[k] = wild[k]
        else:
            out[k] = v
    return out, is_all


def _name(cid: Any, prop: str) -> str:
    return f"{cid['role'] if isinstance(cid, dict) else cid}.{prop}"


def _id_str(cid: Any) -> str:
    if isinstance(cid, dict):
        return json.dumps(cid, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return str(cid)


def dash_body(
    cc: Any, output_has: str, trigger: str, values: dict[str, Any], wild: dict[str, Any]
) -> dict[str, Any]:
    """The body Dash's renderer posts for the callback whose output names ``output_has``,
    fired by the input named ``trigger`` (``role.prop`` or ``id.prop``)."""

    def fired_by(key: str) -> bool:
        for entry in cc.dash.callback_map[key]["inputs"]:
            sid = entry["id"]
            role = json.loads(sid).get("role") if sid.startswith("{") else sid
            if f"{role}.{entry['property']}" == trigger:
                return True
        return False

    keys = [k for k in cc.dash.callback_map if output_has in k and fired_by(k)]
    assert len(keys) == 1, keys
    key = keys[0]
    spec = cc.dash.callback_map[key]

    def items(entries: list[dict[str, str]], with_values: bool) -> list[Any]:
        out: list[Any] = []
        for entry in entries:
            cid, is_all = _concrete(entry["id"], wild)
            item: dict[str, Any] = {"id": cid, "property": entry["property"]}
            if with_values:
                item["value"] = values.get(_name(cid, entry["property"]))
            out.append([item] if is_all else item)
        return out

    outputs = []
    for part in key[2:-2].split("...") if key.startswith("..") else [key]:
        sid, _, prop = part.rpartition(".")
        cid, is_all = _concrete(sid, wild)
        item = {"id": cid, "property": prop}
        outputs.append([item] if is_all else item)
    inputs = items(spec["inputs"], True)
    changed = []
    for entry in spec["inputs"]:
        cid, _ = _concrete(entry["id"], wild)
        if _name(cid, entry["property"]) == trigger:
            changed.append(f"{_id_str(cid)}.{entry['property']}")
    assert changed, f"no input {trigger} in {spec['inputs']}"
    return {
        "output": key,
        "outputs": outputs if key.startswith("..") else outputs[0],
        "inputs": inputs,
        "changedPropIds": changed,
        "state": items(spec.get("state", []), True),
    }


def dash_post(base: str, body: dict[str, Any], session: Any = None) -> requests.Response:
    return (session or requests).post(
        f"{base}/_dash-update-component",
        json=body,
        headers={"Origin": base, "Referer": f"{base}/wall/ops"},
        timeout=30,
    )


def ack_body(cc: Any, pid: str, alarm_id: int, screen: str) -> dict[str, Any]:
    return dash_body(
        cc,
        "alarm-ack-done",
        "alarm-ack.data",
        {
            "alarm-ack.data": {"id": alarm_id, "t": 1},
            # what the attack sent: a name of its choosing in the page's own store
            "cc-wall-meta.data": {"screen": "forged-name", "lang": "zh", "version": 1},
            "cc-url.pathname": f"/wall/{screen}",
        },
        {"pid": pid},
    )


def emergency_alarms(cc: Any, n: int) -> list[int]:
    from command_center.alarms import AlarmIn

    return [
        cc.alarms.ingest(
            AlarmIn(
                source="iot",
                source_id=f"sec-{i}",
                level="emergency",
                class_code=f"07{i + 1:02d}",
                title=f"燃气泄漏 {i}",
                grid_code="11010100100101",
            )
        ).alarm.id
        for i in range(n)
    ]


def add_user(cc: Any, name: str, role: str) -> None:
    cc.collab.users.add(name, role, PASSWORD, now=datetime(2026, 11, 25, 9, 0))


def audit(cc: Any, action: str) -> list[Any]:
    return [e for e in cc.collab.audit.entries(limit=500) if e.action == action]


# --------------------------------------------------------------------------- alarm 确认


def test_kiosk_post_to_the_ticker_acknowledges_nothing(live_app) -> None:  # noqa: ANN001
    cc, base = live_app
    ids = emergency_alarms(cc, 3)
    for alarm_id in ids:
        answer = dash_post(base, ack_body(cc, OPS_TICKER, alarm_id, "ops"))
        assert answer.status_code in (200, 204), answer.text[:300]
    for alarm_id in ids:
        stored = cc.alarms.store.get(alarm_id)
        assert stored.status == "open" and stored.acknowledged_by is None
    assert [e for e in audit(cc, "alarm_ack") if e.result == "ok"] == []


def test_signed_in_role_that_may_not_acknowledge_is_refused_and_audited(live_app) -> None:  # noqa: ANN001
    cc, base = live_app
    add_user(cc, "lingdao", "leader")
    session = sign_in(base, "lingdao")
    [alarm_id] = emergency_alarms(cc, 1)
    answer = dash_post(base, ack_body(cc, DUTY_TICKER, alarm_id, "duty"), session)
    assert answer.status_code in (200, 204)
    assert cc.alarms.store.get(alarm_id).status == "open"
    [entry] = audit(cc, "alarm_ack")
    assert (entry.user_name, entry.role, entry.result) == ("lingdao", "leader", "refused")
    assert f"#{alarm_id}" in entry.detail


def test_duty_officer_acknowledges_as_the_signed_in_user(live_app) -> None:  # noqa: ANN001
    cc, base = live_app
    add_user(cc, "zhiban", "duty_officer")
    session = sign_in(base, "zhiban")
    [alarm_id] = emergency_alarms(cc, 1)
    answer = dash_post(base, ack_body(cc, DUTY_TICKER, alarm_id, "duty"), session)
    assert answer.status_code == 200, answer.text[:300]
    stored = cc.alarms.store.get(alarm_id)
    assert stored.status == "acknowledged"
    assert stored.acknowledged_by == "zhiban"  # the session's user, not the page's store
    [entry] = audit(cc, "alarm_ack")
    assert (entry.user_name, entry.role, entry.result) == ("zhiban", "duty_officer", "ok")
    assert entry.screen == "duty" and f"#{alarm_id}" in entry.detail


def _ticker_configs(payload: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(payload, dict):
        if isinstance(payload.get("data-config"), str) and "ackable" in payload["data-config"]:
            found.append(json.loads(payload["data-config"]))
        for value in payload.values():
            found.extend(_ticker_configs(value))
    elif isinstance(payload, list):
        for value in payload:
            found.extend(_ticker_configs(value))
    return found


def page_body(cc: Any, path: str) -> dict[str, Any]:
    return dash_body(
        cc,
        "cc-page.children",
        "cc-url.pathname",
        {"cc-url.pathname": path, "cc-url.search": ""},
        {},
    )


def test_kiosk_ticker_shows_no_ack_button_a_duty_console_does(live_app) -> None:  # noqa: ANN001
    cc, base = live_app
    kiosk = dash_post(base, page_body(cc, "/wall/ops"))
    assert kiosk.status_code == 200
    configs = _ticker_configs(kiosk.json())
    assert configs and all(c["ackable"] is False for c in configs)
    add_user(cc, "zhiban", "duty_officer")
    add_user(cc, "lingdao", "leader")
    console = dash_post(base, page_body(cc, "/wall/ops"), sign_in(base, "zhiban"))
    assert [c["ackable"] for c in _ticker_configs(console.json())] == [True]
    leader = dash_post(base, page_body(cc, "/wall/ops"), sign_in(base, "lingdao"))
    assert [c["ackable"] for c in _ticker_configs(leader.json())] == [False]


# --------------------------------------------------------------------------- other writes


def open_case(cc: Any) -> Any:
    """A fresh report (待受理) at the place of an existing case."""
    from adapters.case.contract import CaseFilter, CaseSource, NewCase

    adapter = cc.services.adapters.case
    some = adapter.list_cases(CaseFilter(limit=1))[0]
    return adapter.report_case(
        NewCase(
            kind="event",
            class_code="0102",
            source=CaseSource.PUBLIC,
            description="路边暴露垃圾",
            lon=some.lon,
            lat=some.lat,
            reporter="张三",
        )
    )


def act_body(cc: Any, case_id: int, action: str, status: str) -> dict[str, Any]:
    return dash_body(
        cc,
        "cc-drawer-msg.children",
        "cc-act.n_clicks",
        {
            "cc-act.n_clicks": 1,
            "cc-drawer-case.data": {"case_id": case_id},
            "cc-drawer-status.data": status,
            "cc-act-note.value": "forged",
            "cc-url.pathname": "/wall/duty",
            "cc-url.search": "",
            "cc-drawer-refresh.data": 0,
        },
        {"action": action},
    )


def test_kiosk_and_wrong_role_cannot_act_on_a_case(live_app) -> None:  # noqa: ANN001
    cc, base = live_app
    case = open_case(cc)
    answer = dash_post(base, act_body(cc, case.id, "accept", case.status.value))
    assert answer.status_code == 200
    add_user(cc, "paiqian", "dispatcher")  # a dispatcher does not accept reports
    answer = dash_post(
        base, act_body(cc, case.id, "accept", case.status.value), sign_in(base, "paiqian")
    )
    assert answer.status_code == 200
    assert cc.services.adapters.case.get_case(case.id).case.status == case.status
    refused = [e for e in audit(cc, "accept") if e.case_id == case.id]
    assert {(e.user_name, e.result) for e in refused} == {
        ("(kiosk)", "refused"),
        ("paiqian", "refused"),
    }


def test_case_action_records_the_signed_in_user(live_app) -> None:  # noqa: ANN001
    cc, base = live_app
    case = open_case(cc)
    add_user(cc, "zhiban", "duty_officer")
    answer = dash_post(
        base, act_body(cc, case.id, "accept", case.status.value), sign_in(base, "zhiban")
    )
    assert answer.status_code == 200
    detail = cc.services.adapters.case.get_case(case.id)
    assert detail.case.status.value == "accepted"
    assert detail.history[-1].actor == "zhiban"
    [entry] = [e for e in audit(cc, "accept") if e.case_id == case.id]
    assert (entry.user_name, entry.result) == ("zhiban", "ok")


def case_from_alarm_body(cc: Any, alarm_id: int) -> dict[str, Any]:
    body = act_body(cc, 0, "case_from_alarm", "")
    for item in body["state"]:
        if item["id"] == "cc-drawer-case":
            item["value"] = {"alarm_id": alarm_id}
    return body


def test_kiosk_cannot_turn_an_alarm_into_a_case(live_app) -> None:  # noqa: ANN001
    cc, base = live_app
    [alarm_id] = emergency_alarms(cc, 1)
    answer = dash_post(base, case_from_alarm_body(cc, alarm_id))
    assert answer.status_code == 200
    alarm = cc.alarms.store.get(alarm_id)
    assert alarm.status == "open" and alarm.case_id is None
    add_user(cc, "lingdao", "leader")
    dash_post(base, case_from_alarm_body(cc, alarm_id), sign_in(base, "lingdao"))
    assert cc.alarms.store.get(alarm_id).case_id is None
    refused = {(e.user_name, e.result) for e in audit(cc, "case_from_alarm")}
    assert refused == {("(kiosk)", "refused"), ("lingdao", "refused")}


def push_body(cc: Any, code: str) -> dict[str, Any]:
    return dash_body(
        cc,
        "cc-region-push-msg.children",
        "cc-region-push-go.n_clicks",
        {
            "cc-region-push-go.n_clicks": 1,
            "cc-region-push-pick.value": code,
            "cc-url.pathname": "/wall/duty",
            "cc-url.search": "",
        },
        {},
    )


def on_wall_body(cc: Any, case_id: int) -> dict[str, Any]:
    return dash_body(
        cc,
        "cc-drawer-msg.children",
        "cc-drawer-onwall.n_clicks",
        {
            "cc-drawer-onwall.n_clicks": 1,
            "cc-drawer-case.data": {"case_id": case_id},
            "cc-url.pathname": "/wall/duty",
            "cc-url.search": "",
        },
        {},
    )


def test_kiosk_cannot_put_a_region_or_case_on_the_wall(live_app) -> None:  # noqa: ANN001
    cc, base = live_app
    street = cc.services.regions("street").value[0].code
    assert dash_post(base, push_body(cc, street)).status_code == 200
    assert dash_post(base, on_wall_body(cc, open_case(cc).id)).status_code == 200
    assert cc.collab.wall_focus("main") is None
    assert audit(cc, "put_on_wall") == []


def test_region_on_the_wall_is_by_the_signed_in_user(live_app) -> None:  # noqa: ANN001
    cc, base = live_app
    street = cc.services.regions("street").value[0].code
    add_user(cc, "zhiban", "duty_officer")
    answer = dash_post(base, push_body(cc, street), sign_in(base, "zhiban"))
    assert answer.status_code == 200
    focus = cc.collab.wall_focus("main")
    assert focus is not None and focus.region_code == street and focus.by == "zhiban"
    [entry] = audit(cc, "put_on_wall")
    assert (entry.user_name, entry.result, entry.screen) == ("zhiban", "ok", "duty")


@pytest.mark.parametrize(
    "role", ["duty_officer", "acceptor", "dispatcher", "shift_leader", "admin"]
)
def test_duty_console_roles_may_acknowledge_alarms_others_may_not(role: str) -> None:
    from command_center.auth import ROLES, User, may

    assert may(User(1, "u", "", role), "alarm_ack")
    assert not may(None, "alarm_ack")
    # the hall answers alarms; the field, the departments and a leader's screen do not
    others = [r for r in ROLES if not may(User(1, "u", "", r), "alarm_ack")]
    assert others == ["supervisor", "department", "leader"]
    assert not may(User(1, "u", "", role, active=False), "alarm_ack")
